/*
 * Connected components of a mask by run-length labelling: each row is cut
 * into runs of non-zero pixels, runs of consecutive rows that touch are
 * joined with union-find, and statistics are summed per run rather than per
 * pixel. Memory is proportional to the number of runs, so a labels image is
 * only written when the caller asks for one.
 */
#include "slidefrag/core.h"
#include "runs.h"

#include <stdlib.h>
#include <string.h>

/* Per-component sums, in raster order of the components' first pixels. */
typedef struct stats {
    int32_t x0, y0, x1, y1; /* bounding box, inclusive */
    int64_t area, sum_x, sum_y;
    uint32_t order;
} stats;

static bool mask_is_valid(const sf_image *mask)
{
    if (!mask || mask->channels != 1 || mask->width < 0 || mask->height < 0)
        return false;
    if (mask->width == 0 || mask->height == 0)
        return true;
    return mask->data && mask->stride >= (size_t)mask->width;
}

static size_t count_runs(const sf_image *mask)
{
    size_t n = 0;
    for (int y = 0; y < mask->height; y++) {
        const uint8_t *row = mask->data + (size_t)y * mask->stride;
        int x = skip_zero(row, 0, mask->width);
        while (x < mask->width) {
            n++;
            x = skip_nonzero(row, x, mask->width);
            x = skip_zero(row, x, mask->width);
        }
    }
    return n;
}

/* Records the runs and joins each to the touching runs of the row above;
 * `reach` is 1 for 8-connectivity (diagonal neighbours touch), else 0. */
static void label_runs(const sf_image *mask, int reach, run *runs, uint32_t *row_first)
{
    uint32_t n = 0;
    for (int y = 0; y < mask->height; y++) {
        const uint8_t *row = mask->data + (size_t)y * mask->stride;
        row_first[y] = n;
        uint32_t above = y > 0 ? row_first[y - 1] : n;
        uint32_t above_end = n;
        int x = skip_zero(row, 0, mask->width);
        while (x < mask->width) {
            int end = skip_nonzero(row, x, mask->width);
            runs[n] = (run){.start = x, .end = end, .parent = n};
            /* Runs above that end before this one starts cannot touch any
             * later run of this row either. */
            while (above < above_end && (int64_t)runs[above].end + reach <= x)
                above++;
            for (uint32_t k = above; k < above_end && runs[k].start < (int64_t)end + reach; k++)
                join(runs, k, n);
            n++;
            x = skip_zero(row, end, mask->width);
        }
    }
    row_first[mask->height] = n;
}

/* Turns union-find links into labels 0..n-1 in raster order: a parent always
 * precedes its child, so its label is already final when the child is seen.
 * Returns the number of labels. */
static uint32_t resolve_labels(run *runs, uint32_t n_runs)
{
    uint32_t next = 0;
    for (uint32_t i = 0; i < n_runs; i++) {
        uint32_t p = runs[i].parent;
        runs[i].parent = p == i ? next++ : runs[p].parent;
    }
    return next;
}

static void sum_stats(const sf_image *mask, const run *runs, const uint32_t *row_first, stats *st,
                      uint32_t n_labels)
{
    for (uint32_t c = 0; c < n_labels; c++)
        st[c] = (stats){.x0 = INT32_MAX, .y0 = INT32_MAX, .x1 = -1, .y1 = -1, .order = c};
    for (int y = 0; y < mask->height; y++) {
        for (uint32_t i = row_first[y]; i < row_first[y + 1]; i++) {
            stats *s = &st[runs[i].parent];
            int64_t len = runs[i].end - runs[i].start;
            if (runs[i].start < s->x0)
                s->x0 = runs[i].start;
            if (runs[i].end - 1 > s->x1)
                s->x1 = runs[i].end - 1;
            if (y < s->y0)
                s->y0 = y;
            s->y1 = y;
            s->area += len;
            /* sum of start..end-1; the product is always even */
            s->sum_x += ((int64_t)runs[i].start + runs[i].end - 1) * len / 2;
            s->sum_y += (int64_t)y * len;
        }
    }
}

static int compare_stats(const void *pa, const void *pb)
{
    const stats *a = pa, *b = pb;
    if (a->y0 != b->y0)
        return a->y0 < b->y0 ? -1 : 1;
    if (a->x0 != b->x0)
        return a->x0 < b->x0 ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

static void write_labels(const sf_image *mask, const run *runs, const uint32_t *row_first,
                         const uint32_t *rank, int32_t *labels)
{
    size_t width = (size_t)mask->width;
    memset(labels, 0, width * (size_t)mask->height * sizeof *labels);
    for (int y = 0; y < mask->height; y++) {
        int32_t *row = labels + (size_t)y * width;
        for (uint32_t i = row_first[y]; i < row_first[y + 1]; i++) {
            int32_t label = (int32_t)rank[runs[i].parent] + 1;
            for (int32_t x = runs[i].start; x < runs[i].end; x++)
                row[x] = label;
        }
    }
}

sf_status sf_connected_components(const sf_image *mask, int connectivity, int32_t *labels,
                                  sf_component **components, size_t *count)
{
    if (!components || !count || !mask_is_valid(mask) || (connectivity != 4 && connectivity != 8))
        return SF_ERR_INVALID;
    *components = NULL;
    *count = 0;

    size_t n_runs = count_runs(mask);
    if (n_runs == 0) {
        if (labels)
            memset(labels, 0, (size_t)mask->width * (size_t)mask->height * sizeof *labels);
        return SF_OK;
    }
    /* Labels are int32 and links uint32: more runs cannot be numbered. */
    if (n_runs > INT32_MAX)
        return SF_ERR_NOMEM;

    sf_status status = SF_ERR_NOMEM;
    stats *st = NULL;
    uint32_t *rank = NULL;
    sf_component *out = NULL;
    run *runs = malloc(n_runs * sizeof *runs);
    uint32_t *row_first = malloc(((size_t)mask->height + 1) * sizeof *row_first);
    if (!runs || !row_first)
        goto done;

    label_runs(mask, connectivity == 8 ? 1 : 0, runs, row_first);
    uint32_t n = resolve_labels(runs, (uint32_t)n_runs);

    st = malloc(n * sizeof *st);
    rank = malloc(n * sizeof *rank);
    out = malloc(n * sizeof *out);
    if (!st || !rank || !out)
        goto done;

    sum_stats(mask, runs, row_first, st, n);
    qsort(st, n, sizeof *st, compare_stats);
    for (uint32_t k = 0; k < n; k++) {
        const stats *s = &st[k];
        rank[s->order] = k;
        out[k] = (sf_component){
            .x = s->x0,
            .y = s->y0,
            .width = s->x1 - s->x0 + 1,
            .height = s->y1 - s->y0 + 1,
            .area = s->area,
            .centroid_x = (double)s->sum_x / (double)s->area,
            .centroid_y = (double)s->sum_y / (double)s->area,
        };
    }
    if (labels)
        write_labels(mask, runs, row_first, rank, labels);

    *components = out;
    *count = n;
    out = NULL;
    status = SF_OK;
done:
    free(out);
    free(rank);
    free(st);
    free(row_first);
    free(runs);
    return status;
}
