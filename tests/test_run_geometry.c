/*
 * The run job's geometry: overview boxes mapped to level 0 (padding,
 * outward rounding, clamping), the pixel size and pyramid level of a
 * fragment or an overview for each kind of target, and detection sizes
 * converted from µm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "support.h"
#include "run/run_internal.h"
#include "slidefrag/error.h"
#include "slidefrag/run.h"

/* ---- Overview box to level 0 ---------------------------------------------- */

static void test_level0_exact_scale(void **state)
{
    (void)state;
    sf_box box = {10, 20, 30, 40};
    sf_box l0 = sf_region_to_level0(&box, 0, 2, 2, 1000, 1000);
    test_assert_box(&l0, 20, 40, 60, 80);
    /* Each axis its own scale. */
    l0 = sf_region_to_level0(&box, 0, 2, 3, 1000, 1000);
    test_assert_box(&l0, 20, 60, 60, 120);
}

/* A box that does not land on whole level-0 pixels grows outward, so the
 * fragment always holds all of the detected tissue. */
static void test_level0_rounds_outward(void **state)
{
    (void)state;
    sf_box box = {1, 1, 1, 1};
    sf_box l0 = sf_region_to_level0(&box, 0, 1.3, 1.5, 1000, 1000);
    /* x: 1.3 .. 2.6 -> 1 .. 3; y: 1.5 .. 3.0 -> 1 .. 3 */
    test_assert_box(&l0, 1, 1, 2, 2);
}

/* 10 * (0.1 * 3) is 3.0000000000000004 in doubles: an integer in exact
 * arithmetic does not grow a pixel through rounding error. */
static void test_level0_rounding_tolerance(void **state)
{
    (void)state;
    double scale = 0.1 * 3;
    assert_true(10 * scale > 3.0);
    sf_box box = {0, 0, 10, 10};
    sf_box l0 = sf_region_to_level0(&box, 0, scale, scale, 1000, 1000);
    test_assert_box(&l0, 0, 0, 3, 3);
}

static void test_level0_padding(void **state)
{
    (void)state;
    sf_box box = {10, 10, 5, 5};
    /* (10 - 2.5) * 2 = 15 .. (15 + 2.5) * 2 = 35 */
    sf_box l0 = sf_region_to_level0(&box, 2.5, 2, 2, 1000, 1000);
    test_assert_box(&l0, 15, 15, 20, 20);
}

/* Padding past the slide's edges, and boxes beyond them, are clamped: a
 * box always lies inside the slide with at least one pixel. */
static void test_level0_clamped_to_slide(void **state)
{
    (void)state;
    sf_box corner = {0, 0, 10, 10};
    sf_box l0 = sf_region_to_level0(&corner, 5, 1, 1, 100, 80);
    test_assert_box(&l0, 0, 0, 15, 15);
    sf_box edge = {95, 75, 10, 10};
    l0 = sf_region_to_level0(&edge, 0, 1, 1, 100, 80);
    test_assert_box(&l0, 95, 75, 5, 5);
    sf_box outside = {200, 300, 5, 5};
    l0 = sf_region_to_level0(&outside, 0, 1, 1, 100, 80);
    test_assert_box(&l0, 99, 79, 1, 1);
}

/* ---- Fragment and overview sizes ------------------------------------------- */

typedef struct geometry {
    int width, height, level;
} geometry;

/* The fragment of a box that fits one tile: its resolution, read whole. */
static geometry fragment(const sf_slide *slide, sf_target_kind kind, double value, int64_t w,
                         int64_t h)
{
    sf_target target = {kind, value};
    sf_box box = {0, 0, w, h};
    geometry g = {0};
    double ds = 0;
    GError *error = NULL;
    if (!sf_fragment_resolution(slide, &target, &box, &ds, &g.level, &error))
        fail_msg("%s", error->message);
    int rows, cols;
    size_t n = 0;
    g_autofree sf_tile *tiles = sf_tile_plan(&box, ds, SF_TILE_MAX, 0, &rows, &cols, &n);
    assert_int_equal(n, 1);
    test_assert_box(&tiles[0].level0, 0, 0, w, h);
    g.width = tiles[0].width;
    g.height = tiles[0].height;
    return g;
}

static void assert_geometry(geometry g, int width, int height, int level)
{
    if (g.width != width || g.height != height || g.level != level)
        fail_msg("%dx%d at level %d, expected %dx%d at level %d", g.width, g.height, g.level, width,
                 height, level);
}

static void test_fragment_targets(void **state)
{
    (void)state;
    /* 2220 x 2967, one level, 0.499 µm/px. */
    g_autoptr(sf_slide) cmu = test_open_fixture_slide("cmu-1-small-region.svs");
    /* The longest side fits the size. */
    assert_geometry(fragment(cmu, SF_TARGET_MAX_SIZE, 1000, 2000, 500), 1000, 250, 0);
    /* Never upsampled: a box smaller than the size keeps its pixels. */
    assert_geometry(fragment(cmu, SF_TARGET_MAX_SIZE, 4096, 300, 200), 300, 200, 0);
    assert_geometry(fragment(cmu, SF_TARGET_DOWNSAMPLE, 0.5, 300, 200), 300, 200, 0);
    /* Sides round to the nearest pixel and keep at least one. */
    assert_geometry(fragment(cmu, SF_TARGET_DOWNSAMPLE, 4, 1001, 3), 250, 1, 0);
    /* 2 µm/px on a 0.499 µm/px slide: downsample 4.008. */
    assert_geometry(fragment(cmu, SF_TARGET_MPP, 2.0, 4008, 100), 1000, 25, 0);
}

/* The level read is the finest whose downsample does not exceed the
 * target's (boxes.tiff: 1, 2, 4.0161, 8.0863). */
static void test_fragment_level_choice(void **state)
{
    (void)state;
    g_autoptr(sf_slide) slide = test_open_fixture_slide("boxes.tiff");
    assert_geometry(fragment(slide, SF_TARGET_DOWNSAMPLE, 1.5, 300, 250), 200, 167, 0);
    assert_geometry(fragment(slide, SF_TARGET_DOWNSAMPLE, 2, 300, 250), 150, 125, 1);
    assert_geometry(fragment(slide, SF_TARGET_DOWNSAMPLE, 4, 300, 250), 75, 63, 1);
    assert_geometry(fragment(slide, SF_TARGET_DOWNSAMPLE, 4.5, 300, 250), 67, 56, 2);
    assert_geometry(fragment(slide, SF_TARGET_DOWNSAMPLE, 100, 300, 250), 3, 3, 3);
}

static void test_fragment_refusals(void **state)
{
    (void)state;
    /* A µm/px target on a slide that does not record its µm/px. */
    g_autoptr(sf_slide) no_mpp = test_open_fixture_slide("boxes.tiff");
    sf_target mpp = {SF_TARGET_MPP, 1.0};
    sf_box box = {0, 0, 100, 100};
    double ds;
    int level;
    g_autoptr(GError) error = NULL;
    assert_false(sf_fragment_resolution(no_mpp, &mpp, &box, &ds, &level, &error));
    test_assert_error(error, SF_EXIT_USAGE, "does not record its resolution");
}

/* ---- Tiles ------------------------------------------------------------------ */

/* Every tile of a plan: within `tile` px a side, all of one size, in a
 * grid whose first tile starts at the box's corner and last ends at the
 * opposite one, neighbours overlapping by at least `overlap` fragment px
 * (less one for rounding), together covering the box. */
static void check_plan(const sf_box *box, double ds, int tile, int overlap)
{
    int rows = 0, cols = 0;
    size_t n = 0;
    g_autofree sf_tile *tiles = sf_tile_plan(box, ds, tile, overlap, &rows, &cols, &n);
    assert_non_null(tiles);
    assert_int_equal(n, (size_t)rows * cols);
    int64_t shared = (int64_t)ceil(overlap * ds);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            const sf_tile *t = &tiles[r * cols + c];
            assert_int_equal(t->row, r);
            assert_int_equal(t->col, c);
            if (t->width > tile || t->height > tile)
                fail_msg("tile %d,%d is %dx%d, over %d", r, c, t->width, t->height, tile);
            assert_int_equal(t->width, tiles[0].width);
            assert_int_equal(t->level0.w, tiles[0].level0.w);
            assert_int_equal(t->level0.h, tiles[0].level0.h);
            assert_int_equal(t->width, (int)MAX(1, llround(t->level0.w / ds)));
            if (c == 0)
                assert_int_equal(t->level0.x, box->x);
            if (c == cols - 1)
                assert_int_equal(t->level0.x + t->level0.w, box->x + box->w);
            if (r == 0)
                assert_int_equal(t->level0.y, box->y);
            if (r == rows - 1)
                assert_int_equal(t->level0.y + t->level0.h, box->y + box->h);
            if (c > 0) {
                const sf_tile *left = &tiles[r * cols + c - 1];
                int64_t common = left->level0.x + left->level0.w - t->level0.x;
                if (common < shared - 1)
                    fail_msg("tiles %d,%d and %d,%d share %" G_GINT64_FORMAT
                             " level-0 px, expected %" G_GINT64_FORMAT,
                             r, c - 1, r, c, common, shared);
            }
            if (r > 0) {
                const sf_tile *up = &tiles[(r - 1) * cols + c];
                assert_true(up->level0.y + up->level0.h - t->level0.y >= shared - 1);
            }
        }
}

static void test_tile_plan(void **state)
{
    (void)state;
    /* Fits: one tile, the box itself. */
    sf_box small = {10, 20, 3000, 2000};
    int rows, cols;
    size_t n;
    g_autofree sf_tile *one = sf_tile_plan(&small, 1, 4096, 128, &rows, &cols, &n);
    assert_int_equal(n, 1);
    test_assert_box(&one[0].level0, 10, 20, 3000, 2000);
    assert_int_equal(one[0].width, 3000);
    /* A needle core, 29981 x 2076 at 1 µm/px on a 0.5 µm/px slide. */
    sf_box core = {1000, 500, 29981, 2076};
    g_autofree sf_tile *row = sf_tile_plan(&core, 2.004, 4096, 128, &rows, &cols, &n);
    assert_int_equal(rows, 1);
    assert_int_equal(cols, 4);
    static const struct {
        sf_box box;
        double ds;
        int tile, overlap;
    } plans[] = {
        {{1000, 500, 29981, 2076}, 2.004, 4096, 128}, {{0, 0, 70000, 10}, 1, 12000, 0},
        {{7, 9, 100001, 99999}, 1.5, 4096, 200},      {{0, 0, 4097, 4096}, 1, 4096, 128},
        {{3, 3, 12345, 6789}, 3.3, 64, 31},           {{0, 0, 50000, 40000}, 0.999999, 12000, 5999},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(plans); i++)
        check_plan(&plans[i].box, plans[i].ds, plans[i].tile, plans[i].overlap);
}

/* More tiles than a slide may have: refused, not allocated. */
static void test_tile_plan_bounded(void **state)
{
    (void)state;
    sf_box huge = {0, 0, 10000000, 10000000};
    int rows, cols;
    size_t n = 0;
    sf_tile *tiles = sf_tile_plan(&huge, 1, 64, 0, &rows, &cols, &n);
    assert_null(tiles);
    assert_true(n > SF_FRAGMENTS_MAX);
}

static void test_overview_geometry(void **state)
{
    (void)state;
    g_autoptr(sf_slide) cmu = test_open_fixture_slide("cmu-1-small-region.svs");
    sf_target size = {SF_TARGET_MAX_SIZE, 512};
    int w, h, level;
    assert_true(sf_overview_geometry(cmu, &size, &w, &h, &level, NULL));
    /* 2967 / 512 = 5.795; 2220 / 5.795 = 383.08 */
    assert_int_equal(w, 383);
    assert_int_equal(h, 512);
    assert_int_equal(level, 0);
    /* Larger than level 0: level 0 itself. */
    sf_target huge = {SF_TARGET_MAX_SIZE, 60000};
    assert_true(sf_overview_geometry(cmu, &huge, &w, &h, &level, NULL));
    assert_int_equal(w, 2220);
    assert_int_equal(h, 2967);
}

/* ---- Detection sizes in overview pixels ------------------------------------ */

static void test_detect_params_from_microns(void **state)
{
    (void)state;
    g_autoptr(sf_slide) cmu = test_open_fixture_slide("cmu-1-small-region.svs");
    sf_run_params params;
    sf_run_params_default(&params);
    assert_true(sf_run_params_set(&params, "gap", "20um", NULL));
    assert_true(sf_run_params_set(&params, "min-area", "1000um2", NULL));
    assert_true(sf_run_params_set(&params, "padding", "8um", NULL));
    sf_detect_params detect;
    double padding;
    assert_true(sf_run_detect_params(&params, cmu, 4, &detect, &padding, NULL));
    /* An overview pixel is 0.499 * 4 = 1.996 µm: 20 / 1.996 = 10.02 and
     * 1000 / 1.996^2 = 251.003 round up; the padding stays fractional. */
    assert_int_equal(detect.regions.gap, 11);
    assert_int_equal(detect.regions.min_area, 252);
    assert_float_equal(padding, 8 / 1.996, 1e-12);
    /* Pixel values are taken as they are. */
    assert_true(sf_run_params_set(&params, "gap", "7", NULL));
    assert_true(sf_run_detect_params(&params, cmu, 4, &detect, &padding, NULL));
    assert_int_equal(detect.regions.gap, 7);
}

static void test_detect_params_without_mpp(void **state)
{
    (void)state;
    g_autoptr(sf_slide) no_mpp = test_open_fixture_slide("boxes.tiff");
    sf_run_params params;
    sf_run_params_default(&params);
    sf_detect_params detect;
    double padding;
    /* The physical default minimum area becomes a fraction of the overview. */
    assert_true(sf_run_detect_params(&params, no_mpp, 1, &detect, &padding, NULL));
    assert_float_equal(detect.regions.min_area_fraction, SF_MIN_AREA_FRACTION_NO_MPP, 0);
    /* A size given in µm cannot be converted. */
    assert_true(sf_run_params_set(&params, "gap", "20um", NULL));
    g_autoptr(GError) error = NULL;
    assert_false(sf_run_detect_params(&params, no_mpp, 1, &detect, &padding, &error));
    test_assert_error(error, SF_EXIT_USAGE, "must be given in pixels");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level0_exact_scale),
        cmocka_unit_test(test_level0_rounds_outward),
        cmocka_unit_test(test_level0_rounding_tolerance),
        cmocka_unit_test(test_level0_padding),
        cmocka_unit_test(test_level0_clamped_to_slide),
        cmocka_unit_test(test_fragment_targets),
        cmocka_unit_test(test_fragment_level_choice),
        cmocka_unit_test(test_fragment_refusals),
        cmocka_unit_test(test_tile_plan),
        cmocka_unit_test(test_tile_plan_bounded),
        cmocka_unit_test(test_overview_geometry),
        cmocka_unit_test(test_detect_params_from_microns),
        cmocka_unit_test(test_detect_params_without_mpp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
