/*
 * The slide opener on mutated small slides: the input's first byte picks
 * the file name's extension, the rest is the file. A slide that opens must
 * have sane levels, a small read of it must give pixels or an error, never
 * a crash or a hang, and no level may promise a read of more work than the
 * file's bytes can justify (sf_slide_check_read_cost).
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>

#include "fuzz.h"
#include "slidefrag/error.h"
#include "slide/slide_internal.h"
#include "slidefrag/slide.h"

static char *slide_dir;

static void remove_slide_dir(void)
{
    static const char *const names[] = {"slide.svs", "slide.tiff", "slide.ndpi", "slide.tif"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        char *path = g_build_filename(slide_dir, names[i], NULL);
        g_unlink(path);
        g_free(path);
    }
    g_rmdir(slide_dir);
    g_free(slide_dir);
}

/* Pixels or an error that says why; nothing else. */
static void check_read(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w, int64_t h,
                       int out_w, int out_h)
{
    GError *error = NULL;
    uint8_t *pixels = sf_slide_read_scaled_buffer(slide, level, x, y, w, h, out_w, out_h, &error);
    SF_FUZZ_CHECK((pixels != NULL) != (error != NULL));
    if (error) {
        SF_FUZZ_CHECK(error->domain == SF_ERROR && error->code != SF_EXIT_OK && *error->message);
        g_error_free(error);
    }
    g_free(pixels);
}

int sf_fuzz_slide(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"slide.svs", "slide.tiff", "slide.ndpi", "slide.tif"};
    if (size < 1)
        return 0;
    if (!slide_dir) {
        slide_dir = g_dir_make_tmp("slidefrag-fuzz-XXXXXX", NULL);
        SF_FUZZ_CHECK(slide_dir != NULL);
        atexit(remove_slide_dir);
    }
    char *path = g_build_filename(slide_dir, names[data[0] % 4], NULL);
    SF_FUZZ_CHECK(g_file_set_contents(path, (const char *)data + 1, (gssize)size - 1, NULL));

    GError *error = NULL;
    sf_slide *slide = sf_slide_open(path, &error);
    if (!slide) {
        SF_FUZZ_CHECK(error && error->domain == SF_ERROR);
        SF_FUZZ_CHECK(error->code == SF_EXIT_MISSING || error->code == SF_EXIT_SLIDE_OPEN);
        g_error_free(error);
        g_unlink(path);
        g_free(path);
        return 0;
    }
    int n = sf_slide_level_count(slide);
    SF_FUZZ_CHECK(n >= 1);
    int64_t w0 = sf_slide_width(slide), h0 = sf_slide_height(slide);
    SF_FUZZ_CHECK(w0 > 0 && h0 > 0);
    for (int l = 0; l < n; l++) {
        const sf_level *level = sf_slide_level(slide, l);
        SF_FUZZ_CHECK(level->width > 0 && level->height > 0);
        SF_FUZZ_CHECK(isfinite(level->downsample) && level->downsample > 0);
    }
    /* Whatever the file claims, a whole-level read past a gigapixel is
     * refused unless the file holds a byte per 65,536 px of it. */
    for (int l = 0; l < n; l++) {
        const sf_level *level = sf_slide_level(slide, l);
        GError *cost = NULL;
        gboolean allowed = sf_slide_check_read_cost(slide, l, level->width, level->height, &cost);
        double px = (double)level->width * (double)level->height;
        if (px > (double)(1 << 30) && px > 65536.0 * (double)size)
            SF_FUZZ_CHECK(!allowed && cost && cost->code == SF_EXIT_SLIDE_READ);
        SF_FUZZ_CHECK(allowed == (cost == NULL));
        g_clear_error(&cost);
    }
    int best = sf_slide_best_level(slide, 4.0);
    SF_FUZZ_CHECK(best >= 0 && best < n);
    for (const char *const *p = sf_slide_property_names(slide); p && *p; p++)
        (void)sf_slide_property(slide, *p);
    uint8_t background[3];
    sf_slide_background(slide, background);

    /* A thumbnail from the smallest level, when that level is small enough
     * to read in a moment, and a corner of level 0. */
    const sf_level *last = sf_slide_level(slide, n - 1);
    if (last->width <= (4 << 20) / last->height) {
        int64_t side = MAX(w0, h0);
        int out_w = (int)MAX(1, w0 * 32 / side), out_h = (int)MAX(1, h0 * 32 / side);
        check_read(slide, n - 1, 0, 0, w0, h0, out_w, out_h);
    }
    check_read(slide, 0, 0, 0, MIN(w0, 48), MIN(h0, 48), (int)MIN(w0, 48), (int)MIN(h0, 48));
    sf_slide_close(slide);
    g_unlink(path);
    g_free(path);
    return 0;
}
