/* Private to src/slide and its tests: what strips and resampling need of a
 * slide beyond the public header. */
#pragma once

#include <stddef.h>

#include "slide/backend.h"
#include "slidefrag/slide.h"

G_BEGIN_DECLS

/* Threads that sf_slide_read_scaled() reads with (sf_slide_set_read_threads). */
int sf_slide_read_threads(const sf_slide *slide);

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
 * sf_slide_read_scaled() with an explicit budget for the pixels read per
 * backend call (and for accumulators), so tests can force tiny strips and
 * narrow column chunks and check the result does not change.
 */
gboolean sf_slide_read_scaled_budget(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w,
                                     int64_t h, int out_width, int out_height, size_t budget,
                                     sf_row_sink sink, void *user_data, GError **error);

G_END_DECLS
