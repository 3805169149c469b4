/*
 * Area-averaging a slide region to an exact output size with bounded memory.
 *
 * Output pixel (i, j) is the mean of the level's pixels over the level-space
 * footprint of its share of the level-0 rectangle, each level pixel weighted
 * by the fraction of it that the footprint covers (so non-integer ratios are
 * exact, like OpenCV's INTER_AREA). Weights are fixed-point integers summing
 * to exactly 2^WEIGHT_BITS per output pixel and accumulate in integers, so
 * the result does not depend on how the level is cut into strips and chunks,
 * nor on how many threads read them.
 *
 * When the output is at least twice smaller than the level (both ways) and
 * the backend's decoder can reduce (libjpeg's DCT scaling: 1/2, 1/4, 1/8),
 * the level is read reduced by the largest of those factors that keeps it
 * no smaller than the output, and the rest is averaged as above. That skips
 * most of the decoder's work (the inverse DCT, upsampling and colour
 * conversion of pixels that would only be averaged away) for a result
 * within a fraction of a level of the full one: 44 to 60 dB PSNR on real
 * H&E tissue (tests/test_resample.c checks 40 dB). The choice depends only
 * on the slide and the geometry, and the reduced decode is integer
 * arithmetic, so a read gives the same bytes every time, whatever the
 * threads and strips (the overview that detection sees included).
 *
 * A 1:1 read (the output has the level's or the reduced level's own pixels)
 * averages nothing: strips are planned as whole output rows, background
 * margins included, the backend decodes into them and they go to the sink
 * as they are.
 *
 * Otherwise the level comes in RGB strips (strips.c). Each level row is
 * reduced horizontally and added, with its vertical weights, into the
 * accumulators of the one or two output rows it touches; rows go out as soon
 * as complete. Level pixels outside the level are never read: the weight
 * that falls on them is filled with the background colour when a row is
 * finished. Ratios of exactly 2, 4 or 8 on level pixel edges sum without
 * multiplying (the same bytes: the weights are equal powers of two).
 */
#include "slide/slide_internal.h"
#include "slide/strips.h"

#include <math.h>
#include <string.h>

#include "slidefrag/error.h"

#define WEIGHT_BITS 22
#define WEIGHT_ONE ((uint32_t)1 << WEIGHT_BITS)
/* 255 * 2^22 < 2^30 fits a uint32 horizontal sum; 255 * 2^44 fits a uint64. */
#define WEIGHT_ONE2 ((uint64_t)1 << (2 * WEIGHT_BITS))

/* How output pixels along one axis draw on level pixels. */
typedef struct {
    int n;          /* output pixels */
    int64_t *first; /* first level pixel of each output pixel */
    int *count;     /* level pixels it draws on */
    size_t *offset; /* its weights in `weights` */
    uint32_t *weights;
    uint64_t *inside; /* total weight on pixels within the level */
    int64_t lo, hi;   /* level pixels [lo, hi) within the level that are used */
    double scale;     /* level pixels per output pixel */
    gboolean copy;    /* one level pixel per output pixel, weight 1 */
    int box;          /* 2, 4 or 8 level pixels per output pixel, equal weights, all in
                         the level; else 0 */
} axis_map;

static void axis_map_clear(axis_map *map)
{
    g_free(map->first);
    g_free(map->count);
    g_free(map->offset);
    g_free(map->weights);
    g_free(map->inside);
}

/* Coordinates within a rounding error of an integer are that integer, so
 * exact ratios do not grow slivers of weight on a neighbouring pixel. */
static double snap(double v)
{
    double r = nearbyint(v);
    return fabs(v - r) < 1e-9 ? r : v;
}

/* Fixed-point weights of level pixels k in [k0, k0 + n) for the footprint
 * [a, b): their sum is exactly WEIGHT_ONE, the rounding put on the largest. */
static void quantize_weights(double a, double b, int64_t k0, int n, uint32_t *w)
{
    const double scale = WEIGHT_ONE / (b - a);
    int64_t sum = 0;
    int largest = 0;
    for (int t = 0; t < n; t++) {
        double lo = MAX(a, (double)(k0 + t)), hi = MIN(b, (double)(k0 + t + 1));
        double v = hi > lo ? (hi - lo) * scale : 0;
        w[t] = (uint32_t)MIN(llround(v), (long long)WEIGHT_ONE);
        sum += w[t];
        if (w[t] > w[largest])
            largest = t;
    }
    w[largest] = (uint32_t)((int64_t)w[largest] + (int64_t)WEIGHT_ONE - sum);
}

/*
 * Maps n output pixels onto level coordinates [l0, l1) of a level `extent`
 * pixels long. When n equals the number of level pixels the footprint spans
 * (rounded: a fragment of a 1001-px region at downsample 2 is 501 px), the
 * output is a plain copy of those pixels from the nearest one: no half-pixel
 * blur from a level-0 origin that does not fall on a level pixel edge.
 */
static gboolean axis_map_init(axis_map *map, double l0, double l1, int n, int64_t extent)
{
    memset(map, 0, sizeof *map);
    map->n = n;
    map->scale = (l1 - l0) / n;
    map->first = g_try_new(int64_t, n);
    map->count = g_try_new(int, n);
    map->offset = g_try_new(size_t, n);
    map->inside = g_try_new(uint64_t, n);
    int64_t start = llround(l0);
    map->copy = llround(l1 - l0) == n;
    size_t cap = map->copy ? 1 : (size_t)n * ((size_t)ceil((l1 - l0) / n) + 2);
    map->weights = g_try_new(uint32_t, cap);
    if (!map->first || !map->count || !map->offset || !map->inside || !map->weights)
        return FALSE;
    if (map->copy) {
        map->weights[0] = WEIGHT_ONE;
        for (int j = 0; j < n; j++) {
            map->first[j] = start + j;
            map->count[j] = 1;
            map->offset[j] = 0;
        }
    } else {
        size_t used = 0;
        for (int j = 0; j < n; j++) {
            double a = snap(l0 + (l1 - l0) * j / n);
            double b = snap(l0 + (l1 - l0) * (j + 1) / n);
            int64_t k0 = (int64_t)floor(a);
            int count = (int)((int64_t)ceil(b) - k0);
            uint32_t *w = map->weights + used;
            quantize_weights(a, b, k0, count, w);
            /* Drop pixels whose share rounded to nothing. */
            int skip = 0;
            while (count > 1 && w[skip] == 0) {
                skip++;
                count--;
            }
            while (count > 1 && w[skip + count - 1] == 0)
                count--;
            memmove(w, w + skip, count * sizeof *w);
            map->first[j] = k0 + skip;
            map->count[j] = count;
            map->offset[j] = used;
            used += count;
        }
    }
    map->lo = extent;
    map->hi = 0;
    for (int j = 0; j < n; j++) {
        const uint32_t *w = map->weights + map->offset[j];
        uint64_t inside = 0;
        for (int t = 0; t < map->count[j]; t++) {
            int64_t k = map->first[j] + t;
            if (k >= 0 && k < extent && w[t]) {
                inside += w[t];
                map->lo = MIN(map->lo, k);
                map->hi = MAX(map->hi, k + 1);
            }
        }
        map->inside[j] = inside;
    }
    if (map->lo >= map->hi)
        map->lo = map->hi = 0;
    /* Whole boxes of k pixels, each weighing WEIGHT_ONE / k exactly. */
    for (int k = 2; k <= 8 && !map->copy; k *= 2) {
        gboolean box = map->first[0] >= 0 && map->first[0] + (int64_t)n * k <= extent;
        for (int j = 0; box && j < n; j++) {
            box = map->first[j] == map->first[0] + (int64_t)j * k && map->count[j] == k;
            for (int t = 0; box && t < k; t++)
                box = map->weights[map->offset[j] + t] == WEIGHT_ONE / k;
        }
        if (box)
            map->box = k;
    }
    return TRUE;
}

/* Output pixels [*j0, *j1) that draw on level pixels in [c0, c1). */
static void axis_span(const axis_map *map, int64_t c0, int64_t c1, int *j0, int *j1)
{
    int lo = 0;
    while (lo < map->n && map->first[lo] + map->count[lo] <= c0)
        lo++;
    int hi = lo;
    while (hi < map->n && map->first[hi] < c1)
        hi++;
    *j0 = lo;
    *j1 = hi;
}

/* ---- Row delivery ------------------------------------------------------- */

typedef struct {
    uint8_t *rows;
    int capacity, n_rows, first_row;
    size_t row_bytes;
    sf_row_sink sink;
    void *user_data;
} row_batch;

static gboolean batch_flush(row_batch *batch, GError **error)
{
    if (batch->n_rows == 0)
        return TRUE;
    gboolean ok =
        batch->sink(batch->rows, batch->first_row, batch->n_rows, batch->user_data, error);
    batch->first_row += batch->n_rows;
    batch->n_rows = 0;
    return ok;
}

/* Room for one more row, delivering the full batch first if need be. */
static uint8_t *batch_next(row_batch *batch, GError **error)
{
    if (batch->n_rows == batch->capacity && !batch_flush(batch, error))
        return NULL;
    return batch->rows + (size_t)batch->n_rows++ * batch->row_bytes;
}

static void fill_background(uint8_t *rgb, size_t n_pixels, const uint8_t bg[3])
{
    for (size_t i = 0; i < n_pixels; i++)
        memcpy(rgb + 3 * i, bg, 3);
}

static gboolean background_rows(row_batch *batch, int n, const uint8_t bg[3], GError **error)
{
    for (int i = 0; i < n; i++) {
        uint8_t *row = batch_next(batch, error);
        if (!row)
            return FALSE;
        fill_background(row, batch->row_bytes / 3, bg);
    }
    return TRUE;
}

/* Hands `n` whole output rows to the sink as they are, after any rows the
 * batch holds. */
static gboolean batch_pass(row_batch *batch, const uint8_t *rows, int n, GError **error)
{
    if (!batch_flush(batch, error))
        return FALSE;
    gboolean ok = batch->sink(rows, batch->first_row, n, batch->user_data, error);
    batch->first_row += n;
    return ok;
}

/* ---- Reading ------------------------------------------------------------ */

/* Reads need memory in proportion to their width and the strip budget;
 * without it they fail, rather than abort the process. */
static gboolean out_of_memory(const sf_slide *slide, size_t bytes, GError **error)
{
    if (bytes)
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE, "%s: out of memory: %zu MB for a read",
                    sf_slide_path(slide), (bytes + (1 << 20) - 1) >> 20);
    else
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE, "%s: out of memory for a read",
                    sf_slide_path(slide));
    return FALSE;
}

/* What strips of level rectangle [C0, C1) x [R0, R1) read. */
static sf_strips_plan plan_of(int level, int shift, int64_t C0, int64_t R0, int64_t C1, int64_t R1,
                              size_t budget, int64_t max_rows)
{
    return (sf_strips_plan){.level = level,
                            .shift = shift,
                            .c0 = C0,
                            .r0 = R0,
                            .c1 = C1,
                            .r1 = R1,
                            .budget = budget,
                            .max_chunked_rows = max_rows};
}

/* Both axes copy level pixels: nothing to average. */
static gboolean read_copy(sf_slide *slide, int level, int shift, const uint8_t bg[3],
                          const axis_map *mx, const axis_map *my, size_t budget, row_batch *batch,
                          GError **error)
{
    const int out_w = mx->n, out_h = my->n;
    const int64_t sx = mx->first[0], sy = my->first[0];
    const int64_t C0 = mx->lo, C1 = mx->hi, R0 = my->lo, R1 = my->hi;
    int64_t max_rows = MAX((int64_t)(budget / 2 / batch->row_bytes), 1);
    g_autoptr(sf_strips) strips = NULL;
    if (C0 < C1 && R0 < R1) {
        /* Rows padded with the background outside the level: whole output
         * rows, which go to the sink straight from the decoder. */
        sf_strips_plan plan = plan_of(level, shift, C0, R0, C1, R1, budget, max_rows);
        plan.pad_left = C0 - sx;
        plan.pad_right = sx + out_w - C1;
        memcpy(plan.background, bg, 3);
        if (!(strips = sf_strips_new(slide, &plan, error)))
            return FALSE;
    }
    /* Chunks of a strip fill the same rows side by side, so chunked strips
     * are gathered in the batch (they are short). */
    gboolean chunked = strips && sf_strips_chunked(strips);
    batch->capacity = (int)MIN(chunked ? sf_strips_max_height(strips) : max_rows, out_h);
    g_autofree uint8_t *rows = g_try_malloc((size_t)batch->capacity * batch->row_bytes);
    if (!rows)
        return out_of_memory(slide, (size_t)batch->capacity * batch->row_bytes, error);
    batch->rows = rows;

    GError *local = NULL;
    gboolean ok = background_rows(batch, (int)(strips ? R0 - sy : out_h), bg, error) &&
                  batch_flush(batch, error);
    const sf_chunk *chunk;
    while (ok && strips && (chunk = sf_strips_next(strips, &local))) {
        int64_t cw = chunk->c1 - chunk->c0;
        if (!chunked) {
            ok = batch_pass(batch, chunk->rgb - 3 * (C0 - sx), (int)(chunk->r1 - chunk->r0), error);
            continue;
        }
        for (int64_t r = chunk->r0; r < chunk->r1; r++) {
            uint8_t *row = rows + (size_t)(r - chunk->r0) * batch->row_bytes;
            if (chunk->c0 == C0) {
                fill_background(row, C0 - sx, bg);
                fill_background(row + 3 * (C1 - sx), out_w - (C1 - sx), bg);
            }
            memcpy(row + 3 * (chunk->c0 - sx), chunk->rgb + (size_t)(r - chunk->r0) * chunk->stride,
                   (size_t)cw * 3);
        }
        batch->n_rows = (int)(chunk->r1 - chunk->r0);
        if (chunk->ends_strip)
            ok = batch_flush(batch, error);
    }
    if (local) {
        g_propagate_error(error, local);
        ok = FALSE;
    }
    if (strips)
        ok = ok && background_rows(batch, (int)(sy + out_h - R1), bg, error);
    ok = ok && batch_flush(batch, error);
    batch->rows = NULL;
    return ok;
}

/* Accumulators of the output rows a strip can touch: a ring, output row i
 * in slot i % capacity, rows [next, next + capacity) open. */
typedef struct {
    uint64_t *acc; /* capacity rows of out_w * 3 sums */
    int capacity;
    int next;          /* first output row not yet emitted */
    size_t row_values; /* out_w * 3 */
} window;

static uint64_t *window_row(const window *win, int i)
{
    g_assert(i >= win->next && i - win->next < win->capacity);
    return win->acc + (size_t)(i % win->capacity) * win->row_values;
}

/* Output row i is final once level rows below end_row(i) are all read. */
static int64_t end_row(const axis_map *my, int i)
{
    return CLAMP(my->first[i] + my->count[i], my->lo, my->hi);
}

/* Emits every output row that needs no level row at or after `done`. */
static gboolean emit_rows(const uint8_t bg[3], const axis_map *mx, const axis_map *my, window *win,
                          int64_t done, row_batch *batch, GError **error)
{
    const int out_w = mx->n;
    while (win->next < my->n && end_row(my, win->next) <= done) {
        int i = win->next;
        uint8_t *row = batch_next(batch, error);
        if (!row)
            return FALSE;
        uint64_t *acc = window_row(win, i);
        if (my->inside[i] == 0 || mx->lo >= mx->hi) {
            fill_background(row, out_w, bg); /* nothing of the level under it */
        } else if (my->inside[i] == WEIGHT_ONE && mx->box) {
            /* All inside: no background share to add. */
            for (size_t v = 0; v < win->row_values; v++)
                row[v] = (uint8_t)((acc[v] + (WEIGHT_ONE2 >> 1)) >> (2 * WEIGHT_BITS));
        } else {
            for (int j = 0; j < out_w; j++) {
                uint64_t outside = WEIGHT_ONE2 - my->inside[i] * mx->inside[j];
                for (int c = 0; c < 3; c++) {
                    uint64_t v = acc[3 * j + c] + bg[c] * outside + (WEIGHT_ONE2 >> 1);
                    row[3 * j + c] = (uint8_t)MIN(v >> (2 * WEIGHT_BITS), 255u);
                }
            }
        }
        /* The slot starts over as row i + capacity. */
        memset(acc, 0, win->row_values * sizeof *acc);
        win->next++;
    }
    return TRUE;
}

/* Horizontal weighted sums of one RGB level row, pixels [c0, c1), for
 * output pixels [j0, j1). */
static void sum_row(const axis_map *mx, const uint8_t *src, int64_t c0, int64_t c1, int j0, int j1,
                    uint32_t *hsum)
{
    if (mx->box) {
        /* Equal weights: sum, then weigh once (WEIGHT_ONE / k times the sum
         * is the weighted sum exactly). */
        const int k = mx->box;
        const uint32_t weight = WEIGHT_ONE / (uint32_t)k;
        for (int j = j0; j < j1; j++) {
            const uint8_t *p = src + (mx->first[j] - c0) * 3;
            uint32_t sr = 0, sg = 0, sb = 0;
            for (int t = 0; t < k; t++, p += 3) {
                sr += p[0];
                sg += p[1];
                sb += p[2];
            }
            hsum[3 * j] = sr * weight;
            hsum[3 * j + 1] = sg * weight;
            hsum[3 * j + 2] = sb * weight;
        }
        return;
    }
    for (int j = j0; j < j1; j++) {
        int64_t k0 = MAX(mx->first[j], c0), k1 = MIN(mx->first[j] + mx->count[j], c1);
        const uint32_t *w = mx->weights + mx->offset[j] + (k0 - mx->first[j]);
        const uint8_t *p = src + (k0 - c0) * 3;
        uint32_t sr = 0, sg = 0, sb = 0;
        for (int64_t t = 0; t < k1 - k0; t++, p += 3) {
            uint32_t wt = w[t];
            sr += p[0] * wt;
            sg += p[1] * wt;
            sb += p[2] * wt;
        }
        hsum[3 * j] = sr;
        hsum[3 * j + 1] = sg;
        hsum[3 * j + 2] = sb;
    }
}

/* A strip's horizontal sums, done by the thread that read it (strips.h's
 * prepare): one row of out_w * 3 sums for each of its level rows. */
static void prepare_sums(const sf_chunk *chunk, void *out, const void *data)
{
    const axis_map *mx = data;
    int j0, j1;
    axis_span(mx, chunk->c0, chunk->c1, &j0, &j1);
    for (int64_t r = chunk->r0; r < chunk->r1; r++)
        sum_row(mx, chunk->rgb + (size_t)(r - chunk->r0) * chunk->stride, chunk->c0, chunk->c1, j0,
                j1, (uint32_t *)out + (size_t)(r - chunk->r0) * (size_t)mx->n * 3);
}

/* Adds one level row's horizontal sums to the output rows it covers, each
 * with its vertical share. */
static void add_sums(const axis_map *my, window *win, const uint32_t *hsum, int64_t r, int j0,
                     int j1, int *i_scan)
{
    while (*i_scan < my->n && my->first[*i_scan] + my->count[*i_scan] <= r)
        (*i_scan)++;
    for (int i = *i_scan; i < my->n && my->first[i] <= r; i++) {
        uint64_t wv = my->weights[my->offset[i] + (r - my->first[i])];
        if (!wv)
            continue;
        uint64_t *acc = window_row(win, i);
        for (size_t v = 3 * (size_t)j0; v < 3 * (size_t)j1; v++)
            acc[v] += hsum[v] * wv;
    }
}

/* Output rows any one strip touches, at most. */
static int window_rows(const axis_map *my, const sf_strips *strips)
{
    int n, most = 1;
    const int64_t *edges = sf_strips_row_edges(strips, &n);
    for (int s = 0; s < n; s++) {
        int i0, i1;
        axis_span(my, edges[s], edges[s + 1], &i0, &i1);
        most = MAX(most, i1 - i0);
    }
    return most;
}

static gboolean read_area(sf_slide *slide, int level, int shift, const uint8_t bg[3],
                          const axis_map *mx, const axis_map *my, size_t budget, row_batch *batch,
                          GError **error)
{
    const int64_t C0 = mx->lo, C1 = mx->hi, R0 = my->lo, R1 = my->hi;
    window win = {.row_values = (size_t)mx->n * 3};
    /* A chunked strip keeps every output row it touches, about
     * s / scale + 2 for s level rows, until its last chunk: bound s so those
     * accumulators fit the budget. */
    size_t acc_row_bytes = win.row_values * sizeof(uint64_t);
    int64_t acc_rows = MAX((int64_t)(budget / acc_row_bytes), 3);
    int64_t max_rows = MAX((int64_t)((double)(acc_rows - 2) * my->scale), 1);
    g_autoptr(sf_strips) strips = NULL;
    if (C0 < C1 && R0 < R1) {
        sf_strips_plan plan = plan_of(level, shift, C0, R0, C1, R1, budget, max_rows);
        /* The horizontal sums, most of the averaging's work, are done by
         * the threads that read the strips: the caller (who also encodes,
         * for a fragment) adds them up. */
        plan.prepare = prepare_sums;
        plan.prepare_data = mx;
        plan.prepare_row_bytes = (size_t)mx->n * 3 * sizeof(uint32_t);
        if (!(strips = sf_strips_new(slide, &plan, error)))
            return FALSE;
    }
    /* Full-width strips emit rows as soon as they are complete, so only the
     * output rows one level row overlaps are ever open. */
    gboolean chunked = strips && sf_strips_chunked(strips);
    win.capacity = chunked ? window_rows(my, strips) : (int)ceil(1 / my->scale) + 2;
    batch->capacity = (int)MIN(MAX((int64_t)(budget / 4 / batch->row_bytes), 1), my->n);
    size_t acc_bytes = (size_t)win.capacity * win.row_values * sizeof(uint64_t);
    size_t rows_bytes = (size_t)batch->capacity * batch->row_bytes;
    win.acc = g_try_malloc0(acc_bytes);
    g_autofree uint32_t *hsum = g_try_new0(uint32_t, win.row_values);
    g_autofree uint8_t *rows = g_try_malloc(rows_bytes);
    if (!win.acc || !hsum || !rows) {
        g_free(win.acc);
        return out_of_memory(slide, acc_bytes + rows_bytes, error);
    }
    batch->rows = rows;
    /* Boxes only where chunks start on box edges: a column chunk may cut
     * one, and then the weighted sums do it. */
    axis_map mxc = *mx;
    if (chunked)
        mxc.box = 0;

    GError *local = NULL;
    gboolean ok = emit_rows(bg, &mxc, my, &win, R0, batch, error) && batch_flush(batch, error);
    const sf_chunk *chunk;
    while (ok && strips && (chunk = sf_strips_next(strips, &local))) {
        int j0, j1;
        axis_span(&mxc, chunk->c0, chunk->c1, &j0, &j1);
        int i_scan = win.next;
        for (int64_t r = chunk->r0; ok && r < chunk->r1; r++) {
            const uint32_t *sums = hsum;
            if (chunk->prepared)
                sums = (const uint32_t *)chunk->prepared + (size_t)(r - chunk->r0) * win.row_values;
            else
                sum_row(&mxc, chunk->rgb + (size_t)(r - chunk->r0) * chunk->stride, chunk->c0,
                        chunk->c1, j0, j1, hsum);
            add_sums(my, &win, sums, r, j0, j1, &i_scan);
            if (!chunked)
                ok = emit_rows(bg, &mxc, my, &win, r + 1, batch, error);
        }
        if (ok && chunk->ends_strip)
            ok =
                emit_rows(bg, &mxc, my, &win, chunk->r1, batch, error) && batch_flush(batch, error);
    }
    if (local) {
        g_propagate_error(error, local);
        ok = FALSE;
    }
    ok = ok && emit_rows(bg, &mxc, my, &win, R1, batch, error) && batch_flush(batch, error);
    g_free(win.acc);
    batch->rows = NULL;
    return ok;
}

static gboolean check_args(const sf_slide *slide, int level, int64_t w, int64_t h, int out_width,
                           int out_height, GError **error)
{
    if (level >= 0 && level < sf_slide_level_count(slide) && w >= 1 && h >= 1 && out_width >= 1 &&
        out_height >= 1)
        return TRUE;
    g_set_error(error, SF_ERROR, SF_EXIT_USAGE,
                "%s: invalid read: level %d, region %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                ", output %dx%d",
                sf_slide_path(slide), level, w, h, out_width, out_height);
    return FALSE;
}

/* The axis maps of a read of the level reduced by 2^shift; FALSE when out
 * of memory (clear them either way). */
static gboolean map_axes(const sf_level *lv, int shift, int64_t x, int64_t y, int64_t w, int64_t h,
                         int out_width, int out_height, axis_map *mx, axis_map *my)
{
    /* The level as the decoder gives it: reduced by 2^shift, its last
     * partial pixel counted whole. */
    double reduce = lv->downsample * (double)(1 << shift);
    gboolean ok = axis_map_init(mx, x / reduce, (x + w) / reduce, out_width,
                                (lv->width + (1 << shift) - 1) >> shift);
    return axis_map_init(my, y / reduce, (y + h) / reduce, out_height,
                         (lv->height + (1 << shift) - 1) >> shift) &&
           ok;
}

/* Whether the map's footprints are whole pixels: a copy from a pixel edge,
 * or boxes. */
static gboolean aligned(const axis_map *map, double l0)
{
    return map->box || (map->copy && fabs(l0 - (double)map->first[0]) < 1e-6);
}

/*
 * How far the decoder reduces the level before averaging (a shift:
 * 1/2^shift), and the axis maps for it. A reduced pixel is close to the
 * mean of the level pixels under it, so the result stays close to the full
 * decode's (PSNR >= 40 dB, and 49 dB or more on tissue) when
 *  - the output's pixels are whole reduced pixels (a copy or boxes from a
 *    reduced pixel's edge): then only the decoder's reduction differs;
 *  - or each output pixel still averages 4 or more reduced pixels each
 *    way: the reduced pixels that its footprint cuts then weigh little.
 * Anything between (a footprint of 1 to 4 reduced pixels cutting them
 * anywhere) blurs by up to a reduced pixel: 30 to 40 dB on tissue, so the
 * level is then reduced less, or not at all. Output sizes are rounded to
 * whole pixels, so ratios within 1% count as their nearest power of two.
 */
static int choose_shift(const sf_slide *slide, int level, int64_t x, int64_t y, int64_t w,
                        int64_t h, int out_width, int out_height, axis_map *mx, axis_map *my)
{
    const sf_level *lv = sf_slide_level(slide, level);
    double scale = MIN((double)w / out_width, (double)h / out_height) / lv->downsample;
    int most = sf_slide_decoder_scaling(slide) ? sf_slide_rgb_shift_max(slide, level) : 0;
    for (int shift = most; shift > 0; shift--) {
        double rest = scale / (double)(1 << shift);
        if (rest < 0.99)
            continue;
        if (!map_axes(lv, shift, x, y, w, h, out_width, out_height, mx, my))
            return -1;
        double reduce = lv->downsample * (double)(1 << shift);
        if (rest >= 4 * 0.99 || (aligned(mx, x / reduce) && aligned(my, y / reduce)))
            return shift;
        axis_map_clear(mx);
        axis_map_clear(my);
    }
    return map_axes(lv, 0, x, y, w, h, out_width, out_height, mx, my) ? 0 : -1;
}

void sf_slide_read_plan(const sf_slide *slide, int level, int64_t x, int64_t y, int64_t w,
                        int64_t h, int out_width, int out_height, int *shift, int64_t rect[4])
{
    axis_map mx, my;
    *shift = MAX(choose_shift(slide, level, x, y, w, h, out_width, out_height, &mx, &my), 0);
    rect[0] = mx.lo;
    rect[1] = my.lo;
    rect[2] = mx.hi;
    rect[3] = my.hi;
    axis_map_clear(&mx);
    axis_map_clear(&my);
}

gboolean sf_slide_read_scaled_budget(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w,
                                     int64_t h, int out_width, int out_height, size_t budget,
                                     sf_row_sink sink, void *user_data, GError **error)
{
    g_return_val_if_fail(slide != NULL && sink != NULL, FALSE);
    if (!check_args(slide, level, w, h, out_width, out_height, error))
        return FALSE;
    const sf_level *lv = sf_slide_level(slide, level);
    axis_map mx, my;
    int shift = choose_shift(slide, level, x, y, w, h, out_width, out_height, &mx, &my);
    if (shift < 0) {
        axis_map_clear(&mx);
        axis_map_clear(&my);
        return out_of_memory(slide, 0, error);
    }
    /* The work bound weighs the level pixels the decoder goes through. */
    if (!sf_slide_check_read_cost(slide, level, MIN((mx.hi - mx.lo) << shift, lv->width),
                                  MIN((my.hi - my.lo) << shift, lv->height), error)) {
        axis_map_clear(&mx);
        axis_map_clear(&my);
        return FALSE;
    }
    uint8_t bg[3];
    sf_slide_background(slide, bg);
    row_batch batch = {
        .row_bytes = (size_t)out_width * 3,
        .sink = sink,
        .user_data = user_data,
    };
    gboolean ok = mx.copy && my.copy
                      ? read_copy(slide, level, shift, bg, &mx, &my, budget, &batch, error)
                      : read_area(slide, level, shift, bg, &mx, &my, budget, &batch, error);
    axis_map_clear(&mx);
    axis_map_clear(&my);
    return ok;
}

gboolean sf_slide_read_scaled(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w,
                              int64_t h, int out_width, int out_height, sf_row_sink sink,
                              void *user_data, GError **error)
{
    return sf_slide_read_scaled_budget(slide, level, x, y, w, h, out_width, out_height,
                                       SF_STRIP_BYTES_DEFAULT, sink, user_data, error);
}

typedef struct {
    uint8_t *data;
    size_t row_bytes;
} buffer_target;

static gboolean buffer_sink(const uint8_t *rows, int first_row, int n_rows, void *user_data,
                            GError **error)
{
    (void)error;
    buffer_target *target = user_data;
    memcpy(target->data + (size_t)first_row * target->row_bytes, rows,
           (size_t)n_rows * target->row_bytes);
    return TRUE;
}

uint8_t *sf_slide_read_scaled_buffer(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w,
                                     int64_t h, int out_width, int out_height, GError **error)
{
    g_return_val_if_fail(slide != NULL, NULL);
    if (!check_args(slide, level, w, h, out_width, out_height, error))
        return NULL;
    buffer_target target = {.row_bytes = (size_t)out_width * 3};
    target.data = g_try_malloc(target.row_bytes * (size_t)out_height);
    if (!target.data) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE, "%s: no memory for a %dx%d image",
                    sf_slide_path(slide), out_width, out_height);
        return NULL;
    }
    if (!sf_slide_read_scaled(slide, level, x, y, w, h, out_width, out_height, buffer_sink, &target,
                              error)) {
        g_free(target.data);
        return NULL;
    }
    return target.data;
}
