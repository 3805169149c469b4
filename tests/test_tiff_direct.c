/*
 * The direct TIFF tile reader against OpenSlide: the same bytes wherever
 * OpenSlide reads a level exactly, on the CMU-1 fixture and on pyramids
 * written here by vips (generic YCbCr and RGB JPEG, and an Aperio one), and
 * the same scaled reads with and without it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <openslide.h> /* the oracle the direct reader is checked against */
#include <tiffio.h>

#include "slide/backend_openslide.h"
#include "slide/slide_internal.h"
#include "slide/tiff_direct.h"
#include "slidefrag/error.h"
#include "slidefrag/run.h"
#include "slidefrag/slide.h"

typedef struct {
    char *dir;
    char *generic_ycbcr; /* 128x128 tiles, YCbCr JPEG */
    char *generic_rgb;   /* 256x128 tiles, RGB JPEG */
    char *aperio;        /* 240x240 tiles, an Aperio ImageDescription */
} fixtures;

static void run_tool(const char *const *argv)
{
    int status = 0;
    g_autofree char *err = NULL;
    GError *error = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                      NULL, NULL, NULL, &err, &status, &error))
        fail_msg("cannot run %s: %s", argv[0], error->message);
    if (!g_spawn_check_wait_status(status, NULL))
        fail_msg("%s failed: %s", argv[0], err);
}

/* CMU-1's region (flattened once into `base`, a vips file) as a tiled JPEG
 * pyramid: 2220x2967, levels down to one tile, with downsamples such as
 * 2.000337 (odd sizes round down). */
static char *make_pyramid(const char *dir, const char *base, const char *name, const char *options)
{
    char *path = g_build_filename(dir, name, NULL);
    g_autofree char *target =
        g_strdup_printf("%s[tile,pyramid,compression=jpeg,%s]", path, options);
    const char *argv[] = {"vips", "copy", base, target, NULL};
    run_tool(argv);
    return path;
}

static int setup(void **state)
{
    fixtures *f = g_new0(fixtures, 1);
    f->dir = test_make_tmpdir();
    g_autofree char *cmu = test_fixture("cmu-1-small-region.svs");
    g_autofree char *base = g_build_filename(f->dir, "base.v", NULL);
    const char *flatten[] = {"vips", "flatten", cmu, base, "--background", "255", NULL};
    run_tool(flatten);
    f->generic_ycbcr =
        make_pyramid(f->dir, base, "ycbcr.tif", "Q=80,tile-width=128,tile-height=128");
    f->generic_rgb =
        make_pyramid(f->dir, base, "rgb.tif", "Q=90,tile-width=256,tile-height=128,rgbjpeg");
    f->aperio = make_pyramid(f->dir, base, "aperio.tif", "Q=85,tile-width=240,tile-height=240");
    /* OpenSlide takes a TIFF whose first description starts so as Aperio. */
    const char *description = "Aperio Image Library v11.2.1 \r\n2220x2967 [0,0 2220x2967] "
                              "(240x240) JPEG/RGB Q=85|AppMag = 20|MPP = 0.499";
    const char *argv[] = {"tiffset", "-d", "0", "-s", "270", description, f->aperio, NULL};
    run_tool(argv);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixtures *f = *state;
    test_remove_tree(f->dir);
    g_free(f->generic_ycbcr);
    g_free(f->generic_rgb);
    g_free(f->aperio);
    g_free(f->dir);
    g_free(f);
    return 0;
}

/* OpenSlide's raw read of level pixels from (lx, ly); only exact where the
 * level-0 origin divided by the downsample is an integer (cairo's 1/256
 * fixed point), which callers ensure. */
static uint32_t *openslide_pixels(sf_slide *slide, int level, int64_t lx, int64_t ly, int64_t w,
                                  int64_t h)
{
    double ds = sf_slide_level(slide, level)->downsample;
    openslide_t *osr = sf_slide_openslide_handle(slide);
    uint32_t *pixels = g_new(uint32_t, (size_t)w * h);
    openslide_read_region(osr, pixels, llround(lx * ds), llround(ly * ds), level, w, h);
    assert_null(openslide_get_error(osr));
    return pixels;
}

static uint32_t *direct_pixels(sf_slide *slide, int level, int64_t lx, int64_t ly, int64_t w,
                               int64_t h)
{
    sf_tiff_direct *td = sf_slide_direct(slide);
    assert_non_null(td);
    uint32_t *pixels = g_new(uint32_t, (size_t)w * h);
    memset(pixels, 0x5a, (size_t)w * h * 4); /* no stale zeros to hide a gap */
    GError *error = NULL;
    if (!sf_tiff_read_level(td, level, lx, ly, w, h, pixels, &error))
        fail_msg("%s", error->message);
    return pixels;
}

static void assert_same_pixels(const uint32_t *want, const uint32_t *got, int64_t w, int64_t h,
                               const char *what, int level, int64_t lx, int64_t ly)
{
    for (int64_t i = 0; i < w * h; i++)
        if (want[i] != got[i])
            fail_msg("%s level %d, read at (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                     ") %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT ": pixel (%" G_GINT64_FORMAT
                     ", %" G_GINT64_FORMAT ") is %08x, OpenSlide %08x",
                     what, level, lx, ly, w, h, lx + i % w, ly + i / w, got[i], want[i]);
}

/*
 * Compares direct reads of many rectangles of `level` with OpenSlide. One
 * OpenSlide read from the level's origin (exact at any downsample) gives a
 * reference window: the whole level and a margin past its right and bottom
 * edges when small, else its top-left corner. Rectangles fall anywhere in
 * the window, and up to 40 pixels before the level's origin, where OpenSlide
 * gives transparent pixels.
 */
static void compare_level(sf_slide *slide, const char *what, int level, GRand *rand, int n_rects)
{
    const sf_level *lv = sf_slide_level(slide, level);
    const int64_t margin = 37;
    gboolean whole = lv->width * lv->height <= 2000000;
    int64_t ww = whole ? lv->width + margin : MIN(lv->width, 1100);
    int64_t wh = whole ? lv->height + margin : MIN(lv->height, 900);
    g_autofree uint32_t *window = openslide_pixels(slide, level, 0, 0, ww, wh);
    /* Sanity: the reference has the level's pixels, and nothing past it. */
    assert_int_equal(window[0] >> 24, 255);
    if (whole)
        assert_int_equal(window[ww * wh - 1], 0);

    for (int t = 0; t < n_rects + 4; t++) {
        int64_t lx, ly, w, h;
        if (t == 0) { /* the whole window, past the origin */
            lx = -3, ly = -5, w = ww + 3, h = wh + 5;
        } else if (t == 1 && whole) { /* the last pixel and beyond */
            lx = lv->width - 1, ly = lv->height - 1, w = margin, h = margin;
        } else if (t == 2) { /* entirely before the origin */
            lx = -40, ly = 3, w = 30, h = 20;
        } else if (t == 3 && whole) { /* entirely past the right edge */
            lx = lv->width + 1, ly = 0, w = margin - 1, h = MIN(wh, 50);
        } else {
            lx = g_rand_int_range(rand, -40, (gint32)ww);
            ly = g_rand_int_range(rand, -40, (gint32)wh);
            w = g_rand_int_range(rand, 1, (gint32)MIN(ww - lx, 400) + 1);
            h = g_rand_int_range(rand, 1, (gint32)MIN(wh - ly, 400) + 1);
        }
        g_autofree uint32_t *want = g_new(uint32_t, (size_t)w * h);
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) {
                int64_t X = lx + x, Y = ly + y;
                want[y * w + x] = X < 0 || Y < 0 ? 0 : window[Y * ww + X];
            }
        g_autofree uint32_t *got = direct_pixels(slide, level, lx, ly, w, h);
        assert_same_pixels(want, got, w, h, what, level, lx, ly);
    }
}

/* Level 0 is exact anywhere: rectangles across the right and bottom edges
 * and the corner, straight against OpenSlide. */
static void compare_level0_edges(sf_slide *slide, const char *what, GRand *rand)
{
    const sf_level *lv = sf_slide_level(slide, 0);
    for (int t = 0; t < 12; t++) {
        int64_t w = g_rand_int_range(rand, 1, 300), h = g_rand_int_range(rand, 1, 300);
        int64_t lx = t % 3 == 1 ? g_rand_int_range(rand, 0, (gint32)(lv->width - w))
                                : lv->width - g_rand_int_range(rand, 1, (gint32)w + 1);
        int64_t ly = t % 3 == 2 ? g_rand_int_range(rand, 0, (gint32)(lv->height - h))
                                : lv->height - g_rand_int_range(rand, 1, (gint32)h + 1);
        if (t == 11) /* and before the origin, to the left and above */
            lx = -g_rand_int_range(rand, 1, (gint32)w), ly = -g_rand_int_range(rand, 1, (gint32)h);
        g_autofree uint32_t *want = openslide_pixels(slide, 0, lx, ly, w, h);
        g_autofree uint32_t *got = direct_pixels(slide, 0, lx, ly, w, h);
        assert_same_pixels(want, got, w, h, what, 0, lx, ly);
    }
}

static void compare_slide(const char *path, const char *vendor, int min_levels, guint32 seed)
{
    g_autoptr(sf_slide) slide = test_open_slide(path);
    assert_string_equal(sf_slide_vendor(slide), vendor);
    if (!sf_slide_direct(slide))
        fail_msg("%s: no direct reads: %s", path, sf_slide_direct_unavailable(slide));
    assert_null(sf_slide_direct_unavailable(slide));
    assert_true(sf_slide_level_count(slide) >= min_levels);
    g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
    for (int level = 0; level < sf_slide_level_count(slide); level++)
        compare_level(slide, path, level, rand, level == 0 ? 40 : 25);
    compare_level0_edges(slide, path, rand);
}

static void test_cmu_same_as_openslide(void **state)
{
    (void)state;
    g_autofree char *path = test_fixture("cmu-1-small-region.svs");
    compare_slide(path, "aperio", 1, 1);
}

static void test_generic_ycbcr_same_as_openslide(void **state)
{
    fixtures *f = *state;
    compare_slide(f->generic_ycbcr, "generic-tiff", 5, 2);
}

static void test_generic_rgb_same_as_openslide(void **state)
{
    fixtures *f = *state;
    compare_slide(f->generic_rgb, "generic-tiff", 4, 3);
}

static void test_aperio_same_as_openslide(void **state)
{
    fixtures *f = *state;
    compare_slide(f->aperio, "aperio", 4, 4);
}

/* Slides whose tiles OpenSlide does not decode with plain JPEG keep it. */
static void test_other_slides_keep_openslide(void **state)
{
    (void)state;
    static const struct {
        const char *file, *why;
    } cases[] = {
        {"boxes.tiff", "not JPEG-compressed"},         /* Deflate */
        {"yb10kx5k.zstd.tiff", "not JPEG-compressed"}, /* ZSTD */
        {"test_orient2.tif", "not 8-bit 3-sample"},    /* greyscale */
        {"small_la.tiff", "not 8-bit 3-sample"},       /* grey + alpha */
        {"test3-DAPI-2-387.ndpi", "vendor hamamatsu"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(sf_slide) slide = test_open_fixture_slide(cases[i].file);
        assert_null(sf_slide_direct(slide));
        const char *why = sf_slide_direct_unavailable(slide);
        if (!why || !strstr(why, cases[i].why))
            fail_msg("%s: reason '%s', want '%s'", cases[i].file, why, cases[i].why);
    }
    /* And probing does not change what OpenSlide reads. */
    g_autoptr(sf_slide) boxes = test_open_fixture_slide("boxes.tiff");
    g_autofree uint8_t *rgb = sf_slide_read_scaled_buffer(boxes, 0, 0, 0, 300, 250, 30, 25, NULL);
    assert_non_null(rgb);
}

/* Probing the reader alone: level sizes that match no directory, or that
 * the file does not have, turn it down. */
static void test_probe_needs_every_level(void **state)
{
    (void)state;
    g_autofree char *path = test_fixture("cmu-1-small-region.svs");
    sf_level levels[2] = {{2220, 2967, 1}, {1110, 1483, 2}};
    g_autofree char *why = NULL;
    sf_tiff_direct *td = sf_tiff_direct_open(path, levels, 2, &why);
    assert_null(td);
    assert_non_null(strstr(why, "level 1: 0 tiled directories"));
    g_autoptr(sf_tiff_direct) one = sf_tiff_direct_open(path, levels, 1, NULL);
    assert_non_null(one);

    g_autofree char *png = test_fixture("pen_green.png");
    g_autofree char *why_png = NULL;
    assert_null(sf_tiff_direct_open(png, levels, 1, &why_png));
    assert_non_null(why_png);
}

typedef struct {
    uint8_t *rgb;
    int w, h;
} scaled;

static gboolean copy_rows(const uint8_t *rows, int first_row, int n_rows, void *user_data,
                          GError **error)
{
    (void)error;
    scaled *s = user_data;
    memcpy(s->rgb + (size_t)first_row * s->w * 3, rows, (size_t)n_rows * s->w * 3);
    return TRUE;
}

/*
 * sf_slide_read_scaled() with direct reads on and off (and with one read
 * thread), the decoder's own reduction off: the same bytes, wherever
 * OpenSlide's reads are exact. With the reduction on (OpenSlide has none),
 * one thread, two and three give the same bytes too.
 */
static void compare_scaled(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w, int64_t h,
                           int out_w, int out_h, size_t budget)
{
    enum { N = 6 };
    static const char *const what[N] = {"",
                                        "OpenSlide's read",
                                        "a one-thread read",
                                        "",
                                        "a one-thread read, the decoder reducing",
                                        "a three-thread read, the decoder reducing"};
    static const int threads[N] = {2, 2, 1, 2, 1, 3};
    scaled runs[N];
    for (int r = 0; r < N; r++) {
        sf_slide_set_direct_reads(slide, r != 1);
        sf_slide_set_decoder_scaling(slide, r >= 3);
        sf_slide_set_read_threads(slide, threads[r]);
        assert_true((r != 1) == (sf_slide_direct(slide) != NULL));
        runs[r] = (scaled){g_malloc((size_t)out_w * out_h * 3), out_w, out_h};
        GError *error = NULL;
        if (!sf_slide_read_scaled_budget(slide, level, x, y, w, h, out_w, out_h, budget, copy_rows,
                                         &runs[r], &error))
            fail_msg("%s", error->message);
    }
    size_t n = (size_t)out_w * out_h * 3;
    for (int r = 1; r < N; r++)
        if (r != 3 && memcmp(runs[r < 3 ? 0 : 3].rgb, runs[r].rgb, n))
            fail_msg("%s level %d (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                     ") -> %dx%d: %s differs",
                     sf_slide_path(slide), level, x, y, out_w, out_h, what[r]);
    for (int r = 0; r < N; r++)
        g_free(runs[r].rgb);
    sf_slide_set_direct_reads(slide, TRUE);
    sf_slide_set_decoder_scaling(slide, TRUE);
    sf_slide_set_read_threads(slide, 2);
}

static void compare_scaled_slide(const char *path)
{
    g_autoptr(sf_slide) slide = test_open_slide(path);
    int64_t W = sf_slide_width(slide), H = sf_slide_height(slide);
    /* Level 0, anywhere: copies, reductions, across the edges. */
    compare_scaled(slide, 0, 0, 0, 800, 1000, 201, 251, SF_STRIP_BYTES_DEFAULT);
    compare_scaled(slide, 0, 300, 401, 600, 400, 600, 400, SF_STRIP_BYTES_DEFAULT);
    compare_scaled(slide, 0, 1901, 2703, 400, 300, 103, 77, SF_STRIP_BYTES_DEFAULT);
    compare_scaled(slide, 0, -50, -30, 700, 500, 350, 250, SF_STRIP_BYTES_DEFAULT);
    /* Small strips and column chunks. */
    compare_scaled(slide, 0, 123, 456, 500, 300, 131, 77, 4096);
    compare_scaled(slide, 0, 1000, 1000, 640, 480, 640, 480, 1 << 16);
    /* Other levels, where one strip holds the whole read from the level's
     * origin, the only place OpenSlide reads them exactly. */
    for (int level = 1; level < sf_slide_level_count(slide); level++) {
        const sf_level *lv = sf_slide_level(slide, level);
        if ((size_t)(lv->width * lv->height) * 4 > SF_STRIP_BYTES_DEFAULT / 4)
            continue;
        /* A copy or a reduction, in turn. */
        if (level % 2)
            compare_scaled(slide, level, 0, 0, W, H, 97, 131, SF_STRIP_BYTES_DEFAULT);
        else
            compare_scaled(slide, level, 0, 0, W, H, (int)lv->width, (int)lv->height,
                           SF_STRIP_BYTES_DEFAULT);
    }
}

static void test_scaled_reads_unchanged(void **state)
{
    fixtures *f = *state;
    g_autofree char *cmu = test_fixture("cmu-1-small-region.svs");
    compare_scaled_slide(cmu);
    compare_scaled_slide(f->generic_ycbcr);
    compare_scaled_slide(f->generic_rgb);
    compare_scaled_slide(f->aperio);
}

/* Peak signal-to-noise ratio of b against a, in dB; infinite when equal. */
static double psnr(const uint8_t *a, const uint8_t *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++)
        se += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return se == 0 ? INFINITY : 10 * log10(255.0 * 255.0 * (double)n / se);
}

static uint8_t *read_buffer(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w, int64_t h,
                            int out_w, int out_h)
{
    GError *error = NULL;
    uint8_t *rgb = sf_slide_read_scaled_buffer(slide, level, x, y, w, h, out_w, out_h, &error);
    if (!rgb)
        fail_msg("%s", error->message);
    return rgb;
}

/*
 * The decoder's reduction (DCT scaling) against a full decode and an exact
 * area average, on real H&E tissue (CMU-1's middle) stored three ways: as
 * the scanner wrote it (RGB JPEG), and re-encoded by vips as YCbCr 4:2:0 at
 * quality 80 and 85 in 128- and 240-px tiles. At least 40 dB everywhere;
 * the reduction is used where the rule says (whole reduced pixels, or four
 * or more of them an output pixel) and nowhere else.
 */
static void test_decoder_scaling_close_to_full_decode(void **state)
{
    fixtures *f = *state;
    g_autofree char *cmu = test_fixture("cmu-1-small-region.svs");
    const char *slides[] = {cmu, f->generic_ycbcr, f->aperio};
    static const struct {
        int64_t x, y;
        double scale;
        gboolean reduces;
    } cases[] = {
        {300, 300, 2, TRUE},    /* copies of reduced pixels */
        {300, 300, 4, TRUE},    /* from a reduced pixel's edge */
        {301, 299, 2, FALSE},   /* half a reduced pixel off: not reduced */
        {301, 299, 4, FALSE},   /* a reduced pixel would blur up to 1 px */
        {301, 299, 3, FALSE},   /* 1.5 reduced pixels an output pixel */
        {301, 299, 8, TRUE},    /* 1/2, then 4 reduced pixels each */
        {300, 300, 8.2, TRUE},  /* 1/2, 4.1 each */
        {301, 299, 12.4, TRUE}, /* 1/2, 6.2 each */
        {300, 300, 16.4, TRUE}, /* 1/4, 4.1 each */
        {301, 299, 32, TRUE},   /* 1/8, 4 each */
        {301, 299, 50, TRUE},   /* 1/8, 6.25 each */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(slides); i++) {
        g_autoptr(sf_slide) slide = test_open_slide(slides[i]);
        for (size_t t = 0; t < G_N_ELEMENTS(cases); t++) {
            const int64_t w = 1600, h = 2300;
            int out_w = (int)lround(w / cases[t].scale), out_h = (int)lround(h / cases[t].scale);
            sf_slide_set_decoder_scaling(slide, FALSE);
            g_autofree uint8_t *full =
                read_buffer(slide, 0, cases[t].x, cases[t].y, w, h, out_w, out_h);
            sf_slide_set_decoder_scaling(slide, TRUE);
            g_autofree uint8_t *reduced =
                read_buffer(slide, 0, cases[t].x, cases[t].y, w, h, out_w, out_h);
            size_t n = (size_t)out_w * out_h * 3;
            double db = psnr(full, reduced, n);
            if (db < 40)
                fail_msg("%s at scale %g from (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                         "): %.2f dB",
                         slides[i], cases[t].scale, cases[t].x, cases[t].y, db);
            /* Real tissue never decodes to the same bytes both ways. */
            if (cases[t].reduces != (memcmp(full, reduced, n) != 0))
                fail_msg("%s at scale %g: the decoder %s", slides[i], cases[t].scale,
                         cases[t].reduces ? "did not reduce" : "reduced");
        }
    }
}

/*
 * What detection sees is deterministic: the overview (the decoder reducing
 * by 2, then 5.8 level pixels an output pixel) is the same bytes whatever
 * the threads and the strips, on a slide opened again. Determinism here
 * means: the bytes depend on the file, the level and the output size only.
 * Different builds of libjpeg-turbo could in principle differ; its scaled
 * inverse DCTs are integer arithmetic, the same with and without SIMD.
 */
static void test_reduced_overview_deterministic(void **state)
{
    (void)state;
    g_autofree char *cmu = test_fixture("cmu-1-small-region.svs");
    /* 11.6 and 23.2 level pixels an output pixel: the decoder halves, then
     * quarters. */
    static const double sizes[] = {256, 128};
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_autoptr(sf_slide) first = test_open_slide(cmu);
        const sf_target target = {SF_TARGET_MAX_SIZE, sizes[i]};
        int out_w, out_h, level;
        assert_true(sf_overview_geometry(first, &target, &out_w, &out_h, &level, NULL));
        assert_int_equal(level, 0);
        int64_t W = sf_slide_width(first), H = sf_slide_height(first);
        g_autofree uint8_t *want = read_buffer(first, level, 0, 0, W, H, out_w, out_h);
        size_t n = (size_t)out_w * out_h * 3;
        sf_slide_set_decoder_scaling(first, FALSE);
        g_autofree uint8_t *full = read_buffer(first, level, 0, 0, W, H, out_w, out_h);
        assert_true(memcmp(want, full, n) != 0); /* it did reduce */
        assert_true(psnr(full, want, n) >= 40);
        static const size_t budgets[] = {SF_STRIP_BYTES_DEFAULT, 1 << 16, 4096};
        for (int threads = 1; threads <= 4; threads++)
            for (size_t b = 0; b < G_N_ELEMENTS(budgets); b++) {
                g_autoptr(sf_slide) again = test_open_slide(cmu);
                sf_slide_set_read_threads(again, threads);
                scaled got = {g_malloc(n), out_w, out_h};
                assert_true(sf_slide_read_scaled_budget(again, level, 0, 0, W, H, out_w, out_h,
                                                        budgets[b], copy_rows, &got, NULL));
                if (memcmp(want, got.rgb, n))
                    fail_msg("%g px: %d threads, %zu-byte strips: another overview", sizes[i],
                             threads, budgets[b]);
                g_free(got.rgb);
            }
    }
}

/* Reads in whole tile rows decode every tile straight into the rows they
 * return; only tiles that a read's left or right edge cuts (or the level's:
 * its last column of tiles is 60 px of 240) go through a buffer. Counted,
 * on the 240-px tiles of the Aperio pyramid. */
static void test_whole_tile_rows_copy_nothing(void **state)
{
    fixtures *f = *state;
    g_autoptr(sf_slide) slide = test_open_slide(f->aperio);
    sf_tiff_direct *td = sf_slide_direct(slide);
    static const struct {
        int64_t x, y, w, h;
        int shift;
        uint64_t tiles, cut;
    } cases[] = {
        {240, 480, 960, 720, 0, 12, 0}, /* 4 x 3 whole tiles */
        {250, 480, 950, 720, 0, 12, 3}, /* the left column cut */
        {240, 480, 960, 720, 1, 12, 0}, /* halved by the decoder, a copy */
        {0, 0, 2220, 2967, 0, 130, 13}, /* the whole level, edges included */
    };
    for (size_t t = 0; t < G_N_ELEMENTS(cases); t++) {
        uint64_t decoded0, buffered0, decoded1, buffered1;
        sf_tiff_direct_counts(td, &decoded0, &buffered0);
        int d = 1 << cases[t].shift;
        g_autofree uint8_t *rgb =
            read_buffer(slide, 0, cases[t].x, cases[t].y, cases[t].w, cases[t].h,
                        (int)(cases[t].w / d), (int)(cases[t].h / d));
        sf_tiff_direct_counts(td, &decoded1, &buffered1);
        assert_int_equal(decoded1 - decoded0, cases[t].tiles);
        assert_int_equal(buffered1 - buffered0, cases[t].cut);
    }
}

typedef struct {
    sf_slide *slide;
    gboolean waited;
} helped_sink_state;

/* A sink that, on its first rows, waits until some chunk of the read was
 * decoded by another thread: counting, with a generous deadline only
 * against a hang. */
static gboolean wait_for_help(const uint8_t *rows, int first_row, int n_rows, void *user_data,
                              GError **error)
{
    (void)rows;
    (void)first_row;
    (void)n_rows;
    (void)error;
    helped_sink_state *st = user_data;
    for (int i = 0; !st->waited && i < 60000; i++) {
        uint64_t chunks, helped;
        sf_read_crew_counts(sf_slide_crew(st->slide), &chunks, &helped);
        if (helped > 0)
            break;
        g_usleep(1000);
    }
    st->waited = TRUE;
    return TRUE;
}

/* A read with two threads: its caller and one helper both decode. */
static void test_read_threads_share_the_work(void **state)
{
    fixtures *f = *state;
    g_autoptr(sf_slide) slide = test_open_slide(f->aperio);
    sf_slide_set_read_threads(slide, 2);
    helped_sink_state st = {slide, FALSE};
    /* Strips of 240 rows: 13 chunks, read ahead while the sink waits. */
    assert_true(sf_slide_read_scaled_budget(slide, 0, 0, 0, 2220, 2967, 2220, 2967, 4 << 20,
                                            wait_for_help, &st, NULL));
    uint64_t chunks, helped;
    sf_read_crew_counts(sf_slide_crew(slide), &chunks, &helped);
    assert_true(chunks >= 13);
    assert_true(helped >= 1 && helped < chunks);
}

typedef struct {
    sf_slide *slide;
    int reads_left; /* under the helpers' lock: read through done() */
    gboolean ok;
} joiner;

static gboolean no_reads_left(void *data)
{
    return g_atomic_int_get(&((joiner *)data)->reads_left) == 0;
}

static gpointer one_thread_read(gpointer data)
{
    joiner *j = data;
    helped_sink_state st = {j->slide, FALSE};
    j->ok = sf_slide_read_scaled_budget(j->slide, 0, 0, 0, 2220, 2967, 1110, 1483, 4 << 20,
                                        wait_for_help, &st, NULL);
    g_atomic_int_set(&j->reads_left, 0);
    sf_slide_wake_helpers(j->slide);
    return NULL;
}

/* A thread with nothing left to read joins a read in progress: that read's
 * own thread reads alone (one read thread), the other helps it through
 * sf_slide_help_reads() until it is over, and the pixels are unchanged. */
static void test_idle_thread_joins_a_read(void **state)
{
    fixtures *f = *state;
    g_autoptr(sf_slide) slide = test_open_slide(f->aperio);
    sf_slide_set_read_threads(slide, 1);
    g_autofree uint8_t *alone = read_buffer(slide, 0, 0, 0, 2220, 2967, 1110, 1483);
    uint64_t chunks0, helped0;
    sf_read_crew_counts(sf_slide_crew(slide), &chunks0, &helped0);
    assert_int_equal(helped0, 0); /* nobody helps a one-thread read */

    joiner j = {slide, 1, FALSE};
    GThread *reader = g_thread_new("fragment", one_thread_read, &j);
    sf_slide_help_reads(slide, no_reads_left, &j);
    g_thread_join(reader);
    assert_true(j.ok);
    uint64_t chunks, helped;
    sf_read_crew_counts(sf_slide_crew(slide), &chunks, &helped);
    assert_true(helped >= 1);
    g_autofree uint8_t *shared = read_buffer(slide, 0, 0, 0, 2220, 2967, 1110, 1483);
    assert_memory_equal(alone, shared, (size_t)1110 * 1483 * 3);
}

/* Many threads reading one slide at once get what one thread gets. */
typedef struct {
    sf_slide *slide;
    GRand *rand;
    int failures;
} reader;

static gpointer read_many(gpointer data)
{
    reader *r = data;
    for (int t = 0; t < 30; t++) {
        int level = g_rand_int_range(r->rand, 0, sf_slide_level_count(r->slide));
        const sf_level *lv = sf_slide_level(r->slide, level);
        int64_t w = g_rand_int_range(r->rand, 1, 300), h = g_rand_int_range(r->rand, 1, 300);
        int64_t lx = g_rand_int_range(r->rand, -20, (gint32)lv->width);
        int64_t ly = g_rand_int_range(r->rand, -20, (gint32)lv->height);
        g_autofree uint32_t *a = g_new(uint32_t, (size_t)w * h);
        g_autofree uint32_t *b = g_new(uint32_t, (size_t)w * h);
        sf_tiff_direct *td = sf_slide_direct(r->slide);
        if (!sf_tiff_read_level(td, level, lx, ly, w, h, a, NULL) ||
            !sf_tiff_read_level(td, level, lx, ly, w, h, b, NULL) ||
            memcmp(a, b, (size_t)w * h * 4))
            r->failures++;
    }
    return NULL;
}

static void test_threads_share_a_slide(void **state)
{
    fixtures *f = *state;
    g_autoptr(sf_slide) slide = test_open_slide(f->generic_ycbcr);
    reader readers[4];
    GThread *threads[4];
    for (int i = 0; i < 4; i++) {
        readers[i] = (reader){slide, g_rand_new_with_seed(10 + i), 0};
        threads[i] = g_thread_new("reader", read_many, &readers[i]);
    }
    for (int i = 0; i < 4; i++) {
        g_thread_join(threads[i]);
        assert_int_equal(readers[i].failures, 0);
        g_rand_free(readers[i].rand);
    }
    /* And the results are OpenSlide's. */
    g_autoptr(GRand) rand = g_rand_new_with_seed(5);
    compare_level(slide, "after threads", 2, rand, 5);
}

/* Strips that keep the tiles their bottom edge cuts for the strip below,
 * two reads interleaved, give what one read gives. */
static void test_strip_reads(void **state)
{
    fixtures *f = *state;
    g_autoptr(sf_slide) slide = test_open_slide(f->aperio);
    sf_tiff_direct *td = sf_slide_direct(slide);
    static const int64_t rects[2][4] = {{100, 50, 1500, 1000}, {1700, 2100, 520, 867}};
    uint32_t *want[2], *got[2];
    for (int r = 0; r < 2; r++) {
        want[r] = direct_pixels(slide, 0, rects[r][0], rects[r][1], rects[r][2], rects[r][3]);
        got[r] = g_new0(uint32_t, (size_t)rects[r][2] * rects[r][3]);
    }
    const int64_t strip = 97; /* cuts most tiles of 240 rows */
    for (int64_t y = 0; y < 1000; y += strip)
        for (int r = 0; r < 2; r++) {
            const int64_t *q = rects[r];
            if (y >= q[3])
                continue;
            int64_t h = MIN(strip, q[3] - y);
            GError *error = NULL;
            if (!sf_tiff_read_strip(td, 0, q[0], q[1] + y, q[2], h, y + h < q[3],
                                    got[r] + (size_t)y * q[2], &error))
                fail_msg("%s", error->message);
        }
    for (int r = 0; r < 2; r++) {
        assert_same_pixels(want[r], got[r], rects[r][2], rects[r][3], "strips", 0, rects[r][0],
                           rects[r][1]);
        g_free(want[r]);
        g_free(got[r]);
    }
    /* A read that stops where it said more would follow leaves tiles kept:
     * closing the slide frees them. */
    uint32_t pixels[300 * 10];
    assert_true(sf_tiff_read_strip(td, 0, 0, 0, 300, 10, TRUE, pixels, NULL));
}

/* A copy of the Aperio pyramid with one level-0 tile zeroed. */
static char *corrupt_copy(const char *src, const char *dir, uint32_t tile)
{
    char *path = g_build_filename(dir, "corrupt.svs", NULL);
    g_autofree char *data = NULL;
    gsize length = 0;
    assert_true(g_file_get_contents(src, &data, &length, NULL));
    TIFF *tif = TIFFOpen(src, "r");
    assert_non_null(tif);
    uint64_t *offsets = NULL, *counts = NULL;
    assert_true(TIFFGetField(tif, TIFFTAG_TILEOFFSETS, &offsets));
    assert_true(TIFFGetField(tif, TIFFTAG_TILEBYTECOUNTS, &counts));
    assert_true(offsets[tile] + counts[tile] <= length);
    memset(data + offsets[tile], 0, (size_t)counts[tile]);
    TIFFClose(tif);
    assert_true(g_file_set_contents(path, data, (gssize)length, NULL));
    return path;
}

static void assert_read_error(sf_slide *slide, int64_t lx, int64_t ly, const char *cause)
{
    uint32_t pixels[64 * 64];
    GError *error = NULL;
    assert_false(sf_tiff_read_level(sf_slide_direct(slide), 0, lx, ly, 64, 64, pixels, &error));
    assert_true(g_error_matches(error, SF_ERROR, SF_EXIT_SLIDE_READ));
    if (!strstr(error->message, sf_slide_path(slide)) || !strstr(error->message, cause))
        fail_msg("message '%s' lacks the path or '%s'", error->message, cause);
    g_error_free(error);
}

static void test_corrupt_tile(void **state)
{
    fixtures *f = *state;
    /* Tile 1 of row 1: level-0 pixels [240, 480) x [240, 480). */
    g_autofree char *path = corrupt_copy(f->aperio, f->dir, 1 * 10 + 1);
    g_autoptr(sf_slide) slide = test_open_slide(path);
    assert_non_null(sf_slide_direct(slide));
    for (int again = 0; again < 2; again++)
        assert_read_error(slide, 300, 300, "JPEG");
    /* Other tiles still read, and match the intact file. */
    g_autoptr(sf_slide) intact = test_open_slide(f->aperio);
    g_autofree uint32_t *want = direct_pixels(intact, 0, 500, 0, 100, 100);
    g_autofree uint32_t *got = direct_pixels(slide, 0, 500, 0, 100, 100);
    assert_memory_equal(want, got, 100 * 100 * 4);
    /* Through a scaled read, the error names the file. */
    GError *error = NULL;
    assert_null(sf_slide_read_scaled_buffer(slide, 0, 0, 0, 1000, 1000, 100, 100, &error));
    assert_true(g_error_matches(error, SF_ERROR, SF_EXIT_SLIDE_READ));
    assert_non_null(strstr(error->message, path));
    g_error_free(error);
    g_unlink(path);

    /* The OpenSlide fixture whose tile data is corrupt: libjpeg's words. */
    g_autoptr(sf_slide) unreadable = test_open_fixture_slide("unreadable.svs");
    assert_non_null(sf_slide_direct(unreadable));
    assert_read_error(unreadable, 0, 0, "Bogus marker length");
}

static void test_read_threads_setting(void **state)
{
    (void)state;
    g_autoptr(sf_slide) slide = test_open_fixture_slide("cmu-1-small-region.svs");
    assert_int_equal(sf_slide_read_threads(slide), (int)g_get_num_processors());
    sf_slide_set_read_threads(slide, 1);
    assert_int_equal(sf_slide_read_threads(slide), 1);
    sf_slide_set_read_threads(slide, 0);
    assert_int_equal(sf_slide_read_threads(slide), 1);
    sf_slide_set_read_threads(slide, 8);
    assert_int_equal(sf_slide_read_threads(slide), 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmu_same_as_openslide),
        cmocka_unit_test(test_generic_ycbcr_same_as_openslide),
        cmocka_unit_test(test_generic_rgb_same_as_openslide),
        cmocka_unit_test(test_aperio_same_as_openslide),
        cmocka_unit_test(test_other_slides_keep_openslide),
        cmocka_unit_test(test_probe_needs_every_level),
        cmocka_unit_test(test_scaled_reads_unchanged),
        cmocka_unit_test(test_threads_share_a_slide),
        cmocka_unit_test(test_strip_reads),
        cmocka_unit_test(test_corrupt_tile),
        cmocka_unit_test(test_read_threads_setting),
        cmocka_unit_test(test_decoder_scaling_close_to_full_decode),
        cmocka_unit_test(test_reduced_overview_deterministic),
        cmocka_unit_test(test_whole_tile_rows_copy_nothing),
        cmocka_unit_test(test_read_threads_share_the_work),
        cmocka_unit_test(test_idle_thread_joins_a_read),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
