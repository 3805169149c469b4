/* Private to src/slide and its tests: what strips and resampling need of a
 * slide beyond the public header. */
#pragma once

#include <stddef.h>

#include "slide/backend.h"
#include "slide/strips.h"
#include "slidefrag/slide.h"

G_BEGIN_DECLS

/* Threads that sf_slide_read_scaled() reads with (sf_slide_set_read_threads). */
int sf_slide_read_threads(const sf_slide *slide);

/* The threads decoding the slide's reads (strips.h). */
sf_read_crew *sf_slide_crew(const sf_slide *slide);

/* Whether reduced reads let the decoder reduce first (libjpeg's DCT
 * scaling, where the backend offers it); on by default. Off, every read is
 * a full decode and an exact area average: for tests that check one
 * against the other. */
void sf_slide_set_decoder_scaling(sf_slide *slide, gboolean on);
gboolean sf_slide_decoder_scaling(const sf_slide *slide);

/* The backend's natural read unit for a level (tile or strip); 0 when it
 * has none. */
void sf_slide_tile_size(const sf_slide *slide, int level, int64_t *tile_w, int64_t *tile_h);

/* The backend's read (sf_slide_backend.read): level pixels, premultiplied
 * ARGB, transparent outside the level. Thread-safe. */
gboolean sf_slide_read_level(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w, int64_t h,
                             gboolean more_below, uint32_t *dest, GError **error);
/* Whether reads of the level are exact from any origin
 * (sf_slide_backend.exact_origins). */
gboolean sf_slide_exact_origins(const sf_slide *slide, int level);

/* The largest shift sf_slide_read_rgb() takes for the level, -1 when the
 * backend has no RGB reads of it (sf_slide_backend.rgb_shift_max). */
int sf_slide_rgb_shift_max(const sf_slide *slide, int level);
/* The backend's read_rgb: opaque RGB of the level reduced by 2^shift. */
gboolean sf_slide_read_rgb(sf_slide *slide, int level, int shift, int64_t x, int64_t y, int64_t w,
                           int64_t h, gboolean more_below, uint8_t *dest, size_t stride,
                           GError **error);

/*
 * Whether reading w x h pixels of `level` is work the file can justify:
 * past a gigapixel, a read may cost at most 65,536 px per byte the file
 * stores for the level (missing tiles store none). Errors:
 * SF_EXIT_SLIDE_READ naming the level, its bytes and the read.
 */
gboolean sf_slide_check_read_cost(const sf_slide *slide, int level, int64_t w, int64_t h,
                                  GError **error);

/* Default for the most bytes of level pixels one backend read returns;
 * reads aim at a quarter of it. */
#define SF_STRIP_BYTES_DEFAULT ((size_t)16 << 20)

/*
 * What sf_slide_read_scaled() with these arguments decodes: the level
 * reduced by 2^*shift by the decoder, and of it the rectangle
 * rect = {c0, r0, c1, r1} (empty when the read lies outside the level).
 * For the benchmark's floor, which decodes exactly those tiles.
 */
void sf_slide_read_plan(const sf_slide *slide, int level, int64_t x, int64_t y, int64_t w,
                        int64_t h, int out_width, int out_height, int *shift, int64_t rect[4]);

/*
 * sf_slide_read_scaled() with an explicit budget for the pixels read per
 * backend call (and for accumulators), so tests can force tiny strips and
 * narrow column chunks and check the result does not change.
 */
gboolean sf_slide_read_scaled_budget(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w,
                                     int64_t h, int out_width, int out_height, size_t budget,
                                     sf_row_sink sink, void *user_data, GError **error);

G_END_DECLS
