/* Resolutions: which pixel size an overview or a fragment gets, and which
 * pyramid level it is read from. */
#include <math.h>

#include "run/run_internal.h"
#include "slidefrag/error.h"

/* JPEG stores sides in 16 bits. */
#define JPEG_MAX_SIDE 65535

double sf_run_usable_mpp(double mpp)
{
    return mpp >= SF_MPP_MIN && mpp <= SF_MPP_MAX ? mpp : 0;
}

gboolean sf_run_no_mpp_error(const sf_slide *slide, const char *what, GError **error)
{
    double mpp = sf_slide_mpp_x(slide);
    if (mpp > 0)
        g_set_error(error, SF_ERROR, SF_EXIT_USAGE,
                    "%s: the slide records %g µm/px (openslide.mpp-x), not a plausible "
                    "resolution, so %s",
                    sf_slide_path(slide), mpp, what);
    else
        g_set_error(error, SF_ERROR, SF_EXIT_USAGE,
                    "%s: the slide does not record its resolution (openslide.mpp-x), so %s",
                    sf_slide_path(slide), what);
    return FALSE;
}

/* Level-0 pixels per output pixel for a target, never finer than level 0.
 * The level is chosen from this requested value, not from the ratio after
 * rounding to whole pixels: 997 px at downsample 2 is 499 px, a ratio of
 * 1.998 that would otherwise send the read to level 0 at twice the cost for
 * a 0.1% difference the resampler absorbs. */
static gboolean target_downsample(const sf_slide *slide, const sf_target *target, int64_t width,
                                  int64_t height, double *downsample, GError **error)
{
    double ds = 1;
    switch (target->kind) {
    case SF_TARGET_MAX_SIZE:
        ds = (double)MAX(width, height) / target->value;
        break;
    case SF_TARGET_DOWNSAMPLE:
        ds = target->value;
        break;
    default: {
        double mpp = sf_run_usable_mpp(sf_slide_mpp_x(slide));
        if (mpp <= 0)
            return sf_run_no_mpp_error(
                slide, "a µm/px target cannot be used; give a size or a downsample instead", error);
        ds = target->value / mpp;
        break;
    }
    }
    *downsample = MAX(ds, 1.0);
    return TRUE;
}

static int scaled_side(int64_t side, double downsample)
{
    double v = round((double)side / downsample);
    return v < 1 ? 1 : v > INT_MAX ? INT_MAX : (int)v;
}

gboolean sf_overview_geometry(const sf_slide *slide, const sf_target *target, int *width,
                              int *height, int *level, GError **error)
{
    int64_t w0 = sf_slide_width(slide), h0 = sf_slide_height(slide);
    double ds = 1;
    if (!target_downsample(slide, target, w0, h0, &ds, error))
        return FALSE;
    *width = scaled_side(w0, ds);
    *height = scaled_side(h0, ds);
    if (*width > JPEG_MAX_SIDE || *height > JPEG_MAX_SIDE) {
        g_set_error(error, SF_ERROR, SF_EXIT_USAGE,
                    "%s: an overview of %dx%d px exceeds the 65,535 px an image side can "
                    "have; ask for a smaller --max-size or a larger --downsample",
                    sf_slide_path(slide), *width, *height);
        return FALSE;
    }
    *level = sf_slide_best_level(slide, ds);
    return TRUE;
}

gboolean sf_fragment_resolution(const sf_slide *slide, const sf_target *target, const sf_box *box,
                                double *downsample, int *level, GError **error)
{
    if (!target_downsample(slide, target, box->w, box->h, downsample, error))
        return FALSE;
    *level = sf_slide_best_level(slide, *downsample);
    return TRUE;
}

/*
 * One axis of a tile grid: `length` level-0 pixels from `start`, at
 * `downsample`, in tiles of at most `tile` fragment pixels overlapping by
 * `overlap`. All tiles have the same extent; the first starts at `start`,
 * the last ends at start + length, those between are spread evenly. In
 * level-0 pixels a tile is at most floor(tile * downsample), whose
 * fragment side round(extent / downsample) is then at most `tile`.
 */
typedef struct axis_plan {
    int64_t n;      /* tiles */
    int64_t extent; /* level-0 pixels of each */
} axis_plan;

static axis_plan plan_axis(int64_t length, double downsample, int tile, int overlap)
{
    int64_t most = MAX((int64_t)floor(tile * downsample), 1);
    int64_t shared = (int64_t)ceil(overlap * downsample);
    if (length <= most)
        return (axis_plan){1, length};
    /* n tiles of `most` with `shared` in common cover (n - 1) * (most -
     * shared) + most: the fewest that reach `length`. */
    int64_t step = MAX(most - shared, 1);
    int64_t n = (length - shared + step - 1) / step;
    int64_t extent = (length + (n - 1) * shared + n - 1) / n;
    return (axis_plan){n, MIN(extent, most)};
}

static int64_t tile_start(int64_t start, int64_t length, const axis_plan *a, int64_t i)
{
    if (a->n == 1)
        return start;
    /* Evenly from start to start + length - extent, in exact integers
     * that cannot overflow: the remainder and i are below the tile count. */
    int64_t span = length - a->extent, q = span / (a->n - 1), r = span % (a->n - 1);
    return start + q * i + r * i / (a->n - 1);
}

sf_tile *sf_tile_plan(const sf_box *box, double downsample, int tile, int overlap, int *rows,
                      int *cols, size_t *n_tiles)
{
    axis_plan ax = plan_axis(box->w, downsample, tile, overlap);
    axis_plan ay = plan_axis(box->h, downsample, tile, overlap);
    *cols = (int)MIN(ax.n, G_MAXINT);
    *rows = (int)MIN(ay.n, G_MAXINT);
    if (ax.n > SF_FRAGMENTS_MAX || ay.n > SF_FRAGMENTS_MAX || ax.n * ay.n > SF_FRAGMENTS_MAX) {
        *n_tiles = SF_FRAGMENTS_MAX + 1;
        return NULL;
    }
    *n_tiles = (size_t)(ax.n * ay.n);
    sf_tile *tiles = g_try_new0(sf_tile, *n_tiles);
    if (!tiles)
        return NULL;
    for (int64_t r = 0; r < ay.n; r++)
        for (int64_t c = 0; c < ax.n; c++) {
            sf_tile *t = &tiles[r * ax.n + c];
            t->row = (int)r;
            t->col = (int)c;
            t->level0 = (sf_box){tile_start(box->x, box->w, &ax, c),
                                 tile_start(box->y, box->h, &ay, r), ax.extent, ay.extent};
            t->width = scaled_side(ax.extent, downsample);
            t->height = scaled_side(ay.extent, downsample);
        }
    return tiles;
}

/* Outward rounding with a tolerance, so that a coordinate that is an integer
 * in exact arithmetic does not grow a pixel through floating-point error. */
static int64_t floor_tolerant(double v)
{
    return (int64_t)floor(v + 1e-7);
}

static int64_t ceil_tolerant(double v)
{
    return (int64_t)ceil(v - 1e-7);
}

sf_box sf_region_to_level0(const sf_box *box, double padding, double scale_x, double scale_y,
                           int64_t slide_width, int64_t slide_height)
{
    int64_t x0 = floor_tolerant(((double)box->x - padding) * scale_x);
    int64_t y0 = floor_tolerant(((double)box->y - padding) * scale_y);
    int64_t x1 = ceil_tolerant(((double)(box->x + box->w) + padding) * scale_x);
    int64_t y1 = ceil_tolerant(((double)(box->y + box->h) + padding) * scale_y);
    x0 = CLAMP(x0, 0, slide_width - 1);
    y0 = CLAMP(y0, 0, slide_height - 1);
    x1 = CLAMP(x1, x0 + 1, slide_width);
    y1 = CLAMP(y1, y0 + 1, slide_height);
    return (sf_box){.x = x0, .y = y0, .w = x1 - x0, .h = y1 - y0};
}
