/*
 * A lab's own program on libslidefrag: opens a slide, reads an overview,
 * finds the tissue with the default detection and prints each region's
 * level-0 box. Build it against an installed slidefrag:
 *
 *     cc slide_regions.c $(pkg-config --cflags --libs slidefrag) -o slide_regions
 *     ./slide_regions slide.svs
 */
#include <stdio.h>
#include <stdlib.h>

#include <slidefrag/detect.h>
#include <slidefrag/run.h>
#include <slidefrag/slide.h>
#include <slidefrag/version.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SLIDE\n", argv[0]);
        return 2;
    }
    GError *error = NULL;
    sf_slide *slide = sf_slide_open(argv[1], &error);
    if (!slide) {
        fprintf(stderr, "%s\n", error->message);
        g_error_free(error);
        return 1;
    }
    int64_t width = sf_slide_width(slide), height = sf_slide_height(slide);
    printf("slidefrag %s: %s is %lld x %lld pixels, %g um/px\n", SLIDEFRAG_VERSION, argv[1],
           (long long)width, (long long)height, sf_slide_mpp_x(slide));

    /* An overview of 1024 px on its longest side, from the best level. */
    sf_target target = {SF_TARGET_MAX_SIZE, 1024};
    int ov_w, ov_h, level;
    uint8_t *pixels = NULL;
    if (sf_overview_geometry(slide, &target, &ov_w, &ov_h, &level, &error))
        pixels = sf_slide_read_scaled_buffer(slide, level, 0, 0, width, height, ov_w, ov_h, &error);
    if (!pixels) {
        fprintf(stderr, "%s\n", error->message);
        g_error_free(error);
        sf_slide_close(slide);
        return 1;
    }

    /* `slidefrag run`'s defaults, with the minimum area of 5000 µm² turned
     * into overview pixels for this slide. */
    sf_run_params run_params;
    sf_run_params_default(&run_params);
    sf_detect_params params;
    double padding;
    if (!sf_run_detect_params(&run_params, slide, (double)width / ov_w, &params, &padding,
                              &error)) {
        fprintf(stderr, "%s\n", error->message);
        g_error_free(error);
        g_free(pixels);
        sf_slide_close(slide);
        return 1;
    }

    sf_image overview = {pixels, ov_w, ov_h, 3, (size_t)ov_w * 3};
    uint8_t *mask_pixels = malloc((size_t)ov_w * ov_h);
    sf_image mask = {mask_pixels, ov_w, ov_h, 1, (size_t)ov_w};
    sf_regions found = {0};
    uint8_t threshold = 0;
    int status = 1;
    if (mask_pixels && sf_detect(&overview, &params, &mask, &threshold, &found) == SF_OK) {
        printf("threshold %d, %zu region(s)\n", threshold, found.n_regions);
        double sx = (double)width / ov_w, sy = (double)height / ov_h;
        for (size_t i = 0; i < found.n_regions; i++) {
            const sf_box *b = &found.regions[i].box;
            printf("region %zu: x %lld y %lld w %lld h %lld (level 0), tissue %.0f %%\n", i,
                   (long long)(b->x * sx), (long long)(b->y * sy), (long long)(b->w * sx),
                   (long long)(b->h * sy), 100 * found.regions[i].tissue_fraction);
        }
        sf_regions_clear(&found);
        status = 0;
    }
    free(mask_pixels);
    g_free(pixels);
    sf_slide_close(slide);
    return status;
}
