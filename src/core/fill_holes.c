/*
 * Hole filling by labelling the background: runs of zero pixels are joined
 * with union-find to the runs they 4-touch in the row above, and to a virtual
 * node 0 standing for everything outside the image when they touch the
 * border. Runs that end up away from node 0 are holes. Memory is
 * proportional to the number of background runs, not to the image.
 */
#include "slidefrag/core.h"
#include "runs.h"

#include <stdlib.h>
#include <string.h>

static size_t count_background_runs(const sf_image *mask)
{
    size_t n = 0;
    for (int y = 0; y < mask->height; y++) {
        const uint8_t *row = mask->data + (size_t)y * mask->stride;
        int x = skip_nonzero(row, 0, mask->width);
        while (x < mask->width) {
            n++;
            x = skip_zero(row, x, mask->width);
            x = skip_nonzero(row, x, mask->width);
        }
    }
    return n;
}

static void label_background(const sf_image *mask, run *runs, uint32_t *row_first)
{
    uint32_t n = 1;
    runs[0] = (run){.start = 0, .end = 0, .parent = 0};
    for (int y = 0; y < mask->height; y++) {
        const uint8_t *row = mask->data + (size_t)y * mask->stride;
        bool edge_row = y == 0 || y == mask->height - 1;
        row_first[y] = n;
        uint32_t above = y > 0 ? row_first[y - 1] : n;
        uint32_t above_end = n;
        int x = skip_nonzero(row, 0, mask->width);
        while (x < mask->width) {
            int end = skip_zero(row, x, mask->width);
            runs[n] = (run){.start = x, .end = end, .parent = n};
            if (edge_row || x == 0 || end == mask->width)
                join(runs, 0, n);
            /* 4-connectivity: runs touch only when their columns overlap. */
            while (above < above_end && runs[above].end <= x)
                above++;
            for (uint32_t k = above; k < above_end && runs[k].start < end; k++)
                join(runs, k, n);
            n++;
            x = skip_nonzero(row, end, mask->width);
        }
    }
    row_first[mask->height] = n;
}

sf_status sf_fill_holes(sf_image *mask)
{
    if (!mask || mask->channels != 1 || mask->width < 0 || mask->height < 0)
        return SF_ERR_INVALID;
    if (mask->width == 0 || mask->height == 0)
        return SF_OK;
    if (!mask->data || mask->stride < (size_t)mask->width)
        return SF_ERR_INVALID;

    size_t n_runs = count_background_runs(mask);
    if (n_runs >= UINT32_MAX)
        return SF_ERR_NOMEM;
    run *runs = malloc((n_runs + 1) * sizeof *runs);
    uint32_t *row_first = malloc(((size_t)mask->height + 1) * sizeof *row_first);
    if (!runs || !row_first) {
        free(row_first);
        free(runs);
        return SF_ERR_NOMEM;
    }
    label_background(mask, runs, row_first);

    for (int y = 0; y < mask->height; y++) {
        uint8_t *row = mask->data + (size_t)y * mask->stride;
        for (uint32_t i = row_first[y]; i < row_first[y + 1]; i++)
            if (find_root(runs, i) != 0)
                memset(row + runs[i].start, 255, (size_t)(runs[i].end - runs[i].start));
    }
    free(row_first);
    free(runs);
    return SF_OK;
}
