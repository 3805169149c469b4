/* Histogram, Otsu's threshold as OpenCV chooses it, and binarisation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <string.h>

#define PAD 5

static void test_histogram_counts_pixels_only(void **state)
{
    (void)state;
    sf_image im = test_padded_image(9, 5, 1, PAD); /* widths not a multiple of 4 */
    for (int y = 0; y < im.height; y++)
        for (int x = 0; x < im.width; x++)
            im.data[(size_t)y * im.stride + x] = (uint8_t)(x == 0 ? 255 : y);
    uint64_t hist[256];
    memset(hist, 0xFF, sizeof hist);
    sf_histogram(&im, hist);
    for (int v = 0; v < 256; v++) {
        uint64_t want = v < 5 ? 8 : v == 255 ? 5 : 0;
        assert_int_equal(hist[v], want);
    }
    /* TEST_PAD_VALUE bytes in the stride are not pixels */
    assert_int_equal(hist[TEST_PAD_VALUE], 0);

    memset(hist, 0xFF, sizeof hist);
    sf_histogram(NULL, hist);
    for (int v = 0; v < 256; v++)
        assert_int_equal(hist[v], 0);
    g_free(im.data);
}

static uint8_t otsu_of(const int *values, const uint64_t *counts, size_t n)
{
    uint64_t hist[256] = {0};
    for (size_t i = 0; i < n; i++)
        hist[values[i]] = counts[i];
    return sf_otsu_threshold(hist);
}

/*
 * Between-class variance s(t) = q1 q2 (mu1 - mu2)^2 for the split v <= t.
 * {0, 1, 2, 3} once each: s(0) = 1/4 3/4 (0 - 2)^2 = 0.75,
 * s(1) = 1/4 (0.5 - 2.5)^2 = 1, s(2) = 0.75: t = 1.
 */
static void test_otsu_hand_computed(void **state)
{
    (void)state;
    static const int v1[] = {0, 1, 2, 3};
    static const uint64_t c1[] = {1, 1, 1, 1};
    assert_int_equal(otsu_of(v1, c1, 4), 1);

    /* {0: 2, 1: 1, 3: 1}: s(0) = 1/2 1/2 (0 - 2)^2 = 1, s(1) = 3/4 1/4
     * (1/3 - 3)^2 = 4/3, and s(2) = s(1) as bin 2 is empty: the first of
     * equal maxima stays (OpenCV compares with '>'). */
    static const int v2[] = {0, 1, 3};
    static const uint64_t c2[] = {2, 1, 1};
    assert_int_equal(otsu_of(v2, c2, 3), 1);
}

/* Two equal modes: every t in [10, 199] makes the same two classes, and
 * the lowest one is kept. */
static void test_otsu_bimodal(void **state)
{
    (void)state;
    static const int v[] = {10, 200};
    static const uint64_t c[] = {100, 100};
    assert_int_equal(otsu_of(v, c, 2), 10);

    /* {50: 3, 60: 1, 200: 4}: s(50) = 3/8 5/8 (50 - 172)^2 = 3488.4,
     * s(60) = 1/2 1/2 (52.5 - 200)^2 = 5439.1, flat up to 199. */
    static const int v2[] = {50, 60, 200};
    static const uint64_t c2[] = {3, 1, 4};
    assert_int_equal(otsu_of(v2, c2, 3), 60);

    /* Scale does not matter: the same proportions over a billion pixels. */
    static const uint64_t c3[] = {300000000, 100000000, 400000000};
    assert_int_equal(otsu_of(v2, c3, 3), 60);
}

/*
 * OpenCV skips every t where a class holds less than FLT_EPSILON of the
 * pixels and starts from 0: a single-valued image gets 0, and so does an
 * empty histogram. Thresholding a uniform 128 image at 0 then makes it all
 * background under DARK polarity, as OpenCV's THRESH_BINARY_INV | OTSU does.
 */
static void test_otsu_degenerate(void **state)
{
    (void)state;
    uint64_t hist[256] = {0};
    assert_int_equal(sf_otsu_threshold(hist), 0);
    hist[128] = 1000;
    assert_int_equal(sf_otsu_threshold(hist), 0);
    hist[128] = 0;
    hist[255] = 7;
    assert_int_equal(sf_otsu_threshold(hist), 0);

    static const int v[] = {0, 255};
    static const uint64_t c[] = {5, 5};
    assert_int_equal(otsu_of(v, c, 2), 0);

    /* One pixel in 10^8 at another level is below FLT_EPSILON (1.19e-7)
     * of the image: that split is skipped too. */
    static const int v2[] = {20, 128};
    static const uint64_t c2[] = {1, 100000000};
    assert_int_equal(otsu_of(v2, c2, 2), 0);
}

/* Between-class variance of every split v <= t, in long double from exact
 * integer sums: an independent check that the choice is a maximum. */
static void between_class(const uint64_t hist[256], long double sigma[256])
{
    long double n = 0, s = 0;
    for (int v = 0; v < 256; v++) {
        n += hist[v];
        s += (long double)v * hist[v];
    }
    long double n1 = 0, s1 = 0;
    for (int t = 0; t < 256; t++) {
        n1 += hist[t];
        s1 += (long double)t * hist[t];
        long double n2 = n - n1, s2 = s - s1;
        if (n1 == 0 || n2 == 0) {
            sigma[t] = 0;
            continue;
        }
        long double d = s1 / n1 - s2 / n2;
        sigma[t] = n1 / n * (n2 / n) * d * d;
    }
}

static void test_otsu_maximises_variance(void **state)
{
    (void)state;
    GRand *rng = g_rand_new_with_seed(20240607);
    for (int round = 0; round < 2000; round++) {
        uint64_t hist[256] = {0};
        int levels = g_rand_int_range(rng, 2, 40);
        for (int i = 0; i < levels; i++)
            hist[g_rand_int_range(rng, 0, 256)] += (uint64_t)g_rand_int_range(rng, 1, 100000);
        uint8_t t = sf_otsu_threshold(hist);
        long double sigma[256], best = 0;
        between_class(hist, sigma);
        for (int u = 0; u < 256; u++)
            if (sigma[u] > best)
                best = sigma[u];
        assert_true(sigma[t] >= best * (1 - 1e-9L));
        /* no earlier split is clearly better either */
        for (int u = 0; u < t; u++)
            assert_true(sigma[u] <= sigma[t] * (1 + 1e-9L));
    }
    g_rand_free(rng);
}

static sf_image ramp(void)
{
    sf_image im = test_padded_image(16, 16, 1, PAD);
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++)
            im.data[(size_t)y * im.stride + x] = (uint8_t)(16 * y + x);
    return im;
}

static void check_threshold(const sf_image *in, const sf_image *mask, uint8_t t, sf_polarity pol)
{
    for (int y = 0; y < in->height; y++)
        for (int x = 0; x < in->width; x++) {
            int v = 16 * y + x; /* ramp() value, also when `in` was overwritten */
            bool fg = pol == SF_POLARITY_DARK ? v <= t : v > t;
            assert_int_equal(mask->data[(size_t)y * mask->stride + x], fg ? 255 : 0);
        }
    test_assert_padding_intact(mask);
}

static void test_threshold_polarities(void **state)
{
    (void)state;
    sf_image in = ramp();
    sf_image mask = test_padded_image(16, 16, 1, PAD);
    static const uint8_t ts[] = {0, 1, 100, 127, 254, 255};
    for (size_t i = 0; i < G_N_ELEMENTS(ts); i++) {
        assert_int_equal(sf_threshold(&in, ts[i], SF_POLARITY_DARK, &mask), SF_OK);
        check_threshold(&in, &mask, ts[i], SF_POLARITY_DARK);
        assert_int_equal(sf_threshold(&in, ts[i], SF_POLARITY_BRIGHT, &mask), SF_OK);
        check_threshold(&in, &mask, ts[i], SF_POLARITY_BRIGHT);
    }
    g_free(mask.data);
    g_free(in.data);
}

static void test_threshold_in_place(void **state)
{
    (void)state;
    sf_image im = ramp();
    assert_int_equal(sf_threshold(&im, 77, SF_POLARITY_DARK, &im), SF_OK);
    check_threshold(&im, &im, 77, SF_POLARITY_DARK);
    g_free(im.data);
}

static void test_threshold_invalid(void **state)
{
    (void)state;
    sf_image in = ramp();
    sf_image small = test_padded_image(15, 16, 1, PAD);
    sf_image rgb = {.data = in.data, .width = 16, .height = 16, .channels = 3, .stride = 48};
    assert_int_equal(sf_threshold(NULL, 1, SF_POLARITY_DARK, &in), SF_ERR_INVALID);
    assert_int_equal(sf_threshold(&in, 1, SF_POLARITY_DARK, NULL), SF_ERR_INVALID);
    assert_int_equal(sf_threshold(&in, 1, SF_POLARITY_DARK, &small), SF_ERR_INVALID);
    assert_int_equal(sf_threshold(&rgb, 1, SF_POLARITY_DARK, &in), SF_ERR_INVALID);
    assert_int_equal(sf_threshold(&in, 1, (sf_polarity)7, &in), SF_ERR_INVALID);
    sf_image bad_stride = in;
    bad_stride.stride = 15;
    assert_int_equal(sf_threshold(&bad_stride, 1, SF_POLARITY_DARK, &in), SF_ERR_INVALID);
    /* nothing was written */
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++)
            assert_int_equal(in.data[(size_t)y * in.stride + x], 16 * y + x);

    sf_image empty = {.data = NULL, .width = 0, .height = 3, .channels = 1, .stride = 0};
    assert_int_equal(sf_threshold(&empty, 1, SF_POLARITY_BRIGHT, &empty), SF_OK);
    g_free(small.data);
    g_free(in.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram_counts_pixels_only),
        cmocka_unit_test(test_otsu_hand_computed),
        cmocka_unit_test(test_otsu_bimodal),
        cmocka_unit_test(test_otsu_degenerate),
        cmocka_unit_test(test_otsu_maximises_variance),
        cmocka_unit_test(test_threshold_polarities),
        cmocka_unit_test(test_threshold_in_place),
        cmocka_unit_test(test_threshold_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
