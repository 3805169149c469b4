/*
 * Reading the boxes `eval` compares: slidefrag manifests, GeoJSON and plain
 * JSON lists, one file or a folder of them (boxes_read.h).
 */
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "io/folder.h"
#include "io/input.h"
#include "io/json_read.h"
#include "slidefrag/annotations.h"
#include "slidefrag/boxes_read.h"
#include "slidefrag/error.h"
#include "slidefrag/manifest.h"

/* Coordinates beyond this are no slide's and would not fit int64 safely. */
#define MAX_COORDINATE 1.0e15
/* GeometryCollections and coordinate arrays nest; JSON from a file must
 * not make us recurse without end. */
#define MAX_DEPTH 32

const char *sf_boxes_format_name(sf_boxes_format format)
{
    switch (format) {
    case SF_BOXES_MANIFEST:
        return "manifest";
    case SF_BOXES_GEOJSON:
        return "geojson";
    case SF_BOXES_LIST:
        return "list";
    }
    return "unknown";
}

void sf_slide_boxes_free(sf_slide_boxes *boxes)
{
    if (!boxes)
        return;
    g_free(boxes->stem);
    g_free(boxes->path);
    g_free(boxes->boxes);
    g_free(boxes);
}

/* ---- Numbers and boxes --------------------------------------------------- */

static gboolean get_number(JsonNode *node, double *out)
{
    return sf_json_number(node, out) && fabs(*out) <= MAX_COORDINATE;
}

typedef struct {
    double x0, y0, x1, y1;
    size_t n_points;
} extent;

static void extent_add(extent *e, double x, double y)
{
    if (e->n_points++ == 0) {
        e->x0 = e->x1 = x;
        e->y0 = e->y1 = y;
        return;
    }
    e->x0 = MIN(e->x0, x);
    e->y0 = MIN(e->y0, y);
    e->x1 = MAX(e->x1, x);
    e->y1 = MAX(e->y1, y);
}

/* The whole pixels covering an extent; at least one pixel each way. */
static sf_box extent_box(const extent *e)
{
    int64_t x0 = (int64_t)floor(e->x0), y0 = (int64_t)floor(e->y0);
    int64_t x1 = (int64_t)ceil(e->x1), y1 = (int64_t)ceil(e->y1);
    return (sf_box){.x = x0, .y = y0, .w = MAX(x1 - x0, 1), .h = MAX(y1 - y0, 1)};
}

typedef struct {
    const char *path;
    GArray *boxes; /* sf_box */
    GError **error;
} reader;

static gboolean fail(reader *r, const char *where, const char *format, ...) G_GNUC_PRINTF(3, 4);

static gboolean fail(reader *r, const char *where, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    g_autofree char *cause = g_strdup_vprintf(format, args);
    va_end(args);
    g_set_error(r->error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s: %s: %s", r->path, where, cause);
    return FALSE;
}

/* ---- Plain lists ---------------------------------------------------------- */

static gboolean read_list(reader *r, JsonArray *array)
{
    for (guint i = 0; i < json_array_get_length(array); i++) {
        g_autofree char *where = g_strdup_printf("element %u", i);
        JsonNode *node = json_array_get_element(array, i);
        if (!JSON_NODE_HOLDS_ARRAY(node) || json_array_get_length(json_node_get_array(node)) != 4)
            return fail(r, where, "is not [x, y, w, h]");
        JsonArray *item = json_node_get_array(node);
        double v[4];
        for (guint k = 0; k < 4; k++)
            if (!get_number(json_array_get_element(item, k), &v[k]))
                return fail(r, where, "is not [x, y, w, h] of numbers within +-1e15");
        if (!(v[2] > 0) || !(v[3] > 0))
            return fail(r, where, "width and height must be positive");
        extent e = {0};
        extent_add(&e, v[0], v[1]);
        extent_add(&e, v[0] + v[2], v[1] + v[3]);
        sf_box box = extent_box(&e);
        g_array_append_val(r->boxes, box);
    }
    return TRUE;
}

/* ---- GeoJSON ------------------------------------------------------------- */

/* A position is an array starting with numbers; anything else nests them. */
static gboolean walk_coordinates(reader *r, const char *where, JsonNode *node, int depth, extent *e)
{
    if (!JSON_NODE_HOLDS_ARRAY(node))
        return fail(r, where, "coordinates are not arrays");
    if (depth > MAX_DEPTH)
        return fail(r, where, "coordinates nest too deeply");
    JsonArray *array = json_node_get_array(node);
    guint n = json_array_get_length(array);
    if (n > 0 && JSON_NODE_HOLDS_VALUE(json_array_get_element(array, 0))) {
        double x, y;
        if (n < 2 || !get_number(json_array_get_element(array, 0), &x) ||
            !get_number(json_array_get_element(array, 1), &y))
            return fail(r, where, "a position is not [x, y] of numbers within +-1e15");
        extent_add(e, x, y);
        return TRUE;
    }
    for (guint i = 0; i < n; i++)
        if (!walk_coordinates(r, where, json_array_get_element(array, i), depth + 1, e))
            return FALSE;
    return TRUE;
}

static gboolean geometry_extent(reader *r, const char *where, JsonNode *node, int depth, extent *e)
{
    static const char *const types[] = {"Point",           "MultiPoint", "LineString",
                                        "MultiLineString", "Polygon",    "MultiPolygon"};
    if (!JSON_NODE_HOLDS_OBJECT(node))
        return fail(r, where, "geometry is not an object");
    if (depth > MAX_DEPTH)
        return fail(r, where, "geometries nest too deeply");
    JsonObject *geometry = json_node_get_object(node);
    const char *type = sf_json_string_member(geometry, "type");
    if (!type)
        return fail(r, where, "geometry has no \"type\"");
    if (!strcmp(type, "GeometryCollection")) {
        JsonNode *parts = json_object_get_member(geometry, "geometries");
        if (!parts || !JSON_NODE_HOLDS_ARRAY(parts))
            return fail(r, where, "GeometryCollection without \"geometries\" array");
        JsonArray *array = json_node_get_array(parts);
        for (guint i = 0; i < json_array_get_length(array); i++)
            if (!geometry_extent(r, where, json_array_get_element(array, i), depth + 1, e))
                return FALSE;
        return TRUE;
    }
    gboolean known = FALSE;
    for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
        known = known || !strcmp(type, types[i]);
    if (!known)
        return fail(r, where, "unknown geometry type \"%s\"", type);
    JsonNode *coordinates = json_object_get_member(geometry, "coordinates");
    if (!coordinates)
        return fail(r, where, "%s without \"coordinates\"", type);
    return walk_coordinates(r, where, coordinates, 0, e);
}

static gboolean read_feature(reader *r, const char *where, JsonNode *node)
{
    if (!JSON_NODE_HOLDS_OBJECT(node))
        return fail(r, where, "is not a GeoJSON Feature");
    JsonObject *feature = json_node_get_object(node);
    const char *type = sf_json_string_member(feature, "type");
    if (!type || strcmp(type, "Feature") != 0)
        return fail(r, where, "is not a GeoJSON Feature");
    JsonNode *geometry = json_object_get_member(feature, "geometry");
    /* GeoJSON allows features without a place; they have no box. */
    if (!geometry || JSON_NODE_HOLDS_NULL(geometry))
        return TRUE;
    extent e = {0};
    if (!geometry_extent(r, where, geometry, 0, &e))
        return FALSE;
    if (e.n_points > 0) {
        sf_box box = extent_box(&e);
        g_array_append_val(r->boxes, box);
    }
    return TRUE;
}

static gboolean read_features(reader *r, JsonArray *features, const char *prefix)
{
    for (guint i = 0; i < json_array_get_length(features); i++) {
        g_autofree char *where = g_strdup_printf("%s[%u]", prefix, i);
        if (!read_feature(r, where, json_array_get_element(features, i)))
            return FALSE;
    }
    return TRUE;
}

static gboolean read_geojson(reader *r, JsonNode *root)
{
    if (JSON_NODE_HOLDS_ARRAY(root))
        return read_features(r, json_node_get_array(root), "element");
    JsonObject *object = json_node_get_object(root);
    if (!g_strcmp0(sf_json_string_member(object, "type"), "Feature"))
        return read_feature(r, "feature", root);
    JsonNode *features = json_object_get_member(object, "features");
    if (!features || !JSON_NODE_HOLDS_ARRAY(features))
        return fail(r, "features", "is missing or not an array");
    return read_features(r, json_node_get_array(features), "features");
}

/* ---- Detection ------------------------------------------------------------ */

#define FORMAT_UNKNOWN (-1)

static int detect(JsonNode *root)
{
    if (JSON_NODE_HOLDS_ARRAY(root)) {
        JsonArray *array = json_node_get_array(root);
        if (json_array_get_length(array) == 0)
            return SF_BOXES_LIST;
        JsonNode *first = json_array_get_element(array, 0);
        if (JSON_NODE_HOLDS_ARRAY(first))
            return SF_BOXES_LIST;
        if (JSON_NODE_HOLDS_OBJECT(first)) {
            const char *type = sf_json_string_member(json_node_get_object(first), "type");
            if (type && !strcmp(type, "Feature"))
                return SF_BOXES_GEOJSON;
        }
        return FORMAT_UNKNOWN;
    }
    if (!JSON_NODE_HOLDS_OBJECT(root))
        return FORMAT_UNKNOWN;
    JsonObject *object = json_node_get_object(root);
    const char *schema = sf_json_string_member(object, "schema");
    if (schema && g_str_has_prefix(schema, "slidefrag.manifest"))
        return SF_BOXES_MANIFEST;
    const char *type = sf_json_string_member(object, "type");
    if (type && (!strcmp(type, "FeatureCollection") || !strcmp(type, "Feature")))
        return SF_BOXES_GEOJSON;
    return FORMAT_UNKNOWN;
}

static gboolean read_manifest(reader *r, char **stem)
{
    g_autoptr(sf_manifest) manifest = sf_manifest_load(r->path, r->error);
    if (!manifest)
        return FALSE;
    /* The detected boxes: not the padding, not the tiles. */
    g_autoptr(GArray) boxes = sf_manifest_tissue_boxes(manifest);
    g_array_append_vals(r->boxes, boxes->data, boxes->len);
    g_free(*stem);
    *stem = g_strdup(manifest->slide_name);
    return TRUE;
}

/*
 * Parses one file. With `skip_unknown`, JSON of no known format returns
 * NULL without an error and sets *unknown.
 */
static sf_slide_boxes *parse(const char *path, const char *data, size_t length,
                             gboolean skip_unknown, gboolean *unknown, GError **error)
{
    g_autoptr(JsonNode) root = sf_json_parse(path, data, length, SF_JSON_MAX_FILE_VALUES, error);
    if (!root)
        return NULL;
    int format = detect(root);
    if (format == FORMAT_UNKNOWN) {
        if (skip_unknown) {
            *unknown = TRUE;
            return NULL;
        }
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT,
                    "%s: neither a slidefrag manifest, GeoJSON nor a JSON list of "
                    "[x, y, w, h] boxes",
                    path);
        return NULL;
    }

    g_autoptr(GArray) boxes = g_array_new(FALSE, FALSE, sizeof(sf_box));
    g_autofree char *stem = sf_annotation_file_stem(path);
    reader r = {.path = path, .boxes = boxes, .error = error};
    gboolean ok = FALSE;
    switch ((sf_boxes_format)format) {
    case SF_BOXES_MANIFEST:
        ok = read_manifest(&r, &stem);
        break;
    case SF_BOXES_GEOJSON:
        ok = read_geojson(&r, root);
        break;
    case SF_BOXES_LIST:
        ok = read_list(&r, json_node_get_array(root));
        break;
    }
    if (!ok)
        return NULL;
    sf_slide_boxes *result = g_new0(sf_slide_boxes, 1);
    result->stem = g_steal_pointer(&stem);
    result->path = g_strdup(path);
    result->format = (sf_boxes_format)format;
    result->n_boxes = boxes->len;
    result->boxes = (sf_box *)(void *)g_array_free(g_steal_pointer(&boxes), FALSE);
    return result;
}

sf_slide_boxes *sf_boxes_parse(const char *path, const char *data, size_t length, GError **error)
{
    gboolean unknown = FALSE;
    return parse(path, data, length, FALSE, &unknown, error);
}

static gboolean read_file(const char *path, char **data, size_t *length, GError **error)
{
    return sf_input_read(path, NULL, SF_INPUT_FILE, SF_JSON_MAX_FILE_BYTES, data, length, error);
}

sf_slide_boxes *sf_boxes_load(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    size_t length = 0;
    if (!read_file(path, &data, &length, error))
        return NULL;
    return sf_boxes_parse(path, data, length, error);
}

/* ---- Folders --------------------------------------------------------------- */

static int compare_stems(gconstpointer a, gconstpointer b)
{
    const sf_slide_boxes *x = *(sf_slide_boxes *const *)a, *y = *(sf_slide_boxes *const *)b;
    return strcmp(x->stem, y->stem);
}

static gboolean is_box_file_name(const char *name)
{
    size_t n = strlen(name);
    if (name[0] == '.')
        return FALSE;
    return (n > 5 && !g_ascii_strcasecmp(name + n - 5, ".json")) ||
           (n > 8 && !g_ascii_strcasecmp(name + n - 8, ".geojson"));
}

/* Reads one folder entry into `out` (or nothing when it holds no boxes). */
static gboolean load_entry(const char *dir, const char *name, GPtrArray *out, GPtrArray *notes,
                           GError **error)
{
    g_autofree char *full = g_build_filename(dir, name, NULL);
    g_autofree char *path = NULL;
    gboolean skip_unknown = TRUE;
    if (g_file_test(full, G_FILE_TEST_IS_DIR)) {
        path = g_build_filename(full, "manifest.json", NULL);
        if (!g_file_test(path, G_FILE_TEST_EXISTS))
            return TRUE;
        skip_unknown = FALSE; /* a manifest.json must be one */
    } else if (is_box_file_name(name) && g_file_test(full, G_FILE_TEST_IS_REGULAR)) {
        path = g_steal_pointer(&full);
    } else {
        return TRUE;
    }
    g_autofree char *data = NULL;
    size_t length = 0;
    if (!read_file(path, &data, &length, error))
        return FALSE;
    gboolean unknown = FALSE;
    sf_slide_boxes *boxes = parse(path, data, length, skip_unknown, &unknown, error);
    if (unknown) {
        if (notes)
            g_ptr_array_add(notes, g_strdup_printf("%s: not a box file, ignored", path));
        return TRUE;
    }
    if (!boxes)
        return FALSE;
    g_ptr_array_add(out, boxes);
    return TRUE;
}

GPtrArray *sf_boxes_load_path(const char *path, GPtrArray *notes, GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)sf_slide_boxes_free);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: no such file or folder", path);
        return NULL;
    }
    if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
        sf_slide_boxes *boxes = sf_boxes_load(path, error);
        if (!boxes)
            return NULL;
        g_ptr_array_add(out, boxes);
        return g_steal_pointer(&out);
    }

    g_autoptr(GPtrArray) names = sf_folder_sorted_names(path, error);
    if (!names)
        return NULL;
    for (guint i = 0; i < names->len; i++)
        if (!load_entry(path, names->pdata[i], out, notes, error))
            return NULL;
    if (out->len == 0) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING,
                    "%s: no box files (<stem>.json, <stem>.geojson or <stem>/manifest.json)", path);
        return NULL;
    }
    g_ptr_array_sort(out, compare_stems);
    for (guint i = 1; i < out->len; i++) {
        const sf_slide_boxes *a = out->pdata[i - 1], *b = out->pdata[i];
        if (!strcmp(a->stem, b->stem)) {
            g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT,
                        "%s and %s: both hold the boxes of slide \"%s\"", a->path, b->path,
                        a->stem);
            return NULL;
        }
    }
    return g_steal_pointer(&out);
}
