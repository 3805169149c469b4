/*
 * slidefrag image core: finds tissue in an overview image.
 *
 * Pure functions over caller-owned buffers: no I/O, no globals, no
 * dependency beyond libc. Functions that need scratch memory allocate it once
 * per call (never per pixel or per row) and report allocation failure through
 * their return value. Images are 8-bit, interleaved, row-major with an
 * explicit stride in bytes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A view of 8-bit pixels; the struct never owns `data`. */
typedef struct sf_image {
    uint8_t *data;
    int width;
    int height;
    int channels;  /* 1 (mask, channel) or 3 (RGB) */
    size_t stride; /* bytes from one row to the next, >= width * channels */
} sf_image;

/* Status codes of core functions. */
typedef enum sf_status {
    SF_OK = 0,
    SF_ERR_NOMEM = -1,   /* scratch memory could not be allocated */
    SF_ERR_INVALID = -2, /* bad argument: size mismatch, bad kernel, ... */
} sf_status;

/* ---- 1. Channel extraction ------------------------------------------- */

typedef enum sf_channel {
    SF_CHANNEL_RED, /* the method's channel (BGR index 2) */
    SF_CHANNEL_GREEN,
    SF_CHANNEL_BLUE,
    SF_CHANNEL_GREY,       /* OpenCV COLOR_RGB2GRAY, bit-exact */
    SF_CHANNEL_SATURATION, /* S of OpenCV COLOR_RGB2HSV for 8-bit, bit-exact */
} sf_channel;

/* Name <-> enum: "red", "green", "blue", "grey" (also "gray"), "saturation". */
const char *sf_channel_name(sf_channel channel);
bool sf_channel_from_name(const char *name, sf_channel *out);

/* rgb: 3 channels; out: 1 channel, same width and height. */
sf_status sf_extract_channel(const sf_image *rgb, sf_channel channel, sf_image *out);

/* ---- 2. Thresholding ------------------------------------------------- */

/*
 * Which side of the threshold is foreground (255).
 * DARK: value <= t is tissue (brightfield: tissue darker than glass;
 *       OpenCV THRESH_BINARY_INV). BRIGHT: value > t is tissue
 *       (fluorescence, saturation; OpenCV THRESH_BINARY).
 */
typedef enum sf_polarity {
    SF_POLARITY_DARK,
    SF_POLARITY_BRIGHT,
} sf_polarity;

void sf_histogram(const sf_image *channel, uint64_t hist[256]);

/* Otsu's threshold exactly as OpenCV's THRESH_OTSU chooses it for 8-bit. */
uint8_t sf_otsu_threshold(const uint64_t hist[256]);

/* mask(x, y) = 255 where the pixel is foreground under polarity, else 0. */
sf_status sf_threshold(const sf_image *channel, uint8_t threshold, sf_polarity polarity,
                       sf_image *mask);

/* ---- 3. Morphology --------------------------------------------------- */

typedef enum sf_kernel_shape {
    SF_KERNEL_RECT,    /* OpenCV MORPH_RECT */
    SF_KERNEL_ELLIPSE, /* OpenCV MORPH_ELLIPSE, same structuring element */
} sf_kernel_shape;

typedef enum sf_morph_op {
    SF_MORPH_ERODE,
    SF_MORPH_DILATE,
    SF_MORPH_OPEN,  /* erode `iterations` times, then dilate as often */
    SF_MORPH_CLOSE, /* dilate, then erode */
} sf_morph_op;

/*
 * OpenCV's erode/dilate/morphologyEx with getStructuringElement(shape,
 * (kw, kh)), the default anchor (kw/2, kh/2) and the default border (pixels
 * outside the image never add or remove foreground). Works on any 8-bit
 * single-channel image, not only binary masks. src and dst may be the same
 * image. Rectangles cost O(1) per pixel whatever their size. A zero-sized
 * image is valid and left as is; a kernel side < 1 or iterations < 0 is
 * SF_ERR_INVALID, and 0 iterations copy src to dst.
 */
sf_status sf_morphology(const sf_image *src, sf_image *dst, sf_morph_op op, sf_kernel_shape shape,
                        int kernel_width, int kernel_height, int iterations);

/* ---- 4. Hole filling ------------------------------------------------- */

/*
 * Sets to 255 every background (0) pixel of a binary mask that is not
 * 4-connected to the image border (holes of 8-connected foreground).
 * In place.
 */
sf_status sf_fill_holes(sf_image *mask);

/* ---- 4b. Marker ink --------------------------------------------------- */

/* G - R above this is ink, not stain (see sf_clear_ink). */
#define SF_INK_MARGIN 15
/* Ink is widened by this many pixels: the pale rim of a stroke goes too. */
#define SF_INK_BORDER 2

/*
 * Clears from `mask` (1 channel, 255 = tissue) the pixels of `rgb` (same
 * size) that are green or blue marker ink or dye rather than stain. Both
 * haematoxylin and eosin absorb green more than red, so stained tissue,
 * pink to purple, has G < R; green and blue inks, and the glass seen
 * through them, have G > R. A pixel is ink when G - R > SF_INK_MARGIN, and
 * so is every pixel within SF_INK_BORDER of one (a square). Red and black
 * ink look like stain by this measure and stay.
 */
sf_status sf_clear_ink(const sf_image *rgb, sf_image *mask);

/* ---- 5. Connected components ----------------------------------------- */

typedef struct sf_component {
    int x, y, width, height; /* bounding box, half-open */
    int64_t area;            /* foreground pixel count */
    double centroid_x, centroid_y;
} sf_component;

/*
 * Labels the non-zero pixels of `mask` with 4- or 8-connectivity, like
 * OpenCV's connectedComponentsWithStats without the background entry.
 * `labels` (width*height int32, may be NULL) receives 0 for background and
 * 1..count for components. On success *components is a malloc'ed array the
 * caller frees, sorted by (y, x) of the bounding box, then by label order.
 */
sf_status sf_connected_components(const sf_image *mask, int connectivity, int32_t *labels,
                                  sf_component **components, size_t *count);

/* ---- 6. Boxes and regions -------------------------------------------- */

/* An axis-aligned box, half-open: covers [x, x + w) x [y, y + h). */
typedef struct sf_box {
    int64_t x, y, w, h;
} sf_box;

/* Sorts top-to-bottom, then left-to-right (y, x, h, w). */
void sf_boxes_sort(sf_box *boxes, size_t count);

/*
 * Replaces boxes that share at least one pixel by their bounding box,
 * transitively and until no two boxes intersect (a merged box can meet boxes
 * its parts did not): rounds of a sweep line until one merges nothing. Returns
 * the new count; the first entries of `boxes` hold the result, sorted.
 * Boxes with w <= 0 or h <= 0 cover no pixel and are dropped. Coordinates
 * and sizes must stay within +-2^60. Returns (size_t)-1 on allocation
 * failure, leaving `boxes` unchanged.
 */
size_t sf_boxes_merge_intersecting(sf_box *boxes, size_t count);

/*
 * As sf_boxes_merge_intersecting, but two boxes also merge when the empty
 * space between them is at most `gap` pixels along both axes (0 merges boxes
 * that touch edge to edge or corner to corner). gap < 0 is treated as
 * intersecting-only.
 */
size_t sf_boxes_merge_within_gap(sf_box *boxes, size_t count, int64_t gap);

/* Sum-of-mask table for tissue fractions: (w+1)*(h+1) int64 counts of
 * non-zero pixels. */
typedef struct sf_integral {
    int64_t *sums;
    int width, height;
} sf_integral;

sf_status sf_integral_init(sf_integral *integral, const sf_image *mask);
/* Frees the sums and empties the struct (the caller owns it). */
void sf_integral_clear(sf_integral *integral);
/* Non-zero pixels inside box (clamped to the image). */
int64_t sf_integral_count(const sf_integral *integral, const sf_box *box);

typedef struct sf_region_params {
    int connectivity;           /* 8 (default) or 4 */
    int64_t gap;                /* merge boxes this close, mask pixels */
    int64_t min_area;           /* drop boxes with w*h below this, pixels */
    double min_area_fraction;   /* ... or below this fraction of the image */
    double min_tissue_fraction; /* ... or with less tissue than this */
} sf_region_params;

/* Defaults for a tissue mask at overview resolution: connectivity 8, gap 0
 * (touching boxes merge), min_area 0, min_area_fraction 0.0001 (drops dust
 * below 1/10000 of the image, about 20x15 px of a 2048x1536 overview; the
 * best of 0.0001..0.002 on generated biopsies, where small fragments are
 * real tissue), min_tissue_fraction 0 (keeps sparse boxes). */
void sf_region_params_default(sf_region_params *params);

typedef struct sf_region {
    sf_box box;             /* mask pixels */
    int64_t tissue_pixels;  /* non-zero mask pixels inside box */
    double tissue_fraction; /* tissue_pixels / (w * h) */
} sf_region;

typedef struct sf_regions {
    sf_box *initial; /* one box per connected component, sorted */
    size_t n_initial;
    sf_region *regions; /* final regions, sorted */
    size_t n_regions;
} sf_regions;

/*
 * The method's steps in its order on a binary mask: initial boxes of the
 * connected components; merge intersecting; merge within gap; drop small
 * or sparse boxes; merge intersecting again. params NULL means the
 * defaults. On failure *out is left empty.
 */
sf_status sf_find_regions(const sf_image *mask, const sf_region_params *params, sf_regions *out);
/* Frees the arrays and empties the struct (the caller owns it). */
void sf_regions_clear(sf_regions *regions);

#ifdef __cplusplus
}
#endif
