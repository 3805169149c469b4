/*
 * Area-averaging a slide region to an exact output size with bounded memory.
 *
 * Output pixel (i, j) is the mean of the level's pixels over the level-space
 * footprint of its share of the level-0 rectangle, each level pixel weighted
 * by the fraction of it that the footprint covers (so non-integer ratios are
 * exact, like OpenCV's INTER_AREA). Weights are fixed-point integers summing
 * to exactly 2^WEIGHT_BITS per output pixel and accumulate in integers, so
 * the result does not depend on how the level is cut into strips and chunks.
 *
 * The level comes in composited strips (strips.c). Each level row is reduced
 * horizontally and added, with its vertical weights, into the accumulators of
 * the one or two output rows it touches; rows go out as soon as complete.
 * Level pixels outside the level are never read: the weight that falls on
 * them is filled with the background colour when a row is finished.
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
 * pixels long. When n equals the number of level pixels the footprint spans,
 * the output is a plain copy of those pixels: no half-pixel blur from a
 * level-0 origin that does not fall on a level pixel edge.
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
    map->copy = llround(l1) - start == n;
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

/* ---- Reading ------------------------------------------------------------ */

/* Unpacks opaque ARGB to RGB. */
static void unpack_row(const uint32_t *src, int64_t n, uint8_t *dst)
{
    for (int64_t k = 0; k < n; k++) {
        uint32_t p = src[k];
        dst[3 * k] = (uint8_t)(p >> 16);
        dst[3 * k + 1] = (uint8_t)(p >> 8);
        dst[3 * k + 2] = (uint8_t)p;
    }
}

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

/* Both axes copy level pixels: unpack, nothing to average. */
static gboolean read_copy(sf_slide *slide, int level, const uint8_t bg[3], const axis_map *mx,
                          const axis_map *my, size_t budget, row_batch *batch, GError **error)
{
    const int out_w = mx->n, out_h = my->n;
    const int64_t sx = mx->first[0], sy = my->first[0];
    const int64_t C0 = mx->lo, C1 = mx->hi, R0 = my->lo, R1 = my->hi;
    int64_t max_rows = MAX((int64_t)(budget / 2 / batch->row_bytes), 1);
    g_autoptr(sf_strips) strips = NULL;
    if (C0 < C1 && R0 < R1 &&
        !(strips = sf_strips_new(slide, level, C0, R0, C1, R1, budget, max_rows, error)))
        return FALSE;
    /* Chunks of a strip fill the same rows side by side, so chunked strips
     * are held whole (they are short); full-width ones pass through. */
    gboolean chunked = strips && sf_strips_chunked(strips);
    batch->capacity = (int)(chunked ? sf_strips_max_height(strips) : MIN(max_rows, out_h));
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
        for (int64_t r = chunk->r0; ok && r < chunk->r1; r++) {
            uint8_t *row;
            if (chunked) {
                row = rows + (size_t)(r - chunk->r0) * batch->row_bytes;
                batch->n_rows = (int)(r - chunk->r0 + 1);
            } else if (!(row = batch_next(batch, error))) {
                ok = FALSE;
                break;
            }
            if (chunk->c0 == C0) {
                fill_background(row, C0 - sx, bg);
                fill_background(row + 3 * (C1 - sx), out_w - (C1 - sx), bg);
            }
            unpack_row(chunk->pixels + (size_t)(r - chunk->r0) * cw, cw,
                       row + 3 * (chunk->c0 - sx));
        }
        if (ok && chunk->ends_strip)
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

/* Accumulators of the output rows a strip can touch, a sliding window. */
typedef struct {
    uint64_t *acc; /* capacity rows of out_w * 3 sums */
    int capacity;
    int first;         /* output row held in slot 0 */
    int next;          /* first output row not yet emitted */
    size_t row_values; /* out_w * 3 */
} window;

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
        if (my->inside[i] == 0 || mx->lo >= mx->hi) {
            fill_background(row, out_w, bg); /* nothing of the level under it */
        } else {
            const uint64_t *acc = win->acc + (size_t)(i - win->first) * win->row_values;
            for (int j = 0; j < out_w; j++) {
                uint64_t outside = WEIGHT_ONE2 - my->inside[i] * mx->inside[j];
                for (int c = 0; c < 3; c++) {
                    uint64_t v = acc[3 * j + c] + bg[c] * outside + (WEIGHT_ONE2 >> 1);
                    row[3 * j + c] = (uint8_t)MIN(v >> (2 * WEIGHT_BITS), 255u);
                }
            }
        }
        win->next++;
    }
    /* Slide the window so slot 0 is the first row still being summed. */
    int shift = win->next - win->first;
    if (shift > 0) {
        size_t keep = shift < win->capacity ? (size_t)(win->capacity - shift) : 0;
        memmove(win->acc, win->acc + (win->capacity - keep) * win->row_values,
                keep * win->row_values * sizeof *win->acc);
        memset(win->acc + keep * win->row_values, 0,
               (win->capacity - keep) * win->row_values * sizeof *win->acc);
        win->first = win->next;
    }
    return TRUE;
}

/* Adds one composited level row, pixels [c0, c1), to the output rows it
 * covers: horizontal weighted sums first, then each vertical share. */
static void add_row(const axis_map *mx, const axis_map *my, window *win, uint32_t *hsum,
                    const uint32_t *src, int64_t r, int64_t c0, int64_t c1, int j0, int j1,
                    int *i_scan)
{
    for (int j = j0; j < j1; j++) {
        int64_t k0 = MAX(mx->first[j], c0), k1 = MIN(mx->first[j] + mx->count[j], c1);
        const uint32_t *w = mx->weights + mx->offset[j] + (k0 - mx->first[j]);
        const uint32_t *p = src + (k0 - c0);
        uint32_t sr = 0, sg = 0, sb = 0;
        for (int64_t t = 0; t < k1 - k0; t++) {
            uint32_t px = p[t], wt = w[t];
            sr += ((px >> 16) & 255) * wt;
            sg += ((px >> 8) & 255) * wt;
            sb += (px & 255) * wt;
        }
        hsum[3 * j] = sr;
        hsum[3 * j + 1] = sg;
        hsum[3 * j + 2] = sb;
    }
    while (*i_scan < my->n && my->first[*i_scan] + my->count[*i_scan] <= r)
        (*i_scan)++;
    for (int i = *i_scan; i < my->n && my->first[i] <= r; i++) {
        uint64_t wv = my->weights[my->offset[i] + (r - my->first[i])];
        if (!wv)
            continue;
        g_assert(i >= win->first && i - win->first < win->capacity);
        uint64_t *acc = win->acc + (size_t)(i - win->first) * win->row_values;
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

static gboolean read_area(sf_slide *slide, int level, const uint8_t bg[3], const axis_map *mx,
                          const axis_map *my, size_t budget, row_batch *batch, GError **error)
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
    if (C0 < C1 && R0 < R1 &&
        !(strips = sf_strips_new(slide, level, C0, R0, C1, R1, budget, max_rows, error)))
        return FALSE;
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

    GError *local = NULL;
    gboolean ok = emit_rows(bg, mx, my, &win, R0, batch, error) && batch_flush(batch, error);
    const sf_chunk *chunk;
    while (ok && strips && (chunk = sf_strips_next(strips, &local))) {
        int j0, j1;
        axis_span(mx, chunk->c0, chunk->c1, &j0, &j1);
        int i_scan = win.next;
        size_t cw = (size_t)(chunk->c1 - chunk->c0);
        for (int64_t r = chunk->r0; ok && r < chunk->r1; r++) {
            add_row(mx, my, &win, hsum, chunk->pixels + (size_t)(r - chunk->r0) * cw, r, chunk->c0,
                    chunk->c1, j0, j1, &i_scan);
            if (!chunked)
                ok = emit_rows(bg, mx, my, &win, r + 1, batch, error);
        }
        if (ok && chunk->ends_strip)
            ok = emit_rows(bg, mx, my, &win, chunk->r1, batch, error) && batch_flush(batch, error);
    }
    if (local) {
        g_propagate_error(error, local);
        ok = FALSE;
    }
    ok = ok && emit_rows(bg, mx, my, &win, R1, batch, error) && batch_flush(batch, error);
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

gboolean sf_slide_read_scaled_budget(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w,
                                     int64_t h, int out_width, int out_height, size_t budget,
                                     sf_row_sink sink, void *user_data, GError **error)
{
    g_return_val_if_fail(slide != NULL && sink != NULL, FALSE);
    if (!check_args(slide, level, w, h, out_width, out_height, error))
        return FALSE;
    const sf_level *lv = sf_slide_level(slide, level);
    axis_map mx, my;
    gboolean mapped =
        axis_map_init(&mx, x / lv->downsample, (x + w) / lv->downsample, out_width, lv->width);
    mapped =
        axis_map_init(&my, y / lv->downsample, (y + h) / lv->downsample, out_height, lv->height) &&
        mapped;
    if (!mapped) {
        axis_map_clear(&mx);
        axis_map_clear(&my);
        return out_of_memory(slide, 0, error);
    }
    if (!sf_slide_check_read_cost(slide, level, mx.hi - mx.lo, my.hi - my.lo, error)) {
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
    gboolean ok = mx.copy && my.copy ? read_copy(slide, level, bg, &mx, &my, budget, &batch, error)
                                     : read_area(slide, level, bg, &mx, &my, budget, &batch, error);
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
