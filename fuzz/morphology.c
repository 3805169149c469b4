/*
 * sf_morphology against a direct reference (rectangles; any op, size,
 * iterations, in place or not), then sf_connected_components and
 * sf_fill_holes against breadth-first searches on the same mask.
 * Input: 8 parameter bytes, then pixels (repeated to fill the image).
 */
#include "fuzz.h"
#include "slidefrag/core.h"

/* One erosion (min) or dilation (max) with a kw x kh rectangle anchored at
 * (kw/2, kh/2); pixels outside the image are ignored. */
static void reference_pass(const uint8_t *src, uint8_t *dst, int w, int h, int kw, int kh,
                           int dilate)
{
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            int best = dilate ? 0 : 255;
            for (int j = 0; j < kh; j++) {
                for (int i = 0; i < kw; i++) {
                    int sx = x + i - kw / 2, sy = y + j - kh / 2;
                    if (sx < 0 || sy < 0 || sx >= w || sy >= h)
                        continue;
                    int v = src[sy * w + sx];
                    best = dilate ? (v > best ? v : best) : (v < best ? v : best);
                }
            }
            dst[y * w + x] = (uint8_t)best;
        }
    }
}

static void reference(uint8_t *pixels, int w, int h, sf_morph_op op, int kw, int kh, int iterations)
{
    uint8_t *scratch = malloc((size_t)w * h + 1);
    static const int passes[4][2] = {{0, -1}, {1, -1}, {0, 1}, {1, 0}};
    for (int p = 0; p < 2; p++) {
        int dilate = passes[op][p];
        if (dilate < 0)
            break;
        for (int k = 0; k < iterations; k++) {
            reference_pass(pixels, scratch, w, h, kw, kh, dilate);
            memcpy(pixels, scratch, (size_t)w * h);
        }
    }
    free(scratch);
}

/* Breadth-first labels of non-zero pixels: ids 1..n, 0 for background. */
static int bfs_label(const uint8_t *mask, int w, int h, int connectivity, int32_t *ids)
{
    int n = 0;
    int *queue = malloc(sizeof(int) * ((size_t)w * h + 1));
    memset(ids, 0, sizeof(int32_t) * w * h);
    for (int start = 0; start < w * h; start++) {
        if (!mask[start] || ids[start])
            continue;
        n++;
        size_t head = 0, tail = 0;
        queue[tail++] = start;
        ids[start] = n;
        while (head < tail) {
            int p = queue[head++], px = p % w, py = p / w;
            for (int dy = -1; dy <= 1; dy++) {
                for (int dx = -1; dx <= 1; dx++) {
                    if ((!dx && !dy) || (connectivity == 4 && dx && dy))
                        continue;
                    int qx = px + dx, qy = py + dy, q = qy * w + qx;
                    if (qx < 0 || qy < 0 || qx >= w || qy >= h || !mask[q] || ids[q])
                        continue;
                    ids[q] = n;
                    queue[tail++] = q;
                }
            }
        }
    }
    free(queue);
    return n;
}

static void check_components(const uint8_t *mask, int w, int h, int connectivity)
{
    sf_image image = {(uint8_t *)mask, w, h, 1, (size_t)w};
    int32_t *labels = malloc(sizeof(int32_t) * ((size_t)w * h + 1));
    int32_t *ids = malloc(sizeof(int32_t) * ((size_t)w * h + 1));
    sf_component *components = NULL, *again = NULL;
    size_t count = 0, count_again = 0;
    SF_FUZZ_CHECK(sf_connected_components(&image, connectivity, labels, &components, &count) ==
                  SF_OK);
    SF_FUZZ_CHECK(sf_connected_components(&image, connectivity, NULL, &again, &count_again) ==
                  SF_OK);
    SF_FUZZ_CHECK(count == count_again);
    SF_FUZZ_CHECK(count == 0 || memcmp(components, again, count * sizeof *components) == 0);

    /* Same partition as the search: label <-> id both ways. */
    int n = bfs_label(mask, w, h, connectivity, ids);
    SF_FUZZ_CHECK((size_t)n == count);
    int32_t *label_of_id = calloc((size_t)n + 1, sizeof(int32_t));
    int32_t *id_of_label = calloc((size_t)n + 1, sizeof(int32_t));
    int64_t *area = calloc((size_t)n + 1, sizeof(int64_t));
    for (int p = 0; p < w * h; p++) {
        int32_t l = labels[p], id = ids[p];
        SF_FUZZ_CHECK((l == 0) == (id == 0));
        if (!l)
            continue;
        SF_FUZZ_CHECK(l >= 1 && l <= n);
        SF_FUZZ_CHECK(!label_of_id[id] || label_of_id[id] == l);
        SF_FUZZ_CHECK(!id_of_label[l] || id_of_label[l] == id);
        label_of_id[id] = l;
        id_of_label[l] = id;
        /* Label l is components[l - 1]: the pixel lies in its box. */
        const sf_component *c = &components[l - 1];
        int x = p % w, y = p / w;
        SF_FUZZ_CHECK(x >= c->x && x < c->x + c->width && y >= c->y && y < c->y + c->height);
        area[l]++;
    }
    for (size_t i = 0; i < count; i++) {
        const sf_component *c = &components[i];
        SF_FUZZ_CHECK(c->area == area[i + 1]);
        SF_FUZZ_CHECK(c->width > 0 && c->height > 0 && c->area <= (int64_t)c->width * c->height);
        SF_FUZZ_CHECK(c->centroid_x >= c->x && c->centroid_x <= c->x + c->width - 1);
        SF_FUZZ_CHECK(c->centroid_y >= c->y && c->centroid_y <= c->y + c->height - 1);
        if (i > 0) {
            const sf_component *b = &components[i - 1];
            SF_FUZZ_CHECK(b->y < c->y || (b->y == c->y && b->x <= c->x));
        }
    }
    free(label_of_id);
    free(id_of_label);
    free(area);
    free(components);
    free(again);
    free(labels);
    free(ids);
}

/* Background pixels 4-connected to the border stay; all others fill. */
static void check_fill_holes(const uint8_t *mask, int w, int h)
{
    uint8_t *filled = malloc((size_t)w * h + 1);
    memcpy(filled, mask, (size_t)w * h);
    sf_image image = {filled, w, h, 1, (size_t)w};
    SF_FUZZ_CHECK(sf_fill_holes(&image) == SF_OK);

    uint8_t *outside = calloc((size_t)w * h + 1, 1);
    int *queue = malloc(sizeof(int) * ((size_t)w * h + 1));
    size_t head = 0, tail = 0;
    for (int p = 0; p < w * h; p++) {
        int x = p % w, y = p / w;
        if (!mask[p] && (x == 0 || y == 0 || x == w - 1 || y == h - 1)) {
            outside[p] = 1;
            queue[tail++] = p;
        }
    }
    while (head < tail) {
        int p = queue[head++], x = p % w, y = p / w;
        const int next[4][2] = {{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}};
        for (int k = 0; k < 4; k++) {
            int qx = next[k][0], qy = next[k][1], q = qy * w + qx;
            if (qx < 0 || qy < 0 || qx >= w || qy >= h || mask[q] || outside[q])
                continue;
            outside[q] = 1;
            queue[tail++] = q;
        }
    }
    for (int p = 0; p < w * h; p++)
        SF_FUZZ_CHECK(filled[p] == (outside[p] ? 0 : 255));
    free(queue);
    free(outside);
    free(filled);
}

int sf_fuzz_morphology(const uint8_t *data, size_t size)
{
    sf_fuzz_input in = {data, size};
    int w = sf_fuzz_u8(&in) % 40, h = sf_fuzz_u8(&in) % 40;
    uint8_t flags = sf_fuzz_u8(&in);
    sf_morph_op op = (sf_morph_op)(flags % 4);
    sf_kernel_shape shape = flags & 4 ? SF_KERNEL_ELLIPSE : SF_KERNEL_RECT;
    int in_place = (flags & 8) != 0, binary = (flags & 16) != 0, connectivity = flags & 32 ? 4 : 8;
    int kw = sf_fuzz_u8(&in) % 20, kh = sf_fuzz_u8(&in) % 20;
    int iterations = (int8_t)sf_fuzz_u8(&in) % 4;
    size_t pad = sf_fuzz_u8(&in) % 4, stride = (size_t)w + pad;
    sf_fuzz_u8(&in); /* reserved */

    size_t n = stride * h + 1;
    uint8_t *src = malloc(n), *dst = malloc(n), *want = malloc((size_t)w * h + 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t v = in.size ? in.data[i % in.size] : (uint8_t)(i * 37);
        src[i] = binary ? (v & 1 ? 255 : 0) : v;
    }
    memset(dst, 0xa5, n);
    for (int y = 0; y < h; y++)
        memcpy(want + (size_t)y * w, src + y * stride, (size_t)w);

    sf_image s = {src, w, h, 1, stride}, d = {dst, w, h, 1, stride};
    sf_image *out = in_place ? &s : &d;
    sf_status status = sf_morphology(&s, out, op, shape, kw, kh, iterations);
    if (kw < 1 || kh < 1 || iterations < 0) {
        SF_FUZZ_CHECK(status == SF_ERR_INVALID);
    } else {
        SF_FUZZ_CHECK(status == SF_OK);
        if (shape == SF_KERNEL_RECT && (size_t)w * h * kw * kh * (iterations + 1) <= 400000) {
            reference(want, w, h, op, kw, kh, iterations);
            for (int y = 0; y < h; y++)
                SF_FUZZ_CHECK(memcmp(out->data + y * stride, want + (size_t)y * w, (size_t)w) == 0);
        }
        if (w > 0 && h > 0) {
            /* The components and holes of the result, made binary. */
            uint8_t *mask = malloc((size_t)w * h);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    mask[y * w + x] = out->data[y * stride + x] > 127 ? 255 : 0;
            check_components(mask, w, h, connectivity);
            check_fill_holes(mask, w, h);
            free(mask);
        }
    }
    free(src);
    free(dst);
    free(want);
    return 0;
}
