/* Streaming JPEG writer, whole-buffer save and load. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "slidefrag/error.h"
#include "slidefrag/image_io.h"

enum { W = 320, H = 203 };

/* Gradients in three directions: smooth, so a good JPEG reproduces it well,
 * and asymmetric, so a flip or channel swap would show. */
static uint8_t *make_smooth_rgb(int width, int height)
{
    uint8_t *pixels = g_malloc((size_t)width * height * 3);
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            uint8_t *p = pixels + ((size_t)y * width + x) * 3;
            p[0] = (uint8_t)(x * 255 / (width - 1));
            p[1] = (uint8_t)(y * 255 / (height - 1));
            p[2] = (uint8_t)(64 + (x + 2 * y) * 128 / (width + 2 * height));
        }
    return pixels;
}

static double mean_abs_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (uint64_t)abs((int)a[i] - (int)b[i]);
    return (double)sum / (double)n;
}

static void assert_dir_empty(const char *dir)
{
    g_autofree char *names = test_dir_entries(dir);
    if (names[0])
        fail_msg("directory %s is not empty: %s", dir, names);
}

static void test_round_trip_quality_95(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "smooth.jpg", NULL);
    g_autofree uint8_t *rgb = make_smooth_rgb(W, H);
    GError *error = NULL;
    assert_true(sf_jpeg_save(path, rgb, W, H, 3, (size_t)W * 3, 95, &error));
    assert_null(error);

    int width = 0, height = 0;
    g_autofree uint8_t *back = sf_jpeg_load(path, &width, &height, &error);
    assert_non_null(back);
    assert_int_equal(width, W);
    assert_int_equal(height, H);
    double mad = mean_abs_diff(rgb, back, (size_t)W * H * 3);
    print_message("quality 95 mean abs difference: %.3f\n", mad);
    assert_true(mad < 1.5);

    /* Quality means something: 10 is clearly worse than 95. */
    assert_true(sf_jpeg_save(path, rgb, W, H, 3, (size_t)W * 3, 10, &error));
    g_autofree uint8_t *poor = sf_jpeg_load(path, &width, &height, &error);
    assert_non_null(poor);
    assert_true(mean_abs_diff(rgb, poor, (size_t)W * H * 3) > mad);
    test_remove_tree(dir);
}

static char *read_file(const char *path, size_t *length)
{
    char *contents = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents(path, &contents, &len, NULL));
    *length = len;
    return contents;
}

/* The header is JFIF, the chroma 4:2:0, baseline Huffman (no optimisation). */
static void test_file_format(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "f.jpg", NULL);
    g_autofree uint8_t *rgb = make_smooth_rgb(W, H);
    GError *error = NULL;
    assert_true(sf_jpeg_save(path, rgb, W, H, 3, (size_t)W * 3, 90, &error));

    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr jerr;
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_decompress(&cinfo);
    FILE *file = fopen(path, "rb");
    assert_non_null(file);
    jpeg_stdio_src(&cinfo, file);
    assert_int_equal(jpeg_read_header(&cinfo, TRUE), JPEG_HEADER_OK);
    assert_true(cinfo.saw_JFIF_marker);
    assert_int_equal(cinfo.jpeg_color_space, JCS_YCbCr);
    assert_int_equal(cinfo.num_components, 3);
    assert_int_equal(cinfo.comp_info[0].h_samp_factor, 2);
    assert_int_equal(cinfo.comp_info[0].v_samp_factor, 2);
    assert_int_equal(cinfo.comp_info[1].h_samp_factor, 1);
    assert_int_equal(cinfo.comp_info[1].v_samp_factor, 1);
    assert_false(cinfo.progressive_mode);
    jpeg_destroy_decompress(&cinfo);
    fclose(file);
    test_remove_tree(dir);
}

/* Rows in uneven batches give the very same file as one whole-buffer save. */
static void test_streaming_equals_whole(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *whole = g_build_filename(dir, "whole.jpg", NULL);
    g_autofree char *streamed = g_build_filename(dir, "streamed.jpg", NULL);
    g_autofree char *sunk = g_build_filename(dir, "sunk.jpg", NULL);
    g_autofree uint8_t *rgb = make_smooth_rgb(W, H);
    GError *error = NULL;
    assert_true(sf_jpeg_save(whole, rgb, W, H, 3, (size_t)W * 3, 85, &error));

    static const int batches[] = {1, 7, 0, 16, 13, 64, 2, 100};
    sf_jpeg_writer *writer = sf_jpeg_writer_open(streamed, W, H, 85, &error);
    assert_non_null(writer);
    int row = 0;
    for (size_t i = 0; row < H; i++) {
        int n = MIN(batches[i % G_N_ELEMENTS(batches)], H - row);
        assert_true(sf_jpeg_writer_write(writer, rgb + (size_t)row * W * 3, n, &error));
        row += n;
    }
    assert_true(sf_jpeg_writer_finish(writer, &error));

    /* Through the row-sink adapter, in other batches. */
    writer = sf_jpeg_writer_open(sunk, W, H, 85, &error);
    assert_non_null(writer);
    for (row = 0; row < H;) {
        int n = MIN(row % 5 + 3, H - row);
        assert_true(sf_jpeg_row_sink(rgb + (size_t)row * W * 3, row, n, writer, &error));
        row += n;
    }
    assert_true(sf_jpeg_writer_finish(writer, &error));

    size_t la = 0, lb = 0, lc = 0;
    g_autofree char *a = read_file(whole, &la);
    g_autofree char *b = read_file(streamed, &lb);
    g_autofree char *c = read_file(sunk, &lc);
    assert_true(la > 1000);
    assert_int_equal(la, lb);
    assert_int_equal(la, lc);
    assert_memory_equal(a, b, la);
    assert_memory_equal(a, c, la);
    test_remove_tree(dir);
}

static void test_sink_rejects_gap(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "gap.jpg", NULL);
    g_autofree uint8_t *rgb = make_smooth_rgb(W, H);
    GError *error = NULL;
    sf_jpeg_writer *writer = sf_jpeg_writer_open(path, W, H, 85, &error);
    assert_non_null(writer);
    assert_true(sf_jpeg_row_sink(rgb, 0, 10, writer, &error));
    assert_false(sf_jpeg_row_sink(rgb, 11, 10, writer, &error));
    test_assert_error(error, SF_EXIT_FAILURE, path);
    g_clear_error(&error);
    sf_jpeg_writer_abort(writer);
    assert_dir_empty(dir);
    test_remove_tree(dir);
}

static void test_too_few_rows(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "short.jpg", NULL);
    g_autofree uint8_t *rgb = make_smooth_rgb(W, H);
    GError *error = NULL;
    sf_jpeg_writer *writer = sf_jpeg_writer_open(path, W, H, 85, &error);
    assert_non_null(writer);
    assert_true(sf_jpeg_writer_write(writer, rgb, H - 1, &error));
    assert_false(sf_jpeg_writer_finish(writer, &error));
    test_assert_error(error, SF_EXIT_FAILURE, path);
    g_clear_error(&error);
    /* Neither the final file nor the temp file is left. */
    assert_dir_empty(dir);
    test_remove_tree(dir);
}

static void test_too_many_rows(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "long.jpg", NULL);
    g_autofree uint8_t *rgb = make_smooth_rgb(W, H + 1);
    GError *error = NULL;
    sf_jpeg_writer *writer = sf_jpeg_writer_open(path, W, H, 85, &error);
    assert_non_null(writer);
    assert_true(sf_jpeg_writer_write(writer, rgb, H - 5, &error));
    assert_false(sf_jpeg_writer_write(writer, rgb, 6, &error));
    test_assert_error(error, SF_EXIT_FAILURE, path);
    g_clear_error(&error);
    /* The writer stays failed: finishing does not produce a file. */
    assert_false(sf_jpeg_writer_finish(writer, &error));
    assert_non_null(error);
    g_clear_error(&error);
    assert_dir_empty(dir);
    test_remove_tree(dir);
}

static void test_abort_and_autoptr_leave_nothing(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "a.jpg", NULL);
    g_autofree uint8_t *rgb = make_smooth_rgb(W, H);
    GError *error = NULL;
    sf_jpeg_writer *writer = sf_jpeg_writer_open(path, W, H, 85, &error);
    assert_non_null(writer);
    assert_true(sf_jpeg_writer_write(writer, rgb, H, &error));
    sf_jpeg_writer_abort(writer);
    assert_dir_empty(dir);
    {
        g_autoptr(sf_jpeg_writer) scoped = sf_jpeg_writer_open(path, W, H, 85, &error);
        assert_non_null(scoped);
        assert_true(sf_jpeg_writer_write(scoped, rgb, 3, &error));
    }
    assert_dir_empty(dir);
    sf_jpeg_writer_abort(NULL);
    test_remove_tree(dir);
}

/* Checked before anything is allocated or created. */
static void test_size_limit(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "huge.jpg", NULL);
    GError *error = NULL;
    const int sizes[][2] = {{65536, 10}, {10, 65536}, {70000, 70000}, {65501, 1}};
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        assert_null(sf_jpeg_writer_open(path, sizes[i][0], sizes[i][1], 90, &error));
        test_assert_error(error, SF_EXIT_USAGE, "65,535");
        assert_non_null(strstr(error->message, "--fragment-downsample"));
        assert_non_null(strstr(error->message, "--fragment-max-size"));
        assert_non_null(strstr(error->message, path));
        g_clear_error(&error);
    }
    assert_dir_empty(dir);
    test_remove_tree(dir);
}

static void test_bad_quality(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "q.jpg", NULL);
    GError *error = NULL;
    assert_null(sf_jpeg_writer_open(path, 10, 10, 0, &error));
    test_assert_error(error, SF_EXIT_USAGE, "quality");
    g_clear_error(&error);
    assert_null(sf_jpeg_writer_open(path, 10, 10, 101, &error));
    test_assert_error(error, SF_EXIT_USAGE, "quality");
    g_clear_error(&error);
    /* The extremes are valid. */
    uint8_t pixels[4 * 4 * 3] = {0};
    assert_true(sf_jpeg_save(path, pixels, 4, 4, 3, 12, 1, &error));
    assert_true(sf_jpeg_save(path, pixels, 4, 4, 3, 12, 100, &error));
    test_remove_tree(dir);
}

static void test_unwritable_directory(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "missing", "out.jpg", NULL);
    GError *error = NULL;
    assert_null(sf_jpeg_writer_open(path, 10, 10, 90, &error));
    test_assert_error(error, SF_EXIT_OUTPUT, path);
    g_clear_error(&error);
    uint8_t pixels[10 * 10 * 3] = {0};
    assert_false(sf_jpeg_save(path, pixels, 10, 10, 3, 30, 90, &error));
    test_assert_error(error, SF_EXIT_OUTPUT, path);
    g_clear_error(&error);
    test_remove_tree(dir);
}

/* Grey input with a padded stride: decoded as RGB, every pixel is grey. */
static void test_grey_with_stride(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "grey.jpg", NULL);
    const int w = 61, h = 37;
    const size_t stride = 64;
    g_autofree uint8_t *grey = g_malloc(stride * h);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++)
            grey[y * stride + x] = (uint8_t)(40 + x * 2 + y);
        for (size_t x = w; x < stride; x++)
            grey[y * stride + x] = 255; /* padding that must not show */
    }
    GError *error = NULL;
    assert_true(sf_jpeg_save(path, grey, w, h, 1, stride, 95, &error));
    int width = 0, height = 0;
    g_autofree uint8_t *rgb = sf_jpeg_load(path, &width, &height, &error);
    assert_non_null(rgb);
    assert_int_equal(width, w);
    assert_int_equal(height, h);
    uint64_t sum = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            assert_int_equal(p[0], p[1]);
            assert_int_equal(p[1], p[2]);
            sum += (uint64_t)abs((int)p[0] - (int)grey[y * stride + x]);
        }
    assert_true((double)sum / (w * h) < 1.5);
    test_remove_tree(dir);
}

/* A real file from another encoder. */
static void test_load_fixture(void **state)
{
    (void)state;
    g_autofree char *path = test_fixture("slide_with_ink.jpeg");
    GError *error = NULL;
    int width = 0, height = 0;
    g_autofree uint8_t *rgb = sf_jpeg_load(path, &width, &height, &error);
    assert_non_null(rgb);
    assert_int_equal(width, 5600);
    assert_int_equal(height, 1000);
}

static void test_corrupt_input(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *good = g_build_filename(dir, "good.jpg", NULL);
    g_autofree char *bad = g_build_filename(dir, "bad.jpg", NULL);
    g_autofree uint8_t *rgb = make_smooth_rgb(W, H);
    GError *error = NULL;
    assert_true(sf_jpeg_save(good, rgb, W, H, 3, (size_t)W * 3, 90, &error));
    size_t length = 0;
    g_autofree char *bytes = read_file(good, &length);
    int width = 0, height = 0;

    /* Truncated halfway through the entropy-coded data. */
    assert_true(g_file_set_contents(bad, bytes, (gssize)(length / 2), NULL));
    assert_null(sf_jpeg_load(bad, &width, &height, &error));
    test_assert_error(error, SF_EXIT_BAD_INPUT, bad);
    g_clear_error(&error);

    /* Header only. */
    assert_true(g_file_set_contents(bad, bytes, 20, NULL));
    assert_null(sf_jpeg_load(bad, &width, &height, &error));
    test_assert_error(error, SF_EXIT_BAD_INPUT, bad);
    g_clear_error(&error);

    /* Not a JPEG at all. */
    assert_true(g_file_set_contents(bad, "\x89PNG\r\n\x1a\n not a jpeg", -1, NULL));
    assert_null(sf_jpeg_load(bad, &width, &height, &error));
    test_assert_error(error, SF_EXIT_BAD_INPUT, bad);
    g_clear_error(&error);

    /* Scrambled entropy-coded data (markers left alone). */
    for (size_t i = length / 3; i < length - 2; i += 7)
        if ((uint8_t)bytes[i] != 0xFF && (uint8_t)bytes[i - 1] != 0xFF)
            bytes[i] = (char)(bytes[i] ^ 0x5A);
    assert_true(g_file_set_contents(bad, bytes, (gssize)length, NULL));
    g_autofree uint8_t *maybe = sf_jpeg_load(bad, &width, &height, &error);
    /* Either rejected or decoded to the right size; never a crash. */
    if (maybe) {
        assert_int_equal(width, W);
        assert_int_equal(height, H);
    } else {
        test_assert_error(error, SF_EXIT_BAD_INPUT, bad);
        g_clear_error(&error);
    }

    g_autofree char *missing = g_build_filename(dir, "missing.jpg", NULL);
    assert_null(sf_jpeg_load(missing, &width, &height, &error));
    test_assert_error(error, SF_EXIT_MISSING, missing);
    g_clear_error(&error);
    test_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_quality_95),
        cmocka_unit_test(test_file_format),
        cmocka_unit_test(test_streaming_equals_whole),
        cmocka_unit_test(test_sink_rejects_gap),
        cmocka_unit_test(test_too_few_rows),
        cmocka_unit_test(test_too_many_rows),
        cmocka_unit_test(test_abort_and_autoptr_leave_nothing),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_bad_quality),
        cmocka_unit_test(test_unwritable_directory),
        cmocka_unit_test(test_grey_with_stride),
        cmocka_unit_test(test_load_fixture),
        cmocka_unit_test(test_corrupt_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
