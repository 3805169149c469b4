/* Scaled reads: checked against OpenSlide read directly and a naive
 * double-precision area average computed here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <math.h>
#include <openslide.h>
#include <stdlib.h>
#include <string.h>

#include "slide/slide_internal.h"
#include "slide/strips.h"
#include "slidefrag/error.h"
#include "slidefrag/slide.h"

/* A level's pixels [lx, lx + w) x [ly, ly + h) in one OpenSlide call on a
 * handle of our own, composited onto white in double precision. */
static uint8_t *direct_read(const char *name, int level, int64_t lx, int64_t ly, int64_t w,
                            int64_t h)
{
    g_autofree char *path = test_fixture(name);
    openslide_t *osr = openslide_open(path);
    assert_non_null(osr);
    double ds = openslide_get_level_downsample(osr, level);
    g_autofree uint32_t *argb = g_new(uint32_t, (size_t)w * h);
    openslide_read_region(osr, argb, llround(lx * ds), llround(ly * ds), level, w, h);
    assert_null(openslide_get_error(osr));
    openslide_close(osr);
    uint8_t *rgb = g_malloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        if (argb[i] >> 24 == 255) {
            for (int c = 0; c < 3; c++)
                rgb[3 * i + c] = (uint8_t)(argb[i] >> (16 - 8 * c));
            continue;
        }
        double a = argb[i] >> 24;
        for (int c = 0; c < 3; c++) {
            double v = (argb[i] >> (16 - 8 * c)) & 255;
            /* Premultiplied, so v <= a, but some TIFF paths leave colour
             * under alpha 0: saturate. */
            rgb[3 * i + c] = (uint8_t)MIN(floor(v + 255.0 * (255 - a) / 255 + 0.5), 255);
        }
    }
    return rgb;
}

/* Level pixels [x0, x0 + w) x [y0, y0 + h) of a level of size lw x lh;
 * outside the level is white. */
typedef struct {
    const uint8_t *rgb;
    int64_t x0, y0, w, h, lw, lh;
} source;

static double overlap(double a, double b, int64_t k)
{
    return MAX(0.0, MIN(b, (double)k + 1) - MAX(a, (double)k));
}

/* The definition, literally: each output pixel is the area-weighted mean of
 * the level pixels under its footprint [lx0, lx1) x [ly0, ly1) / out size. */
static uint8_t *naive_area(const source *s, double lx0, double lx1, double ly0, double ly1,
                           int out_w, int out_h)
{
    /* The source holds every level pixel the footprints touch. */
    assert_true(s->x0 <= MAX(floor(lx0), 0) && s->y0 <= MAX(floor(ly0), 0));
    assert_true(s->x0 + s->w >= MIN(ceil(lx1), s->lw) && s->y0 + s->h >= MIN(ceil(ly1), s->lh));
    uint8_t *out = g_malloc((size_t)out_w * out_h * 3);
    for (int i = 0; i < out_h; i++) {
        double a = ly0 + (ly1 - ly0) * i / out_h, b = ly0 + (ly1 - ly0) * (i + 1) / out_h;
        for (int j = 0; j < out_w; j++) {
            double l = lx0 + (lx1 - lx0) * j / out_w, r = lx0 + (lx1 - lx0) * (j + 1) / out_w;
            double sum[3] = {0, 0, 0};
            for (int64_t y = (int64_t)floor(a); y < (int64_t)ceil(b); y++) {
                double wy = overlap(a, b, y);
                gboolean row_in = y >= 0 && y < s->lh;
                const uint8_t *row = row_in ? s->rgb + (size_t)(y - s->y0) * s->w * 3 : NULL;
                for (int64_t x = (int64_t)floor(l); x < (int64_t)ceil(r); x++) {
                    double wgt = wy * overlap(l, r, x);
                    /* Outside the level counts as white. */
                    const uint8_t *p = row && x >= 0 && x < s->lw ? row + (x - s->x0) * 3 : NULL;
                    for (int c = 0; c < 3; c++)
                        sum[c] += wgt * (p ? p[c] : 255.0);
                }
            }
            for (int c = 0; c < 3; c++)
                out[((size_t)i * out_w + j) * 3 + c] =
                    (uint8_t)floor(sum[c] / ((b - a) * (r - l)) + 0.5);
        }
    }
    return out;
}

static int max_abs_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    int most = 0;
    for (size_t i = 0; i < n; i++)
        most = MAX(most, abs((int)a[i] - (int)b[i]));
    return most;
}

static uint8_t *read_scaled(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w, int64_t h,
                            int out_w, int out_h)
{
    GError *error = NULL;
    uint8_t *pixels = sf_slide_read_scaled_buffer(slide, level, x, y, w, h, out_w, out_h, &error);
    if (!pixels)
        fail_msg("%s", error->message);
    return pixels;
}

/* Checks rows arrive in order, each once, and counts the batches. */
typedef struct {
    uint8_t *pixels;
    int width, height, next_row, calls;
} collector;

static gboolean collect(const uint8_t *rows, int first_row, int n_rows, void *user_data,
                        GError **error)
{
    (void)error;
    collector *c = user_data;
    assert_int_equal(first_row, c->next_row);
    assert_true(n_rows >= 1 && first_row + n_rows <= c->height);
    memcpy(c->pixels + (size_t)first_row * c->width * 3, rows, (size_t)n_rows * c->width * 3);
    c->next_row += n_rows;
    c->calls++;
    return TRUE;
}

static uint8_t *read_with_budget(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w,
                                 int64_t h, int out_w, int out_h, size_t budget, int *calls)
{
    collector c = {.pixels = g_malloc((size_t)out_w * out_h * 3), .width = out_w, .height = out_h};
    GError *error = NULL;
    if (!sf_slide_read_scaled_budget(slide, level, x, y, w, h, out_w, out_h, budget, collect, &c,
                                     &error))
        fail_msg("%s", error->message);
    assert_int_equal(c.next_row, out_h);
    if (calls)
        *calls = c.calls;
    return c.pixels;
}

/* Ratio 1 is a copy of the level's pixels, alpha composited onto white. */
static void test_copy_equals_direct(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        int level;
        int64_t x, y, w, h; /* level 0 */
        int out_w, out_h;
    } cases[] = {
        {"cmu-1-small-region.svs", 0, 100, 200, 700, 500, 700, 500},
        {"boxes.tiff", 1, 40, 20, 200, 150, 100, 75},
        {"test3-DAPI-2-387.ndpi", 2, 400, 800, 1600, 1200, 400, 300},
        {"test3-DAPI-2-387.ndpi", 1, 1000, 2000, 984, 1400, 492, 700},
        /* Odd origins and sizes (a fragment at downsample 2 of a 1001 x 1401
         * region is 501 x 701): still the level's pixels, from the nearest. */
        {"test3-DAPI-2-387.ndpi", 1, 1001, 2001, 1001, 1401, 501, 701},
        {"cmu-1-small-region.svs", 0, 101, 201, 699, 501, 699, 501},
    };
    for (size_t t = 0; t < G_N_ELEMENTS(cases); t++) {
        g_autoptr(sf_slide) slide = test_open_fixture_slide(cases[t].file);
        double ds = sf_slide_level(slide, cases[t].level)->downsample;
        g_autofree uint8_t *want =
            direct_read(cases[t].file, cases[t].level, llround(cases[t].x / ds),
                        llround(cases[t].y / ds), cases[t].out_w, cases[t].out_h);
        g_autofree uint8_t *got =
            read_scaled(slide, cases[t].level, cases[t].x, cases[t].y, cases[t].w, cases[t].h,
                        cases[t].out_w, cases[t].out_h);
        size_t n = (size_t)cases[t].out_w * cases[t].out_h * 3;
        if (memcmp(want, got, n))
            fail_msg("%s: copy differs from OpenSlide by up to %d", cases[t].file,
                     max_abs_diff(want, got, n));
    }
}

/* Every premultiplied value against the formula in double precision, on
 * white, black and a colour. */
static void test_composite(void **state)
{
    (void)state;
    static const uint8_t backgrounds[][3] = {{255, 255, 255}, {0, 0, 0}, {240, 13, 128}};
    for (size_t b = 0; b < G_N_ELEMENTS(backgrounds); b++) {
        const uint8_t *bg = backgrounds[b];
        sf_blend blend;
        sf_blend_init(&blend, bg);
        for (uint32_t a = 0; a < 256; a++)
            for (uint32_t v = 0; v <= a; v++) {
                uint32_t px = a << 24 | v << 16 | (a - v) << 8 | v / 2;
                sf_composite(&px, 1, &blend);
                assert_int_equal(px >> 24, 255);
                uint32_t channel[3] = {v, a - v, v / 2};
                for (int c = 0; c < 3; c++) {
                    double want = floor(channel[c] + bg[c] * (255.0 - a) / 255 + 0.5);
                    assert_int_equal((px >> (16 - 8 * c)) & 255, (uint32_t)want);
                }
            }
        /* Colour under alpha 0 (invalid, but OpenSlide's TIFF edge tiles
         * produce it) saturates instead of wrapping. */
        uint32_t junk = 0x00c0c0c0;
        sf_composite(&junk, 1, &blend);
        for (int c = 0; c < 3; c++)
            assert_int_equal((junk >> (16 - 8 * c)) & 255, MIN(0xc0 + bg[c], 255));
    }
}

/* Ratios of 2, 4 and 8 from pixel edges sum boxes: exactly the weighted
 * mean, rounded to nearest (not a level off). The decoder's own reduction
 * is off here: tests/test_tiff_direct.c weighs it. */
static void test_integer_downsample(void **state)
{
    (void)state;
    const char *file = "cmu-1-small-region.svs";
    g_autoptr(sf_slide) slide = test_open_fixture_slide(file);
    sf_slide_set_decoder_scaling(slide, FALSE);
    g_autofree uint8_t *full = direct_read(file, 0, 64, 128, 800, 600);
    g_autofree uint8_t *got = read_scaled(slide, 0, 64, 128, 800, 600, 200, 150);
    /* Plain 4x4 box means, summed here in integers. */
    int most = 0;
    for (int i = 0; i < 150; i++)
        for (int j = 0; j < 200; j++)
            for (int c = 0; c < 3; c++) {
                int sum = 0;
                for (int y = 0; y < 4; y++)
                    for (int x = 0; x < 4; x++)
                        sum += full[((size_t)(4 * i + y) * 800 + (4 * j + x)) * 3 + c];
                int want = (sum + 8) / 16;
                most = MAX(most, abs(want - got[((size_t)i * 200 + j) * 3 + c]));
            }
    assert_int_equal(most, 0);
}

static void check_against_naive(const char *file, int level, int64_t x, int64_t y, int64_t w,
                                int64_t h, int out_w, int out_h)
{
    g_autoptr(sf_slide) slide = test_open_fixture_slide(file);
    /* The exact mean: no reduction by the decoder first. */
    sf_slide_set_decoder_scaling(slide, FALSE);
    const sf_level *lv = sf_slide_level(slide, level);
    double lx0 = x / lv->downsample, lx1 = (x + w) / lv->downsample;
    double ly0 = y / lv->downsample, ly1 = (y + h) / lv->downsample;
    /* Every level pixel the footprint touches that lies within the level. */
    source s = {.lw = lv->width, .lh = lv->height};
    s.x0 = CLAMP((int64_t)floor(lx0), 0, lv->width - 1);
    s.y0 = CLAMP((int64_t)floor(ly0), 0, lv->height - 1);
    s.w = CLAMP((int64_t)ceil(lx1), s.x0 + 1, lv->width) - s.x0;
    s.h = CLAMP((int64_t)ceil(ly1), s.y0 + 1, lv->height) - s.y0;
    g_autofree uint8_t *level_px = direct_read(file, level, s.x0, s.y0, s.w, s.h);
    s.rgb = level_px;
    g_autofree uint8_t *want = naive_area(&s, lx0, lx1, ly0, ly1, out_w, out_h);
    g_autofree uint8_t *got = read_scaled(slide, level, x, y, w, h, out_w, out_h);
    int most = max_abs_diff(want, got, (size_t)out_w * out_h * 3);
    if (most > 1)
        fail_msg("%s level %d -> %dx%d: differs from the exact mean by %d", file, level, out_w,
                 out_h, most);
}

static void test_fractional_ratio(void **state)
{
    (void)state;
    check_against_naive("cmu-1-small-region.svs", 0, 0, 0, 2220, 2967, 517, 691);
    /* Level-0 origins that fall inside level pixels. */
    check_against_naive("test3-DAPI-2-387.ndpi", 2, 1001, 1503, 2002, 2997, 333, 417);
    check_against_naive("boxes.tiff", 1, 13, 7, 251, 203, 97, 71);
    /* Enlarging: each output pixel covers part of one or two level pixels. */
    check_against_naive("boxes.tiff", 1, 0, 0, 300, 250, 470, 390);
    check_against_naive("test3-DAPI-2-387.ndpi", 3, 1000, 1500, 2000, 2500, 333, 417);
}

static void test_outside_is_background(void **state)
{
    (void)state;
    /* Copy: boxes.tiff is 300x250; the rectangle sticks out on every side. */
    g_autoptr(sf_slide) boxes = test_open_fixture_slide("boxes.tiff");
    g_autofree uint8_t *got = read_scaled(boxes, 0, -50, -30, 400, 300, 400, 300);
    g_autofree uint8_t *inside = direct_read("boxes.tiff", 0, 0, 0, 300, 250);
    for (int i = 0; i < 300; i++)
        for (int j = 0; j < 400; j++) {
            int x = j - 50, y = i - 30;
            for (int c = 0; c < 3; c++) {
                int v = got[((size_t)i * 400 + j) * 3 + c];
                if (x < 0 || y < 0 || x >= 300 || y >= 250)
                    assert_int_equal(v, 255);
                else
                    assert_int_equal(v, inside[((size_t)y * 300 + x) * 3 + c]);
            }
        }

    /* Averaging across the slide's right and bottom edges. */
    check_against_naive("cmu-1-small-region.svs", 0, 2000, 2800, 440, 334, 110, 83);
    check_against_naive("boxes.tiff", 1, -101, -57, 403, 317, 59, 43);

    /* Entirely outside: nothing to read, all background. */
    static const int64_t away[][2] = {{5000, 5000}, {-500, 10}, {10, 250}};
    for (size_t t = 0; t < G_N_ELEMENTS(away); t++)
        for (int out = 10; out <= 100; out += 90) {
            g_autofree uint8_t *bg =
                read_scaled(boxes, 1, away[t][0], away[t][1], 100, 100, out, out);
            for (size_t i = 0; i < (size_t)out * out * 3; i++)
                assert_int_equal(bg[i], 255);
        }
}

/* Tiny strips and column chunks (several read at once) give the same bytes
 * as one big strip, rows arriving in order in several batches. */
static void test_strips_do_not_matter(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        int level;
        int64_t x, y, w, h;
        int out_w, out_h;
        size_t min_budget; /* tiny budgets make many OpenSlide calls */
    } cases[] = {
        {"cmu-1-small-region.svs", 0, 300, 400, 900, 700, 131, 157, 4096},
        {"cmu-1-small-region.svs", 0, 1900, 2700, 400, 300, 103, 77, 64},  /* past the edge */
        {"cmu-1-small-region.svs", 0, 1000, 1000, 200, 100, 200, 100, 64}, /* copy */
        {"test3-DAPI-2-387.ndpi", 2, 400, 800, 1600, 1200, 123, 97, 4096},
        {"test3-DAPI-2-387.ndpi", 2, 0, 0, 3968, 4864, 31, 38, 4096},
    };
    /* 1 MB (full-width strips), 4 KB (chunks of a few rows), 64 bytes
     * (16-pixel chunks), against the default 16 MB (one strip). */
    static const size_t budgets[] = {1 << 20, 4096, 64};
    for (size_t t = 0; t < G_N_ELEMENTS(cases); t++) {
        g_autoptr(sf_slide) slide = test_open_fixture_slide(cases[t].file);
        int big_calls = 0;
        g_autofree uint8_t *want =
            read_with_budget(slide, cases[t].level, cases[t].x, cases[t].y, cases[t].w, cases[t].h,
                             cases[t].out_w, cases[t].out_h, SF_STRIP_BYTES_DEFAULT, &big_calls);
        size_t n = (size_t)cases[t].out_w * cases[t].out_h * 3;
        for (size_t b = 0; b < G_N_ELEMENTS(budgets); b++) {
            if (budgets[b] < cases[t].min_budget)
                continue;
            int calls = 0;
            g_autofree uint8_t *got =
                read_with_budget(slide, cases[t].level, cases[t].x, cases[t].y, cases[t].w,
                                 cases[t].h, cases[t].out_w, cases[t].out_h, budgets[b], &calls);
            if (memcmp(want, got, n))
                fail_msg("%s case %zu budget %zu: differs by up to %d", cases[t].file, t,
                         budgets[b], max_abs_diff(want, got, n));
            /* Small strips deliver rows in more batches. */
            if (budgets[b] <= 4096)
                assert_true(calls > big_calls);
        }
    }
}

typedef struct {
    int calls;
    int stop_after;
} failing_sink_state;

static gboolean failing_sink(const uint8_t *rows, int first_row, int n_rows, void *user_data,
                             GError **error)
{
    (void)rows;
    (void)first_row;
    (void)n_rows;
    failing_sink_state *s = user_data;
    if (++s->calls > s->stop_after) {
        g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "disk full");
        return FALSE;
    }
    return TRUE;
}

static void test_sink_error_stops(void **state)
{
    (void)state;
    g_autoptr(sf_slide) slide = test_open_fixture_slide("cmu-1-small-region.svs");
    for (int area = 0; area < 2; area++)
        for (int stop = 0; stop < 3; stop++) {
            failing_sink_state s = {.stop_after = stop};
            GError *error = NULL;
            int out = area ? 300 : 600;
            assert_false(sf_slide_read_scaled_budget(slide, 0, 0, 0, 600, 600, out, out, 65536,
                                                     failing_sink, &s, &error));
            assert_true(g_error_matches(error, SF_ERROR, SF_EXIT_OUTPUT));
            assert_int_equal(s.calls, stop + 1);
            g_error_free(error);
        }
}

static void test_buffer_matches_stream(void **state)
{
    (void)state;
    g_autoptr(sf_slide) slide = test_open_fixture_slide("test3-DAPI-2-387.ndpi");
    int level = sf_slide_best_level(slide, 3968.0 / 500);
    assert_int_equal(level, 2);
    g_autofree uint8_t *buffer = read_scaled(slide, level, 0, 0, 3968, 4864, 500, 613);
    g_autofree uint8_t *stream =
        read_with_budget(slide, level, 0, 0, 3968, 4864, 500, 613, 1 << 16, NULL);
    assert_memory_equal(buffer, stream, (size_t)500 * 613 * 3);
    /* Fluorescence: mostly dark, some bright nuclei. */
    size_t dark = 0;
    for (size_t i = 0; i < (size_t)500 * 613 * 3; i += 3)
        dark += buffer[i] + buffer[i + 1] + buffer[i + 2] < 60;
    assert_true(dark > (size_t)500 * 613 / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_equals_direct),    cmocka_unit_test(test_composite),
        cmocka_unit_test(test_integer_downsample),    cmocka_unit_test(test_fractional_ratio),
        cmocka_unit_test(test_outside_is_background), cmocka_unit_test(test_strips_do_not_matter),
        cmocka_unit_test(test_sink_error_stops),      cmocka_unit_test(test_buffer_matches_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
