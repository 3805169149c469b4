/*
 * Reading a level rectangle strip by strip. Decoding tiles is most of the
 * cost of a scaled read, and backends' reads are thread-safe, so worker
 * threads read the next chunks while the caller consumes the current one;
 * chunks still come out in order and memory stays a few chunks.
 */
#include "slide/strips.h"

#include <math.h>
#include <string.h>

#include "slide/slide_internal.h"
#include "slidefrag/error.h"

#define MAX_THREADS 2

typedef enum { SLOT_FREE, SLOT_READING, SLOT_READY } slot_state;

typedef struct {
    sf_chunk chunk;
    uint32_t *pixels;
    slot_state state;
    GError *error;
} slot;

struct sf_strips {
    sf_slide *slide;
    int level;
    double downsample;
    sf_blend blend;

    int64_t *row_edges, *col_edges;
    int n_strips, n_cols, n_chunks;
    int64_t max_height;

    slot *slots;
    int depth;
    GThreadPool *pool; /* NULL: read on the caller's thread */
    GMutex lock;
    GCond ready;
    int next_submit, next_take;
    gboolean cancelled;
};

/* Whether OpenSlide reads from level pixel v exactly: it divides our level-0
 * origin by the downsample, and cairo resamples the tiles (blurring them, at
 * twice the cost) unless the quotient is an integer to within its 1/256
 * fixed point. With a non-integer downsample (16.0016) most pixels miss. */
static gboolean clean_origin(double downsample, int64_t v)
{
    double back = (double)llround((double)v * downsample) / downsample;
    return fabs(back - (double)v) < 1.0 / 1024;
}

/*
 * Edges of pieces of about `step` from lo to hi: on multiples of `step`
 * (absolute, so pieces start on tile edges) when OpenSlide can start a read
 * there exactly, else on the nearest pixel it can, keeping pieces between a
 * quarter step and `max_step` long; failing that, on the multiple anyway.
 * With `any_origin` (a backend exact everywhere) always on the multiples.
 * Returns the count of pieces; g_free *edges.
 */
static int plan_edges(int64_t lo, int64_t hi, int64_t step, int64_t max_step, double downsample,
                      gboolean any_origin, int64_t **edges)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_array_append_val(out, lo);
    for (int64_t v = lo; v < hi;) {
        int64_t q = v >= 0 ? v / step : -((-v + step - 1) / step);
        int64_t edge = MIN((q + 1) * step, hi);
        if (edge < hi && !any_origin && !clean_origin(downsample, edge)) {
            int64_t least = v + MAX(step / 4, 1), most = MIN(v + max_step, hi);
            for (int64_t d = 1; edge - d >= least || edge + d <= most; d++) {
                if (edge - d >= least && clean_origin(downsample, edge - d)) {
                    edge -= d;
                    break;
                }
                if (edge + d <= most && (edge + d == hi || clean_origin(downsample, edge + d))) {
                    edge += d;
                    break;
                }
            }
        }
        g_array_append_val(out, edge);
        v = edge;
    }
    int n = (int)out->len - 1;
    *edges = (int64_t *)(void *)g_array_free(out, FALSE);
    return n;
}

/* Strip height and chunk width for `cols` x `rows` level pixels: whole tile
 * rows and columns when they fit, so each tile is decoded once. */
static void choose_geometry(const sf_slide *slide, int level, int64_t cols, int64_t rows,
                            size_t budget, int64_t max_chunked_rows, int64_t *strip_h,
                            int64_t *chunk_w)
{
    int64_t tile_w, tile_h;
    sf_slide_tile_size(slide, level, &tile_w, &tile_h);
    tile_w = tile_w > 0 ? tile_w : 1;
    tile_h = tile_h > 0 ? tile_h : 1;
    int64_t budget_px = MAX((int64_t)(budget / 4), 1);
    int64_t sh, cw;
    if (cols * tile_h <= budget_px) {
        cw = cols;
        sh = budget_px / cols;
        if (sh >= tile_h)
            sh -= sh % tile_h;
    } else {
        sh = MIN(MIN(tile_h, max_chunked_rows), MAX(budget_px / MIN(cols, tile_w), 1));
        sh = MAX(sh, 1);
        cw = MAX(budget_px / sh, 1);
        if (cw >= tile_w)
            cw -= cw % tile_w;
    }
    *strip_h = MAX(MIN(sh, rows), 1);
    *chunk_w = MAX(MIN(cw, cols), 1);
}

void sf_blend_init(sf_blend *blend, const uint8_t bg[3])
{
    /* (x + 127) / 255 is x / 255 rounded to nearest for integers x >= 0. */
    for (int c = 0; c < 3; c++)
        for (int a = 0; a < 256; a++)
            blend->add[c][a] = (uint8_t)((bg[c] * (255 - a) + 127) / 255);
}

void sf_composite(uint32_t *pixels, size_t n, const sf_blend *blend)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t p = pixels[i];
        uint32_t a = p >> 24;
        if (G_LIKELY(a == 255))
            continue;
        /* Saturate: colour above alpha is invalid premultiplied data, but
         * some TIFF paths in OpenSlide produce it. */
        uint32_t r = MIN(((p >> 16) & 255) + blend->add[0][a], 255u);
        uint32_t g = MIN(((p >> 8) & 255) + blend->add[1][a], 255u);
        uint32_t b = MIN((p & 255) + blend->add[2][a], 255u);
        pixels[i] = 0xff000000u | r << 16 | g << 8 | b;
    }
}

/* Reads chunk k into `s`, composited; runs on any thread. */
static void read_chunk(sf_strips *strips, int k, slot *s)
{
    int strip = k / strips->n_cols, col = k % strips->n_cols;
    sf_chunk *chunk = &s->chunk;
    chunk->c0 = strips->col_edges[col];
    chunk->c1 = strips->col_edges[col + 1];
    chunk->r0 = strips->row_edges[strip];
    chunk->r1 = strips->row_edges[strip + 1];
    chunk->ends_strip = col == strips->n_cols - 1;
    chunk->pixels = s->pixels;

    int64_t w = chunk->c1 - chunk->c0, h = chunk->r1 - chunk->r0;
    gboolean more_below = chunk->r1 < strips->row_edges[strips->n_strips];
    if (!sf_slide_read_level(strips->slide, strips->level, chunk->c0, chunk->r0, w, h, more_below,
                             s->pixels, &s->error))
        return;
    sf_composite(s->pixels, (size_t)w * (size_t)h, &strips->blend);
}

static void worker(gpointer data, gpointer user_data)
{
    sf_strips *strips = user_data;
    int k = GPOINTER_TO_INT(data) - 1;
    slot *s = &strips->slots[k % strips->depth];
    g_mutex_lock(&strips->lock);
    gboolean cancelled = strips->cancelled;
    g_mutex_unlock(&strips->lock);
    if (!cancelled)
        read_chunk(strips, k, s);
    g_mutex_lock(&strips->lock);
    s->state = SLOT_READY;
    g_cond_broadcast(&strips->ready);
    g_mutex_unlock(&strips->lock);
}

/* Queues the next chunk into its slot, which the caller has released. */
static void submit_next(sf_strips *strips)
{
    if (strips->next_submit >= strips->n_chunks)
        return;
    int k = strips->next_submit++;
    strips->slots[k % strips->depth].state = SLOT_READING;
    g_thread_pool_push(strips->pool, GINT_TO_POINTER(k + 1), NULL);
}

/*
 * The readers' own threads, started now. A shared pool would start them at
 * the first push and, when the system refuses a thread (a process or memory
 * limit), keep the reads queued for a thread that never comes: the caller
 * would wait forever. With none started, NULL: the caller reads itself.
 */
static GThreadPool *start_pool(sf_strips *strips)
{
    g_autoptr(GError) error = NULL;
    GThreadPool *pool = g_thread_pool_new(worker, strips, strips->depth - 1, TRUE, &error);
    if (pool && g_thread_pool_get_num_threads(pool) == 0) {
        g_thread_pool_free(pool, TRUE, TRUE);
        pool = NULL;
    }
    return pool;
}

sf_strips *sf_strips_new(sf_slide *slide, int level, int64_t c0, int64_t r0, int64_t c1, int64_t r1,
                         size_t budget, int64_t max_chunked_rows, GError **error)
{
    g_return_val_if_fail(c0 < c1 && r0 < r1, NULL);
    sf_strips *strips = g_new0(sf_strips, 1);
    strips->slide = slide;
    strips->level = level;
    strips->downsample = sf_slide_level(slide, level)->downsample;
    uint8_t bg[3];
    sf_slide_background(slide, bg);
    sf_blend_init(&strips->blend, bg);

    /* The caller holds one chunk while each worker fills another. */
    int threads = CLAMP(sf_slide_read_threads(slide), 1, MAX_THREADS);
    int depth = threads > 1 ? threads + 1 : 1;
    int64_t strip_h, chunk_w;
    /* Aim at a quarter of the budget: smaller reads keep memory and cache
     * misses down at no cost in speed. Pieces stretch up to the whole budget
     * to start where OpenSlide reads exactly. */
    choose_geometry(slide, level, c1 - c0, r1 - r0, budget / 4, max_chunked_rows, &strip_h,
                    &chunk_w);
    gboolean chunked = chunk_w < c1 - c0;
    int64_t max_h = 4 * strip_h, max_w = 4 * chunk_w;
    if (chunked)
        max_h = MAX(MIN(max_h, max_chunked_rows), strip_h);
    gboolean exact = sf_slide_exact_origins(slide, level);
    strips->n_strips =
        plan_edges(r0, r1, strip_h, max_h, strips->downsample, exact, &strips->row_edges);
    strips->n_cols =
        plan_edges(c0, c1, chunk_w, max_w, strips->downsample, exact, &strips->col_edges);
    strips->n_chunks = strips->n_strips * strips->n_cols;
    for (int i = 0; i < strips->n_strips; i++)
        strips->max_height =
            MAX(strips->max_height, strips->row_edges[i + 1] - strips->row_edges[i]);
    int64_t max_width = 0;
    for (int i = 0; i < strips->n_cols; i++)
        max_width = MAX(max_width, strips->col_edges[i + 1] - strips->col_edges[i]);

    strips->depth = strips->n_chunks > 1 ? MIN(depth, strips->n_chunks) : 1;
    strips->slots = g_new0(slot, strips->depth);
    g_mutex_init(&strips->lock);
    g_cond_init(&strips->ready);
    /* Zeroed once (fresh pages from the system for strips this size, so
     * it costs nothing): every read fills its chunk, and should a reader
     * ever leave pixels out, they are transparent, never stale heap. Out
     * of memory is an error to report, not an abort. */
    size_t slot_pixels = (size_t)strips->max_height * (size_t)max_width;
    for (int i = 0; i < strips->depth; i++) {
        strips->slots[i].pixels = g_try_malloc0_n(slot_pixels, sizeof(uint32_t));
        if (!strips->slots[i].pixels) {
            g_set_error(error, SF_ERROR, SF_EXIT_FAILURE,
                        "%s: out of memory: %zu MB for strips of level %d", sf_slide_path(slide),
                        slot_pixels * 4 * strips->depth >> 20, level);
            sf_strips_free(strips);
            return NULL;
        }
    }
    if (strips->depth > 1)
        strips->pool = start_pool(strips);
    if (strips->pool) {
        g_mutex_lock(&strips->lock);
        for (int i = 0; i < strips->depth; i++)
            submit_next(strips);
        g_mutex_unlock(&strips->lock);
    }
    return strips;
}

void sf_strips_free(sf_strips *strips)
{
    if (!strips)
        return;
    if (strips->pool) {
        g_mutex_lock(&strips->lock);
        strips->cancelled = TRUE;
        g_mutex_unlock(&strips->lock);
        /* Drops queued reads and waits for running ones. */
        g_thread_pool_free(strips->pool, TRUE, TRUE);
    }
    for (int i = 0; i < strips->depth; i++) {
        g_free(strips->slots[i].pixels);
        g_clear_error(&strips->slots[i].error);
    }
    g_mutex_clear(&strips->lock);
    g_cond_clear(&strips->ready);
    g_free(strips->slots);
    g_free(strips->row_edges);
    g_free(strips->col_edges);
    g_free(strips);
}

const int64_t *sf_strips_row_edges(const sf_strips *strips, int *n)
{
    *n = strips->n_strips;
    return strips->row_edges;
}

int64_t sf_strips_max_height(const sf_strips *strips)
{
    return strips->max_height;
}

gboolean sf_strips_chunked(const sf_strips *strips)
{
    return strips->n_cols > 1;
}

const sf_chunk *sf_strips_next(sf_strips *strips, GError **error)
{
    if (strips->next_take >= strips->n_chunks)
        return NULL;
    int k = strips->next_take++;
    slot *s = &strips->slots[k % strips->depth];
    if (!strips->pool) {
        read_chunk(strips, k, s);
    } else {
        g_mutex_lock(&strips->lock);
        /* The slot the caller just finished with can take a new read. */
        if (k > 0 && strips->slots[(k - 1) % strips->depth].state == SLOT_READY) {
            strips->slots[(k - 1) % strips->depth].state = SLOT_FREE;
            submit_next(strips);
        }
        while (s->state != SLOT_READY)
            g_cond_wait(&strips->ready, &strips->lock);
        g_mutex_unlock(&strips->lock);
    }
    if (s->error) {
        g_propagate_error(error, g_steal_pointer(&s->error));
        strips->next_take = strips->n_chunks;
        return NULL;
    }
    return &s->chunk;
}
