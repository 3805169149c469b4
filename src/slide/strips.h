/*
 * The pixels of a level rectangle, read through the slide's backend
 * (backend.h) in horizontal strips (split into column chunks when a strip
 * would be too wide), as opaque RGB rows: straight from the decoder when the
 * backend has RGB reads, else read as premultiplied ARGB and composited onto
 * the background.
 *
 * Every read of a slide belongs to the slide's crew: the threads reading it
 * (each read's caller, the helpers a read starts for itself, and threads
 * that join with sf_read_crew_help()) decode the chunks of every read in
 * progress, ahead of the callers that consume them, with memory bounded.
 * Private to src/slide.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slidefrag/slide.h"

G_BEGIN_DECLS

typedef struct sf_strips sf_strips;
typedef struct sf_read_crew sf_read_crew;

/* Level pixels [c0, c1) x [r0, r1), opaque RGB. */
typedef struct sf_chunk {
    int64_t c0, c1, r0, r1;
    const uint8_t *rgb;  /* pixel (c0, r0) */
    size_t stride;       /* bytes from a row to the next */
    gboolean ends_strip; /* the last chunk of rows [r0, r1) */
    /* What the plan's `prepare` made of the rows (prepare_row_bytes a
     * row), or NULL. */
    const void *prepared;
} sf_chunk;

/* Work on a chunk's rows done by the thread that read it, ahead of its
 * caller: `out` holds prepare_row_bytes for each of its rows. Called from
 * any thread, several at once. */
typedef void (*sf_chunk_prepare)(const sf_chunk *chunk, void *out, const void *data);

/* What to read and how the rows are laid out. */
typedef struct sf_strips_plan {
    int level;
    /* Read the level reduced by 2^shift (sf_slide_rgb_shift_max() must
     * allow it); the coordinates below are the reduced level's. */
    int shift;
    int64_t c0, r0, c1, r1;
    /* Each chunk holds at most about `budget` bytes. When a strip is too
     * wide for it, it is cut into column chunks and is then no taller than
     * `max_chunked_rows`, as callers keep state for every row of a strip
     * until its last chunk. */
    size_t budget;
    int64_t max_chunked_rows;
    /* With strips of whole rows (not cut into chunks): every row holds
     * pad_left pixels of `background` before c0 and pad_right after c1, so
     * that a chunk's rows, from chunk->rgb - 3 * pad_left, are whole rows
     * of the caller's output. */
    int64_t pad_left, pad_right;
    uint8_t background[3];
    /* With strips of whole rows: prepare(chunk, out, prepare_data) once a
     * chunk is read (NULL: nothing to prepare). */
    sf_chunk_prepare prepare;
    const void *prepare_data;
    size_t prepare_row_bytes;
} sf_strips_plan;

/* Plans the reads and starts the read's own helper threads (the slide's
 * read threads less the caller). NULL with SF_EXIT_FAILURE when out of
 * memory; the chunks' buffers, allocated as they are read, report it as
 * the read's error. */
sf_strips *sf_strips_new(sf_slide *slide, const sf_strips_plan *plan, GError **error);
/* Stops the read, waits for chunks being decoded and frees; the last chunk
 * returned becomes invalid. */
void sf_strips_free(sf_strips *strips);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_strips, sf_strips_free)

/* Row edges of the strips: n + 1 values from r0 to r1. */
const int64_t *sf_strips_row_edges(const sf_strips *strips, int *n);
/* The tallest strip. */
int64_t sf_strips_max_height(const sf_strips *strips);
/* Whether strips are cut into column chunks (no padded rows then). */
gboolean sf_strips_chunked(const sf_strips *strips);

/*
 * The next chunk in strip order, columns left to right within a strip; the
 * previous one is released. NULL at the end, or on error with `error` set
 * (SF_EXIT_SLIDE_READ naming the slide and the backend's cause). While the
 * chunk is decoded by another thread, the caller decodes chunks of this or
 * other reads of the slide.
 */
const sf_chunk *sf_strips_next(sf_strips *strips, GError **error);

/* ---- The crew ------------------------------------------------------------ */

sf_read_crew *sf_read_crew_new(void);
void sf_read_crew_free(sf_read_crew *crew);

/*
 * The calling thread decodes chunks of the reads in progress until
 * done(data) is TRUE, sleeping while none needs decoding. done() is called
 * with the crew's lock held; whoever makes it TRUE calls
 * sf_read_crew_wake() afterwards.
 */
void sf_read_crew_help(sf_read_crew *crew, gboolean (*done)(void *data), void *data);
void sf_read_crew_wake(sf_read_crew *crew);

/* Chunks decoded since the crew began, and of them how many by a thread
 * other than the one reading them: for tests, which check by counting that
 * work is shared. */
void sf_read_crew_counts(sf_read_crew *crew, uint64_t *chunks, uint64_t *helped);

/* blend.add[c][a]: what background channel c adds to a premultiplied
 * channel of alpha a, bg * (255 - a) / 255 rounded to nearest; a table saves
 * a division per pixel. */
typedef struct sf_blend {
    uint8_t add[3][256];
} sf_blend;

void sf_blend_init(sf_blend *blend, const uint8_t bg[3]);
/* Premultiplied ARGB -> opaque 0xffRRGGBB over the background, in place. */
void sf_composite(uint32_t *pixels, size_t n, const sf_blend *blend);
/* Premultiplied ARGB -> RGB over the background, n pixels. */
void sf_composite_rgb(const uint32_t *argb, size_t n, const sf_blend *blend, uint8_t *rgb);

G_END_DECLS
