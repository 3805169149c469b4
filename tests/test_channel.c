/* Channel extraction: planes, OpenCV's grey and HSV saturation, names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <string.h>

/* Rows carry PAD bytes past the pixels that the code must neither read
 * into the result nor write. */
#define PAD 5

/* One row of RGB pixels. */
static sf_image rgb_row(const uint8_t (*pixels)[3], int n)
{
    sf_image im = test_padded_image(n, 1, 3, PAD);
    for (int x = 0; x < n; x++)
        memcpy(im.data + 3 * x, pixels[x], 3);
    return im;
}

static void extract_row(const uint8_t (*pixels)[3], int n, sf_channel channel, uint8_t *out)
{
    sf_image rgb = rgb_row(pixels, n);
    sf_image o = test_padded_image(n, 1, 1, PAD);
    assert_int_equal(sf_extract_channel(&rgb, channel, &o), SF_OK);
    test_assert_padding_intact(&o);
    memcpy(out, o.data, (size_t)n);
    g_free(o.data);
    g_free(rgb.data);
}

static void test_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        sf_channel channel;
    } cases[] = {
        {"red", SF_CHANNEL_RED},   {"green", SF_CHANNEL_GREEN},
        {"blue", SF_CHANNEL_BLUE}, {"grey", SF_CHANNEL_GREY},
        {"gray", SF_CHANNEL_GREY}, {"saturation", SF_CHANNEL_SATURATION},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        sf_channel c = (sf_channel)-1;
        assert_true(sf_channel_from_name(cases[i].name, &c));
        assert_int_equal(c, cases[i].channel);
    }
    assert_string_equal(sf_channel_name(SF_CHANNEL_RED), "red");
    assert_string_equal(sf_channel_name(SF_CHANNEL_GREEN), "green");
    assert_string_equal(sf_channel_name(SF_CHANNEL_BLUE), "blue");
    assert_string_equal(sf_channel_name(SF_CHANNEL_GREY), "grey");
    assert_string_equal(sf_channel_name(SF_CHANNEL_SATURATION), "saturation");
    assert_null(sf_channel_name((sf_channel)42));

    sf_channel c = SF_CHANNEL_BLUE;
    assert_false(sf_channel_from_name("Red", &c));
    assert_false(sf_channel_from_name("hue", &c));
    assert_false(sf_channel_from_name("", &c));
    assert_false(sf_channel_from_name(NULL, &c));
    assert_int_equal(c, SF_CHANNEL_BLUE); /* untouched on failure */
}

static void test_planes(void **state)
{
    (void)state;
    int w = 7, h = 4;
    sf_image rgb = test_padded_image(w, h, 3, PAD);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb.data + (size_t)y * rgb.stride + 3 * x;
            p[0] = (uint8_t)(10 * x + y);
            p[1] = (uint8_t)(100 + x);
            p[2] = (uint8_t)(200 + y);
        }
    sf_image out = test_padded_image(w, h, 1, PAD);
    for (int c = 0; c < 3; c++) {
        sf_channel channel = c == 0 ? SF_CHANNEL_RED : c == 1 ? SF_CHANNEL_GREEN : SF_CHANNEL_BLUE;
        assert_int_equal(sf_extract_channel(&rgb, channel, &out), SF_OK);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                uint8_t want = c == 0   ? (uint8_t)(10 * x + y)
                               : c == 1 ? (uint8_t)(100 + x)
                                        : (uint8_t)(200 + y);
                assert_int_equal(out.data[(size_t)y * out.stride + x], want);
            }
        test_assert_padding_intact(&out);
    }
    test_assert_padding_intact(&rgb);
    g_free(out.data);
    g_free(rgb.data);
}

/*
 * OpenCV 4's 8-bit RGB2GRAY is (9798 R + 19235 G + 3735 B + 2^14) >> 15.
 * (0, 0, 250) tells it from the older Q14 weights (4899, 9617, 1868), which
 * give (467000 + 8192) >> 14 = 29 where Q15 gives (933750 + 16384) >> 15 = 28.
 */
static void test_grey_matches_opencv(void **state)
{
    (void)state;
    static const uint8_t px[][3] = {
        {255, 0, 0}, {0, 255, 0}, {0, 0, 255},  {255, 255, 255},
        {0, 0, 0},   {0, 0, 250}, {12, 34, 56},
    };
    /* 2514874 >> 15, 4921309 >> 15, 968809 >> 15, 255, 0, 28,
     * (117576 + 653990 + 209160 + 16384) >> 15 = 997110 >> 15 */
    static const uint8_t want[] = {76, 150, 29, 255, 0, 28, 30};
    uint8_t got[G_N_ELEMENTS(px)];
    extract_row(px, G_N_ELEMENTS(px), SF_CHANNEL_GREY, got);
    assert_memory_equal(got, want, sizeof want);
}

/*
 * S = (diff * sdiv[V] + 2^11) >> 12 with sdiv[v] = round(255 * 2^12 / v).
 * (100, 50, 50): sdiv[100] = 10445, (50 * 10445 + 2048) >> 12 = 128 where
 * 255 * 50 / 100 = 127.5. (200, 150, 100): sdiv[200] = 5222,
 * (100 * 5222 + 2048) >> 12 = 127. (1, 0, 0): sdiv[1] = 1044480 gives 255.
 */
static void test_saturation_matches_opencv(void **state)
{
    (void)state;
    static const uint8_t px[][3] = {
        {255, 0, 0}, {100, 50, 50}, {200, 150, 100}, {1, 0, 0},
        {0, 0, 0},   {80, 80, 80},  {0, 0, 255},     {255, 255, 255},
    };
    static const uint8_t want[] = {255, 128, 127, 255, 0, 0, 255, 0};
    uint8_t got[G_N_ELEMENTS(px)];
    extract_row(px, G_N_ELEMENTS(px), SF_CHANNEL_SATURATION, got);
    assert_memory_equal(got, want, sizeof want);
}

/* Saturation is diff * 255 / max rounded, within one step of the exact
 * value, for every (max, min) pair, and does not depend on the order. */
static void test_saturation_all_pairs(void **state)
{
    (void)state;
    uint8_t px[256][3];
    uint8_t got[256], swapped[256];
    for (int v = 0; v < 256; v++) {
        for (int m = 0; m <= v; m++) {
            px[m][0] = (uint8_t)m;
            px[m][1] = (uint8_t)v;
            px[m][2] = (uint8_t)((m + v) / 2);
        }
        extract_row(px, v + 1, SF_CHANNEL_SATURATION, got);
        for (int m = 0; m <= v; m++) {
            px[m][0] = (uint8_t)v;
            px[m][1] = (uint8_t)((m + v) / 2);
            px[m][2] = (uint8_t)m;
        }
        extract_row(px, v + 1, SF_CHANNEL_SATURATION, swapped);
        for (int m = 0; m <= v; m++) {
            double exact = v ? 255.0 * (v - m) / v : 0;
            assert_true(got[m] >= exact - 1 && got[m] <= exact + 1);
            assert_int_equal(got[m], swapped[m]);
        }
    }
}

static void test_invalid_and_empty(void **state)
{
    (void)state;
    sf_image rgb = test_padded_image(4, 3, 3, PAD);
    sf_image out = test_padded_image(4, 3, 1, PAD);
    sf_image grey3 = test_padded_image(4, 3, 3, PAD);
    sf_image small = test_padded_image(3, 3, 1, PAD);

    assert_int_equal(sf_extract_channel(NULL, SF_CHANNEL_RED, &out), SF_ERR_INVALID);
    assert_int_equal(sf_extract_channel(&rgb, SF_CHANNEL_RED, NULL), SF_ERR_INVALID);
    assert_int_equal(sf_extract_channel(&out, SF_CHANNEL_RED, &out), SF_ERR_INVALID);
    assert_int_equal(sf_extract_channel(&rgb, SF_CHANNEL_RED, &grey3), SF_ERR_INVALID);
    assert_int_equal(sf_extract_channel(&rgb, SF_CHANNEL_RED, &small), SF_ERR_INVALID);
    assert_int_equal(sf_extract_channel(&rgb, (sf_channel)9, &out), SF_ERR_INVALID);
    sf_image short_stride = rgb;
    short_stride.stride = 11;
    assert_int_equal(sf_extract_channel(&short_stride, SF_CHANNEL_RED, &out), SF_ERR_INVALID);
    test_assert_padding_intact(&out);

    sf_image empty_rgb = {.data = NULL, .width = 0, .height = 0, .channels = 3, .stride = 0};
    sf_image empty_out = {.data = NULL, .width = 0, .height = 0, .channels = 1, .stride = 0};
    assert_int_equal(sf_extract_channel(&empty_rgb, SF_CHANNEL_GREY, &empty_out), SF_OK);
    empty_rgb.width = empty_out.width = 5;
    assert_int_equal(sf_extract_channel(&empty_rgb, SF_CHANNEL_SATURATION, &empty_out), SF_OK);

    g_free(small.data);
    g_free(grey3.data);
    g_free(out.data);
    g_free(rgb.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_planes),
        cmocka_unit_test(test_grey_matches_opencv),
        cmocka_unit_test(test_saturation_matches_opencv),
        cmocka_unit_test(test_saturation_all_pairs),
        cmocka_unit_test(test_invalid_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
