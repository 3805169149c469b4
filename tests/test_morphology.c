/*
 * Erosion, dilation, opening and closing: hand-checked cases, then a
 * brute-force reference (per-pixel max or min over OpenCV's structuring
 * element, applied `iterations` times) on random masks and grey images.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Rows carry PAD bytes past the pixels that must never be written. */
#define PAD 3

static uint8_t *px(const sf_image *im, int x, int y)
{
    return im->data + (size_t)y * im->stride + x;
}

static void fill(sf_image *im, uint8_t v)
{
    for (int y = 0; y < im->height; y++)
        memset(px(im, 0, y), v, (size_t)im->width);
}

static void copy_pixels(const sf_image *src, sf_image *dst)
{
    for (int y = 0; y < src->height; y++)
        memcpy(px(dst, 0, y), px(src, 0, y), (size_t)src->width);
}

/* '.' is 0, '#' is 255, digits are their value. */
static sf_image from_art(const char *const *rows, int height)
{
    sf_image im = test_padded_image((int)strlen(rows[0]), height, 1, PAD);
    for (int y = 0; y < height; y++)
        for (int x = 0; x < im.width; x++) {
            char c = rows[y][x];
            *px(&im, x, y) = c == '.' ? 0 : c == '#' ? 255 : (uint8_t)(c - '0');
        }
    return im;
}

static void assert_same(const sf_image *want, const sf_image *got, const char *what)
{
    for (int y = 0; y < want->height; y++)
        for (int x = 0; x < want->width; x++)
            if (*px(want, x, y) != *px(got, x, y))
                fail_msg("%s: pixel (%d, %d) is %d, want %d", what, x, y, *px(got, x, y),
                         *px(want, x, y));
    test_assert_padding_intact(got);
}

static void assert_art(const sf_image *got, const char *const *rows, int height)
{
    sf_image want = from_art(rows, height);
    assert_same(&want, got, "art");
    g_free(want.data);
}

/* ---- Reference -------------------------------------------------------- */

/*
 * getStructuringElement(MORPH_ELLIPSE, (kw, kh)) as OpenCV writes it
 * (imgproc/morph.dispatch.cpp): r = kh/2, c = kw/2, row i covers
 * [max(c - dx, 0), min(c + dx + 1, kw)) with dy = i - r and
 * dx = cvRound(c * sqrt((r*r - dy*dy) * inv_r2)), inv_r2 = 1/r^2 or 0.
 * A 1x1 size is a rectangle.
 */
static void ref_element(sf_kernel_shape shape, int kw, int kh, uint8_t *elem)
{
    memset(elem, 0, (size_t)kw * kh);
    if (shape == SF_KERNEL_RECT || (kw == 1 && kh == 1)) {
        memset(elem, 1, (size_t)kw * kh);
        return;
    }
    int r = kh / 2, c = kw / 2;
    double inv_r2 = r ? 1. / ((double)r * r) : 0;
    for (int i = 0; i < kh; i++) {
        int dy = i - r;
        if (abs(dy) > r)
            continue;
        int dx = (int)lrint(c * sqrt((r * r - dy * dy) * inv_r2));
        int j1 = c - dx > 0 ? c - dx : 0;
        int j2 = c + dx + 1 < kw ? c + dx + 1 : kw;
        for (int j = j1; j < j2; j++)
            elem[i * kw + j] = 1;
    }
}

/* dst(x, y) = max (or min) of src(x + i - kw/2, y + j - kh/2) over the
 * element's cells inside the image. */
static void ref_pass(const sf_image *src, sf_image *dst, const uint8_t *elem, int kw, int kh,
                     bool dilate)
{
    int ax = kw / 2, ay = kh / 2;
    for (int y = 0; y < src->height; y++)
        for (int x = 0; x < src->width; x++) {
            int v = dilate ? 0 : 255;
            /* only the cells that land inside the image */
            int j0 = ay - y > 0 ? ay - y : 0, j1 = src->height - y + ay;
            int i0 = ax - x > 0 ? ax - x : 0, i1 = src->width - x + ax;
            for (int j = j0; j < kh && j < j1; j++) {
                const uint8_t *row = px(src, 0, y + j - ay);
                for (int i = i0; i < kw && i < i1; i++) {
                    if (!elem[j * kw + i])
                        continue;
                    int s = row[x + i - ax];
                    v = dilate ? (s > v ? s : v) : (s < v ? s : v);
                }
            }
            *px(dst, x, y) = (uint8_t)v;
        }
}

/* The element applied `iterations` times in turn (OpenCV folds repeated
 * rectangles into one larger one; the result must be the same). */
static void ref_repeat(sf_image *im, const uint8_t *elem, int kw, int kh, int iterations,
                       bool dilate)
{
    sf_image tmp = test_padded_image(im->width, im->height, 1, PAD);
    for (int i = 0; i < iterations; i++) {
        ref_pass(im, &tmp, elem, kw, kh, dilate);
        copy_pixels(&tmp, im);
    }
    g_free(tmp.data);
}

static void ref_morph(const sf_image *src, sf_image *dst, sf_morph_op op, sf_kernel_shape shape,
                      int kw, int kh, int iterations)
{
    copy_pixels(src, dst);
    uint8_t *elem = g_malloc((size_t)kw * kh);
    ref_element(shape, kw, kh, elem);
    bool first_dilates = op == SF_MORPH_DILATE || op == SF_MORPH_CLOSE;
    ref_repeat(dst, elem, kw, kh, iterations, first_dilates);
    if (op == SF_MORPH_OPEN || op == SF_MORPH_CLOSE)
        ref_repeat(dst, elem, kw, kh, iterations, !first_dilates);
    g_free(elem);
}

/* ---- Hand-checked cases ----------------------------------------------- */

static void test_dilate_point_rect(void **state)
{
    (void)state;
    static const char *const in[] = {".......", ".......", ".......", "...#...",
                                     ".......", ".......", "......."};
    static const char *const want[] = {".......", ".......", "..###..", "..###..",
                                       "..###..", ".......", "......."};
    sf_image src = from_art(in, 7), dst = test_padded_image(7, 7, 1, PAD);
    assert_int_equal(sf_morphology(&src, &dst, SF_MORPH_DILATE, SF_KERNEL_RECT, 3, 3, 1), SF_OK);
    assert_art(&dst, want, 7);
    /* eroding the block gives the point back */
    assert_int_equal(sf_morphology(&dst, &dst, SF_MORPH_ERODE, SF_KERNEL_RECT, 3, 3, 1), SF_OK);
    assert_art(&dst, in, 7);
    g_free(dst.data);
    g_free(src.data);
}

/*
 * Even sizes anchor at (kw/2, kh/2): for 4x2 the window of (x, y) is
 * x-2 .. x+1 by y-1 .. y, so the point at (3, 2) reaches x in 2..5 and
 * y in 2..3, and erosion of that block shrinks it toward the other side.
 */
static void test_even_kernel_anchor(void **state)
{
    (void)state;
    static const char *const in[] = {"........", "........", "...#....",
                                     "........", "........", "........"};
    static const char *const want[] = {"........", "........", "..####..",
                                       "..####..", "........", "........"};
    sf_image src = from_art(in, 6), dst = test_padded_image(8, 6, 1, PAD);
    assert_int_equal(sf_morphology(&src, &dst, SF_MORPH_DILATE, SF_KERNEL_RECT, 4, 2, 1), SF_OK);
    assert_art(&dst, want, 6);

    /* Eroding that 4x2 block: (x, y) survives only if x-2 .. x+1 and
     * y-1 .. y lie inside it, i.e. x = 4 and y = 3. */
    static const char *const eroded[] = {"........", "........", "........",
                                         "....#...", "........", "........"};
    assert_int_equal(sf_morphology(&dst, &dst, SF_MORPH_ERODE, SF_KERNEL_RECT, 4, 2, 1), SF_OK);
    assert_art(&dst, eroded, 6);
    g_free(dst.data);
    g_free(src.data);
}

/*
 * OpenCV's ellipses, worked out from the formula: 5x5: r = c = 2, rows
 * dy = +-2 give dx = 0, dy = +-1 give round(2 sqrt(3/4)) = round(1.73) = 2.
 * 7x7: dy = +-2 gives round(3 sqrt(5/9)) = round(2.24) = 2, dy = +-1
 * round(3 sqrt(8/9)) = round(2.83) = 3. 4x4: r = c = 2, row 0 is dy = -2
 * (dx 0), and dx = 2 rows are clipped to the width. 8x3: r = 1, c = 4,
 * dy = +-1 give dx = 0. kh = 1 means r = 0 and dx = 0: a lone centre
 * pixel. Dilating a point draws the element mirrored about the anchor.
 */
static void test_ellipse_elements(void **state)
{
    (void)state;
    static const char *const e5[] = {"..#..", "#####", "#####", "#####", "..#.."};
    static const char *const e7[] = {"...#...", ".#####.", "#######", "#######",
                                     "#######", ".#####.", "...#..."};
    static const char *const e4[] = {"..#.", "####", "####", "####"};
    static const char *const e6x4[] = {"...#..", "######", "######", "######"};
    static const char *const e8x3[] = {"....#...", "########", "....#..."};
    static const char *const e3[] = {".#.", "###", ".#."};
    static const char *const e2[] = {".#", "##"};
    static const char *const e5x1[] = {"..#.."};
    static const char *const e1x5[] = {"#", "#", "#", "#", "#"};
    static const struct {
        const char *const *rows;
        int kw, kh;
    } cases[] = {
        {e5, 5, 5}, {e7, 7, 7}, {e4, 4, 4},   {e6x4, 6, 4}, {e8x3, 8, 3},
        {e3, 3, 3}, {e2, 2, 2}, {e5x1, 5, 1}, {e1x5, 1, 5},
    };
    for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
        int kw = cases[c].kw, kh = cases[c].kh, w = 3 * kw, h = 3 * kh;
        int px0 = w / 2, py0 = h / 2;
        sf_image src = test_padded_image(w, h, 1, PAD), dst = test_padded_image(w, h, 1, PAD);
        fill(&src, 0);
        *px(&src, px0, py0) = 255;
        assert_int_equal(sf_morphology(&src, &dst, SF_MORPH_DILATE, SF_KERNEL_ELLIPSE, kw, kh, 1),
                         SF_OK);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int i = px0 + kw / 2 - x, j = py0 + kh / 2 - y;
                bool in = i >= 0 && i < kw && j >= 0 && j < kh && cases[c].rows[j][i] == '#';
                if (*px(&dst, x, y) != (in ? 255 : 0))
                    fail_msg("%dx%d ellipse: pixel (%d, %d)", kw, kh, x, y);
            }
        test_assert_padding_intact(&dst);
        g_free(dst.data);
        g_free(src.data);
    }
}

/* Pixels outside the image never count: erosion does not eat a full
 * image from its border, dilation does not grow an empty one. */
static void test_border_is_ignored(void **state)
{
    (void)state;
    for (int shape = SF_KERNEL_RECT; shape <= SF_KERNEL_ELLIPSE; shape++) {
        sf_image im = test_padded_image(13, 9, 1, PAD);
        fill(&im, 255);
        for (int op = SF_MORPH_ERODE; op <= SF_MORPH_CLOSE; op++) {
            assert_int_equal(sf_morphology(&im, &im, op, shape, 7, 5, 2), SF_OK);
            for (int y = 0; y < 9; y++)
                for (int x = 0; x < 13; x++)
                    assert_int_equal(*px(&im, x, y), 255);
        }
        fill(&im, 0);
        for (int op = SF_MORPH_ERODE; op <= SF_MORPH_CLOSE; op++) {
            assert_int_equal(sf_morphology(&im, &im, op, shape, 31, 31, 3), SF_OK);
            for (int y = 0; y < 9; y++)
                for (int x = 0; x < 13; x++)
                    assert_int_equal(*px(&im, x, y), 0);
        }
        test_assert_padding_intact(&im);
        g_free(im.data);
    }
}

/* Opening drops specks smaller than the element and keeps larger blobs.
 * Closing fills a one-pixel gap, and as the border is ignored it also
 * fills to the image edge: the dilation reaches column 0 and 7, and the
 * erosion there only sees the filled pixels inside. */
static void test_open_close(void **state)
{
    (void)state;
    static const char *const in[] = {"#.......", "........", "....###.",
                                     "....###.", "....###.", "........"};
    static const char *const opened[] = {"........", "........", "....###.",
                                         "....###.", "....###.", "........"};
    sf_image im = from_art(in, 6);
    assert_int_equal(sf_morphology(&im, &im, SF_MORPH_OPEN, SF_KERNEL_RECT, 3, 3, 1), SF_OK);
    assert_art(&im, opened, 6);
    g_free(im.data);

    static const char *const gap[] = {"........", ".###.##.", ".###.##.", ".###.##.", "........"};
    static const char *const closed[] = {"........", "########", "########", "########",
                                         "........"};
    im = from_art(gap, 5);
    assert_int_equal(sf_morphology(&im, &im, SF_MORPH_CLOSE, SF_KERNEL_RECT, 3, 1, 1), SF_OK);
    assert_art(&im, closed, 5);
    g_free(im.data);
}

/* Grey levels, not only masks: max and min of the window. */
static void test_grey_values(void **state)
{
    (void)state;
    static const char *const in[] = {"1234", "5678", "9123"};
    sf_image src = from_art(in, 3), dst = test_padded_image(4, 3, 1, PAD);

    /* 2x1 anchors at x = 1: the window of x is x-1 .. x */
    static const char *const dilated2x1[] = {"1234", "5678", "9923"};
    assert_int_equal(sf_morphology(&src, &dst, SF_MORPH_DILATE, SF_KERNEL_RECT, 2, 1, 1), SF_OK);
    assert_art(&dst, dilated2x1, 3);

    /* 3x3: windows clipped at the border, e.g. (0, 0) sees 1 2 5 6 */
    static const char *const dilated3[] = {"6788", "9988", "9988"};
    assert_int_equal(sf_morphology(&src, &dst, SF_MORPH_DILATE, SF_KERNEL_RECT, 3, 3, 1), SF_OK);
    assert_art(&dst, dilated3, 3);
    static const char *const eroded3[] = {"1123", "1112", "1112"};
    assert_int_equal(sf_morphology(&src, &dst, SF_MORPH_ERODE, SF_KERNEL_RECT, 3, 3, 1), SF_OK);
    assert_art(&dst, eroded3, 3);

    /* the 3x3 ellipse is a cross: (1, 1) sees 2, 5 6 7 and 1 */
    static const char *const dilated_cross[] = {"5678", "9788", "9978"};
    assert_int_equal(sf_morphology(&src, &dst, SF_MORPH_DILATE, SF_KERNEL_ELLIPSE, 3, 3, 1), SF_OK);
    assert_art(&dst, dilated_cross, 3);
    g_free(dst.data);
    g_free(src.data);
}

/* 0 iterations and a 1x1 element copy, whatever else is asked. */
static void test_identity_cases(void **state)
{
    (void)state;
    static const char *const in[] = {"#.3.", ".9#.", "...7"};
    sf_image src = from_art(in, 3), dst = test_padded_image(4, 3, 1, PAD);
    for (int op = SF_MORPH_ERODE; op <= SF_MORPH_CLOSE; op++) {
        fill(&dst, 42);
        assert_int_equal(sf_morphology(&src, &dst, op, SF_KERNEL_ELLIPSE, 5, 5, 0), SF_OK);
        assert_art(&dst, in, 3);
        fill(&dst, 42);
        assert_int_equal(sf_morphology(&src, &dst, op, SF_KERNEL_RECT, 1, 1, 4), SF_OK);
        assert_art(&dst, in, 3);
    }
    /* a 1x1 image is its own erosion and dilation */
    sf_image one = test_padded_image(1, 1, 1, PAD);
    for (int op = SF_MORPH_ERODE; op <= SF_MORPH_CLOSE; op++) {
        *px(&one, 0, 0) = 77;
        assert_int_equal(sf_morphology(&one, &one, op, SF_KERNEL_ELLIPSE, 31, 8, 3), SF_OK);
        assert_int_equal(*px(&one, 0, 0), 77);
    }
    test_assert_padding_intact(&one);
    g_free(one.data);
    g_free(dst.data);
    g_free(src.data);
}

/* OpenCV folds n applications of a k rectangle into one n(k-1)+1 rectangle. */
static void test_rect_iterations_fold(void **state)
{
    (void)state;
    GRand *rng = g_rand_new_with_seed(7);
    sf_image src = test_padded_image(37, 29, 1, PAD), a = test_padded_image(37, 29, 1, PAD),
             b = test_padded_image(37, 29, 1, PAD);
    for (int y = 0; y < src.height; y++)
        for (int x = 0; x < src.width; x++)
            *px(&src, x, y) = (uint8_t)g_rand_int_range(rng, 0, 256);
    for (int op = SF_MORPH_ERODE; op <= SF_MORPH_CLOSE; op++) {
        assert_int_equal(sf_morphology(&src, &a, op, SF_KERNEL_RECT, 3, 5, 3), SF_OK);
        assert_int_equal(sf_morphology(&src, &b, op, SF_KERNEL_RECT, 7, 13, 1), SF_OK);
        assert_same(&b, &a, "3x5 three times vs 7x13");
    }
    g_rand_free(rng);
    g_free(b.data);
    g_free(a.data);
    g_free(src.data);
}

static void test_invalid_and_empty(void **state)
{
    (void)state;
    sf_image a = test_padded_image(5, 4, 1, PAD), b = test_padded_image(5, 4, 1, PAD),
             small = test_padded_image(4, 4, 1, PAD);
    fill(&a, 9);
    sf_image rgb = {.data = a.data, .width = 5, .height = 4, .channels = 3, .stride = 15};
    sf_image no_data = {.data = NULL, .width = 5, .height = 4, .channels = 1, .stride = 5};
    sf_image short_stride = a;
    short_stride.stride = 4;
    const sf_morph_op op = SF_MORPH_OPEN;
    const sf_kernel_shape rect = SF_KERNEL_RECT;
    assert_int_equal(sf_morphology(NULL, &b, op, rect, 3, 3, 1), SF_ERR_INVALID);
    assert_int_equal(sf_morphology(&a, NULL, op, rect, 3, 3, 1), SF_ERR_INVALID);
    assert_int_equal(sf_morphology(&a, &small, op, rect, 3, 3, 1), SF_ERR_INVALID);
    assert_int_equal(sf_morphology(&rgb, &b, op, rect, 3, 3, 1), SF_ERR_INVALID);
    assert_int_equal(sf_morphology(&a, &rgb, op, rect, 3, 3, 1), SF_ERR_INVALID);
    assert_int_equal(sf_morphology(&no_data, &b, op, rect, 3, 3, 1), SF_ERR_INVALID);
    assert_int_equal(sf_morphology(&short_stride, &b, op, rect, 3, 3, 1), SF_ERR_INVALID);
    assert_int_equal(sf_morphology(&a, &b, op, rect, 0, 3, 1), SF_ERR_INVALID);
    assert_int_equal(sf_morphology(&a, &b, op, rect, 3, -1, 1), SF_ERR_INVALID);
    assert_int_equal(sf_morphology(&a, &b, op, rect, 3, 3, -1), SF_ERR_INVALID);
    assert_int_equal(sf_morphology(&a, &b, (sf_morph_op)9, rect, 3, 3, 1), SF_ERR_INVALID);
    assert_int_equal(sf_morphology(&a, &b, op, (sf_kernel_shape)9, 3, 3, 1), SF_ERR_INVALID);
    /* nothing written on refusal */
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 5; x++)
            assert_int_equal(*px(&b, x, y), TEST_PAD_VALUE);

    /* Zero-sized images are valid and there is nothing to do. */
    sf_image e0 = {.data = NULL, .width = 0, .height = 0, .channels = 1, .stride = 0};
    sf_image e1 = {.data = NULL, .width = 7, .height = 0, .channels = 1, .stride = 7};
    sf_image e2 = {.data = NULL, .width = 0, .height = 7, .channels = 1, .stride = 0};
    assert_int_equal(sf_morphology(&e0, &e0, SF_MORPH_CLOSE, SF_KERNEL_ELLIPSE, 5, 5, 2), SF_OK);
    assert_int_equal(sf_morphology(&e1, &e1, SF_MORPH_ERODE, rect, 3, 3, 1), SF_OK);
    assert_int_equal(sf_morphology(&e2, &e2, SF_MORPH_DILATE, rect, 3, 3, 1), SF_OK);
    /* ... but the kernel is still checked */
    assert_int_equal(sf_morphology(&e0, &e0, SF_MORPH_CLOSE, rect, 0, 5, 2), SF_ERR_INVALID);

    g_free(small.data);
    g_free(b.data);
    g_free(a.data);
}

/* ---- Against the reference -------------------------------------------- */

static void random_image(GRand *rng, sf_image *im, bool binary)
{
    /* masks of varying density, so that both erosion and dilation have
     * something to do; grey images uniform over 0..255 */
    double density = g_rand_double_range(rng, 0.2, 0.8);
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++)
            *px(im, x, y) = binary ? (g_rand_double(rng) < density ? 255 : 0)
                                   : (uint8_t)g_rand_int_range(rng, 0, 256);
}

static const char *const op_names[] = {"erode", "dilate", "open", "close"};

static void compare_with_reference(GRand *rng, int w, int h, int kw, int kh)
{
    sf_image src = test_padded_image(w, h, 1, PAD), want = test_padded_image(w, h, 1, PAD),
             got = test_padded_image(w, h, 1, PAD);
    for (int binary = 0; binary < 2; binary++) {
        random_image(rng, &src, binary);
        for (int shape = SF_KERNEL_RECT; shape <= SF_KERNEL_ELLIPSE; shape++)
            for (int op = SF_MORPH_ERODE; op <= SF_MORPH_CLOSE; op++)
                for (int iterations = 1; iterations <= 3; iterations += 2) {
                    ref_morph(&src, &want, op, shape, kw, kh, iterations);
                    /* alternate between a separate dst and in place */
                    bool in_place = g_rand_boolean(rng);
                    if (in_place)
                        copy_pixels(&src, &got);
                    else
                        fill(&got, 42);
                    sf_status status =
                        sf_morphology(in_place ? &got : &src, &got, op, shape, kw, kh, iterations);
                    assert_int_equal(status, SF_OK);
                    char what[128];
                    snprintf(what, sizeof what, "%dx%d %s %s %dx%d x%d %s%s", w, h,
                             binary ? "mask" : "grey", op_names[op], kw, kh, iterations,
                             shape == SF_KERNEL_RECT ? "rect" : "ellipse",
                             in_place ? " in place" : "");
                    assert_same(&want, &got, what);
                }
    }
    g_free(got.data);
    g_free(want.data);
    g_free(src.data);
}

static const int kernel_sizes[][2] = {
    {1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {8, 8},  {15, 15}, {31, 31},
    {3, 7}, {7, 3}, {1, 5}, {5, 1}, {2, 6}, {31, 4}, {4, 31},  {6, 9},
};

static void test_reference_shapes(void **state)
{
    (void)state;
    /* 1x1, single rows and columns, smaller than most kernels, and two
     * ordinary sizes, one wider than a strip of the vertical pass */
    static const int image_sizes[][2] = {
        {1, 1}, {1, 13}, {13, 1}, {4, 3}, {23, 17}, {270, 3},
    };
    GRand *rng = g_rand_new_with_seed(1234);
    for (size_t i = 0; i < G_N_ELEMENTS(image_sizes); i++)
        for (size_t k = 0; k < G_N_ELEMENTS(kernel_sizes); k++)
            compare_with_reference(rng, image_sizes[i][0], image_sizes[i][1], kernel_sizes[k][0],
                                   kernel_sizes[k][1]);
    g_rand_free(rng);
}

/* Random sizes of image and kernel, so blocks of rows and strips of
 * columns end in every way. */
static void test_reference_random(void **state)
{
    (void)state;
    GRand *rng = g_rand_new_with_seed(99);
    for (int round = 0; round < 16; round++) {
        int w = g_rand_int_range(rng, 1, 40), h = g_rand_int_range(rng, 1, 40);
        int kw = g_rand_int_range(rng, 1, 16), kh = g_rand_int_range(rng, 1, 16);
        compare_with_reference(rng, w, h, kw, kh);
    }
    g_rand_free(rng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dilate_point_rect), cmocka_unit_test(test_even_kernel_anchor),
        cmocka_unit_test(test_ellipse_elements),  cmocka_unit_test(test_border_is_ignored),
        cmocka_unit_test(test_open_close),        cmocka_unit_test(test_grey_values),
        cmocka_unit_test(test_identity_cases),    cmocka_unit_test(test_rect_iterations_fold),
        cmocka_unit_test(test_invalid_and_empty), cmocka_unit_test(test_reference_shapes),
        cmocka_unit_test(test_reference_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
