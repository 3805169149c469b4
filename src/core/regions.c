/*
 * Tissue regions of a mask: the method's box pipeline plus the summed-area
 * table that gives each box its tissue pixel count in O(1).
 */
#include "slidefrag/core.h"

#include <stdlib.h>
#include <string.h>

sf_status sf_integral_init(sf_integral *integral, const sf_image *mask)
{
    if (!integral)
        return SF_ERR_INVALID;
    *integral = (sf_integral){0};
    if (!mask || mask->channels != 1 || mask->width < 0 || mask->height < 0)
        return SF_ERR_INVALID;
    if (mask->width > 0 && mask->height > 0 && (!mask->data || mask->stride < (size_t)mask->width))
        return SF_ERR_INVALID;

    size_t w1 = (size_t)mask->width + 1, h1 = (size_t)mask->height + 1;
    if (h1 > SIZE_MAX / sizeof(int64_t) / w1)
        return SF_ERR_NOMEM;
    int64_t *sums = malloc(w1 * h1 * sizeof *sums);
    if (!sums)
        return SF_ERR_NOMEM;

    memset(sums, 0, w1 * sizeof *sums);
    for (int y = 0; y < mask->height; y++) {
        const uint8_t *row = mask->data + (size_t)y * mask->stride;
        const int64_t *above = sums + (size_t)y * w1;
        int64_t *out = sums + ((size_t)y + 1) * w1;
        int64_t row_sum = 0;
        out[0] = 0;
        for (int x = 0; x < mask->width; x++) {
            row_sum += row[x] != 0;
            out[x + 1] = above[x + 1] + row_sum;
        }
    }
    integral->sums = sums;
    integral->width = mask->width;
    integral->height = mask->height;
    return SF_OK;
}

void sf_integral_clear(sf_integral *integral)
{
    if (!integral)
        return;
    free(integral->sums);
    *integral = (sf_integral){0};
}

/* Clamps [start, start + len) to [0, limit) without overflowing. */
static bool clamp_span(int64_t start, int64_t len, int64_t limit, int64_t *lo, int64_t *hi)
{
    if (len <= 0 || start >= limit)
        return false;
    int64_t end;
    if (start < 0)
        end = start + len;
    else
        end = len >= limit - start ? limit : start + len;
    if (end > limit)
        end = limit;
    *lo = start < 0 ? 0 : start;
    *hi = end;
    return *hi > *lo;
}

int64_t sf_integral_count(const sf_integral *integral, const sf_box *box)
{
    if (!integral || !integral->sums || !box)
        return 0;
    int64_t x0, x1, y0, y1;
    if (!clamp_span(box->x, box->w, integral->width, &x0, &x1) ||
        !clamp_span(box->y, box->h, integral->height, &y0, &y1))
        return 0;
    size_t w1 = (size_t)integral->width + 1;
    const int64_t *s = integral->sums;
    return s[(size_t)y1 * w1 + (size_t)x1] - s[(size_t)y0 * w1 + (size_t)x1] -
           s[(size_t)y1 * w1 + (size_t)x0] + s[(size_t)y0 * w1 + (size_t)x0];
}

void sf_region_params_default(sf_region_params *params)
{
    *params = (sf_region_params){
        .connectivity = 8,
        .gap = 0,
        .min_area = 0,
        .min_area_fraction = 0.0001,
        .min_tissue_fraction = 0.0,
    };
}

/* Step 4: keeps the boxes large and dense enough; returns how many. */
static size_t drop_small(sf_box *boxes, size_t n, const sf_integral *integral,
                         const sf_region_params *params)
{
    double image_area = (double)integral->width * (double)integral->height;
    double min_area = params->min_area_fraction * image_area;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t area = boxes[i].w * boxes[i].h;
        if (area < params->min_area || (double)area < min_area)
            continue;
        double fraction = (double)sf_integral_count(integral, &boxes[i]) / (double)area;
        if (fraction < params->min_tissue_fraction)
            continue;
        boxes[kept++] = boxes[i];
    }
    return kept;
}

sf_status sf_find_regions(const sf_image *mask, const sf_region_params *params, sf_regions *out)
{
    if (!out)
        return SF_ERR_INVALID;
    *out = (sf_regions){0};
    if (!mask)
        return SF_ERR_INVALID;
    sf_region_params defaults;
    if (!params) {
        sf_region_params_default(&defaults);
        params = &defaults;
    }

    sf_component *components = NULL;
    size_t n = 0;
    sf_status status = sf_connected_components(mask, params->connectivity, NULL, &components, &n);
    if (status != SF_OK)
        return status;

    sf_integral integral = {0};
    sf_box *initial = NULL, *boxes = NULL;
    sf_region *regions = NULL;
    status = SF_ERR_NOMEM;
    if (n > 0) {
        initial = malloc(n * sizeof *initial);
        boxes = malloc(n * sizeof *boxes);
        if (!initial || !boxes)
            goto done;
    }
    for (size_t i = 0; i < n; i++)
        initial[i] =
            (sf_box){components[i].x, components[i].y, components[i].width, components[i].height};
    sf_boxes_sort(initial, n);
    if (n > 0)
        memcpy(boxes, initial, n * sizeof *boxes);

    status = sf_integral_init(&integral, mask);
    if (status != SF_OK)
        goto done;
    status = SF_ERR_NOMEM;

    size_t m = sf_boxes_merge_intersecting(boxes, n);
    if (m != (size_t)-1)
        m = sf_boxes_merge_within_gap(boxes, m, params->gap);
    if (m != (size_t)-1)
        m = sf_boxes_merge_intersecting(boxes, drop_small(boxes, m, &integral, params));
    if (m == (size_t)-1)
        goto done;

    if (m > 0) {
        regions = malloc(m * sizeof *regions);
        if (!regions)
            goto done;
    }
    for (size_t i = 0; i < m; i++) {
        int64_t tissue = sf_integral_count(&integral, &boxes[i]);
        regions[i] = (sf_region){
            .box = boxes[i],
            .tissue_pixels = tissue,
            .tissue_fraction = (double)tissue / (double)(boxes[i].w * boxes[i].h),
        };
    }

    out->initial = initial;
    out->n_initial = n;
    out->regions = regions;
    out->n_regions = m;
    initial = NULL;
    regions = NULL;
    status = SF_OK;
done:
    sf_integral_clear(&integral);
    free(regions);
    free(boxes);
    free(initial);
    free(components);
    return status;
}

void sf_regions_clear(sf_regions *regions)
{
    if (!regions)
        return;
    free(regions->initial);
    free(regions->regions);
    *regions = (sf_regions){0};
}
