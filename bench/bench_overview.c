/*
 * bench_overview SLIDE OUT.jpg [MAX_SIZE]: the overview stage of `slidefrag
 * run` alone (open, pick the level, read it area-averaged to a longest side
 * of MAX_SIZE, encode the JPEG), so scripts/bench can time it against
 * `vips thumbnail`. Prints the size, level and seconds per step.
 */
#include <stdio.h>
#include <stdlib.h>

#include "slidefrag/error.h"
#include "slidefrag/image_io.h"
#include "slidefrag/run.h"
#include "slidefrag/slide.h"

static double seconds_since(gint64 start)
{
    return (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

static gboolean make_overview(const char *slide_path, const char *out_path, double max_size,
                              GError **error)
{
    gint64 start = g_get_monotonic_time(), stage = start;
    g_autoptr(sf_slide) slide = sf_slide_open(slide_path, error);
    if (!slide)
        return FALSE;

    sf_run_params params;
    sf_run_params_default(&params);
    const sf_target target = {SF_TARGET_MAX_SIZE, max_size};
    int width, height, level;
    if (!sf_overview_geometry(slide, &target, &width, &height, &level, error))
        return FALSE;
    double t_open = seconds_since(stage);

    stage = g_get_monotonic_time();
    g_autofree uint8_t *pixels = sf_slide_read_scaled_buffer(
        slide, level, 0, 0, sf_slide_width(slide), sf_slide_height(slide), width, height, error);
    if (!pixels)
        return FALSE;
    double t_read = seconds_since(stage);

    stage = g_get_monotonic_time();
    if (!sf_jpeg_save(out_path, pixels, width, height, 3, (size_t)width * 3, params.jpeg_quality,
                      error))
        return FALSE;
    double t_save = seconds_since(stage);

    printf("overview %dx%d from level %d (downsample %.4g): open %.3f s, read %.3f s, "
           "jpeg %.3f s, total %.3f s\n",
           width, height, level, sf_slide_level(slide, level)->downsample, t_open, t_read, t_save,
           seconds_since(start));
    return TRUE;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s SLIDE OUT.jpg [MAX_SIZE]\n", argv[0]);
        return SF_EXIT_USAGE;
    }
    double max_size = argc == 4 ? g_ascii_strtod(argv[3], NULL) : 2048;
    if (!(max_size >= 1)) {
        fprintf(stderr, "%s: MAX_SIZE must be a number >= 1, not '%s'\n", argv[0], argv[3]);
        return SF_EXIT_USAGE;
    }
    g_autoptr(GError) error = NULL;
    if (!make_overview(argv[1], argv[2], max_size, &error)) {
        fprintf(stderr, "%s\n", error->message);
        return error->domain == SF_ERROR ? error->code : SF_EXIT_FAILURE;
    }
    return SF_EXIT_OK;
}
