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
    double ds;
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
    double ds;
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

gboolean sf_fragment_geometry(const sf_slide *slide, const sf_target *target, const sf_box *box,
                              int *width, int *height, int *level, GError **error)
{
    double ds;
    if (!target_downsample(slide, target, box->w, box->h, &ds, error))
        return FALSE;
    *width = scaled_side(box->w, ds);
    *height = scaled_side(box->h, ds);
    if (*width > JPEG_MAX_SIDE || *height > JPEG_MAX_SIDE) {
        double needed = (double)MAX(box->w, box->h) / JPEG_MAX_SIDE;
        g_set_error(error, SF_ERROR, SF_EXIT_USAGE,
                    "%s: the region at x=%" G_GINT64_FORMAT " y=%" G_GINT64_FORMAT
                    " (%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                    " level-0 px) would make a %dx%d px fragment, beyond JPEG's 65,535 px; "
                    "use --fragment-downsample %.2f or more, or --fragment-max-size",
                    sf_slide_path(slide), box->x, box->y, box->w, box->h, *width, *height,
                    ceil(needed * 100) / 100);
        return FALSE;
    }
    *level = sf_slide_best_level(slide, ds);
    return TRUE;
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
