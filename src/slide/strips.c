/*
 * Reading a level rectangle strip by strip, decoding ahead on every thread
 * the slide's reads have.
 *
 * Decoding tiles is most of the cost of a read and backends' reads are
 * thread-safe, so chunks are decoded by whichever thread of the slide's
 * crew is free: the read's caller decodes the chunk it needs next when
 * nobody has yet, and while another thread decodes it, decodes chunks of
 * this or other reads instead of waiting; helper threads decode ahead.
 * Chunks still come out in order. A chunk read ahead waits in a buffer of
 * its own, so memory is bounded twice: per read, at most `depth` chunks are
 * decoded and not yet released, and across the crew the chunks read ahead
 * (not yet asked for) hold at most AHEAD_BYTES_MAX.
 *
 * One lock, the crew's, guards every read's scheduling state; it is held
 * only to claim or hand over a chunk (a few per megabyte decoded).
 */
#include "slide/strips.h"

#include <math.h>
#include <string.h>

#include "slide/slide_internal.h"
#include "slidefrag/error.h"

/* Threads a read starts for itself, at most (sf_slide_set_read_threads). */
#define MAX_HELPERS 15
/*
 * Chunks read ahead of their callers, in bytes, across all reads of a
 * slide: a chunk (up to 48 MB, STRETCH) is always read ahead when nothing
 * else is. Two threads rarely hold more than a chunk or two ahead, and the
 * bound keeps many threads on many wide reads from holding more.
 */
#define AHEAD_BYTES_MAX ((size_t)64 << 20)
/* A strip of one row of tiles may hold this many budgets (16 MB each by
 * default): 48 MB, a row of 256-px tiles 65,535 px wide. */
#define STRETCH 3

struct sf_read_crew {
    GMutex lock;
    GCond changed; /* a chunk was claimed, read or released; a read ended */
    GQueue reads;  /* sf_strips in progress, oldest first */
    size_t ahead;  /* bytes of chunks read ahead of their callers */
    int threads;   /* threads in the crew now: callers and helpers */
    uint64_t chunks, helped;
};

typedef enum { SLOT_FREE, SLOT_READING, SLOT_READY } slot_state;

/* A chunk in flight: claimed, being read, or read and not yet released. */
typedef struct {
    slot_state state;
    gboolean ahead; /* read before the caller asked for it: counted in crew->ahead */
    uint8_t *buffer;
    sf_chunk chunk;
    GError *error;
} slot;

struct sf_strips {
    sf_slide *slide;
    sf_read_crew *crew;
    GThread *caller;
    int level, shift;
    gboolean rgb_reads; /* the backend decodes straight into RGB rows */
    double downsample;
    sf_blend blend;

    int64_t *row_edges, *col_edges;
    int n_strips, n_cols, n_chunks;
    int64_t max_height, max_width;
    int64_t pad_left, pad_right;
    uint8_t background[3];
    sf_chunk_prepare prepare;
    const void *prepare_data;
    size_t prepare_row_bytes;
    size_t stride;       /* bytes per buffer row */
    size_t buffer_bytes; /* one chunk's buffer */

    /* Scheduling, under crew->lock. Chunk k lives in slots[k % depth]. */
    slot *slots;
    int depth;
    int next_claim;   /* the next chunk nobody has claimed */
    int next_take;    /* chunks the caller has asked for */
    int released;     /* chunks the caller is done with */
    int reading;      /* claimed chunks being read */
    gboolean stop;    /* freed, or a read failed: claim no more */
    gboolean failed;  /* the caller has had the error: no more chunks */
    GPtrArray *spare; /* buffers of released chunks, for reuse */

    GThread **helpers;
    int n_helpers;
};

/* ---- Geometry ------------------------------------------------------------ */

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

/*
 * Strip height and chunk width for `cols` x `rows` pixels of `bpp` bytes,
 * aiming at `target` bytes a chunk: whole tile rows and columns when they
 * fit, so each tile is decoded once. A strip of one whole tile row may
 * stretch to `budget`: tiles then decode straight into the rows, where a
 * shorter strip would hold them back for the strip below and copy them out
 * twice (the widest fragment JPEG allows, 65,535 px, in 256-px tiles is a
 * 50 MB strip).
 */
static void choose_geometry(int64_t tile_w, int64_t tile_h, int64_t cols, int64_t rows, int bpp,
                            size_t target, size_t budget, int64_t max_chunked_rows,
                            int64_t *strip_h, int64_t *chunk_w)
{
    tile_w = MAX(tile_w, 1);
    tile_h = MAX(tile_h, 1);
    int64_t target_px = MAX((int64_t)(target / (size_t)bpp), 1);
    int64_t budget_px = MAX((int64_t)(budget / (size_t)bpp), 1);
    int64_t sh, cw;
    if (cols * tile_h <= target_px) {
        cw = cols;
        sh = target_px / cols;
        if (sh >= tile_h)
            sh -= sh % tile_h;
    } else if (cols * tile_h <= budget_px && tile_h > 1) {
        cw = cols;
        sh = tile_h;
    } else {
        sh = MIN(MIN(tile_h, max_chunked_rows), MAX(target_px / MIN(cols, tile_w), 1));
        sh = MAX(sh, 1);
        cw = MAX(target_px / sh, 1);
        if (cw >= tile_w)
            cw -= cw % tile_w;
    }
    *strip_h = MAX(MIN(sh, rows), 1);
    *chunk_w = MAX(MIN(cw, cols), 1);
}

/* ---- Compositing --------------------------------------------------------- */

void sf_blend_init(sf_blend *blend, const uint8_t bg[3])
{
    /* (x + 127) / 255 is x / 255 rounded to nearest for integers x >= 0. */
    for (int c = 0; c < 3; c++)
        for (int a = 0; a < 256; a++)
            blend->add[c][a] = (uint8_t)((bg[c] * (255 - a) + 127) / 255);
}

static inline uint32_t composite_one(uint32_t p, const sf_blend *blend)
{
    uint32_t a = p >> 24;
    if (G_LIKELY(a == 255))
        return p;
    /* Saturate: colour above alpha is invalid premultiplied data, but
     * some TIFF paths in OpenSlide produce it. */
    uint32_t r = MIN(((p >> 16) & 255) + blend->add[0][a], 255u);
    uint32_t g = MIN(((p >> 8) & 255) + blend->add[1][a], 255u);
    uint32_t b = MIN((p & 255) + blend->add[2][a], 255u);
    return 0xff000000u | r << 16 | g << 8 | b;
}

void sf_composite(uint32_t *pixels, size_t n, const sf_blend *blend)
{
    for (size_t i = 0; i < n; i++)
        pixels[i] = composite_one(pixels[i], blend);
}

void sf_composite_rgb(const uint32_t *argb, size_t n, const sf_blend *blend, uint8_t *rgb)
{
    for (size_t i = 0; i < n; i++, rgb += 3) {
        uint32_t p = composite_one(argb[i], blend);
        rgb[0] = (uint8_t)(p >> 16);
        rgb[1] = (uint8_t)(p >> 8);
        rgb[2] = (uint8_t)p;
    }
}

/* ---- Reading a chunk ----------------------------------------------------- */

/* A buffer for one chunk: its RGB rows (padded when planned so), after
 * them room for the ARGB a backend without RGB reads gives; NULL when out
 * of memory. */
static uint8_t *new_buffer(const sf_strips *strips)
{
    uint8_t *buffer = g_try_malloc(strips->buffer_bytes);
    if (!buffer)
        return NULL;
    /* The pads are background once and for all: reads never touch them. */
    for (int64_t y = 0; y < strips->max_height && (strips->pad_left || strips->pad_right); y++) {
        uint8_t *row = buffer + (size_t)y * strips->stride;
        int64_t width = strips->pad_left + strips->max_width + strips->pad_right;
        for (int64_t x = 0; x < width; x++)
            memcpy(row + 3 * x, strips->background, 3);
    }
    return buffer;
}

/* Where a chunk's ARGB (or prepared rows) start in its buffer: past the
 * RGB rows, aligned. */
static size_t argb_offset(const sf_strips *strips)
{
    size_t rgb = strips->stride * (size_t)strips->max_height;
    return (rgb + 15) & ~(size_t)15;
}

/* Reads chunk k into `s` (its buffer set); runs on any thread, unlocked. */
static void read_chunk(sf_strips *strips, int k, slot *s)
{
    int strip = k / strips->n_cols, col = k % strips->n_cols;
    sf_chunk *chunk = &s->chunk;
    chunk->c0 = strips->col_edges[col];
    chunk->c1 = strips->col_edges[col + 1];
    chunk->r0 = strips->row_edges[strip];
    chunk->r1 = strips->row_edges[strip + 1];
    chunk->ends_strip = col == strips->n_cols - 1;
    chunk->stride = strips->stride;
    uint8_t *rgb = s->buffer + 3 * strips->pad_left;
    chunk->rgb = rgb;

    int64_t w = chunk->c1 - chunk->c0, h = chunk->r1 - chunk->r0;
    gboolean more_below = chunk->r1 < strips->row_edges[strips->n_strips];
    chunk->prepared = NULL;
    if (strips->rgb_reads) {
        if (sf_slide_read_rgb(strips->slide, strips->level, strips->shift, chunk->c0, chunk->r0, w,
                              h, more_below, rgb, strips->stride, &s->error) &&
            strips->prepare) {
            /* Past the RGB rows, where ARGB would be without RGB reads. */
            void *out = s->buffer + argb_offset(strips);
            strips->prepare(chunk, out, strips->prepare_data);
            chunk->prepared = out;
        }
        return;
    }
    /* The ARGB lies past the RGB rows, so compositing never overwrites
     * pixels it has yet to read. */
    uint32_t *argb = (uint32_t *)(void *)(s->buffer + argb_offset(strips));
    if (!sf_slide_read_level(strips->slide, strips->level, chunk->c0, chunk->r0, w, h, more_below,
                             argb, &s->error))
        return;
    for (int64_t y = 0; y < h; y++)
        sf_composite_rgb(argb + (size_t)(y * w), (size_t)w, &strips->blend,
                         rgb + (size_t)y * strips->stride);
}

/* ---- Scheduling (all under crew->lock) ------------------------------------ */

/* The most chunks a read may have decoded and not released: one the caller
 * holds and one for every thread of the crew to read ahead. */
static int depth_now(const sf_strips *strips)
{
    return MIN(strips->depth, 1 + MAX(strips->crew->threads, 2));
}

/* Whether the next chunk of `strips` may be claimed now. */
static gboolean claimable(const sf_strips *strips)
{
    if (strips->stop || strips->next_claim >= strips->n_chunks)
        return FALSE;
    int k = strips->next_claim;
    if (k >= strips->released + depth_now(strips))
        return FALSE;
    if (k < strips->next_take) /* its caller waits for it */
        return TRUE;
    size_t ahead = strips->crew->ahead;
    return ahead == 0 || ahead + strips->buffer_bytes <= AHEAD_BYTES_MAX;
}

/* A read with a chunk to claim: `first` when it has one, else the oldest. */
static sf_strips *pick(sf_read_crew *crew, sf_strips *first)
{
    if (first && claimable(first))
        return first;
    for (GList *l = crew->reads.head; l; l = l->next)
        if (claimable(l->data))
            return l->data;
    return NULL;
}

/* Claims the next chunk of `strips`, reads it without the lock and hands it
 * over. */
static void claim_and_read(sf_read_crew *crew, sf_strips *strips)
{
    int k = strips->next_claim++;
    slot *s = &strips->slots[k % strips->depth];
    s->state = SLOT_READING;
    s->ahead = k >= strips->next_take;
    if (s->ahead)
        crew->ahead += strips->buffer_bytes;
    if (!s->buffer && strips->spare->len)
        s->buffer = g_ptr_array_steal_index_fast(strips->spare, strips->spare->len - 1);
    strips->reading++;
    gboolean helping = g_thread_self() != strips->caller;
    g_mutex_unlock(&crew->lock);

    if (!s->buffer)
        s->buffer = new_buffer(strips);
    if (s->buffer)
        read_chunk(strips, k, s);
    else
        g_set_error(&s->error, SF_ERROR, SF_EXIT_FAILURE,
                    "%s: out of memory: %zu MB for strips of level %d",
                    sf_slide_path(strips->slide), (strips->buffer_bytes + (1 << 20) - 1) >> 20,
                    strips->level);

    g_mutex_lock(&crew->lock);
    s->state = SLOT_READY;
    strips->reading--;
    if (s->error)
        strips->stop = TRUE;
    crew->chunks++;
    crew->helped += helping;
    g_cond_broadcast(&crew->changed);
}

/* Decodes for the crew until `done` (under the lock) says to stop. */
static void help(sf_read_crew *crew, sf_strips *own, gboolean (*done)(void *), void *data)
{
    g_mutex_lock(&crew->lock);
    crew->threads++;
    while (!done(data)) {
        sf_strips *job = pick(crew, own);
        if (job)
            claim_and_read(crew, job);
        else
            g_cond_wait(&crew->changed, &crew->lock);
    }
    crew->threads--;
    g_mutex_unlock(&crew->lock);
}

/* A read's own helper stops once every chunk of the read is claimed. */
static gboolean own_read_done(void *data)
{
    sf_strips *strips = data;
    return strips->stop || strips->next_claim >= strips->n_chunks;
}

static gpointer helper_main(gpointer data)
{
    sf_strips *strips = data;
    help(strips->crew, strips, own_read_done, strips);
    return NULL;
}

void sf_read_crew_help(sf_read_crew *crew, gboolean (*done)(void *data), void *data)
{
    help(crew, NULL, done, data);
}

void sf_read_crew_wake(sf_read_crew *crew)
{
    g_mutex_lock(&crew->lock);
    g_cond_broadcast(&crew->changed);
    g_mutex_unlock(&crew->lock);
}

sf_read_crew *sf_read_crew_new(void)
{
    sf_read_crew *crew = g_new0(sf_read_crew, 1);
    g_mutex_init(&crew->lock);
    g_cond_init(&crew->changed);
    g_queue_init(&crew->reads);
    return crew;
}

void sf_read_crew_free(sf_read_crew *crew)
{
    if (!crew)
        return;
    g_mutex_clear(&crew->lock);
    g_cond_clear(&crew->changed);
    g_queue_clear(&crew->reads);
    g_free(crew);
}

void sf_read_crew_counts(sf_read_crew *crew, uint64_t *chunks, uint64_t *helped)
{
    g_mutex_lock(&crew->lock);
    *chunks = crew->chunks;
    *helped = crew->helped;
    g_mutex_unlock(&crew->lock);
}

/* ---- Reads ---------------------------------------------------------------- */

sf_strips *sf_strips_new(sf_slide *slide, const sf_strips_plan *plan, GError **error)
{
    g_return_val_if_fail(plan->c0 < plan->c1 && plan->r0 < plan->r1, NULL);
    g_return_val_if_fail(
        plan->shift == 0 || sf_slide_rgb_shift_max(slide, plan->level) >= plan->shift, NULL);
    sf_strips *strips = g_new0(sf_strips, 1);
    strips->slide = slide;
    strips->crew = sf_slide_crew(slide);
    strips->caller = g_thread_self();
    strips->level = plan->level;
    strips->shift = plan->shift;
    strips->rgb_reads = sf_slide_rgb_shift_max(slide, plan->level) >= plan->shift;
    strips->downsample = sf_slide_level(slide, plan->level)->downsample;
    memcpy(strips->background, plan->background, 3);
    uint8_t bg[3];
    sf_slide_background(slide, bg);
    sf_blend_init(&strips->blend, bg);

    int64_t tile_w, tile_h;
    sf_slide_tile_size(slide, plan->level, &tile_w, &tile_h);
    tile_w >>= plan->shift;
    tile_h >>= plan->shift;
    /* Aim at a quarter of the budget: smaller reads keep memory and cache
     * misses down at no cost in speed, and more of them keep more threads
     * busy. Pieces stretch up to the whole budget to start where OpenSlide
     * reads exactly, or to keep a row of tiles whole. A backend without RGB
     * reads needs 4 bytes of ARGB a pixel besides the 3 of RGB. */
    int bpp = strips->rgb_reads ? 3 : 7;
    /* Prepared rows take room too (horizontal sums: 12 bytes an output
     * pixel, 6.6 a level pixel for an overview 1.83 times smaller). */
    if (strips->rgb_reads && plan->prepare)
        bpp += (int)((plan->prepare_row_bytes + (size_t)(plan->c1 - plan->c0) - 1) /
                     (size_t)(plan->c1 - plan->c0));
    int64_t strip_h, chunk_w;
    choose_geometry(tile_w, tile_h, plan->c1 - plan->c0, plan->r1 - plan->r0, bpp, plan->budget / 4,
                    plan->budget * STRETCH, plan->max_chunked_rows, &strip_h, &chunk_w);
    gboolean chunked = chunk_w < plan->c1 - plan->c0;
    int64_t max_h = MAX(4 * strip_h, strip_h), max_w = 4 * chunk_w;
    if (chunked)
        max_h = MAX(MIN(max_h, plan->max_chunked_rows), strip_h);
    gboolean exact = strips->rgb_reads || sf_slide_exact_origins(slide, plan->level);
    strips->n_strips = plan_edges(plan->r0, plan->r1, strip_h, max_h, strips->downsample, exact,
                                  &strips->row_edges);
    if (chunked) {
        strips->n_cols = plan_edges(plan->c0, plan->c1, chunk_w, max_w, strips->downsample, exact,
                                    &strips->col_edges);
    } else {
        strips->n_cols = 1;
        strips->col_edges = g_new(int64_t, 2);
        strips->col_edges[0] = plan->c0;
        strips->col_edges[1] = plan->c1;
    }
    strips->n_chunks = strips->n_strips * strips->n_cols;
    for (int i = 0; i < strips->n_strips; i++)
        strips->max_height =
            MAX(strips->max_height, strips->row_edges[i + 1] - strips->row_edges[i]);
    for (int i = 0; i < strips->n_cols; i++)
        strips->max_width = MAX(strips->max_width, strips->col_edges[i + 1] - strips->col_edges[i]);
    if (strips->n_cols == 1) {
        strips->pad_left = plan->pad_left;
        strips->pad_right = plan->pad_right;
        /* Prepared rows take the room ARGB takes without RGB reads; such
         * backends leave the work to the caller. */
        if (strips->rgb_reads && plan->prepare) {
            strips->prepare = plan->prepare;
            strips->prepare_data = plan->prepare_data;
            strips->prepare_row_bytes = plan->prepare_row_bytes;
        }
    }
    strips->stride = (size_t)(strips->pad_left + strips->max_width + strips->pad_right) * 3;
    strips->buffer_bytes = strips->stride * (size_t)strips->max_height;
    if (!strips->rgb_reads)
        strips->buffer_bytes =
            argb_offset(strips) + (size_t)strips->max_width * (size_t)strips->max_height * 4;
    else if (strips->prepare)
        strips->buffer_bytes =
            argb_offset(strips) + strips->prepare_row_bytes * (size_t)strips->max_height;

    /* One chunk held by the caller and one read ahead per thread. */
    int threads = CLAMP(sf_slide_read_threads(slide), 1, MAX_HELPERS + 1);
    strips->depth = MIN(strips->n_chunks, 1 + MAX((int)g_get_num_processors(), threads + 1));
    strips->slots = g_try_new0(slot, strips->depth);
    strips->spare = g_ptr_array_new_with_free_func(g_free);
    if (!strips->slots) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE, "%s: out of memory for strips of level %d",
                    sf_slide_path(slide), plan->level);
        g_ptr_array_free(strips->spare, TRUE);
        g_free(strips->row_edges);
        g_free(strips->col_edges);
        g_free(strips);
        return NULL;
    }

    sf_read_crew *crew = strips->crew;
    g_mutex_lock(&crew->lock);
    g_queue_push_tail(&crew->reads, strips);
    crew->threads++;                  /* the caller */
    g_cond_broadcast(&crew->changed); /* helpers waiting for work */
    g_mutex_unlock(&crew->lock);
    /*
     * Helpers of its own, started now. Should the system refuse a thread
     * (a process or memory limit), fewer help, or none: the caller reads
     * every chunk itself.
     */
    int helpers = MIN(threads - 1, strips->n_chunks - 1);
    if (helpers > 0) {
        strips->helpers = g_new0(GThread *, helpers);
        while (strips->n_helpers < helpers) {
            GThread *t = g_thread_try_new("read", helper_main, strips, NULL);
            if (!t)
                break;
            strips->helpers[strips->n_helpers++] = t;
        }
    }
    return strips;
}

void sf_strips_free(sf_strips *strips)
{
    if (!strips)
        return;
    sf_read_crew *crew = strips->crew;
    g_mutex_lock(&crew->lock);
    strips->stop = TRUE;
    g_queue_remove(&crew->reads, strips);
    while (strips->reading > 0)
        g_cond_wait(&crew->changed, &crew->lock);
    for (int i = 0; i < strips->depth; i++)
        if (strips->slots[i].ahead && strips->slots[i].state != SLOT_FREE)
            crew->ahead -= strips->buffer_bytes;
    crew->threads--;
    g_cond_broadcast(&crew->changed);
    g_mutex_unlock(&crew->lock);
    for (int i = 0; i < strips->n_helpers; i++)
        g_thread_join(strips->helpers[i]);
    g_free(strips->helpers);
    for (int i = 0; i < strips->depth; i++) {
        g_free(strips->slots[i].buffer);
        g_clear_error(&strips->slots[i].error);
    }
    g_ptr_array_free(strips->spare, TRUE);
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
    sf_read_crew *crew = strips->crew;
    if (strips->failed)
        return NULL;
    g_mutex_lock(&crew->lock);
    /* The chunk the caller was holding is done with: its buffer waits for
     * the next claim. */
    if (strips->next_take > strips->released) {
        slot *held = &strips->slots[strips->released % strips->depth];
        held->state = SLOT_FREE;
        g_ptr_array_add(strips->spare, g_steal_pointer(&held->buffer));
        strips->released++;
        g_cond_broadcast(&crew->changed);
    }
    if (strips->next_take >= strips->n_chunks) {
        g_mutex_unlock(&crew->lock);
        return NULL;
    }
    int k = strips->next_take++;
    slot *s = &strips->slots[k % strips->depth];
    while (!(k < strips->next_claim && s->state == SLOT_READY)) {
        /* Read it, or while another thread does, read something else. */
        sf_strips *job = strips->next_claim == k ? strips : pick(crew, strips);
        if (job)
            claim_and_read(crew, job);
        else
            g_cond_wait(&crew->changed, &crew->lock);
    }
    if (s->ahead) {
        crew->ahead -= strips->buffer_bytes;
        s->ahead = FALSE;
        g_cond_broadcast(&crew->changed); /* room to read ahead again */
    }
    GError *failure = g_steal_pointer(&s->error);
    if (failure)
        strips->failed = TRUE;
    g_mutex_unlock(&crew->lock);
    if (failure) {
        g_propagate_error(error, failure);
        return NULL;
    }
    return &s->chunk;
}
