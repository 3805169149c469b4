/* Marker ink is not tissue: sf_clear_ink and its place in sf_detect. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "slidefrag/detect.h"

static void set_rgb(sf_image *rgb, int x, int y, uint8_t r, uint8_t g, uint8_t b)
{
    uint8_t *p = rgb->data + (size_t)y * rgb->stride + (size_t)x * 3;
    p[0] = r;
    p[1] = g;
    p[2] = b;
}

static uint8_t at(const sf_image *mask, int x, int y)
{
    return mask->data[(size_t)y * mask->stride + (size_t)x];
}

/* A 40x20 all-tissue mask over: eosin pink, haematoxylin purple, red and
 * black ink, and one pixel each of blue and green ink. Only the two ink
 * pixels and the square of SF_INK_BORDER around each are cleared. */
static void test_green_and_blue_ink_cleared_with_border(void **state)
{
    (void)state;
    sf_image rgb = test_image_new(40, 20, 3);
    sf_image mask = test_image_new(40, 20, 1);
    for (int y = 0; y < 20; y++)
        for (int x = 0; x < 40; x++) {
            static const uint8_t stains[4][3] = {
                {230, 150, 190}, /* eosin */
                {110, 60, 150},  /* haematoxylin */
                {200, 40, 40},   /* red ink */
                {35, 35, 40},    /* black ink */
            };
            const uint8_t *c = stains[(x / 10) % 4];
            set_rgb(&rgb, x, y, c[0], c[1], c[2]);
        }
    memset(mask.data, 255, mask.stride * (size_t)mask.height);
    set_rgb(&rgb, 5, 5, 75, 107, 179);   /* blue pen over glass */
    set_rgb(&rgb, 30, 14, 79, 147, 107); /* green pen over glass */
    /* G - R exactly at the margin is still stain. */
    set_rgb(&rgb, 20, 2, 100, 100 + SF_INK_MARGIN, 100);

    assert_int_equal(sf_clear_ink(&rgb, &mask), SF_OK);
    for (int y = 0; y < 20; y++)
        for (int x = 0; x < 40; x++) {
            gboolean near_blue = abs(x - 5) <= SF_INK_BORDER && abs(y - 5) <= SF_INK_BORDER;
            gboolean near_green = abs(x - 30) <= SF_INK_BORDER && abs(y - 14) <= SF_INK_BORDER;
            if (at(&mask, x, y) != (near_blue || near_green ? 0 : 255))
                fail_msg("pixel (%d, %d) is %d", x, y, at(&mask, x, y));
        }
    test_image_free(&rgb);
    test_image_free(&mask);
}

/* Ink only removes: background stays background. */
static void test_background_unchanged(void **state)
{
    (void)state;
    sf_image rgb = test_image_new(8, 8, 3);
    sf_image mask = test_image_new(8, 8, 1);
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++)
            set_rgb(&rgb, x, y, 40, 125, 75);
    memset(mask.data, 0, mask.stride * 8);
    assert_int_equal(sf_clear_ink(&rgb, &mask), SF_OK);
    for (size_t i = 0; i < mask.stride * 8; i++)
        assert_int_equal(mask.data[i], 0);
    test_image_free(&rgb);
    test_image_free(&mask);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    sf_image rgb = test_image_new(4, 4, 3);
    sf_image mask = test_image_new(4, 4, 1);
    sf_image small = test_image_new(3, 4, 1);
    sf_image empty_rgb = {NULL, 0, 0, 3, 0}, empty_mask = {NULL, 0, 0, 1, 0};
    assert_int_equal(sf_clear_ink(NULL, &mask), SF_ERR_INVALID);
    assert_int_equal(sf_clear_ink(&rgb, NULL), SF_ERR_INVALID);
    assert_int_equal(sf_clear_ink(&mask, &mask), SF_ERR_INVALID);
    assert_int_equal(sf_clear_ink(&rgb, &rgb), SF_ERR_INVALID);
    assert_int_equal(sf_clear_ink(&rgb, &small), SF_ERR_INVALID);
    assert_int_equal(sf_clear_ink(&empty_rgb, &empty_mask), SF_OK);
    test_image_free(&rgb);
    test_image_free(&mask);
    test_image_free(&small);
}

/*
 * A real overview (fixtures/pen_green.png, HistoQC) with two tissue pieces
 * circled in green pen, and HistoQC's mask of that pen. The red channel's
 * Otsu mask takes the pen as tissue; with the ink cleared none of it is
 * left, and of the tissue away from the pen (beyond the rim HistoQC's mask
 * leaves out) 96% stays: what goes is a blue ink blot HistoQC did not mark
 * and dark margin dye on the lower piece's edge.
 */
static void test_real_pen_marks(void **state)
{
    (void)state;
    g_autofree char *rgb_path = test_fixture("pen_green.png");
    g_autofree char *pen_path = test_fixture("pen_green_mask.png");
    sf_image rgb = test_image_load_png(rgb_path, 3);
    sf_image pen = test_image_load_png(pen_path, 1);
    assert_int_equal(pen.width, rgb.width);
    assert_int_equal(pen.height, rgb.height);

    sf_image mask = test_image_new(rgb.width, rgb.height, 1);
    assert_int_equal(sf_extract_channel(&rgb, SF_CHANNEL_RED, &mask), SF_OK);
    uint64_t hist[256];
    sf_histogram(&mask, hist);
    assert_int_equal(sf_threshold(&mask, sf_otsu_threshold(hist), SF_POLARITY_DARK, &mask), SF_OK);
    sf_image before = test_image_new(rgb.width, rgb.height, 1);
    memcpy(before.data, mask.data, mask.stride * (size_t)mask.height);
    assert_int_equal(sf_clear_ink(&rgb, &mask), SF_OK);
    sf_image near_pen = test_image_new(rgb.width, rgb.height, 1);
    assert_int_equal(sf_morphology(&pen, &near_pen, SF_MORPH_DILATE, SF_KERNEL_RECT, 17, 17, 1),
                     SF_OK);

    int64_t pen_before = 0, pen_after = 0, tissue_before = 0, tissue_after = 0;
    for (int y = 0; y < rgb.height; y++)
        for (int x = 0; x < rgb.width; x++) {
            if (at(&pen, x, y)) {
                pen_before += at(&before, x, y) != 0;
                pen_after += at(&mask, x, y) != 0;
            } else if (!at(&near_pen, x, y)) {
                tissue_before += at(&before, x, y) != 0;
                tissue_after += at(&mask, x, y) != 0;
            }
        }
    print_message("pen pixels taken as tissue: %" PRId64 " -> %" PRId64
                  "; tissue away from the pen: %" PRId64 " -> %" PRId64 "\n",
                  pen_before, pen_after, tissue_before, tissue_after);
    assert_true(pen_before > 10000); /* without it, the pen is tissue */
    assert_true(pen_after * 100 < pen_before);
    assert_true(tissue_after * 100 >= tissue_before * 95);
    test_image_free(&rgb);
    test_image_free(&pen);
    test_image_free(&mask);
    test_image_free(&before);
    test_image_free(&near_pen);
}

/* sf_detect clears the ink only when asked. */
static void test_detect_option(void **state)
{
    (void)state;
    sf_image rgb = test_image_new(64, 64, 3);
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++)
            set_rgb(&rgb, x, y, 240, 240, 240); /* glass */
    for (int y = 8; y < 24; y++)
        for (int x = 8; x < 24; x++)
            set_rgb(&rgb, x, y, 200, 120, 170); /* tissue */
    for (int y = 40; y < 44; y++)
        for (int x = 4; x < 60; x++)
            set_rgb(&rgb, x, y, 75, 107, 179); /* a pen line */
    sf_image mask = test_image_new(64, 64, 1);
    sf_detect_params params;
    sf_detect_params_default(&params);
    assert_false(params.remove_ink);
    /* Fixed: Otsu would split the dark pen from the tissue and the glass. */
    params.otsu = false;
    params.threshold = 220;
    params.regions.min_area = 1;
    sf_regions found = {0};
    assert_int_equal(sf_detect(&rgb, &params, &mask, NULL, &found), SF_OK);
    assert_int_equal(found.n_regions, 2);
    sf_regions_clear(&found);

    params.remove_ink = true;
    assert_int_equal(sf_detect(&rgb, &params, &mask, NULL, &found), SF_OK);
    assert_int_equal(found.n_regions, 1);
    assert_int_equal(found.regions[0].box.x, 8);
    assert_int_equal(found.regions[0].box.y, 8);
    assert_int_equal(found.regions[0].box.w, 16);
    assert_int_equal(found.regions[0].box.h, 16);
    sf_regions_clear(&found);
    test_image_free(&rgb);
    test_image_free(&mask);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_green_and_blue_ink_cleared_with_border),
        cmocka_unit_test(test_background_unchanged),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_real_pen_marks),
        cmocka_unit_test(test_detect_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
