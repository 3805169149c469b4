/*
 * Tissue detection on an overview: the method's whole chain composed from
 * the core operations (core.h). Pure, like the core: buffers in, buffers out.
 */
#pragma once

#include "slidefrag/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sf_detect_params {
    sf_channel channel;   /* red, as the method */
    sf_polarity polarity; /* dark: tissue darker than glass (brightfield) */
    bool otsu;            /* Otsu's threshold, else `threshold` */
    uint8_t threshold;
    bool remove_ink; /* sf_clear_ink on the thresholded mask, before morphology */
    int open_size;   /* KxK rectangle opening, 0 = off */
    int close_size;  /* KxK rectangle closing after the opening, 0 = off */
    bool fill_holes;
    sf_region_params regions; /* gap and areas in overview pixels */
} sf_detect_params;

/* Defaults that find H&E tissue at an overview of about 2048 px. */
void sf_detect_params_default(sf_detect_params *params);

/*
 * rgb: the overview (3 channels). mask: caller-allocated 1-channel image of
 * the same size, receives 255 for tissue. *threshold_used: the threshold
 * applied (Otsu's choice or the fixed one). out: as sf_find_regions.
 */
sf_status sf_detect(const sf_image *rgb, const sf_detect_params *params, sf_image *mask,
                    uint8_t *threshold_used, sf_regions *out);

/* Draws a rectangle outline of `thickness` pixels (inside the box) in
 * colour rgb onto a 3-channel image, clipped to it. */
void sf_draw_box(sf_image *image, const sf_box *box, int thickness, const uint8_t rgb[3]);

#ifdef __cplusplus
}
#endif
