/* The overview: one reader for run and tune, so both detect on the same
 * pixels for the same target. */
#include "slidefrag/run.h"

gboolean sf_overview_plan(const sf_slide *slide, const sf_target *target, sf_overview *overview,
                          GError **error)
{
    *overview = (sf_overview){0};
    if (!sf_overview_geometry(slide, target, &overview->width, &overview->height, &overview->level,
                              error))
        return FALSE;
    overview->scale_x = (double)sf_slide_width(slide) / overview->width;
    overview->scale_y = (double)sf_slide_height(slide) / overview->height;
    return TRUE;
}

gboolean sf_overview_read(sf_slide *slide, sf_overview *overview, GError **error)
{
    g_return_val_if_fail(overview->width > 0 && !overview->pixels, FALSE);
    overview->pixels = sf_slide_read_scaled_buffer(slide, overview->level, 0, 0,
                                                   sf_slide_width(slide), sf_slide_height(slide),
                                                   overview->width, overview->height, error);
    return overview->pixels != NULL;
}

sf_image sf_overview_image(const sf_overview *overview)
{
    return (sf_image){overview->pixels, overview->width, overview->height, 3,
                      (size_t)overview->width * 3};
}

void sf_overview_clear(sf_overview *overview)
{
    g_clear_pointer(&overview->pixels, g_free);
}
