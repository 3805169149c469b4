/* Private to src/slide and its tests: the OpenSlide handle and test hooks. */
#pragma once

#include <openslide.h>
#include <stddef.h>

#include "slidefrag/slide.h"

G_BEGIN_DECLS

openslide_t *sf_slide_handle(const sf_slide *slide);

/* The tile size OpenSlide reports for a level; 0 when it does not say. */
void sf_slide_tile_size(const sf_slide *slide, int level, int64_t *tile_w, int64_t *tile_h);

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
