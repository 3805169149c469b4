/*
 * The pixels of a level rectangle, read through the slide's backend
 * (backend.h) in horizontal strips (split into column chunks when a strip
 * would be too wide), a few strips ahead on worker threads, and composited
 * onto the background.
 * Private to src/slide.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slidefrag/slide.h"

G_BEGIN_DECLS

typedef struct sf_strips sf_strips;

/* Level pixels [c0, c1) x [r0, r1), opaque 0xffRRGGBB, rows of c1 - c0. */
typedef struct sf_chunk {
    int64_t c0, c1, r0, r1;
    const uint32_t *pixels;
    gboolean ends_strip; /* the last chunk of rows [r0, r1) */
} sf_chunk;

/*
 * Plans the reads of level pixels [c0, c1) x [r0, r1) (within the level):
 * each chunk holds at most about `budget` bytes, a few are in flight. When a
 * strip is too wide for the budget it is cut into column chunks and is then
 * no taller than `max_chunked_rows`, as callers keep state for every row of
 * a strip until its last chunk. NULL with SF_EXIT_FAILURE when out of
 * memory.
 */
sf_strips *sf_strips_new(sf_slide *slide, int level, int64_t c0, int64_t r0, int64_t c1, int64_t r1,
                         size_t budget, int64_t max_chunked_rows, GError **error);
/* Stops the workers and frees; the last chunk returned becomes invalid. */
void sf_strips_free(sf_strips *strips);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_strips, sf_strips_free)

/* Row edges of the strips: n + 1 values from r0 to r1. */
const int64_t *sf_strips_row_edges(const sf_strips *strips, int *n);
/* The tallest strip. */
int64_t sf_strips_max_height(const sf_strips *strips);
/* Whether strips are cut into column chunks. */
gboolean sf_strips_chunked(const sf_strips *strips);

/*
 * The next chunk in strip order, columns left to right within a strip; the
 * previous one is released. NULL at the end, or on error with `error` set
 * (SF_EXIT_SLIDE_READ naming the slide and the backend's cause).
 */
const sf_chunk *sf_strips_next(sf_strips *strips, GError **error);

/* blend.add[c][a]: what background channel c adds to a premultiplied
 * channel of alpha a, bg * (255 - a) / 255 rounded to nearest; a table saves
 * a division per pixel. */
typedef struct sf_blend {
    uint8_t add[3][256];
} sf_blend;

void sf_blend_init(sf_blend *blend, const uint8_t bg[3]);
/* Premultiplied ARGB -> opaque 0xffRRGGBB over the background, in place. */
void sf_composite(uint32_t *pixels, size_t n, const sf_blend *blend);

G_END_DECLS
