/*
 * The slide backend seam: what one family of files must provide for
 * sf_slide to read it, the way OpenSlide has a table of formats and libvips
 * a list of loaders. A backend says whether it takes a file, fills in the
 * slide's description when it opens it (levels, resolution, properties,
 * associated images) and reads level rectangles; everything else
 * (choosing a level, strips, threads, compositing, area averaging, the
 * work bound) is slide.c's, strips.c's and resample.c's, the same for
 * every backend. To add a reader: one file defining an sf_slide_backend
 * and one line in formats.c's table. Private to src/slide.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slidefrag/slide.h"

G_BEGIN_DECLS

/* What a file stores for one level's pixels, to weigh a read's work
 * against (sf_slide_check_read_cost). */
typedef struct sf_level_storage {
    uint64_t bytes;   /* compressed bytes of the level's pixels, at most */
    uint64_t pieces;  /* its tiles or strips; 0 when not known */
    uint64_t missing; /* of those, how many have no data (byte count 0) */
} sf_level_storage;

/* The storage of a level whose bytes are not known: no bound applies. */
#define SF_STORAGE_UNKNOWN UINT64_MAX

/*
 * The slide's description, filled by a backend's open() through the
 * sf_slide_meta_* calls below; slide.c owns it afterwards.
 */
typedef struct sf_slide_meta sf_slide_meta;

/* Sets the number of levels; each starts as 0 x 0, downsample 1, no tile
 * size and unknown storage. */
void sf_slide_meta_set_levels(sf_slide_meta *meta, int count);
/* Level `i`: its size and downsample, and the reader's natural read unit
 * (tile or strip size, 0 when it has none) that strips are cut to. */
void sf_slide_meta_set_level(sf_slide_meta *meta, int i, int64_t width, int64_t height,
                             double downsample, int64_t tile_w, int64_t tile_h);
/* What the file stores for level `i` (backend.h's sf_level_storage). */
void sf_slide_meta_set_storage(sf_slide_meta *meta, int i, const sf_level_storage *storage);
/* The file's size, as the storage of every level not set otherwise. */
void sf_slide_meta_set_file_size(sf_slide_meta *meta, uint64_t size);
/* "aperio", "generic-tiff", ... */
void sf_slide_meta_set_vendor(sf_slide_meta *meta, const char *vendor);
/* µm per level-0 pixel (0 when unknown) and objective power (0: absent). */
void sf_slide_meta_set_resolution(sf_slide_meta *meta, double mpp_x, double mpp_y,
                                  double objective_power);
void sf_slide_meta_set_background(sf_slide_meta *meta, const uint8_t rgb[3]);
void sf_slide_meta_set_bounds(sf_slide_meta *meta, int64_t x, int64_t y, int64_t w, int64_t h);
void sf_slide_meta_set_quickhash(sf_slide_meta *meta, const char *quickhash);
/* Adds a property, in the order names are listed; a repeated name keeps
 * its first value. */
void sf_slide_meta_add_property(sf_slide_meta *meta, const char *name, const char *value);
void sf_slide_meta_add_associated(sf_slide_meta *meta, const char *name, int64_t width,
                                  int64_t height);

typedef struct sf_slide_backend {
    const char *name;        /* "openslide", ... */
    const char *description; /* one line for `info --formats` */
    /* The file-name extensions (lower case, with the dot) of the files it
     * opens, NULL-terminated. */
    const char *const *extensions;
    /*
     * Whether the backend takes `path`, a regular file whose first bytes
     * are `head` (fewer than asked for when the file is shorter). Cheap,
     * and never an error: a file nobody takes is "not a slide".
     */
    gboolean (*detect)(const char *path, const uint8_t *head, size_t head_len);
    /*
     * Opens `path` and describes it in `meta` (at least one level, level 0
     * first). Returns the backend's state for read() and close(), or NULL
     * with SF_EXIT_SLIDE_OPEN (or SF_EXIT_MISSING) naming the file.
     */
    void *(*open)(const char *path, sf_slide_meta *meta, GError **error);
    void (*close)(void *state);
    /*
     * Level pixels [x, x + w) x [y, y + h) into `dest` (w * h, rows of w),
     * premultiplied 0xAARRGGBB, transparent 0 outside the level: what
     * openslide_read_region() gives. `more_below`: a read of the rows
     * from y + h on follows, so state worth keeping for it may be kept.
     * Called from several threads at once. Errors: SF_EXIT_SLIDE_READ
     * naming the file and the cause.
     */
    gboolean (*read)(void *state, int level, int64_t x, int64_t y, int64_t w, int64_t h,
                     gboolean more_below, uint32_t *dest, GError **error);
    /*
     * Whether a read gives exactly the level's pixels from any origin.
     * FALSE for OpenSlide, which takes the origin in level-0 pixels and
     * resamples unless it divides back to a whole level pixel (strips.c
     * then plans reads on such origins). NULL: always TRUE.
     */
    gboolean (*exact_origins)(void *state, int level);
    /*
     * Optional (NULL: reads go through read()). The largest shift
     * read_rgb() takes for the level, or -1 when it cannot read the level:
     * 0 reads the level's own pixels, s > 0 the level reduced by 2^s by
     * the decoder itself (libjpeg's DCT scaling, up to 3).
     */
    int (*rgb_shift_max)(void *state, int level);
    /*
     * Optional, with rgb_shift_max(): opaque RGB pixels [x, x + w) x
     * [y, y + h) of the level reduced by 2^shift (0: the level's pixels,
     * exactly those read() gives), into rows of `stride` bytes. The
     * reduced level is ceil(width / 2^shift) x ceil(height / 2^shift) and
     * the rectangle lies within it. For backends whose pixels are opaque
     * (no compositing to do) and that can decode straight into the
     * caller's rows. `more_below` and threads as for read().
     */
    gboolean (*read_rgb)(void *state, int level, int shift, int64_t x, int64_t y, int64_t w,
                         int64_t h, gboolean more_below, uint8_t *dest, size_t stride,
                         GError **error);
} sf_slide_backend;

/* The backends, in the order they are asked whether they take a file. */
const sf_slide_backend *const *sf_slide_backends(int *n);

/* The backend that opened the slide, and its state. */
const sf_slide_backend *sf_slide_get_backend(const sf_slide *slide);
void *sf_slide_backend_state(const sf_slide *slide);

G_END_DECLS
