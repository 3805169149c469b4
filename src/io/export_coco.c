/*
 * COCO JSON exports (docs/formats.md): images, then annotations, then
 * categories, as Makesense writes them. The annotations need both tables,
 * so they take a pass of their own.
 */
#include <string.h>

#include "io/export_internal.h"

typedef struct {
    char *file_name;
    int width, height;
    gboolean usable;
    sf_skip_reason reason;          /* why not, for its annotations */
    sf_annotation_problem *problem; /* counts its annotations */
} coco_image;

static void coco_image_free(gpointer data)
{
    coco_image *image = data;
    g_free(image->file_name);
    g_free(image);
}

typedef struct {
    GHashTable *images;     /* id -> coco_image* */
    GHashTable *categories; /* id -> name */
} coco_tables;

static void read_coco_image(sf_annotation_set *set, const char *name, guint i, JsonNode *node,
                            GHashTable *by_id)
{
    g_autofree char *where = g_strdup_printf("%s: images[%u]", name, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    int64_t id, w, h;
    const char *file_name = sf_json_string(sf_json_member(o, "file_name"));
    if (!o || !sf_json_integer(sf_json_member(o, "id"), &id) || !file_name) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 0, where,
                          "an image needs an integer id and a file_name");
        return;
    }
    if (g_hash_table_contains(by_id, &id)) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 0, where,
                          "image id %" G_GINT64_FORMAT " repeated", id);
        return;
    }
    coco_image *image = g_new0(coco_image, 1);
    image->file_name = g_strdup(file_name);
    image->usable = FALSE;
    image->reason = SF_SKIP_MALFORMED;
    const char *first = NULL;
    if (!sf_json_integer(sf_json_member(o, "width"), &w) ||
        !sf_json_integer(sf_json_member(o, "height"), &h) || w > G_MAXINT || h > G_MAXINT) {
        image->problem = sf_export_problem(set, SF_SKIP_MALFORMED, 0, where,
                                           "image '%s': width/height are not integers", file_name);
    } else if (w <= 0 || h <= 0) {
        image->reason = SF_SKIP_BAD_SIZE;
        image->problem = sf_export_problem(set, SF_SKIP_BAD_SIZE, 0, where,
                                           "image '%s': size %" G_GINT64_FORMAT
                                           " x %" G_GINT64_FORMAT " is not positive",
                                           file_name, w, h);
    } else if (!sf_export_image_name_ok(file_name)) {
        image->reason = SF_SKIP_PATH;
        image->problem = sf_export_problem(set, SF_SKIP_PATH, 0, where,
                                           "file_name '%s' is a path, not a file name", file_name);
    } else if (!sf_export_register_image(set, SF_EXPORT_COCO, file_name, sf_export_new_group(set),
                                         where, &first)) {
        image->reason = SF_SKIP_DUPLICATE;
        image->problem = sf_export_problem(
            set, SF_SKIP_DUPLICATE, 0, where,
            "image '%s' is already listed (%s); its annotations skipped", file_name, first);
    } else {
        image->usable = TRUE;
        image->width = (int)w;
        image->height = (int)h;
        sf_export_remember_size(set, file_name, image->width, image->height);
    }
    int64_t *key = g_new(int64_t, 1);
    *key = id;
    g_hash_table_insert(by_id, key, image);
}

static void read_coco_category(JsonNode *node, GHashTable *names)
{
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    int64_t id;
    const char *label = sf_json_string(sf_json_member(o, "name"));
    if (!o || !sf_json_integer(sf_json_member(o, "id"), &id) || !label || !*label)
        return;
    int64_t *key = g_new(int64_t, 1);
    *key = id;
    g_hash_table_replace(names, key, g_strdup(label));
}

static void read_coco_table_entry(sf_annotation_set *set, const char *name, const char *key,
                                  guint index, JsonNode *entry, gpointer data)
{
    coco_tables *tables = data;
    if (!strcmp(key, "images"))
        read_coco_image(set, name, index, entry, tables->images);
    else
        read_coco_category(entry, tables->categories);
}

static void read_coco_annotation(sf_annotation_set *set, const char *name, const char *key,
                                 guint index, JsonNode *node, gpointer data)
{
    (void)key;
    const coco_tables *tables = data;
    g_autofree char *path = g_strdup_printf("annotations[%u]", index);
    g_autofree char *where = g_strdup_printf("%s: %s", name, path);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    int64_t image_id, category_id;
    if (!o || !sf_json_integer(sf_json_member(o, "image_id"), &image_id) ||
        !sf_json_integer(sf_json_member(o, "category_id"), &category_id)) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, where,
                          "needs integer image_id and category_id");
        return;
    }
    coco_image *image = g_hash_table_lookup(tables->images, &image_id);
    if (!image) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, where,
                          "image_id %" G_GINT64_FORMAT " is not in images", image_id);
        return;
    }
    if (!image->usable) {
        if (image->problem)
            image->problem->n_skipped++;
        return;
    }
    const char *label = g_hash_table_lookup(tables->categories, &category_id);
    if (!label) {
        sf_export_problem(set, SF_SKIP_UNKNOWN_CLASS, 1, where,
                          "category_id %" G_GINT64_FORMAT " is not in categories", category_id);
        return;
    }
    JsonNode *seg = sf_json_member(o, "segmentation");
    if (seg && JSON_NODE_HOLDS_OBJECT(seg)) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, where, "RLE segmentation is not supported");
        return;
    }
    JsonArray *polygons = seg && JSON_NODE_HOLDS_ARRAY(seg) ? json_node_get_array(seg) : NULL;
    if (!polygons || json_array_get_length(polygons) == 0) {
        /* No outline: fall back to the box, which every COCO writer gives. */
        JsonArray *b = sf_json_array_member(o, "bbox");
        double v[4];
        gboolean ok = b && json_array_get_length(b) == 4;
        for (guint k = 0; ok && k < 4; k++)
            ok = sf_json_number(json_array_get_element(b, k), &v[k]);
        if (!ok) {
            sf_export_problem(set, SF_SKIP_MALFORMED, 1, where,
                              "neither a segmentation nor a bbox");
            return;
        }
        if (v[2] <= 0 || v[3] <= 0) {
            sf_export_problem(set, SF_SKIP_BAD_SIZE, 1, where, "bbox size %g x %g is not positive",
                              v[2], v[3]);
            return;
        }
        sf_annotation *a = sf_export_rectangle_new(label, v[0], v[1], v[0] + v[2], v[1] + v[3],
                                                   image->file_name, name, 0, path);
        a->image_width = image->width;
        a->image_height = image->height;
        sf_export_keep(set, a);
        return;
    }
    for (guint p = 0; p < json_array_get_length(polygons) && !sf_export_stopped(set); p++) {
        JsonNode *flat = json_array_get_element(polygons, p);
        const char *why = "not an array of numbers";
        size_t n = 0;
        sf_json_polygon polygon = {.flat = JSON_NODE_HOLDS_ARRAY(flat) ? json_node_get_array(flat)
                                                                       : NULL};
        sf_vertex *v = polygon.flat ? sf_json_polygon_vertices(&polygon, &n, &why) : NULL;
        if (!v) {
            sf_export_problem(set, SF_SKIP_MALFORMED, 1, where, "segmentation[%u] has %s", p, why);
            continue;
        }
        g_autofree char *sub = json_array_get_length(polygons) > 1
                                   ? g_strdup_printf("%s.segmentation[%u]", path, p)
                                   : g_strdup(path);
        sf_annotation *a = sf_export_polygon_new(label, v, n, image->file_name, name, sub);
        a->image_width = image->width;
        a->image_height = image->height;
        sf_export_keep(set, a);
    }
}

void sf_export_read_coco(sf_annotation_set *set, const char *name, const char *data, size_t length,
                         const sf_json_outline *outline)
{
    static const char *const tables[] = {"images", "categories", NULL};
    static const char *const annotations[] = {"annotations", NULL};
    sf_json_token categories = sf_json_outline_kind(outline, "categories");
    if (sf_json_outline_kind(outline, "images") != SF_JSON_ARRAY_BEGIN ||
        sf_json_outline_kind(outline, "annotations") != SF_JSON_ARRAY_BEGIN ||
        (categories != SF_JSON_END && categories != SF_JSON_ARRAY_BEGIN &&
         categories != SF_JSON_NULL)) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, name,
                          "COCO needs arrays 'images', 'annotations' and 'categories'");
        return;
    }
    for (const char *const *t = tables; *t; t++)
        if (g_hash_table_contains(outline->duplicated, *t) ||
            g_hash_table_contains(outline->duplicated, "annotations")) {
            sf_export_problem(set, SF_SKIP_MALFORMED, 1, name,
                              "'%s' appears twice at the top level; file skipped",
                              g_hash_table_contains(outline->duplicated, *t) ? *t : "annotations");
            return;
        }
    coco_tables t = {
        .images = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, coco_image_free),
        .categories = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free),
    };
    sf_json_entries(set, name, data, length, tables, read_coco_table_entry, &t);
    sf_json_entries(set, name, data, length, annotations, read_coco_annotation, &t);
    g_hash_table_unref(t.images);
    g_hash_table_unref(t.categories);
}
