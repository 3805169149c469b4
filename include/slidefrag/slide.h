/*
 * Reading whole-slide images with bounded memory, through interchangeable
 * backends (OpenSlide and slidefrag's own readers).
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct sf_slide sf_slide;

typedef struct sf_level {
    int64_t width, height;
    double downsample; /* level-0 pixels per level pixel, as OpenSlide reports */
} sf_level;

/* Opens a slide. Errors: SF_EXIT_MISSING (no such file, unreadable, not a
 * regular file), SF_EXIT_SLIDE_OPEN (no backend takes it, or it failed). */
sf_slide *sf_slide_open(const char *path, GError **error);
void sf_slide_close(sf_slide *slide);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_slide, sf_slide_close)

/* One family of files a backend reads, for `info --formats`. */
typedef struct sf_slide_format {
    const char *name;              /* "openslide", ... */
    const char *description;       /* one line */
    const char *const *extensions; /* lower case with the dot, NULL-terminated */
} sf_slide_format;

/* The formats, in the order they are tried on a file; *n of them. */
const sf_slide_format *sf_slide_formats(int *n);
/*
 * Every file-name extension (lower case, with the dot) of the files
 * slidefrag opens as slides, NULL-terminated, without repeats: the one list
 * that folder searches, the Snakefile (`slidefrag info --formats --json`),
 * annotation file stems and the docs use.
 */
const char *const *sf_slide_extensions(void);
/* The length of the slide extension `name` ends with (any case), 0 when it
 * ends with none; a name that is only the extension has none. */
size_t sf_slide_extension_length(const char *name);

const char *sf_slide_path(const sf_slide *slide);
const char *sf_slide_vendor(const sf_slide *slide); /* "aperio", "generic-tiff", ... */
int sf_slide_level_count(const sf_slide *slide);
const sf_level *sf_slide_level(const sf_slide *slide, int level);
int64_t sf_slide_width(const sf_slide *slide);  /* level 0 */
int64_t sf_slide_height(const sf_slide *slide); /* level 0 */
/* µm per level-0 pixel, 0 when the slide does not say. */
double sf_slide_mpp_x(const sf_slide *slide);
double sf_slide_mpp_y(const sf_slide *slide);
/* Objective power, 0 when absent. */
double sf_slide_objective_power(const sf_slide *slide);
/* A property value or NULL. */
const char *sf_slide_property(const sf_slide *slide, const char *name);
const char *const *sf_slide_property_names(const sf_slide *slide);
const char *const *sf_slide_associated_image_names(const sf_slide *slide);
/* Associated image size; FALSE if there is no such image. */
gboolean sf_slide_associated_image_size(const sf_slide *slide, const char *name, int64_t *w,
                                        int64_t *h);
const char *sf_slide_quickhash(const sf_slide *slide); /* may be NULL */
/* openslide.background-color as RGB, white when absent. */
void sf_slide_background(const sf_slide *slide, uint8_t rgb[3]);
/* openslide.bounds-{x,y,width,height}; FALSE when the slide has none. */
gboolean sf_slide_bounds(const sf_slide *slide, int64_t *x, int64_t *y, int64_t *w, int64_t *h);

/*
 * The level to read for a wanted downsample: the largest downsample not above
 * `downsample`, with a relative tolerance so that inexact pyramid downsamples
 * (Aperio's 4.0001) still count as 4.
 */
int sf_slide_best_level(const sf_slide *slide, double downsample);

/*
 * How many threads a read (sf_slide_read_scaled) decodes tiles on: 1 reads
 * on the caller's thread. Defaults to the number of processors. Callers that
 * run several reads at once on their own threads set 1, so the threads do
 * not multiply (nor the memory of the strips read ahead).
 */
void sf_slide_set_read_threads(sf_slide *slide, int threads);

/*
 * The calling thread helps the slide's reads in progress (decoding their
 * tiles ahead of the threads that wait for them, reads started later
 * included) until done(data) returns TRUE. For callers that run several
 * reads at once on their own threads: a thread whose own reads are over
 * joins the ones still going instead of ending. done() is called with a
 * lock held, so it must be quick and must not read the slide; whoever makes
 * it TRUE calls sf_slide_wake_helpers() afterwards.
 */
void sf_slide_help_reads(sf_slide *slide, gboolean (*done)(void *data), void *data);
void sf_slide_wake_helpers(sf_slide *slide);

/* Receives output rows as they are produced: `rows` holds n_rows rows of
 * width*3 bytes (RGB, tightly packed) starting at output row first_row.
 * Return FALSE with error set to stop. */
typedef gboolean (*sf_row_sink)(const uint8_t *rows, int first_row, int n_rows, void *user_data,
                                GError **error);

/*
 * Reads the level-0 rectangle (x, y, w, h) and area-averages it to exactly
 * out_width x out_height RGB pixels, reading from `level` in horizontal
 * strips so memory stays bounded by a few strips whatever the rectangle's
 * size. Transparent pixels are composited onto the slide's background
 * colour. Rows reach `sink` in order, in batches. Where the backend's
 * decoder can reduce (JPEG tiles: DCT scaling) and the output is small
 * enough, the level is decoded reduced first (src/slide/resample.c says
 * when): the same bytes every time, close to the full decode's.
 * Errors: SF_EXIT_SLIDE_READ when OpenSlide fails, or what the sink set.
 */
gboolean sf_slide_read_scaled(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w,
                              int64_t h, int out_width, int out_height, sf_row_sink sink,
                              void *user_data, GError **error);

/* Convenience for small outputs (overviews): the whole result in one
 * g_malloc'ed RGB buffer of out_width*out_height*3 bytes. */
uint8_t *sf_slide_read_scaled_buffer(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w,
                                     int64_t h, int out_width, int out_height, GError **error);

G_END_DECLS
