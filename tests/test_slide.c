/* Opening slides: metadata, best level, and errors. Expected values come
 * from python3-openslide and openslide-show-properties on the fixtures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "slidefrag/error.h"
#include "slidefrag/slide.h"

/* Opening must fail with `code`, and the message name the file and `cause`. */
static void assert_open_fails(const char *path, int code, const char *cause)
{
    GError *error = NULL;
    sf_slide *slide = sf_slide_open(path, &error);
    assert_null(slide);
    assert_non_null(error);
    assert_true(g_error_matches(error, SF_ERROR, code));
    if (!strstr(error->message, path) || !strstr(error->message, cause))
        fail_msg("message '%s' lacks '%s' or '%s'", error->message, path, cause);
    g_error_free(error);
}

typedef struct {
    const char *file;
    const char *vendor;
    int levels;
    int64_t width[7], height[7];
    double downsample[7];
} expected_slide;

static const expected_slide expected[] = {
    {"boxes.tiff",
     "generic-tiff",
     4,
     {300, 150, 75, 37},
     {250, 125, 62, 31},
     {1, 2, 4.016129032258064, 8.086312118570184}},
    {"cmu-1-small-region.svs", "aperio", 1, {2220}, {2967}, {1}},
    {"small.svs", "aperio", 1, {16}, {16}, {1}},
    {"unreadable.svs", "aperio", 1, {16}, {16}, {1}},
    {"test3-DAPI-2-387.ndpi",
     "hamamatsu",
     7,
     {3968, 1984, 992, 496, 248, 124, 62},
     {4864, 2432, 1216, 608, 304, 152, 76},
     {1, 2, 4, 8, 16, 32, 64}},
    {"yb10kx5k.zstd.tiff",
     "generic-tiff",
     5,
     {10000, 5000, 2500, 1250, 625},
     {5000, 2500, 1250, 625, 312},
     {1, 2, 4, 8, 16.01282051282051}},
    {"test_orient2.tif", "generic-tiff", 3, {120, 60, 30}, {180, 90, 45}, {1, 2, 4}},
    {"small_la.tiff", "generic-tiff", 1, {2}, {1}, {1}},
};

static void test_open_fixtures(void **state)
{
    (void)state;
    for (size_t f = 0; f < G_N_ELEMENTS(expected); f++) {
        const expected_slide *e = &expected[f];
        g_autoptr(sf_slide) slide = test_open_fixture_slide(e->file);
        assert_string_equal(sf_slide_vendor(slide), e->vendor);
        assert_non_null(strstr(sf_slide_path(slide), e->file));
        assert_int_equal(sf_slide_level_count(slide), e->levels);
        assert_int_equal(sf_slide_width(slide), e->width[0]);
        assert_int_equal(sf_slide_height(slide), e->height[0]);
        for (int i = 0; i < e->levels; i++) {
            const sf_level *level = sf_slide_level(slide, i);
            assert_int_equal(level->width, e->width[i]);
            assert_int_equal(level->height, e->height[i]);
            assert_float_equal(level->downsample, e->downsample[i], 1e-9);
        }
        /* None of the fixtures sets these. */
        uint8_t bg[3] = {0, 0, 0};
        sf_slide_background(slide, bg);
        assert_int_equal(bg[0] & bg[1] & bg[2], 255);
        int64_t bx = -1;
        assert_false(sf_slide_bounds(slide, &bx, NULL, NULL, NULL));
        assert_int_equal(bx, -1);
        const char *hash = sf_slide_quickhash(slide);
        assert_non_null(hash);
        assert_int_equal(strlen(hash), 64);
    }
}

static void test_aperio_metadata(void **state)
{
    (void)state;
    g_autoptr(sf_slide) slide = test_open_fixture_slide("cmu-1-small-region.svs");
    assert_float_equal(sf_slide_mpp_x(slide), 0.499, 1e-12);
    assert_float_equal(sf_slide_mpp_y(slide), 0.499, 1e-12);
    assert_float_equal(sf_slide_objective_power(slide), 20, 1e-12);
    assert_string_equal(sf_slide_quickhash(slide),
                        "6335ea0e6cc54c2cba64bb265d3c713a50cd84484924e3a9c109558c13521d5c");
    assert_string_equal(sf_slide_property(slide, "aperio.AppMag"), "20");
    assert_null(sf_slide_property(slide, "no.such.property"));

    gboolean seen_vendor = FALSE;
    for (const char *const *name = sf_slide_property_names(slide); *name; name++)
        seen_vendor |= !strcmp(*name, "openslide.vendor");
    assert_true(seen_vendor);

    static const struct {
        const char *name;
        int64_t w, h;
    } images[] = {{"label", 387, 463}, {"macro", 1280, 431}, {"thumbnail", 574, 768}};
    int n = 0;
    for (const char *const *name = sf_slide_associated_image_names(slide); *name; name++)
        n++;
    assert_int_equal(n, 3);
    for (size_t i = 0; i < G_N_ELEMENTS(images); i++) {
        int64_t w = 0, h = 0;
        assert_true(sf_slide_associated_image_size(slide, images[i].name, &w, &h));
        assert_int_equal(w, images[i].w);
        assert_int_equal(h, images[i].h);
    }
    assert_false(sf_slide_associated_image_size(slide, "overview", NULL, NULL));
}

static void test_metadata_absent_or_other(void **state)
{
    (void)state;
    g_autoptr(sf_slide) boxes = test_open_fixture_slide("boxes.tiff");
    assert_float_equal(sf_slide_mpp_x(boxes), 0, 0);
    assert_float_equal(sf_slide_mpp_y(boxes), 0, 0);
    assert_float_equal(sf_slide_objective_power(boxes), 0, 0);
    assert_null(sf_slide_associated_image_names(boxes)[0]);

    g_autoptr(sf_slide) ndpi = test_open_fixture_slide("test3-DAPI-2-387.ndpi");
    assert_float_equal(sf_slide_mpp_x(ndpi), 0.2281750559028887, 1e-12);
    assert_float_equal(sf_slide_objective_power(ndpi), 40, 1e-12);
    int64_t w = 0, h = 0;
    assert_true(sf_slide_associated_image_size(ndpi, "macro", &w, &h));
    assert_int_equal(w, 1188);
    assert_int_equal(h, 406);
}

static void test_best_level(void **state)
{
    (void)state;
    /* boxes.tiff downsamples: 1, 2, 4.0161, 8.0863. */
    g_autoptr(sf_slide) boxes = test_open_fixture_slide("boxes.tiff");
    static const struct {
        double want;
        int level;
    } cases[] = {
        {0.25, 0}, {1, 0},    {1.99, 0}, {1.999, 1}, {2, 1},    {3.9, 1},
        {4.0, 1},  {4.01, 1}, {4.02, 2}, {8, 2},     {8.08, 3}, {1000, 3},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        if (sf_slide_best_level(boxes, cases[i].want) != cases[i].level)
            fail_msg("downsample %g: level %d, want %d", cases[i].want,
                     sf_slide_best_level(boxes, cases[i].want), cases[i].level);

    /* yb10kx5k.zstd.tiff's level 4 is 16.0128: within 0.1% of 16, so asking
     * for 16 takes it; 15.98 is not within 0.1% of it. */
    g_autoptr(sf_slide) yb = test_open_fixture_slide("yb10kx5k.zstd.tiff");
    assert_int_equal(sf_slide_best_level(yb, 16), 4);
    assert_int_equal(sf_slide_best_level(yb, 15.98), 3);
    assert_int_equal(sf_slide_best_level(yb, 8), 3);
    assert_int_equal(sf_slide_best_level(yb, 7.99), 2);

    g_autoptr(sf_slide) cmu = test_open_fixture_slide("cmu-1-small-region.svs");
    assert_int_equal(sf_slide_best_level(cmu, 32), 0);
}

static void test_open_errors(void **state)
{
    (void)state;
    g_autofree char *missing = test_fixture("no-such-slide.svs");
    assert_open_fails(missing, SF_EXIT_MISSING, g_strerror(ENOENT));
    g_autofree char *dir = test_make_tmpdir();
    assert_open_fails(dir, SF_EXIT_MISSING, g_strerror(EISDIR));
    test_remove_tree(dir);

    g_autofree char *broken = test_fixture("broken.svs");
    assert_open_fails(broken, SF_EXIT_SLIDE_OPEN, "not a slide OpenSlide recognises");
    g_autofree char *zero = test_fixture("zero_gi.tif");
    assert_open_fails(zero, SF_EXIT_SLIDE_OPEN, "not a slide OpenSlide recognises");
    g_autofree char *png = test_fixture("pen_green.png");
    assert_open_fails(png, SF_EXIT_SLIDE_OPEN, "not a slide OpenSlide recognises");
    /* Recognised as a TIFF, then rejected by OpenSlide with its reason. */
    g_autofree char *unopenable = test_fixture("unopenable.tiff");
    assert_open_fails(unopenable, SF_EXIT_SLIDE_OPEN, "Unsupported TIFF compression: 52479");
}

static void test_open_unreadable_file(void **state)
{
    (void)state;
    if (geteuid() == 0)
        skip(); /* root reads anything */
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "locked.svs", NULL);
    g_autofree char *src = test_fixture("small.svs");
    g_autofree char *data = NULL;
    gsize length = 0;
    assert_true(g_file_get_contents(src, &data, &length, NULL));
    assert_true(g_file_set_contents(path, data, (gssize)length, NULL));
    assert_int_equal(g_chmod(path, 0), 0);
    assert_open_fails(path, SF_EXIT_MISSING, g_strerror(EACCES));
    test_remove_tree(dir);
}

static void test_read_error(void **state)
{
    (void)state;
    g_autoptr(sf_slide) slide = test_open_fixture_slide("unreadable.svs");
    GError *error = NULL;
    uint8_t *pixels = sf_slide_read_scaled_buffer(slide, 0, 0, 0, 16, 16, 8, 8, &error);
    assert_null(pixels);
    assert_true(g_error_matches(error, SF_ERROR, SF_EXIT_SLIDE_READ));
    assert_non_null(strstr(error->message, sf_slide_path(slide)));
    assert_non_null(strstr(error->message, "Bogus marker length"));
    g_error_free(error);
}

static void test_read_usage_errors(void **state)
{
    (void)state;
    g_autoptr(sf_slide) slide = test_open_fixture_slide("small.svs");
    static const struct {
        int level;
        int64_t w, h;
        int out_w, out_h;
    } bad[] = {{0, 16, 16, 0, 8}, {0, 16, 16, 8, -1}, {0, 0, 16, 8, 8},
               {0, 16, -3, 8, 8}, {1, 16, 16, 8, 8},  {-1, 16, 16, 8, 8}};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        GError *error = NULL;
        uint8_t *pixels = sf_slide_read_scaled_buffer(slide, bad[i].level, 0, 0, bad[i].w, bad[i].h,
                                                      bad[i].out_w, bad[i].out_h, &error);
        assert_null(pixels);
        assert_true(g_error_matches(error, SF_ERROR, SF_EXIT_USAGE));
        g_error_free(error);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_fixtures),
        cmocka_unit_test(test_aperio_metadata),
        cmocka_unit_test(test_metadata_absent_or_other),
        cmocka_unit_test(test_best_level),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_open_unreadable_file),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_read_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
