/* What slidefrag records of a slide, and its JSON for the manifest and for
 * `info --json`: one description, so the two always agree. */
#include "io/slide_json.h"

#include "io/json_safe.h"

void sf_manifest_describe_slide(sf_manifest *m, const sf_slide *slide)
{
    g_free(m->vendor);
    m->vendor = g_strdup(sf_slide_vendor(slide));
    m->width = sf_slide_width(slide);
    m->height = sf_slide_height(slide);
    m->mpp_x = sf_slide_mpp_x(slide);
    m->mpp_y = sf_slide_mpp_y(slide);
    m->objective_power = sf_slide_objective_power(slide);
    g_free(m->quickhash);
    m->quickhash = g_strdup(sf_slide_quickhash(slide));
    m->has_bounds =
        sf_slide_bounds(slide, &m->bounds_x, &m->bounds_y, &m->bounds_width, &m->bounds_height);
    g_free(m->levels);
    m->n_levels = (size_t)MAX(sf_slide_level_count(slide), 0);
    m->levels = g_new0(sf_manifest_level, MAX(m->n_levels, 1));
    for (size_t l = 0; l < m->n_levels; l++) {
        const sf_level *level = sf_slide_level(slide, (int)l);
        m->levels[l] = (sf_manifest_level){level->width, level->height, level->downsample};
    }
}

static void add_positive_or_null(JsonBuilder *b, const char *name, double value)
{
    json_builder_set_member_name(b, name);
    if (value > 0)
        json_builder_add_double_value(b, value);
    else
        json_builder_add_null_value(b);
}

void sf_slide_json_members(JsonBuilder *b, const sf_manifest *m)
{
    sf_json_add_string(b, "vendor", m->vendor);
    sf_json_add_int(b, "width", m->width);
    sf_json_add_int(b, "height", m->height);
    add_positive_or_null(b, "mpp_x", m->mpp_x);
    add_positive_or_null(b, "mpp_y", m->mpp_y);
    add_positive_or_null(b, "objective_power", m->objective_power);
    sf_json_add_string(b, "quickhash", m->quickhash);
    json_builder_set_member_name(b, "bounds");
    if (m->has_bounds) {
        json_builder_begin_object(b);
        sf_json_add_int(b, "x", m->bounds_x);
        sf_json_add_int(b, "y", m->bounds_y);
        sf_json_add_int(b, "width", m->bounds_width);
        sf_json_add_int(b, "height", m->bounds_height);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "levels");
    json_builder_begin_array(b);
    for (size_t l = 0; l < m->n_levels; l++) {
        json_builder_begin_object(b);
        sf_json_add_int(b, "width", m->levels[l].width);
        sf_json_add_int(b, "height", m->levels[l].height);
        sf_json_add_double(b, "downsample", m->levels[l].downsample);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

JsonNode *sf_slide_info_json(const sf_slide *slide)
{
    g_autoptr(sf_manifest) m = sf_manifest_new();
    sf_manifest_describe_slide(m, slide);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    sf_json_add_string(b, "path", sf_slide_path(slide));
    sf_slide_json_members(b, m);
    json_builder_set_member_name(b, "associated_images");
    json_builder_begin_object(b);
    for (const char *const *name = sf_slide_associated_image_names(slide); name && *name; name++) {
        int64_t w = 0, h = 0;
        sf_slide_associated_image_size(slide, *name, &w, &h);
        json_builder_set_member_name(b, *name);
        json_builder_begin_object(b);
        sf_json_add_int(b, "width", w);
        sf_json_add_int(b, "height", h);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

JsonNode *sf_slide_formats_json(void)
{
    int n = 0;
    const sf_slide_format *formats = sf_slide_formats(&n);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "formats");
    json_builder_begin_array(b);
    for (int i = 0; i < n; i++) {
        json_builder_begin_object(b);
        sf_json_add_string(b, "name", formats[i].name);
        sf_json_add_string(b, "description", formats[i].description);
        json_builder_set_member_name(b, "extensions");
        json_builder_begin_array(b);
        for (const char *const *e = formats[i].extensions; *e; e++)
            json_builder_add_string_value(b, *e);
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "extensions");
    json_builder_begin_array(b);
    for (const char *const *e = sf_slide_extensions(); *e; e++)
        json_builder_add_string_value(b, *e);
    json_builder_end_array(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
