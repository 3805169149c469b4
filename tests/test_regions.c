/* Summed-area counts and the region pipeline of sf_find_regions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <inttypes.h>
#include <string.h>

#define BOX(x_, y_, w_, h_) ((sf_box){.x = (x_), .y = (y_), .w = (w_), .h = (h_)})

static void set_pixel(sf_image *m, int x, int y, uint8_t v)
{
    m->data[(size_t)y * m->stride + x] = v;
}

static void fill_rect(sf_image *m, int x, int y, int w, int h)
{
    for (int j = y; j < y + h; j++)
        for (int i = x; i < x + w; i++)
            set_pixel(m, i, j, 255);
}

static int64_t brute_count(const sf_image *m, int64_t x, int64_t y, int64_t w, int64_t h)
{
    int64_t n = 0;
    for (int64_t j = y; j < y + h; j++)
        for (int64_t i = x; i < x + w; i++)
            if (i >= 0 && j >= 0 && i < m->width && j < m->height &&
                m->data[(size_t)j * m->stride + (size_t)i])
                n++;
    return n;
}

/* ---- integral ------------------------------------------------------------ */

static void test_integral_random(void **state)
{
    (void)state;
    GRand *rng = g_rand_new_with_seed(5);
    sf_image m = test_image_new(13, 9, 1);
    for (int y = 0; y < m.height; y++)
        for (int x = 0; x < m.width; x++)
            if (g_rand_boolean(rng))
                set_pixel(&m, x, y, (uint8_t)g_rand_int_range(rng, 1, 256));
    sf_integral integral;
    assert_int_equal(sf_integral_init(&integral, &m), SF_OK);
    assert_int_equal(integral.width, 13);
    assert_int_equal(integral.height, 9);
    /* Every box from partly outside to fully outside, empty and negative. */
    for (int64_t y = -3; y <= 11; y++)
        for (int64_t x = -3; x <= 15; x++)
            for (int64_t h = -1; h <= 12; h += 2)
                for (int64_t w = -1; w <= 17; w += 3) {
                    sf_box b = BOX(x, y, w, h);
                    assert_int_equal(sf_integral_count(&integral, &b), brute_count(&m, x, y, w, h));
                }
    sf_box whole = BOX(INT64_MIN / 2, INT64_MIN / 2, INT64_MAX, INT64_MAX);
    assert_int_equal(sf_integral_count(&integral, &whole), brute_count(&m, 0, 0, 13, 9));
    sf_integral_clear(&integral);
    assert_null(integral.sums);
    sf_integral_clear(&integral);
    test_image_free(&m);
    g_rand_free(rng);
}

static void test_integral_empty(void **state)
{
    (void)state;
    sf_image empty = {.data = NULL, .width = 0, .height = 0, .channels = 1, .stride = 0};
    sf_integral integral;
    assert_int_equal(sf_integral_init(&integral, &empty), SF_OK);
    sf_box b = BOX(0, 0, 10, 10);
    assert_int_equal(sf_integral_count(&integral, &b), 0);
    sf_integral_clear(&integral);
    sf_image rgb = test_image_new(2, 2, 3);
    assert_int_equal(sf_integral_init(&integral, &rgb), SF_ERR_INVALID);
    assert_null(integral.sums);
    test_image_free(&rgb);
}

/* ---- regions ------------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    sf_region_params p;
    memset(&p, 0xff, sizeof p);
    sf_region_params_default(&p);
    assert_int_equal(p.connectivity, 8);
    assert_int_equal(p.gap, 0);
    assert_int_equal(p.min_area, 0);
    assert_float_equal(p.min_area_fraction, 0.0001, 1e-15);
    assert_float_equal(p.min_tissue_fraction, 0.0, 0.0);
}

/*
 * A 40x30 mask with, in mask pixels:
 *   L:  column x=2, y 2..9 and row y=9, x 2..9      box (2,2,8,8), 15 px
 *   S:  square (6,4)-(7,5), inside L's box, apart    box (6,4,2,2), 4 px
 *   C3: block x 11..13, y 2..4                        box (11,2,3,3), 9 px
 *   C4: x=14, y 5..6, diagonal to C3's corner         box (14,5,1,2), 2 px
 *   D:  diagonal (20,12)..(27,19), 8 px               box (20,12,8,8)
 *   P:  one pixel (30,20)                              box (30,20,1,1)
 *   Q:  block x 34..36, y 2..4                         box (34,2,3,3), 9 px
 */
static sf_image crafted_mask(void)
{
    sf_image m = test_image_new(40, 30, 1);
    fill_rect(&m, 2, 2, 1, 8);
    fill_rect(&m, 2, 9, 8, 1);
    fill_rect(&m, 6, 4, 2, 2);
    fill_rect(&m, 11, 2, 3, 3);
    fill_rect(&m, 14, 5, 1, 2);
    for (int i = 0; i < 8; i++)
        set_pixel(&m, 20 + i, 12 + i, 200);
    set_pixel(&m, 30, 20, 1);
    fill_rect(&m, 34, 2, 3, 3);
    return m;
}

static void test_crafted_8_connected(void **state)
{
    (void)state;
    sf_image m = crafted_mask();
    sf_region_params p = {
        .connectivity = 8,
        .gap = 1,
        .min_area = 0,
        .min_area_fraction = 0.01, /* 12 of 1200 pixels */
        .min_tissue_fraction = 0.2,
    };
    sf_regions r;
    assert_int_equal(sf_find_regions(&m, &p, &r), SF_OK);

    /* 1: C3 and C4 are one component; D is one diagonal component. */
    assert_int_equal(r.n_initial, 6);
    test_assert_box(&r.initial[0], 2, 2, 8, 8);
    test_assert_box(&r.initial[1], 11, 2, 4, 5);
    test_assert_box(&r.initial[2], 34, 2, 3, 3);
    test_assert_box(&r.initial[3], 6, 4, 2, 2);
    test_assert_box(&r.initial[4], 20, 12, 8, 8);
    test_assert_box(&r.initial[5], 30, 20, 1, 1);
    /* 2: S joins L. 3: gap 1 joins L (x < 10) and C3+C4 (x >= 11) into
     * (2,2)-(15,10); P is 2 columns from D, too far. 4: Q (area 9) and P
     * (area 1) are below 12 pixels; D has 8/64 = 0.125 tissue < 0.2. The
     * survivor holds 15 + 4 + 9 + 2 = 30 pixels. 5: nothing left to merge. */
    assert_int_equal(r.n_regions, 1);
    test_assert_box(&r.regions[0].box, 2, 2, 13, 8);
    assert_int_equal(r.regions[0].tissue_pixels, 30);
    assert_float_equal(r.regions[0].tissue_fraction, 30.0 / 104.0, 1e-12);
    sf_regions_clear(&r);
    assert_null(r.initial);
    assert_null(r.regions);
    assert_int_equal(r.n_initial, 0);
    test_image_free(&m);
}

static void test_crafted_4_connected(void **state)
{
    (void)state;
    sf_image m = crafted_mask();
    sf_region_params p = {
        .connectivity = 4,
        .gap = 0,
        .min_area = 4,
        .min_area_fraction = 0.0,
        .min_tissue_fraction = 0.0,
    };
    sf_regions r;
    assert_int_equal(sf_find_regions(&m, &p, &r), SF_OK);

    /* 1: C3 and C4 apart, D falls into 8 single pixels. */
    assert_int_equal(r.n_initial, 14);
    test_assert_box(&r.initial[0], 2, 2, 8, 8);
    test_assert_box(&r.initial[1], 11, 2, 3, 3);
    test_assert_box(&r.initial[2], 34, 2, 3, 3);
    test_assert_box(&r.initial[3], 6, 4, 2, 2);
    test_assert_box(&r.initial[4], 14, 5, 1, 2);
    for (int i = 0; i < 8; i++)
        test_assert_box(&r.initial[5 + i], 20 + i, 12 + i, 1, 1);
    test_assert_box(&r.initial[13], 30, 20, 1, 1);
    /* 2: S joins L. 3: gap 0 joins boxes touching at a corner: C3 with C4,
     * and the diagonal pixels into one box; L and C3 are 1 column apart.
     * 4: P (area 1 < 4) goes. */
    assert_int_equal(r.n_regions, 4);
    test_assert_box(&r.regions[0].box, 2, 2, 8, 8);
    test_assert_box(&r.regions[1].box, 11, 2, 4, 5);
    test_assert_box(&r.regions[2].box, 34, 2, 3, 3);
    test_assert_box(&r.regions[3].box, 20, 12, 8, 8);
    const int64_t tissue[] = {19, 11, 9, 8};
    for (int i = 0; i < 4; i++) {
        const sf_region *g = &r.regions[i];
        assert_int_equal(g->tissue_pixels, tissue[i]);
        assert_int_equal(g->tissue_pixels, brute_count(&m, g->box.x, g->box.y, g->box.w, g->box.h));
        assert_float_equal(g->tissue_fraction, (double)tissue[i] / (double)(g->box.w * g->box.h),
                           1e-12);
    }
    sf_regions_clear(&r);
    test_image_free(&m);
}

static void test_min_area_fraction_with_defaults(void **state)
{
    (void)state;
    /* 300x300 image: the default fraction 0.0001 drops boxes under 9
     * pixels. */
    sf_image m = test_image_new(300, 300, 1);
    fill_rect(&m, 10, 10, 2, 2);  /* area 4: dropped */
    fill_rect(&m, 100, 10, 4, 2); /* area 8: dropped */
    fill_rect(&m, 50, 50, 5, 2);  /* area 10: kept */
    fill_rect(&m, 80, 5, 3, 3);   /* area 9: kept */
    sf_regions r;
    assert_int_equal(sf_find_regions(&m, NULL, &r), SF_OK);
    assert_int_equal(r.n_initial, 4);
    assert_int_equal(r.n_regions, 2);
    test_assert_box(&r.regions[0].box, 80, 5, 3, 3);
    test_assert_box(&r.regions[1].box, 50, 50, 5, 2);
    assert_float_equal(r.regions[1].tissue_fraction, 1.0, 0.0);
    sf_regions_clear(&r);
    test_image_free(&m);
}

static void test_empty_and_full(void **state)
{
    (void)state;
    sf_region_params p;
    sf_region_params_default(&p);
    sf_regions r;

    sf_image blank = test_image_new(20, 10, 1);
    assert_int_equal(sf_find_regions(&blank, &p, &r), SF_OK);
    assert_int_equal(r.n_initial, 0);
    assert_int_equal(r.n_regions, 0);
    assert_null(r.initial);
    assert_null(r.regions);
    sf_regions_clear(&r);

    sf_image empty = {.data = NULL, .width = 0, .height = 0, .channels = 1, .stride = 0};
    assert_int_equal(sf_find_regions(&empty, &p, &r), SF_OK);
    assert_int_equal(r.n_regions, 0);
    sf_regions_clear(&r);

    sf_image full = test_image_new(20, 10, 1);
    memset(full.data, 255, 200);
    assert_int_equal(sf_find_regions(&full, &p, &r), SF_OK);
    assert_int_equal(r.n_initial, 1);
    test_assert_box(&r.initial[0], 0, 0, 20, 10);
    assert_int_equal(r.n_regions, 1);
    test_assert_box(&r.regions[0].box, 0, 0, 20, 10);
    assert_int_equal(r.regions[0].tissue_pixels, 200);
    assert_float_equal(r.regions[0].tissue_fraction, 1.0, 0.0);
    sf_regions_clear(&r);

    /* Bad input leaves the output empty. */
    p.connectivity = 5;
    assert_int_equal(sf_find_regions(&full, &p, &r), SF_ERR_INVALID);
    assert_null(r.initial);
    assert_null(r.regions);
    assert_int_equal(sf_find_regions(NULL, &p, &r), SF_ERR_INVALID);
    assert_int_equal(sf_find_regions(&full, &p, NULL), SF_ERR_INVALID);
    sf_regions_clear(NULL);
    test_image_free(&blank);
    test_image_free(&full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integral_random),
        cmocka_unit_test(test_integral_empty),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_crafted_8_connected),
        cmocka_unit_test(test_crafted_4_connected),
        cmocka_unit_test(test_min_area_fraction_with_defaults),
        cmocka_unit_test(test_empty_and_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
