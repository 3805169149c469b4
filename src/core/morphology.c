/*
 * Erosion and dilation with OpenCV's semantics (imgproc/morph.dispatch.cpp):
 *
 * - The element is getStructuringElement's, anchored at (kw/2, kh/2):
 *   dilate(x, y) = max of src(x + i - ax, y + j - ay) over the element's
 *   cells (i, j), erode the min. Pixels outside the image are skipped (the
 *   default border value is the identity of max or min).
 * - A 1x1 element or 0 iterations copies.
 * - A full rectangle applied n times is one rectangle of n(k - 1) + 1 with
 *   anchor n * a, as OpenCV does; other elements are applied n times.
 * - Opening erodes n times then dilates n times; closing the reverse.
 *
 * Everything is computed as a dilation: erosion is dilation of the inverted
 * image (v ^ 0xFF), inverted back, and 0 is then the identity that stands for
 * pixels outside the image.
 *
 * Running maxima use van Herk / Gil-Werman: over blocks of k values, prefix
 * maxima g and suffix maxima h give max(v[x .. x + k - 1]) = max(h[x],
 * g[x + k - 1]) for three comparisons per value whatever k. A rectangle is
 * a horizontal then a vertical running max; the vertical one works on strips
 * of columns so that whole rows of the strip are compared at once. An
 * ellipse is a union of centred horizontal segments, one per element row:
 * each source row gets one running max per distinct segment, and an output
 * row is the max over the element rows of the matching source rows.
 */
#include "slidefrag/core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Columns per strip of the vertical pass, and the fixed run length of the
 * row loops: a fixed trip count lets compilers vectorise them at -O2. */
enum { STRIP = 256 };

/* The window [x - before, x + after] of a running max. */
typedef struct reach {
    int before, after;
} reach;

typedef struct plan {
    bool rect;
    int passes;       /* applications of the element per erosion or dilation */
    reach horizontal; /* rectangle, all passes folded in */
    reach vertical;
    int kh, ay;   /* ellipse: element height and anchor row */
    int *row_seg; /* ellipse: element row -> index in segs */
    reach *segs;  /* ellipse: distinct segments, clamped to the image */
    int n_segs;
    reach widest; /* ellipse: largest before and after over segs */
    int ring_rows;
} plan;

static inline uint8_t max_u8(uint8_t a, uint8_t b)
{
    return a > b ? a : b;
}

/* a[i] = max(a[i], b[i]) */
static void max_into(uint8_t *restrict a, const uint8_t *restrict b, size_t n)
{
    size_t i = 0;
    for (; i + STRIP <= n; i += STRIP)
        for (size_t j = 0; j < STRIP; j++)
            a[i + j] = max_u8(a[i + j], b[i + j]);
    for (; i < n; i++)
        a[i] = max_u8(a[i], b[i]);
}

/* out[i] = in[i] ^ flip */
static void xor_copy(uint8_t *restrict out, const uint8_t *restrict in, size_t n, uint8_t flip)
{
    size_t i = 0;
    for (; i + STRIP <= n; i += STRIP)
        for (size_t j = 0; j < STRIP; j++)
            out[i + j] = in[i + j] ^ flip;
    for (; i < n; i++)
        out[i] = in[i] ^ flip;
}

/* out[i] = max(h[i], g[i]) ^ flip */
static void merge_max(uint8_t *restrict out, const uint8_t *restrict h, const uint8_t *restrict g,
                      size_t n, uint8_t flip)
{
    size_t i = 0;
    for (; i + STRIP <= n; i += STRIP)
        for (size_t j = 0; j < STRIP; j++)
            out[i + j] = max_u8(h[i + j], g[i + j]) ^ flip;
    for (; i < n; i++)
        out[i] = max_u8(h[i], g[i]) ^ flip;
}

/*
 * out[x] = max(in[x .. x + k - 1]) ^ flip for x < n; `in` holds n + k - 1
 * values, g and h are scratch of that length.
 */
static void running_max(const uint8_t *in, size_t n, size_t k, uint8_t *g, uint8_t *h, uint8_t *out,
                        uint8_t flip)
{
    if (k == 1) {
        xor_copy(out, in, n, flip);
        return;
    }
    size_t len = n + k - 1;
    for (size_t b = 0; b < len; b += k) {
        size_t e = len - b < k ? len : b + k;
        g[b] = in[b];
        for (size_t i = b + 1; i < e; i++)
            g[i] = max_u8(g[i - 1], in[i]);
        if (b < n) { /* suffix maxima are read only below n */
            h[e - 1] = in[e - 1];
            for (size_t i = e - 1; i-- > b;)
                h[i] = max_u8(h[i + 1], in[i]);
        }
    }
    merge_max(out, h, g + k - 1, n, flip);
}

static const uint8_t *row_of(const sf_image *image, int y)
{
    return image->data + (size_t)y * image->stride;
}

static uint8_t *mut_row_of(sf_image *image, int y)
{
    return image->data + (size_t)y * image->stride;
}

static void copy_image(const sf_image *src, sf_image *dst)
{
    if (src->data == dst->data && src->stride == dst->stride)
        return;
    for (int y = 0; y < src->height; y++)
        memmove(mut_row_of(dst, y), row_of(src, y), (size_t)src->width);
}

/* The source row ^ flip between `before` and `after` zeros (the identity). */
static void pad_row(uint8_t *p, const uint8_t *row, size_t width, reach r, uint8_t flip)
{
    memset(p, 0, (size_t)r.before);
    xor_copy(p + r.before, row, width, flip);
    memset(p + r.before + width, 0, (size_t)r.after);
}

/* ---- Rectangle ---------------------------------------------------------- */

/* dst row = running max of the src row; src may be dst. buf: 3 * (w + k - 1). */
static void horizontal_pass(const sf_image *src, sf_image *dst, reach r, uint8_t flip, uint8_t *buf)
{
    size_t w = (size_t)src->width, k = (size_t)r.before + (size_t)r.after + 1;
    size_t len = w + k - 1;
    uint8_t *p = buf, *g = p + len, *h = g + len;
    for (int y = 0; y < src->height; y++) {
        pad_row(p, row_of(src, y), w, r, flip);
        running_max(p, w, k, g, h, mut_row_of(dst, y), flip);
    }
}

/* Rows first .. first + count - 1 of one strip into blk (rows of STRIP
 * bytes), zeros outside the image and right of the strip's width. */
static void load_strip_rows(const sf_image *image, int first, int count, int x0, int sw,
                            uint8_t flip, uint8_t *blk)
{
    for (int i = 0; i < count; i++) {
        int y = first + i;
        uint8_t *out = blk + (size_t)i * STRIP;
        if (y < 0 || y >= image->height) {
            memset(out, 0, STRIP);
            continue;
        }
        xor_copy(out, row_of(image, y) + x0, (size_t)sw, flip);
        memset(out + sw, 0, (size_t)(STRIP - sw));
    }
}

/*
 * In place, strip by strip, block of k rows by block of k rows: the rows of
 * a block are written only after the next block has been read, so no row
 * still to be read has been overwritten. buf: 3 * k * STRIP.
 */
static void vertical_pass(sf_image *image, reach r, uint8_t flip, uint8_t *buf)
{
    int k = r.before + r.after + 1;
    uint8_t *cur = buf, *next = cur + (size_t)k * STRIP, *g = next + (size_t)k * STRIP;
    for (int x0 = 0; x0 < image->width; x0 += STRIP) {
        int sw = image->width - x0 < STRIP ? image->width - x0 : STRIP;
        load_strip_rows(image, -r.before, k, x0, sw, flip, cur);
        for (int b = 0; b < image->height; b += k) {
            /* Padded row p is image row p - before; block b covers p in
             * [b, b + k) and serves output rows b .. b + k - 1. */
            load_strip_rows(image, b + k - r.before, k, x0, sw, flip, next);
            for (int i = k - 1; i-- > 0;)
                max_into(cur + (size_t)i * STRIP, cur + (size_t)(i + 1) * STRIP, STRIP);
            memcpy(g, next, STRIP);
            for (int i = 1; i < k - 1; i++) {
                memcpy(g + (size_t)i * STRIP, g + (size_t)(i - 1) * STRIP, STRIP);
                max_into(g + (size_t)i * STRIP, next + (size_t)i * STRIP, STRIP);
            }
            int rows = image->height - b < k ? image->height - b : k;
            xor_copy(mut_row_of(image, b) + x0, cur, (size_t)sw, flip);
            for (int i = 1; i < rows; i++) {
                /* window [b + i, b + i + k - 1]: suffix of this block,
                 * prefix of the next */
                uint8_t *out = mut_row_of(image, b + i) + x0;
                merge_max(out, cur + (size_t)i * STRIP, g + (size_t)(i - 1) * STRIP, (size_t)sw,
                          flip);
            }
            uint8_t *t = cur;
            cur = next;
            next = t;
        }
    }
}

static void rect_apply(const sf_image *src, sf_image *dst, const plan *pl, uint8_t flip,
                       uint8_t *buf)
{
    if (pl->horizontal.before + pl->horizontal.after > 0)
        horizontal_pass(src, dst, pl->horizontal, flip, buf);
    else
        copy_image(src, dst);
    if (pl->vertical.before + pl->vertical.after > 0)
        vertical_pass(dst, pl->vertical, flip, buf);
}

/* ---- Ellipse ------------------------------------------------------------ */

typedef struct ellipse_scratch {
    uint8_t *padded, *g, *h; /* w + widest.before + widest.after each */
    uint8_t *ring;           /* ring_rows * n_segs * w */
    uint8_t *acc;            /* w */
} ellipse_scratch;

static uint8_t *ring_entry(const plan *pl, const ellipse_scratch *s, size_t w, int y, int seg)
{
    size_t slot = (size_t)(y % pl->ring_rows);
    return s->ring + (slot * (size_t)pl->n_segs + (size_t)seg) * w;
}

/* dst row y from the ring; returns whether it differs from what dst held. */
static bool ellipse_emit(const plan *pl, const ellipse_scratch *s, sf_image *dst, int y,
                         uint8_t flip)
{
    size_t w = (size_t)dst->width;
    int j0 = pl->ay - y > 0 ? pl->ay - y : 0;
    int j1 = pl->ay - y + dst->height - 1 < pl->kh - 1 ? pl->ay - y + dst->height - 1 : pl->kh - 1;
    memcpy(s->acc, ring_entry(pl, s, w, y + j0 - pl->ay, pl->row_seg[j0]), w);
    for (int j = j0 + 1; j <= j1; j++)
        max_into(s->acc, ring_entry(pl, s, w, y + j - pl->ay, pl->row_seg[j]), w);
    for (size_t x = 0; x < w; x++)
        s->acc[x] ^= flip;
    uint8_t *out = mut_row_of(dst, y);
    bool changed = memcmp(out, s->acc, w) != 0;
    memcpy(out, s->acc, w);
    return changed;
}

/*
 * One application, source rows in order: each enters the ring with its
 * segment maxima, and an output row is written once its last source row
 * is in. Output row y is written after source row y + (kh - 1 - ay) >= y
 * was read, and later reads are of later rows, so src may be dst.
 */
static bool ellipse_apply(const sf_image *src, sf_image *dst, const plan *pl, uint8_t flip,
                          const ellipse_scratch *s)
{
    size_t w = (size_t)src->width;
    int below = pl->kh - 1 - pl->ay;
    bool changed = false;
    int y_out = 0;
    for (int y = 0; y < src->height; y++) {
        pad_row(s->padded, row_of(src, y), w, pl->widest, flip);
        for (int i = 0; i < pl->n_segs; i++) {
            reach seg = pl->segs[i];
            size_t k = (size_t)seg.before + (size_t)seg.after + 1;
            running_max(s->padded + (pl->widest.before - seg.before), w, k, s->g, s->h,
                        ring_entry(pl, s, w, y, i), 0);
        }
        for (; y_out < dst->height && y_out + below <= y; y_out++)
            changed |= ellipse_emit(pl, s, dst, y_out, flip);
    }
    for (; y_out < dst->height; y_out++)
        changed |= ellipse_emit(pl, s, dst, y_out, flip);
    return changed;
}

/* ---- Plan and entry point ----------------------------------------------- */

static int clamp_reach(int64_t reach_px, int size)
{
    return reach_px < size - 1 ? (int)reach_px : size - 1;
}

/*
 * Row i of getStructuringElement(MORPH_ELLIPSE, (kw, kh)) covers columns
 * [max(c - dx, 0), min(c + dx + 1, kw)) with r = kh / 2, c = kw / 2,
 * dy = i - r and dx = round(c * sqrt((r^2 - dy^2) / r^2)), rounded half to
 * even in OpenCV's double arithmetic (and dx = 0 when r = 0). Every row
 * has |dy| <= r, so every row is non-empty and contains column c.
 */
static void ellipse_row(int kw, int kh, int i, int *j1, int *j2)
{
    int r = kh / 2, c = kw / 2;
    double inv_r2 = r ? 1. / ((double)r * r) : 0;
    int dy = i - r;
    /* doubles hold OpenCV's int products exactly, without their overflow */
    int dx = (int)lrint(c * sqrt(((double)r * r - (double)dy * dy) * inv_r2));
    *j1 = c - dx > 0 ? c - dx : 0;
    *j2 = c + dx + 1 < kw ? c + dx + 1 : kw;
}

static void plan_free(plan *pl)
{
    free(pl->row_seg);
    free(pl->segs);
}

static sf_status plan_make(plan *pl, sf_kernel_shape shape, int kw, int kh, int iterations,
                           int width, int height)
{
    *pl = (plan){.rect = true, .passes = 1};
    int ax = kw / 2, ay = kh / 2;
    if (shape == SF_KERNEL_ELLIPSE) {
        for (int i = 0; i < kh && pl->rect; i++) {
            int j1, j2;
            ellipse_row(kw, kh, i, &j1, &j2);
            pl->rect = j1 == 0 && j2 == kw;
        }
    }
    if (pl->rect) {
        int64_t n = iterations;
        pl->horizontal = (reach){clamp_reach(n * ax, width), clamp_reach(n * (kw - 1 - ax), width)};
        pl->vertical = (reach){clamp_reach(n * ay, height), clamp_reach(n * (kh - 1 - ay), height)};
        return SF_OK;
    }

    pl->passes = iterations;
    pl->kh = kh;
    pl->ay = ay;
    pl->ring_rows = kh < height ? kh : height;
    pl->row_seg = malloc((size_t)kh * sizeof *pl->row_seg);
    pl->segs = malloc((size_t)kh * sizeof *pl->segs);
    if (!pl->row_seg || !pl->segs) {
        plan_free(pl);
        return SF_ERR_NOMEM;
    }
    /* Segments repeat across rows (the ellipse is symmetric, and clamping
     * to the image merges wide ones): one running max per distinct one. */
    for (int i = 0; i < kh; i++) {
        int j1, j2;
        ellipse_row(kw, kh, i, &j1, &j2);
        reach seg = {clamp_reach(ax - j1, width), clamp_reach(j2 - 1 - ax, width)};
        int s = pl->n_segs - 1;
        while (s >= 0 && (pl->segs[s].before != seg.before || pl->segs[s].after != seg.after))
            s--;
        if (s < 0) {
            s = pl->n_segs++;
            pl->segs[s] = seg;
            if (seg.before > pl->widest.before)
                pl->widest.before = seg.before;
            if (seg.after > pl->widest.after)
                pl->widest.after = seg.after;
        }
        pl->row_seg[i] = s;
    }
    return SF_OK;
}

/* a * b + c, or SIZE_MAX on overflow */
static size_t size_mul_add(size_t a, size_t b, size_t c)
{
    if (b && a > (SIZE_MAX - c) / b)
        return SIZE_MAX;
    return a * b + c;
}

static size_t scratch_size(const plan *pl, int width)
{
    size_t w = (size_t)width;
    if (pl->rect) {
        size_t hk = (size_t)pl->horizontal.before + (size_t)pl->horizontal.after + 1;
        size_t vk = (size_t)pl->vertical.before + (size_t)pl->vertical.after + 1;
        size_t row = 3 * (w + hk - 1), strip = 3 * vk * STRIP;
        return row > strip ? row : strip;
    }
    size_t padded = w + (size_t)pl->widest.before + (size_t)pl->widest.after;
    size_t ring = size_mul_add((size_t)pl->ring_rows * (size_t)pl->n_segs, w, 0);
    return size_mul_add(3, padded, size_mul_add(1, ring, w));
}

static bool image_valid(const sf_image *image)
{
    return image && image->channels == 1 && image->width >= 0 && image->height >= 0 &&
           (image->width == 0 || image->height == 0 ||
            (image->data && image->stride >= (size_t)image->width));
}

/* Erosion (flip 0xFF) or dilation (flip 0) applied pl->passes times. */
static void apply(const sf_image *src, sf_image *dst, const plan *pl, uint8_t flip, uint8_t *buf)
{
    if (pl->rect) {
        rect_apply(src, dst, pl, flip, buf);
        return;
    }
    size_t w = (size_t)src->width;
    size_t padded = w + (size_t)pl->widest.before + (size_t)pl->widest.after;
    ellipse_scratch s = {.padded = buf};
    s.g = s.padded + padded;
    s.h = s.g + padded;
    s.acc = s.h + padded;
    s.ring = s.acc + w;
    ellipse_apply(src, dst, pl, flip, &s);
    /* An application that changes nothing has reached a fixed point. */
    for (int i = 1; i < pl->passes; i++)
        if (!ellipse_apply(dst, dst, pl, flip, &s))
            break;
}

sf_status sf_morphology(const sf_image *src, sf_image *dst, sf_morph_op op, sf_kernel_shape shape,
                        int kernel_width, int kernel_height, int iterations)
{
    if (!image_valid(src) || !image_valid(dst) || dst->width != src->width ||
        dst->height != src->height || kernel_width < 1 || kernel_height < 1 || iterations < 0)
        return SF_ERR_INVALID;
    if (shape != SF_KERNEL_RECT && shape != SF_KERNEL_ELLIPSE)
        return SF_ERR_INVALID;
    if (op != SF_MORPH_ERODE && op != SF_MORPH_DILATE && op != SF_MORPH_OPEN &&
        op != SF_MORPH_CLOSE)
        return SF_ERR_INVALID;
    if (src->width == 0 || src->height == 0)
        return SF_OK;
    if (iterations == 0 || (kernel_width == 1 && kernel_height == 1)) {
        copy_image(src, dst);
        return SF_OK;
    }

    plan pl;
    sf_status status =
        plan_make(&pl, shape, kernel_width, kernel_height, iterations, src->width, src->height);
    if (status != SF_OK)
        return status;
    size_t size = scratch_size(&pl, src->width);
    uint8_t *buf = size == SIZE_MAX ? NULL : malloc(size);
    if (!buf) {
        plan_free(&pl);
        return SF_ERR_NOMEM;
    }

    /* erode = dilate the inverted image; open and close chain two */
    const uint8_t erode = 0xFF, dilate = 0;
    uint8_t first = op == SF_MORPH_ERODE || op == SF_MORPH_OPEN ? erode : dilate;
    apply(src, dst, &pl, first, buf);
    if (op == SF_MORPH_OPEN)
        apply(dst, dst, &pl, dilate, buf);
    else if (op == SF_MORPH_CLOSE)
        apply(dst, dst, &pl, erode, buf);

    free(buf);
    plan_free(&pl);
    return SF_OK;
}
