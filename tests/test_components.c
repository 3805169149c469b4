/* Connected components and hole filling of binary masks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <string.h>

/* Rows must not be touched by the code under test past `width`. */
#define PAD 5
#define PAD_VALUE 0xAB

/* A mask from ASCII art: '.' is 0, '#' is 255, digits 1-9 are that value.
 * Rows carry PAD bytes of non-zero padding that must be ignored. */
static sf_image mask_from_art(const char *const *rows, int height)
{
    int width = height > 0 ? (int)strlen(rows[0]) : 0;
    sf_image m = {
        .width = width,
        .height = height,
        .channels = 1,
        .stride = (size_t)width + PAD,
    };
    m.data = g_malloc((size_t)height * m.stride + 1);
    memset(m.data, PAD_VALUE, (size_t)height * m.stride + 1);
    for (int y = 0; y < height; y++) {
        assert_int_equal((int)strlen(rows[y]), width);
        for (int x = 0; x < width; x++) {
            char c = rows[y][x];
            m.data[(size_t)y * m.stride + x] = c == '.' ? 0 : c == '#' ? 255 : (uint8_t)(c - '0');
        }
    }
    return m;
}

static sf_image random_mask(GRand *rng, int width, int height, double density)
{
    sf_image m = {.width = width, .height = height, .channels = 1, .stride = (size_t)width + PAD};
    m.data = g_malloc((size_t)height * m.stride + 1);
    memset(m.data, PAD_VALUE, (size_t)height * m.stride + 1);
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            m.data[(size_t)y * m.stride + x] =
                g_rand_double(rng) < density ? (uint8_t)g_rand_int_range(rng, 1, 256) : 0;
    return m;
}

static uint8_t px(const sf_image *m, int x, int y)
{
    return m->data[(size_t)y * m->stride + x];
}

/* ---- naive reference: breadth-first flood fill per pixel ------------- */

typedef struct ref_component {
    sf_component c;
    int first; /* raster index of the first pixel */
} ref_component;

static int compare_ref(const void *pa, const void *pb)
{
    const ref_component *a = pa, *b = pb;
    if (a->c.y != b->c.y)
        return a->c.y - b->c.y;
    if (a->c.x != b->c.x)
        return a->c.x - b->c.x;
    return a->first - b->first;
}

/* Labels in raster order of first pixels; returns components sorted as the
 * header promises and relabels `labels` to match. */
static ref_component *naive_components(const sf_image *m, int connectivity, int32_t *labels,
                                       size_t *count)
{
    int w = m->width, h = m->height;
    int *queue = g_new(int, (size_t)w *h + 1);
    GArray *out = g_array_new(FALSE, FALSE, sizeof(ref_component));
    memset(labels, 0, sizeof(int32_t) * (size_t)w * h);
    for (int start = 0; start < w * h; start++) {
        if (!px(m, start % w, start / w) || labels[start])
            continue;
        int32_t label = (int32_t)out->len + 1;
        int64_t sx = 0, sy = 0, area = 0;
        int x0 = w, y0 = h, x1 = -1, y1 = -1;
        int head = 0, tail = 0;
        queue[tail++] = start;
        labels[start] = label;
        while (head < tail) {
            int p = queue[head++], x = p % w, y = p / w;
            area++;
            sx += x;
            sy += y;
            x0 = MIN(x0, x);
            y0 = MIN(y0, y);
            x1 = MAX(x1, x);
            y1 = MAX(y1, y);
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    if ((dx == 0 && dy == 0) || (connectivity == 4 && dx != 0 && dy != 0))
                        continue;
                    int nx = x + dx, ny = y + dy;
                    if (nx < 0 || ny < 0 || nx >= w || ny >= h || !px(m, nx, ny) ||
                        labels[ny * w + nx])
                        continue;
                    labels[ny * w + nx] = label;
                    queue[tail++] = ny * w + nx;
                }
        }
        ref_component rc = {
            .c = {x0, y0, x1 - x0 + 1, y1 - y0 + 1, area, (double)sx / area, (double)sy / area},
            .first = start,
        };
        g_array_append_val(out, rc);
    }
    g_free(queue);
    /* Sort, then renumber the labels to the sorted order. */
    ref_component *comps = (ref_component *)out->data;
    size_t n = out->len;
    int32_t *old_to_new = g_new0(int32_t, n + 1);
    int *first_of = g_new(int, n);
    for (size_t i = 0; i < n; i++)
        first_of[i] = comps[i].first;
    if (n > 1)
        qsort(comps, n, sizeof *comps, compare_ref);
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < n; i++)
            if (first_of[i] == comps[k].first)
                old_to_new[i + 1] = (int32_t)k + 1;
    for (int i = 0; i < w * h; i++)
        labels[i] = old_to_new[labels[i]];
    g_free(first_of);
    g_free(old_to_new);
    *count = n;
    return (ref_component *)g_array_free(out, FALSE);
}

static void assert_component(const sf_component *c, int x, int y, int w, int h, int64_t area,
                             double cx, double cy)
{
    assert_int_equal(c->x, x);
    assert_int_equal(c->y, y);
    assert_int_equal(c->width, w);
    assert_int_equal(c->height, h);
    assert_int_equal(c->area, area);
    assert_float_equal(c->centroid_x, cx, 1e-12);
    assert_float_equal(c->centroid_y, cy, 1e-12);
}

/* Runs sf_connected_components and checks it against the naive labelling
 * exactly, labels image included; returns the components for more checks. */
static sf_component *check_against_naive(const sf_image *m, int connectivity, size_t *count)
{
    size_t npix = (size_t)m->width * m->height;
    int32_t *labels = g_new(int32_t, npix + 1);
    int32_t *expect_labels = g_new(int32_t, npix + 1);
    sf_component *comps = NULL;
    assert_int_equal(sf_connected_components(m, connectivity, labels, &comps, count), SF_OK);
    size_t n_ref = 0;
    ref_component *ref = naive_components(m, connectivity, expect_labels, &n_ref);
    assert_int_equal(*count, n_ref);
    for (size_t i = 0; i < n_ref; i++)
        assert_component(&comps[i], ref[i].c.x, ref[i].c.y, ref[i].c.width, ref[i].c.height,
                         ref[i].c.area, ref[i].c.centroid_x, ref[i].c.centroid_y);
    assert_memory_equal(labels, expect_labels, npix * sizeof *labels);
    g_free(ref);
    g_free(expect_labels);
    g_free(labels);
    return comps;
}

/* ---- connected components -------------------------------------------- */

static void test_invalid_arguments(void **state)
{
    (void)state;
    const char *art[] = {"#."};
    sf_image m = mask_from_art(art, 1);
    sf_component *comps = NULL;
    size_t n = 0;
    assert_int_equal(sf_connected_components(NULL, 8, NULL, &comps, &n), SF_ERR_INVALID);
    assert_int_equal(sf_connected_components(&m, 6, NULL, &comps, &n), SF_ERR_INVALID);
    assert_int_equal(sf_connected_components(&m, 8, NULL, NULL, &n), SF_ERR_INVALID);
    assert_int_equal(sf_connected_components(&m, 8, NULL, &comps, NULL), SF_ERR_INVALID);
    sf_image rgb = m;
    rgb.channels = 3;
    assert_int_equal(sf_connected_components(&rgb, 8, NULL, &comps, &n), SF_ERR_INVALID);
    sf_image narrow = m;
    narrow.stride = 1;
    assert_int_equal(sf_connected_components(&narrow, 8, NULL, &comps, &n), SF_ERR_INVALID);
    test_image_free(&m);
}

static void test_empty_image(void **state)
{
    (void)state;
    sf_image empty = {.data = NULL, .width = 0, .height = 0, .channels = 1, .stride = 0};
    sf_component sentinel;
    sf_component *comps = &sentinel; /* must be overwritten */
    size_t n = 99;
    assert_int_equal(sf_connected_components(&empty, 8, NULL, &comps, &n), SF_OK);
    assert_int_equal(n, 0);
    assert_null(comps);
    sf_image no_rows = {.data = NULL, .width = 5, .height = 0, .channels = 1, .stride = 5};
    assert_int_equal(sf_connected_components(&no_rows, 4, NULL, &comps, &n), SF_OK);
    assert_int_equal(n, 0);
}

static void test_single_pixel(void **state)
{
    (void)state;
    const char *fg_art[] = {"#"}, *bg_art[] = {"."};
    sf_image fg = mask_from_art(fg_art, 1), bg = mask_from_art(bg_art, 1);
    sf_component *comps = NULL;
    size_t n = 0;
    int32_t label = -1;
    assert_int_equal(sf_connected_components(&fg, 8, &label, &comps, &n), SF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(label, 1);
    assert_component(&comps[0], 0, 0, 1, 1, 1, 0.0, 0.0);
    free(comps);
    assert_int_equal(sf_connected_components(&bg, 4, &label, &comps, &n), SF_OK);
    assert_int_equal(n, 0);
    assert_int_equal(label, 0);
    assert_null(comps);
    test_image_free(&fg);
    test_image_free(&bg);
}

static void test_all_foreground(void **state)
{
    (void)state;
    /* Mixed non-zero values are all foreground. */
    const char *art[] = {"#######", "#1#####", "####9##", "#######", "######2"};
    sf_image m = mask_from_art(art, 5);
    for (int conn = 4; conn <= 8; conn += 4) {
        sf_component *comps = NULL;
        size_t n = 0;
        int32_t labels[35];
        assert_int_equal(sf_connected_components(&m, conn, labels, &comps, &n), SF_OK);
        assert_int_equal(n, 1);
        /* centroid of 0..6 is 3, of 0..4 is 2 */
        assert_component(&comps[0], 0, 0, 7, 5, 35, 3.0, 2.0);
        for (int i = 0; i < 35; i++)
            assert_int_equal(labels[i], 1);
        free(comps);
    }
    test_image_free(&m);
}

static void test_touching_every_border(void **state)
{
    (void)state;
    const char *art[] = {
        "##..#", /* A: (0,0) (1,0) (0,1); B: (4,0) */
        "#....", /* */
        ".....", /* */
        "....#", /* C: (4,3) (2,4) (3,4) (4,4) */
        "#.###", /* D: (0,4) */
    };
    sf_image m = mask_from_art(art, 5);
    sf_component *comps = NULL;
    size_t n = 0;
    int32_t labels[25];
    assert_int_equal(sf_connected_components(&m, 8, labels, &comps, &n), SF_OK);
    assert_int_equal(n, 4);
    assert_component(&comps[0], 0, 0, 2, 2, 3, 1.0 / 3, 1.0 / 3);
    assert_component(&comps[1], 4, 0, 1, 1, 1, 4.0, 0.0);
    assert_component(&comps[2], 2, 3, 3, 2, 4, 13.0 / 4, 15.0 / 4);
    assert_component(&comps[3], 0, 4, 1, 1, 1, 0.0, 4.0);
    const int32_t expect[25] = {
        1, 1, 0, 0, 2, /* */
        1, 0, 0, 0, 0, /* */
        0, 0, 0, 0, 0, /* */
        0, 0, 0, 0, 3, /* */
        4, 0, 3, 3, 3,
    };
    assert_memory_equal(labels, expect, sizeof expect);
    free(comps);
    test_image_free(&m);
}

static void test_diagonal_connectivity(void **state)
{
    (void)state;
    const char *art[] = {"#.", ".#"};
    sf_image m = mask_from_art(art, 2);
    sf_component *comps = NULL;
    size_t n = 0;
    assert_int_equal(sf_connected_components(&m, 8, NULL, &comps, &n), SF_OK);
    assert_int_equal(n, 1);
    assert_component(&comps[0], 0, 0, 2, 2, 2, 0.5, 0.5);
    free(comps);
    assert_int_equal(sf_connected_components(&m, 4, NULL, &comps, &n), SF_OK);
    assert_int_equal(n, 2);
    assert_component(&comps[0], 0, 0, 1, 1, 1, 0.0, 0.0);
    assert_component(&comps[1], 1, 1, 1, 1, 1, 1.0, 1.0);
    free(comps);

    /* The anti-diagonal: the second row's run lies left of the first's. */
    const char *anti[] = {".#", "#."};
    sf_image a = mask_from_art(anti, 2);
    assert_int_equal(sf_connected_components(&a, 8, NULL, &comps, &n), SF_OK);
    assert_int_equal(n, 1);
    free(comps);
    assert_int_equal(sf_connected_components(&a, 4, NULL, &comps, &n), SF_OK);
    assert_int_equal(n, 2);
    free(comps);
    test_image_free(&a);
    test_image_free(&m);
}

static void test_u_shape(void **state)
{
    (void)state;
    /* Two arms labelled apart on the first rows join on the last. */
    const char *art[] = {"#...#", "#...#", "#####"};
    sf_image m = mask_from_art(art, 3);
    for (int conn = 4; conn <= 8; conn += 4) {
        sf_component *comps = NULL;
        size_t n = 0;
        int32_t labels[15];
        assert_int_equal(sf_connected_components(&m, conn, labels, &comps, &n), SF_OK);
        assert_int_equal(n, 1);
        /* x: 0,4,0,4,0..4 -> 18/9 = 2; y: 0,0,1,1,2*5 -> 12/9 */
        assert_component(&comps[0], 0, 0, 5, 3, 9, 2.0, 12.0 / 9);
        for (int i = 0; i < 15; i++)
            assert_int_equal(labels[i], art[i / 5][i % 5] == '#' ? 1 : 0);
        free(comps);
    }
    test_image_free(&m);
}

static void test_comb_and_spiral(void **state)
{
    (void)state;
    /* A comb whose teeth join only at the bottom, and a W whose middle
     * joins two already-joined labels again. */
    const char *comb[] = {"#.#.#.#", "#.#.#.#", "#######"};
    const char *w_shape[] = {"#...#...#", ".#.#.#.#.", "..#...#.."};
    const char *spiral[] = {
        "#######", /* */
        "......#", /* */
        "#####.#", /* */
        "#...#.#", /* */
        "#.###.#", /* */
        "#.....#", /* */
        "#######",
    };
    sf_image mc = mask_from_art(comb, 3), mw = mask_from_art(w_shape, 3),
             ms = mask_from_art(spiral, 7);
    sf_component *comps;
    size_t n;

    comps = check_against_naive(&mc, 4, &n);
    assert_int_equal(n, 1);
    assert_component(&comps[0], 0, 0, 7, 3, 15, (2 * 12 + 21) / 15.0, (4 + 14) / 15.0);
    free(comps);

    comps = check_against_naive(&mw, 8, &n);
    assert_int_equal(n, 1);
    assert_int_equal(comps[0].area, 9);
    free(comps);
    comps = check_against_naive(&mw, 4, &n);
    assert_int_equal(n, 9);
    free(comps);

    comps = check_against_naive(&ms, 4, &n);
    assert_int_equal(n, 1);
    assert_int_equal(comps[0].width, 7);
    assert_int_equal(comps[0].height, 7);
    assert_int_equal(comps[0].area, 31);
    free(comps);
    comps = check_against_naive(&ms, 8, &n);
    assert_int_equal(n, 1);
    free(comps);
    test_image_free(&mc);
    test_image_free(&mw);
    test_image_free(&ms);
}

static void test_sort_order(void **state)
{
    (void)state;
    /* B's first pixel (3,0) comes after A's (1,0) in raster order, but its
     * box starts further left, so B sorts first. */
    const char *art1[] = {".#..#", "....#", "....#", "#####"};
    sf_image m1 = mask_from_art(art1, 4);
    int32_t labels[20];
    sf_component *comps = NULL;
    size_t n = 0;
    assert_int_equal(sf_connected_components(&m1, 8, labels, &comps, &n), SF_OK);
    assert_int_equal(n, 2);
    assert_int_equal(comps[0].x, 0);
    assert_int_equal(comps[0].area, 8);
    assert_int_equal(comps[1].x, 1);
    assert_int_equal(comps[1].area, 1);
    assert_int_equal(labels[1], 2);
    assert_int_equal(labels[4], 1);
    assert_int_equal(labels[15], 1);
    free(comps);

    /* Same box corner (0,0): the tie goes to the earlier first pixel. */
    const char *art2[] = {"#..#", "...#", "...#", "####"};
    sf_image m2 = mask_from_art(art2, 4);
    assert_int_equal(sf_connected_components(&m2, 8, labels, &comps, &n), SF_OK);
    assert_int_equal(n, 2);
    assert_component(&comps[0], 0, 0, 1, 1, 1, 0.0, 0.0);
    assert_int_equal(comps[1].x, 0);
    assert_int_equal(comps[1].y, 0);
    assert_int_equal(comps[1].area, 7);
    assert_int_equal(labels[0], 1);
    assert_int_equal(labels[3], 2);
    free(comps);
    test_image_free(&m1);
    test_image_free(&m2);
}

static void test_random_against_naive(void **state)
{
    (void)state;
    GRand *rng = g_rand_new_with_seed(20240611);
    const int sizes[][2] = {{1, 1}, {1, 17},  {17, 1},  {8, 8},
                            {9, 7}, {33, 21}, {64, 48}, {200, 150}};
    const double densities[] = {0.1, 0.45, 0.6, 0.9};
    for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++)
        for (size_t d = 0; d < G_N_ELEMENTS(densities); d++)
            for (int conn = 4; conn <= 8; conn += 4) {
                sf_image m = random_mask(rng, sizes[s][0], sizes[s][1], densities[d]);
                size_t n = 0;
                free(check_against_naive(&m, conn, &n));
                test_image_free(&m);
            }
    g_rand_free(rng);
}

static void test_large_runs(void **state)
{
    (void)state;
    /* Long rows exercise the word-at-a-time scans at every alignment. */
    GRand *rng = g_rand_new_with_seed(7);
    sf_image m = {.width = 301, .height = 40, .channels = 1, .stride = 301 + PAD};
    m.data = g_malloc0((size_t)m.height * m.stride);
    for (int y = 0; y < m.height; y++) {
        int x = g_rand_int_range(rng, 0, 20);
        while (x < m.width) {
            int len = g_rand_int_range(rng, 1, 40);
            for (int i = x; i < x + len && i < m.width; i++)
                m.data[(size_t)y * m.stride + i] = 255;
            x += len + g_rand_int_range(rng, 1, 30);
        }
    }
    for (int conn = 4; conn <= 8; conn += 4) {
        size_t n = 0;
        free(check_against_naive(&m, conn, &n));
    }
    test_image_free(&m);
    g_rand_free(rng);
}

/* ---- hole filling ----------------------------------------------------- */

static void assert_mask_equals_art(const sf_image *m, const char *const *rows)
{
    for (int y = 0; y < m->height; y++)
        for (int x = 0; x < m->width; x++) {
            char c = rows[y][x];
            uint8_t expect = c == '.' ? 0 : c == '#' ? 255 : (uint8_t)(c - '0');
            if (px(m, x, y) != expect)
                fail_msg("pixel (%d, %d) is %d, expected %d", x, y, px(m, x, y), expect);
        }
    /* padding untouched */
    for (int y = 0; y < m->height; y++)
        for (size_t x = (size_t)m->width; x < m->stride; x++)
            assert_int_equal(m->data[(size_t)y * m->stride + x], PAD_VALUE);
}

static void test_fill_simple_hole(void **state)
{
    (void)state;
    const char *art[] = {".....", ".###.", ".#.#.", ".###.", "....."};
    const char *want[] = {".....", ".###.", ".###.", ".###.", "....."};
    sf_image m = mask_from_art(art, 5);
    assert_int_equal(sf_fill_holes(&m), SF_OK);
    assert_mask_equals_art(&m, want);
    test_image_free(&m);
}

static void test_fill_open_to_border(void **state)
{
    (void)state;
    /* The left hole opens to the top border; the right one is closed and
     * its foreground values other than 255 stay as they are. */
    const char *art[] = {
        "#.######", /* */
        "#..#7..7", /* */
        "####7777",
    };
    const char *want[] = {
        "#.######", /* */
        "#..#7##7", /* */
        "####7777",
    };
    sf_image m = mask_from_art(art, 3);
    assert_int_equal(sf_fill_holes(&m), SF_OK);
    assert_mask_equals_art(&m, want);
    test_image_free(&m);
}

static void test_fill_nested_and_diagonal(void **state)
{
    (void)state;
    /* Ring in a hole in a ring: both background areas are holes. The
     * corner pixel (1,1) of the second mask meets the border background only
     * diagonally, which does not count. */
    const char *art[] = {
        "#########", /* */
        "#.......#", /* */
        "#.#####.#", /* */
        "#.#...#.#", /* */
        "#.#.#.#.#", /* */
        "#.#...#.#", /* */
        "#.#####.#", /* */
        "#.......#", /* */
        "#########",
    };
    const char *full[] = {
        "#########", "#########", "#########", "#########", "#########",
        "#########", "#########", "#########", "#########",
    };
    const char *diag[] = {".###", "#.##", "####"};
    const char *diag_want[] = {".###", "####", "####"};
    sf_image m = mask_from_art(art, 9), d = mask_from_art(diag, 3);
    assert_int_equal(sf_fill_holes(&m), SF_OK);
    assert_mask_equals_art(&m, full);
    assert_int_equal(sf_fill_holes(&d), SF_OK);
    assert_mask_equals_art(&d, diag_want);
    test_image_free(&m);
    test_image_free(&d);
}

static void test_fill_edge_cases(void **state)
{
    (void)state;
    sf_image empty = {.data = NULL, .width = 0, .height = 0, .channels = 1, .stride = 0};
    assert_int_equal(sf_fill_holes(&empty), SF_OK);
    assert_int_equal(sf_fill_holes(NULL), SF_ERR_INVALID);
    const char *bg[] = {"..", ".."}, *one[] = {"."};
    sf_image b = mask_from_art(bg, 2), o = mask_from_art(one, 1);
    sf_image rgb = b;
    rgb.channels = 3;
    assert_int_equal(sf_fill_holes(&rgb), SF_ERR_INVALID);
    assert_int_equal(sf_fill_holes(&b), SF_OK);
    assert_mask_equals_art(&b, bg);
    assert_int_equal(sf_fill_holes(&o), SF_OK);
    assert_mask_equals_art(&o, one);
    test_image_free(&b);
    test_image_free(&o);
}

/* Naive: flood the background from every border pixel, fill the rest. */
static void naive_fill(sf_image *m)
{
    int w = m->width, h = m->height;
    uint8_t *seen = g_malloc0((size_t)w * h);
    int *stack = g_new(int, (size_t)w *h);
    int top = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if ((x == 0 || y == 0 || x == w - 1 || y == h - 1) && !px(m, x, y)) {
                seen[y * w + x] = 1;
                stack[top++] = y * w + x;
            }
    while (top > 0) {
        int p = stack[--top], x = p % w, y = p / w;
        const int nb[4][2] = {{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}};
        for (int k = 0; k < 4; k++) {
            int nx = nb[k][0], ny = nb[k][1];
            if (nx >= 0 && ny >= 0 && nx < w && ny < h && !px(m, nx, ny) && !seen[ny * w + nx]) {
                seen[ny * w + nx] = 1;
                stack[top++] = ny * w + nx;
            }
        }
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (!px(m, x, y) && !seen[y * w + x])
                m->data[(size_t)y * m->stride + x] = 255;
    g_free(stack);
    g_free(seen);
}

static void test_fill_random_against_naive(void **state)
{
    (void)state;
    GRand *rng = g_rand_new_with_seed(99);
    const int sizes[][2] = {{1, 1}, {3, 3}, {10, 1}, {1, 10}, {17, 13}, {64, 64}, {150, 90}};
    const double densities[] = {0.3, 0.55, 0.7};
    for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++)
        for (size_t d = 0; d < G_N_ELEMENTS(densities); d++) {
            sf_image m = random_mask(rng, sizes[s][0], sizes[s][1], densities[d]);
            size_t bytes = (size_t)m.height * m.stride;
            uint8_t *expect = g_memdup2(m.data, bytes);
            sf_image e = m;
            e.data = expect;
            naive_fill(&e);
            assert_int_equal(sf_fill_holes(&m), SF_OK);
            assert_memory_equal(m.data, expect, bytes);
            g_free(expect);
            test_image_free(&m);
        }
    g_rand_free(rng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_empty_image),
        cmocka_unit_test(test_single_pixel),
        cmocka_unit_test(test_all_foreground),
        cmocka_unit_test(test_touching_every_border),
        cmocka_unit_test(test_diagonal_connectivity),
        cmocka_unit_test(test_u_shape),
        cmocka_unit_test(test_comb_and_spiral),
        cmocka_unit_test(test_sort_order),
        cmocka_unit_test(test_random_against_naive),
        cmocka_unit_test(test_large_runs),
        cmocka_unit_test(test_fill_simple_hole),
        cmocka_unit_test(test_fill_open_to_border),
        cmocka_unit_test(test_fill_nested_and_diagonal),
        cmocka_unit_test(test_fill_edge_cases),
        cmocka_unit_test(test_fill_random_against_naive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
