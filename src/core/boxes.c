/*
 * Box merging to a fixed point. Each round sorts the boxes by x and sweeps
 * left to right, keeping the clusters still close enough in x to meet what
 * comes next. A new box swallows every active cluster it meets and, having
 * grown, is tested again at once, so chains of merges ahead of the sweep
 * resolve within the round. A grown box can still reach a cluster the sweep
 * already left behind, so rounds repeat until one merges nothing; a round
 * without merges has compared every pair that could meet. Between rounds
 * the boxes turn a quarter, so growth that one sweep direction leaves for
 * later is the next round's forward direction: dense inputs that chain
 * across the whole area settle in a few rounds instead of hundreds.
 *
 * "Intersecting" is the gap test with gap -1: for half-open integer boxes,
 * b.x - (a.x + a.w) <= -1 is exactly "b starts before a ends".
 */
#include "slidefrag/core.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Keeps x + w + gap far from int64 overflow for coordinates within 2^60. */
#define MAX_GAP ((int64_t)1 << 61)

static int64_t key_at(const sf_box *b, size_t offset)
{
    int64_t v;
    memcpy(&v, (const char *)b + offset, sizeof v);
    return v;
}

/* Stable LSD radix sort by the int64 field at `offset`, skipping bytes in
 * which all keys agree; tmp holds n boxes. Much faster than qsort here and
 * O(n) whatever the input order. */
static void radix_sort(sf_box *boxes, sf_box *tmp, size_t n, size_t offset)
{
    size_t counts[8][256] = {{0}};
    for (size_t i = 0; i < n; i++) {
        uint64_t k = (uint64_t)key_at(&boxes[i], offset) ^ ((uint64_t)1 << 63);
        for (int b = 0; b < 8; b++)
            counts[b][(k >> (8 * b)) & 255]++;
    }
    uint64_t first = (uint64_t)key_at(&boxes[0], offset) ^ ((uint64_t)1 << 63);
    sf_box *src = boxes, *dst = tmp;
    for (int b = 0; b < 8; b++) {
        if (counts[b][(first >> (8 * b)) & 255] == n)
            continue;
        size_t pos = 0;
        for (int d = 0; d < 256; d++) {
            size_t c = counts[b][d];
            counts[b][d] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t k = (uint64_t)key_at(&src[i], offset) ^ ((uint64_t)1 << 63);
            dst[counts[b][(k >> (8 * b)) & 255]++] = src[i];
        }
        sf_box *t = src;
        src = dst;
        dst = t;
    }
    if (src != boxes)
        memcpy(boxes, src, n * sizeof *boxes);
}

static void sort_yxhw(sf_box *boxes, sf_box *tmp, size_t n)
{
    /* Least significant key first; each pass is stable. */
    radix_sort(boxes, tmp, n, offsetof(sf_box, w));
    radix_sort(boxes, tmp, n, offsetof(sf_box, h));
    radix_sort(boxes, tmp, n, offsetof(sf_box, x));
    radix_sort(boxes, tmp, n, offsetof(sf_box, y));
}

static int compare_yxhw(const void *pa, const void *pb)
{
    const sf_box *a = pa, *b = pb;
    if (a->y != b->y)
        return a->y < b->y ? -1 : 1;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    if (a->h != b->h)
        return a->h < b->h ? -1 : 1;
    return (a->w > b->w) - (a->w < b->w);
}

void sf_boxes_sort(sf_box *boxes, size_t count)
{
    if (!boxes || count < 2)
        return;
    sf_box *tmp = malloc(count * sizeof *tmp);
    if (tmp)
        sort_yxhw(boxes, tmp, count);
    else /* no scratch: slower, same order */
        qsort(boxes, count, sizeof *boxes, compare_yxhw);
    free(tmp);
}

/* A cluster by its edges, [x0, x1) x [y0, y1). Active clusters live in
 * their own small array so the hot loop reads contiguous memory. */
typedef struct span {
    int64_t x0, x1, y0, y1;
    size_t index; /* of the cluster in boxes */
} span;

static void grow(span *into, const span *s)
{
    if (s->x0 < into->x0)
        into->x0 = s->x0;
    if (s->x1 > into->x1)
        into->x1 = s->x1;
    if (s->y0 < into->y0)
        into->y0 = s->y0;
    if (s->y1 > into->y1)
        into->y1 = s->y1;
}

/* One round; returns the number of clusters, written to the front of boxes.
 * Cluster k is stored in boxes[k], which the sweep has already read. */
static size_t merge_round(sf_box *boxes, sf_box *tmp, size_t n, int64_t gap, span *active)
{
    radix_sort(boxes, tmp, n, offsetof(sf_box, x));
    size_t n_active = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        const sf_box *b = &boxes[i];
        span cur = {b->x, b->x + b->w, b->y, b->y + b->h, 0};
        /* Every later box starts at or after b, so a cluster ending more
         * than gap before b can no longer be met. */
        int64_t reach = b->x - gap;
        bool grew;
        do {
            grew = false;
            for (size_t k = 0; k < n_active;) {
                span *a = &active[k];
                if (a->x1 < reach) {
                    *a = active[--n_active];
                    continue;
                }
                if (cur.x0 - a->x1 <= gap && a->x0 - cur.x1 <= gap && cur.y0 - a->y1 <= gap &&
                    a->y0 - cur.y1 <= gap) {
                    grow(&cur, a);
                    boxes[a->index].w = 0; /* swallowed */
                    *a = active[--n_active];
                    grew = true;
                    continue;
                }
                k++;
            }
        } while (grew);
        cur.index = m;
        boxes[m++] = (sf_box){cur.x0, cur.y0, cur.x1 - cur.x0, cur.y1 - cur.y0};
        active[n_active++] = cur;
    }

    size_t live = 0;
    for (size_t k = 0; k < m; k++)
        if (boxes[k].w > 0)
            boxes[live++] = boxes[k];
    return live;
}

/* A quarter turn, (x, y) -> (-y, x), for half-open boxes. */
static void turn(sf_box *boxes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sf_box b = boxes[i];
        boxes[i] = (sf_box){.x = -(b.y + b.h), .y = b.x, .w = b.h, .h = b.w};
    }
}

static size_t merge_boxes(sf_box *boxes, size_t count, int64_t gap)
{
    if (!boxes || count == 0)
        return 0;
    size_t per_box = sizeof(span) + sizeof(sf_box);
    if (count > SIZE_MAX / per_box)
        return (size_t)-1;
    /* Allocate before touching the input so failure leaves it unchanged. */
    sf_box *tmp = malloc(count * per_box);
    if (!tmp)
        return (size_t)-1;
    span *active = (span *)(tmp + count);

    /* Boxes without pixels meet nothing and bound nothing. */
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (boxes[i].w > 0 && boxes[i].h > 0)
            boxes[n++] = boxes[i];

    int turns = 0;
    while (n > 1) {
        size_t m = merge_round(boxes, tmp, n, gap, active);
        turn(boxes, m);
        turns++;
        if (m == n)
            break;
        n = m;
    }
    for (; turns % 4 != 0; turns++)
        turn(boxes, n);
    if (n > 1)
        sort_yxhw(boxes, tmp, n);
    free(tmp);
    return n;
}

size_t sf_boxes_merge_intersecting(sf_box *boxes, size_t count)
{
    return merge_boxes(boxes, count, -1);
}

size_t sf_boxes_merge_within_gap(sf_box *boxes, size_t count, int64_t gap)
{
    if (gap < 0)
        gap = -1;
    if (gap > MAX_GAP)
        gap = MAX_GAP;
    return merge_boxes(boxes, count, gap);
}
