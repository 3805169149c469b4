/*
 * Box merging (sf_boxes_merge_intersecting, sf_boxes_merge_within_gap)
 * against the definition: merge any two boxes closer than the gap, until
 * no pair is. Input: a mode byte, the gap, then 4 numbers per box.
 */
#include "fuzz.h"
#include "slidefrag/core.h"

#define MAX_BOXES 64

/* The empty space between two boxes is at most `gap` on both axes (gap -1:
 * they share a pixel). */
static int close_enough(const sf_box *a, const sf_box *b, int64_t gap)
{
    return b->x - (a->x + a->w) <= gap && a->x - (b->x + b->w) <= gap &&
           b->y - (a->y + a->h) <= gap && a->y - (b->y + b->h) <= gap;
}

static size_t reference_merge(sf_box *boxes, size_t n, int64_t gap)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (boxes[i].w > 0 && boxes[i].h > 0)
            boxes[m++] = boxes[i];
    for (int merged = 1; merged;) {
        merged = 0;
        for (size_t i = 0; i < m && !merged; i++) {
            for (size_t j = i + 1; j < m && !merged; j++) {
                if (!close_enough(&boxes[i], &boxes[j], gap))
                    continue;
                sf_box *a = &boxes[i], *b = &boxes[j];
                int64_t x0 = a->x < b->x ? a->x : b->x, y0 = a->y < b->y ? a->y : b->y;
                int64_t x1 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
                int64_t y1 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;
                *a = (sf_box){x0, y0, x1 - x0, y1 - y0};
                boxes[j] = boxes[--m];
                merged = 1;
            }
        }
    }
    sf_boxes_sort(boxes, m);
    return m;
}

static int64_t coordinate(sf_fuzz_input *in, int shift)
{
    return (int64_t)(int8_t)sf_fuzz_u8(in) * ((int64_t)1 << shift);
}

int sf_fuzz_merge(const uint8_t *data, size_t size)
{
    sf_fuzz_input in = {data, size};
    uint8_t mode = sf_fuzz_u8(&in);
    /* Scale: small boxes that collide a lot, or coordinates up to 2^58
     * (the contract allows 2^60 for coordinates and sizes). */
    int shift = mode & 1 ? (int)(sf_fuzz_u8(&in) % 52) : 0;
    int64_t gap = (int64_t)(int16_t)sf_fuzz_u16(&in);
    if (mode & 2)
        gap *= (int64_t)1 << (sf_fuzz_u8(&in) % 48); /* |gap| < 2^62 */
    sf_box boxes[MAX_BOXES], got[MAX_BOXES], want[MAX_BOXES];
    size_t n = 0;
    while (in.size >= 4 && n < MAX_BOXES) {
        int64_t x = coordinate(&in, shift), y = coordinate(&in, shift);
        int64_t w = coordinate(&in, shift), h = coordinate(&in, shift);
        boxes[n++] = (sf_box){x, y, w, h};
    }

    for (int intersecting = 0; intersecting < 2; intersecting++) {
        memcpy(got, boxes, n * sizeof *boxes);
        memcpy(want, boxes, n * sizeof *boxes);
        size_t m = intersecting ? sf_boxes_merge_intersecting(got, n)
                                : sf_boxes_merge_within_gap(got, n, gap);
        SF_FUZZ_CHECK(m != (size_t)-1);
        int64_t g = intersecting || gap < 0 ? -1 : gap;
        size_t k = reference_merge(want, n, g);
        SF_FUZZ_CHECK(m == k);
        SF_FUZZ_CHECK(m == 0 || memcmp(got, want, m * sizeof *got) == 0);
    }
    return 0;
}
