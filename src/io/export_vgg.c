/*
 * VGG Image Annotator JSON exports (docs/formats.md): an object keyed by file
 * name, one entry per image with its regions. VGG states no image size:
 * another file of the export or a manifest must.
 */
#include <string.h>

#include "io/export_internal.h"

static void read_vgg_region(sf_annotation_set *set, const char *name, const char *image,
                            const char *region_key, JsonNode *node)
{
    g_autofree char *path = g_strdup_printf("\"%s\" regions[%s]", image, region_key);
    g_autofree char *where = g_strdup_printf("%s: %s", name, path);
    JsonObject *region = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    JsonNode *shape_node = sf_json_member(region, "shape_attributes");
    JsonNode *attributes = sf_json_member(region, "region_attributes");
    JsonObject *shape =
        shape_node && JSON_NODE_HOLDS_OBJECT(shape_node) ? json_node_get_object(shape_node) : NULL;
    const char *label =
        attributes && JSON_NODE_HOLDS_OBJECT(attributes)
            ? sf_json_string(sf_json_member(json_node_get_object(attributes), "label"))
            : NULL;
    const char *kind = sf_json_string(sf_json_member(shape, "name"));
    if (!shape || !kind) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, where, "region without shape_attributes.name");
        return;
    }
    if (!label || !*label) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, where,
                          "region without region_attributes.label");
        return;
    }
    if (strcmp(kind, "polygon") != 0) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, where,
                          "shape '%s' is not supported (polygon only)", kind);
        return;
    }
    sf_json_polygon polygon = {.xs = sf_json_array_member(shape, "all_points_x"),
                               .ys = sf_json_array_member(shape, "all_points_y")};
    if (!polygon.xs || !polygon.ys ||
        json_array_get_length(polygon.xs) != json_array_get_length(polygon.ys)) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, where,
                          "all_points_x and all_points_y must be arrays of the same length");
        return;
    }
    const char *why = NULL;
    size_t n = 0;
    sf_vertex *v = sf_json_polygon_vertices(&polygon, &n, &why);
    if (!v) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, where, "polygon has %s", why);
        return;
    }
    sf_export_keep(set, sf_export_polygon_new(label, v, n, image, name, path));
}

static guint json_container_size(JsonNode *node)
{
    if (node && JSON_NODE_HOLDS_OBJECT(node))
        return json_object_get_size(json_node_get_object(node));
    if (node && JSON_NODE_HOLDS_ARRAY(node))
        return json_array_get_length(json_node_get_array(node));
    return 0;
}

static void read_vgg_entry(sf_annotation_set *set, const char *name, const char *key, guint index,
                           JsonNode *node, gpointer data)
{
    (void)index;
    const sf_json_outline *outline = data;
    JsonObject *entry = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    JsonNode *regions = sf_json_member(entry, "regions");
    const char *image = sf_json_string(sf_json_member(entry, "filename"));
    if (!image)
        image = key;
    g_autofree char *where = g_strdup_printf("%s: \"%s\"", name, key);
    guint n_regions = MAX(json_container_size(regions), 1);
    const char *first = NULL;
    if (!entry || !regions ||
        !(JSON_NODE_HOLDS_OBJECT(regions) || JSON_NODE_HOLDS_ARRAY(regions))) {
        sf_export_problem(set, SF_SKIP_MALFORMED, n_regions, where, "entry without 'regions'");
        return;
    }
    if (!sf_export_image_name_ok(image)) {
        sf_export_problem(set, SF_SKIP_PATH, n_regions, where, "file name '%s' is a path", image);
        return;
    }
    if (g_hash_table_contains(outline->duplicated, key)) {
        sf_export_problem(set, SF_SKIP_DUPLICATE, n_regions, where,
                          "image '%s' is listed twice in this file; skipped", key);
        return;
    }
    /* The annotated file's byte count: what can tell a fragment from one
     * of the same name at another resolution (VGG states no pixel size). */
    int64_t bytes;
    if (sf_json_integer(sf_json_member(entry, "size"), &bytes) && bytes > 0)
        sf_export_remember_bytes(set, image, bytes);
    if (!sf_export_register_image(set, SF_EXPORT_VGG, image, sf_export_new_group(set), where,
                                  &first)) {
        sf_export_problem(set, SF_SKIP_DUPLICATE, n_regions, where,
                          "image '%s' is already listed (%s); skipped", image, first);
        return;
    }
    if (JSON_NODE_HOLDS_ARRAY(regions)) {
        JsonArray *list = json_node_get_array(regions);
        for (guint i = 0; i < json_array_get_length(list) && !sf_export_stopped(set); i++) {
            char number[16];
            g_snprintf(number, sizeof number, "%u", i);
            read_vgg_region(set, name, image, number, json_array_get_element(list, i));
        }
    } else {
        JsonObject *object = json_node_get_object(regions);
        g_autoptr(GList) region_keys = json_object_get_members(object);
        for (GList *r = region_keys; r && !sf_export_stopped(set); r = r->next)
            read_vgg_region(set, name, image, r->data, json_object_get_member(object, r->data));
    }
}

void sf_export_read_vgg(sf_annotation_set *set, const char *name, const char *data, size_t length,
                        const sf_json_outline *outline)
{
    sf_json_entries(set, name, data, length, NULL, read_vgg_entry, (gpointer)outline);
}
