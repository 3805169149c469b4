/* Private to src/slide and its tests: the OpenSlide handle and test hooks. */
#pragma once

#include <openslide.h>
#include <stddef.h>

#include "slide/tiff_direct.h"
#include "slidefrag/slide.h"

G_BEGIN_DECLS

openslide_t *sf_slide_handle(const sf_slide *slide);

/* The direct tile reader (tiff_direct.h) when the slide has one and direct
 * reads are on, else NULL: read through OpenSlide. */
sf_tiff_direct *sf_slide_direct(const sf_slide *slide);
/* Why the slide has no direct reader; NULL when it has one. */
const char *sf_slide_direct_unavailable(const sf_slide *slide);
/* On by default; off makes every read go through OpenSlide (for tests that
 * compare the two). */
void sf_slide_set_direct_reads(sf_slide *slide, gboolean on);

/* Threads that sf_slide_read_scaled() reads with (sf_slide_set_read_threads). */
int sf_slide_read_threads(const sf_slide *slide);

/* The tile size OpenSlide reports for a level; 0 when it does not say. */
void sf_slide_tile_size(const sf_slide *slide, int level, int64_t *tile_w, int64_t *tile_h);

/*
 * Whether reading w x h pixels of `level` is work the file can justify:
 * past a gigapixel, a read may cost at most 65,536 px per byte the file
 * stores for the level (missing tiles store none). Errors:
 * SF_EXIT_SLIDE_READ naming the level, its bytes and the read.
 */
gboolean sf_slide_check_read_cost(const sf_slide *slide, int level, int64_t w, int64_t h,
                                  GError **error);

/* Default for the most bytes of level pixels one openslide_read_region()
 * call returns; reads aim at a quarter of it. */
#define SF_STRIP_BYTES_DEFAULT ((size_t)16 << 20)

/*
 * sf_slide_read_scaled() with an explicit budget for the pixels read per
 * OpenSlide call (and for accumulators), so tests can force tiny strips and
 * narrow column chunks and check the result does not change.
 */
gboolean sf_slide_read_scaled_budget(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w,
                                     int64_t h, int out_width, int out_height, size_t budget,
                                     sf_row_sink sink, void *user_data, GError **error);

G_END_DECLS
