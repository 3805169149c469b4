/* PNG save and load, including the formats other tools write. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include <png.h>

#include "slidefrag/error.h"
#include "slidefrag/image_io.h"

/* Writes a PNG of any colour type with libpng directly, as another tool
 * would; `rows` holds packed rows of `row_bytes` each. */
static void write_raw_png(const char *path, int width, int height, int color_type, int bit_depth,
                          const uint8_t *rows, size_t row_bytes, const png_color *palette,
                          int n_palette, const png_byte *trans, int n_trans, gboolean interlace)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png)))
        fail_msg("libpng failed writing %s", path);
    png_init_io(png, file);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, color_type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (palette)
        png_set_PLTE(png, info, palette, n_palette);
    if (trans)
        png_set_tRNS(png, info, trans, n_trans, NULL);
    png_write_info(png, info);
    int passes = png_set_interlace_handling(png);
    for (int pass = 0; pass < passes; pass++)
        for (int y = 0; y < height; y++)
            png_write_row(png, rows + (size_t)y * row_bytes);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(file);
}

static uint8_t *load(const char *path, int channels, int *width, int *height)
{
    GError *error = NULL;
    uint8_t *pixels = sf_png_load(path, channels, width, height, &error);
    if (!pixels)
        fail_msg("%s", error->message);
    return pixels;
}

static void test_round_trip_exact(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *grey_path = g_build_filename(dir, "grey.png", NULL);
    g_autofree char *rgb_path = g_build_filename(dir, "rgb.png", NULL);
    const int w = 97, h = 41;
    const size_t grey_stride = 100, rgb_stride = w * 3 + 5;
    g_autofree uint8_t *grey = g_malloc0(grey_stride * h);
    g_autofree uint8_t *rgb = g_malloc0(rgb_stride * h);
    /* Every byte value, noise-like so filters and zlib have work to do. */
    uint32_t seed = 12345;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            seed = seed * 1103515245u + 12345u;
            grey[y * grey_stride + x] = (uint8_t)(seed >> 16);
            for (int c = 0; c < 3; c++)
                rgb[y * rgb_stride + x * 3 + c] = (uint8_t)((seed >> (8 * c)) ^ (x * c));
        }
    GError *error = NULL;
    assert_true(sf_png_save(grey_path, grey, w, h, 1, grey_stride, &error));
    assert_true(sf_png_save(rgb_path, rgb, w, h, 3, rgb_stride, &error));
    g_autofree char *names = test_dir_entries(dir);
    assert_int_equal(strlen(names), strlen("grey.png|rgb.png"));

    int width = 0, height = 0;
    g_autofree uint8_t *grey_back = load(grey_path, 1, &width, &height);
    assert_int_equal(width, w);
    assert_int_equal(height, h);
    for (int y = 0; y < h; y++)
        assert_memory_equal(grey_back + y * w, grey + y * grey_stride, w);
    g_autofree uint8_t *rgb_back = load(rgb_path, 3, &width, &height);
    for (int y = 0; y < h; y++)
        assert_memory_equal(rgb_back + y * w * 3, rgb + y * rgb_stride, w * 3);

    /* Grey read as RGB repeats the value; RGB with R = G = B read as grey is
     * exact too (the weights sum to one). */
    g_autofree uint8_t *grey_as_rgb = load(grey_path, 3, &width, &height);
    for (int i = 0; i < w * h; i++) {
        assert_int_equal(grey_as_rgb[i * 3], grey_back[i]);
        assert_int_equal(grey_as_rgb[i * 3 + 1], grey_back[i]);
        assert_int_equal(grey_as_rgb[i * 3 + 2], grey_back[i]);
    }
    assert_true(sf_png_save(rgb_path, grey_as_rgb, w, h, 3, (size_t)w * 3, &error));
    g_autofree uint8_t *grey_again = load(rgb_path, 1, &width, &height);
    assert_memory_equal(grey_again, grey_back, (size_t)w * h);
    test_remove_tree(dir);
}

/* A binary mask compresses to a small fraction of its raw size. */
static void test_mask_compresses(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "mask.png", NULL);
    const int w = 512, h = 400;
    g_autofree uint8_t *mask = g_malloc0((size_t)w * h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            mask[y * w + x] = (x - 200) * (x - 200) + (y - 180) * (y - 180) < 120 * 120 ? 255 : 0;
    GError *error = NULL;
    assert_true(sf_png_save(path, mask, w, h, 1, w, &error));
    GStatBuf st;
    assert_int_equal(g_stat(path, &st), 0);
    print_message("512x400 disc mask: %ld bytes\n", (long)st.st_size);
    assert_true(st.st_size < 4000);
    test_remove_tree(dir);
}

/* 16-bit RGBA, grey + alpha, palette with transparency, 2-bit grey, and
 * interlacing all come back as 8-bit grey or RGB, alpha dropped. */
static void test_other_formats(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "in.png", NULL);
    const int w = 5, h = 3;
    int width = 0, height = 0;

    /* 16-bit RGBA: v * 257 scales back to v exactly. */
    uint8_t rgba16[3][5 * 8];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const int v[4] = {x * 50, y * 100, 255 - x * 10, x == 0 ? 0 : 128};
            for (int c = 0; c < 4; c++) {
                rgba16[y][x * 8 + c * 2] = (uint8_t)v[c]; /* big-endian: v*257 */
                rgba16[y][x * 8 + c * 2 + 1] = (uint8_t)v[c];
            }
        }
    write_raw_png(path, w, h, PNG_COLOR_TYPE_RGBA, 16, &rgba16[0][0], w * 8, NULL, 0, NULL, 0,
                  FALSE);
    g_autofree uint8_t *rgb = load(path, 3, &width, &height);
    assert_int_equal(width, w);
    assert_int_equal(height, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = rgb + (y * w + x) * 3;
            assert_int_equal(p[0], x * 50);
            assert_int_equal(p[1], y * 100);
            assert_int_equal(p[2], 255 - x * 10);
        }

    /* Grey + alpha, interlaced. */
    uint8_t ga[3][5 * 2];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            ga[y][x * 2] = (uint8_t)(x * 40 + y * 7);
            ga[y][x * 2 + 1] = (uint8_t)(x * 60);
        }
    write_raw_png(path, w, h, PNG_COLOR_TYPE_GRAY_ALPHA, 8, &ga[0][0], w * 2, NULL, 0, NULL, 0,
                  TRUE);
    g_autofree uint8_t *grey = load(path, 1, &width, &height);
    g_autofree uint8_t *grey_rgb = load(path, 3, &width, &height);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            assert_int_equal(grey[y * w + x], x * 40 + y * 7);
            for (int c = 0; c < 3; c++)
                assert_int_equal(grey_rgb[(y * w + x) * 3 + c], x * 40 + y * 7);
        }

    /* Palette with a transparent entry. */
    const png_color palette[3] = {{255, 0, 0}, {10, 20, 30}, {200, 200, 200}};
    const png_byte trans[1] = {0};
    uint8_t indexed[3][5] = {{0, 1, 2, 0, 1}, {2, 2, 2, 1, 0}, {1, 0, 1, 0, 2}};
    write_raw_png(path, w, h, PNG_COLOR_TYPE_PALETTE, 8, &indexed[0][0], w, palette, 3, trans, 1,
                  FALSE);
    g_autofree uint8_t *from_palette = load(path, 3, &width, &height);
    for (int i = 0; i < w * h; i++) {
        const png_color *want = &palette[(&indexed[0][0])[i]];
        assert_int_equal(from_palette[i * 3], want->red);
        assert_int_equal(from_palette[i * 3 + 1], want->green);
        assert_int_equal(from_palette[i * 3 + 2], want->blue);
    }

    /* 2-bit grey: 0..3 stretch to 0, 85, 170, 255. */
    uint8_t two_bit[3][2];
    for (int y = 0; y < h; y++) {
        /* pixels x = 0..4 take values (x + y) % 4, packed MSB first */
        uint16_t packed = 0;
        for (int x = 0; x < w; x++)
            packed |= (uint16_t)(((x + y) % 4) << (14 - 2 * x));
        two_bit[y][0] = (uint8_t)(packed >> 8);
        two_bit[y][1] = (uint8_t)packed;
    }
    write_raw_png(path, w, h, PNG_COLOR_TYPE_GRAY, 2, &two_bit[0][0], 2, NULL, 0, NULL, 0, FALSE);
    g_autofree uint8_t *stretched = load(path, 1, &width, &height);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            assert_int_equal(stretched[y * w + x], ((x + y) % 4) * 85);
    test_remove_tree(dir);
}

/* Real files: a 1-bit mask and an RGBA thumbnail (figures from OpenCV's
 * imread of the same files). */
static void test_fixtures(void **state)
{
    (void)state;
    g_autofree char *mask_path = test_fixture("pen_green_mask.png");
    int width = 0, height = 0;
    g_autofree uint8_t *mask = load(mask_path, 1, &width, &height);
    assert_int_equal(width, 1000);
    assert_int_equal(height, 853);
    size_t on = 0;
    for (size_t i = 0; i < (size_t)width * height; i++) {
        assert_true(mask[i] == 0 || mask[i] == 255);
        on += mask[i] == 255;
    }
    assert_int_equal(on, 18535);

    g_autofree char *rgba_path = test_fixture("wsi-blue-pen.png");
    g_autofree uint8_t *rgb = load(rgba_path, 3, &width, &height);
    assert_int_equal(width, 174);
    assert_int_equal(height, 133);
    uint64_t sums[3] = {0, 0, 0};
    for (size_t i = 0; i < (size_t)width * height; i++)
        for (int c = 0; c < 3; c++)
            sums[c] += rgb[i * 3 + c];
    assert_int_equal(sums[0], 5413477);
    assert_int_equal(sums[1], 5027386);
    assert_int_equal(sums[2], 5352131);
}

static void test_corrupt_input(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *good = g_build_filename(dir, "good.png", NULL);
    g_autofree char *bad = g_build_filename(dir, "bad.png", NULL);
    const int w = 64, h = 64;
    g_autofree uint8_t *pixels = g_malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++)
        pixels[i] = (uint8_t)(i * 7 + i / 191);
    GError *error = NULL;
    assert_true(sf_png_save(good, pixels, w, h, 3, (size_t)w * 3, &error));
    char *raw = NULL;
    gsize length = 0;
    assert_true(g_file_get_contents(good, &raw, &length, NULL));
    g_autofree char *bytes = raw;
    int width = 0, height = 0;

    /* Truncated inside the image data. */
    assert_true(g_file_set_contents(bad, bytes, (gssize)(length * 2 / 3), NULL));
    assert_null(sf_png_load(bad, 3, &width, &height, &error));
    test_assert_error(error, SF_EXIT_BAD_INPUT, bad);
    g_clear_error(&error);

    /* Signature only. */
    assert_true(g_file_set_contents(bad, bytes, 8, NULL));
    assert_null(sf_png_load(bad, 3, &width, &height, &error));
    test_assert_error(error, SF_EXIT_BAD_INPUT, bad);
    g_clear_error(&error);

    /* A flipped byte in the middle: IDAT's CRC (a critical chunk) fails. */
    bytes[length / 2] ^= 0x10;
    assert_true(g_file_set_contents(bad, bytes, (gssize)length, NULL));
    assert_null(sf_png_load(bad, 3, &width, &height, &error));
    test_assert_error(error, SF_EXIT_BAD_INPUT, bad);
    g_clear_error(&error);

    /* Not a PNG at all. */
    assert_true(g_file_set_contents(bad, "\xff\xd8\xff\xe0 a jpeg, not a png", -1, NULL));
    assert_null(sf_png_load(bad, 1, &width, &height, &error));
    test_assert_error(error, SF_EXIT_BAD_INPUT, "not a PNG");
    g_clear_error(&error);

    /* Empty file. */
    assert_true(g_file_set_contents(bad, "", 0, NULL));
    assert_null(sf_png_load(bad, 1, &width, &height, &error));
    test_assert_error(error, SF_EXIT_BAD_INPUT, bad);
    g_clear_error(&error);

    g_autofree char *missing = g_build_filename(dir, "missing.png", NULL);
    assert_null(sf_png_load(missing, 1, &width, &height, &error));
    test_assert_error(error, SF_EXIT_MISSING, missing);
    g_clear_error(&error);
    test_remove_tree(dir);
}

static void test_unwritable_directory(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "missing", "out.png", NULL);
    uint8_t pixels[4 * 4] = {0};
    GError *error = NULL;
    assert_false(sf_png_save(path, pixels, 4, 4, 1, 4, &error));
    test_assert_error(error, SF_EXIT_OUTPUT, path);
    g_clear_error(&error);
    test_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_exact), cmocka_unit_test(test_mask_compresses),
        cmocka_unit_test(test_other_formats),    cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_corrupt_input),    cmocka_unit_test(test_unwritable_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
