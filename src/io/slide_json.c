#include "io/slide_json.h"

#include "io/json_safe.h"

static void add_positive_or_null(JsonBuilder *b, const char *name, double value)
{
    json_builder_set_member_name(b, name);
    if (value > 0)
        json_builder_add_double_value(b, value);
    else
        json_builder_add_null_value(b);
}

void sf_slide_json_members(JsonBuilder *b, const sf_slide *slide)
{
    sf_json_add_string(b, "vendor", sf_slide_vendor(slide));
    sf_json_add_int(b, "width", sf_slide_width(slide));
    sf_json_add_int(b, "height", sf_slide_height(slide));
    add_positive_or_null(b, "mpp_x", sf_slide_mpp_x(slide));
    add_positive_or_null(b, "mpp_y", sf_slide_mpp_y(slide));
    add_positive_or_null(b, "objective_power", sf_slide_objective_power(slide));
    sf_json_add_string(b, "quickhash", sf_slide_quickhash(slide));
    json_builder_set_member_name(b, "bounds");
    int64_t x, y, w, h;
    if (sf_slide_bounds(slide, &x, &y, &w, &h)) {
        json_builder_begin_object(b);
        sf_json_add_int(b, "x", x);
        sf_json_add_int(b, "y", y);
        sf_json_add_int(b, "width", w);
        sf_json_add_int(b, "height", h);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "levels");
    json_builder_begin_array(b);
    for (int l = 0; l < sf_slide_level_count(slide); l++) {
        const sf_level *level = sf_slide_level(slide, l);
        json_builder_begin_object(b);
        sf_json_add_int(b, "width", level->width);
        sf_json_add_int(b, "height", level->height);
        sf_json_add_double(b, "downsample", level->downsample);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}
