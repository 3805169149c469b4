/* Reading a slidefrag manifest (docs/manifest.md) back. */
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "io/json_read.h"
#include "slidefrag/json.h"
#include "slidefrag/error.h"
#include "slidefrag/manifest.h"

/* ---- Typed field access with messages naming the file and the field -- */

typedef struct {
    const char *file;
    GError **error;
} reader;

static gboolean fail(reader *r, const char *field, const char *cause)
{
    g_set_error(r->error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s: field '%s' %s", r->file, field, cause);
    return FALSE;
}

/* The member `name` of `object` (NULL when missing or null). */
static JsonNode *member(JsonObject *object, const char *name)
{
    return sf_json_member(object, name);
}

static JsonObject *get_object(reader *r, JsonObject *object, const char *name, const char *field)
{
    JsonNode *node = member(object, name);
    if (!node) {
        fail(r, field, "is missing");
        return NULL;
    }
    JsonObject *found = sf_json_object(node);
    if (!found)
        fail(r, field, "is not an object");
    return found;
}

static gboolean get_string(reader *r, JsonObject *object, const char *name, const char *field,
                           gboolean required, char **out)
{
    JsonNode *node = member(object, name);
    *out = NULL;
    if (!node)
        return required ? fail(r, field, "is missing") : TRUE;
    const char *text = sf_json_string(node);
    if (!text)
        return fail(r, field, "is not a string");
    *out = g_strdup(text);
    return TRUE;
}

/* Integers may be written as 2220 or 2220.0; anything fractional is wrong. */
static gboolean get_int(reader *r, JsonObject *object, const char *name, const char *field,
                        int64_t min, int64_t max, int64_t *out)
{
    JsonNode *node = member(object, name);
    if (!node)
        return fail(r, field, "is missing");
    int64_t value;
    if (!sf_json_integer(node, &value))
        return fail(r, field, "is not an integer");
    if (value < min || value > max) {
        g_autofree char *cause = g_strdup_printf(
            "is out of range (%" PRId64 ", expected %" PRId64 "..%" PRId64 ")", value, min, max);
        return fail(r, field, cause);
    }
    *out = value;
    return TRUE;
}

/* A number, or null/missing for "unknown" (0). */
static gboolean get_optional_double(reader *r, JsonObject *object, const char *name,
                                    const char *field, double *out)
{
    JsonNode *node = member(object, name);
    *out = 0;
    if (!node)
        return TRUE;
    if (!sf_json_number(node, out))
        return fail(r, field, "is not a number");
    if (!(*out >= 0) || *out > 1e6)
        return fail(r, field, "is out of range");
    return TRUE;
}

/* An optional member: absent or null leaves *present FALSE; otherwise it
 * must be an integer in range. */
static gboolean get_optional_int(reader *r, JsonObject *object, const char *name, const char *field,
                                 int64_t min, int64_t max, gboolean *present, int64_t *out)
{
    *present = member(object, name) != NULL;
    return !*present || get_int(r, object, name, field, min, max, out);
}

/* An optional object member: NULL, with no error, when absent or null. */
static gboolean get_optional_object(reader *r, JsonObject *object, const char *name,
                                    const char *field, JsonObject **out)
{
    JsonNode *node = member(object, name);
    *out = sf_json_object(node);
    return !node || *out ? TRUE : fail(r, field, "is not an object");
}

/* A box {x, y, w, h}: x, y >= 0 and w, h >= 1. */
static gboolean get_box(reader *r, JsonObject *box, const char *field, int64_t *x, int64_t *y,
                        int64_t *w, int64_t *h)
{
    g_autofree char *f_x = g_strconcat(field, ".x", NULL);
    g_autofree char *f_y = g_strconcat(field, ".y", NULL);
    g_autofree char *f_w = g_strconcat(field, ".w", NULL);
    g_autofree char *f_h = g_strconcat(field, ".h", NULL);
    return get_int(r, box, "x", f_x, 0, G_MAXINT64, x) &&
           get_int(r, box, "y", f_y, 0, G_MAXINT64, y) &&
           get_int(r, box, "w", f_w, 1, G_MAXINT64, w) &&
           get_int(r, box, "h", f_h, 1, G_MAXINT64, h);
}

/* ---- The manifest ------------------------------------------------------ */

static void region_clear(sf_manifest_region *region)
{
    g_free(region->fragment_file);
    g_free(region->fragment_name);
}

void sf_manifest_free(sf_manifest *manifest)
{
    if (!manifest)
        return;
    for (size_t i = 0; i < manifest->n_regions; i++)
        region_clear(&manifest->regions[i]);
    g_free(manifest->regions);
    g_free(manifest->path);
    g_free(manifest->tool_version);
    g_free(manifest->slide_path);
    g_free(manifest->slide_name);
    g_free(manifest->vendor);
    g_free(manifest->quickhash);
    g_free(manifest->levels);
    g_free(manifest->overview.file);
    if (manifest->params)
        json_node_unref(manifest->params);
    g_free(manifest->components);
    if (manifest->detection)
        json_node_unref(manifest->detection);
    g_strfreev(manifest->warnings);
    for (size_t i = 0; i < manifest->n_rejected; i++)
        g_free(manifest->rejected[i].reason);
    g_free(manifest->rejected);
    g_free(manifest);
}

static gboolean read_levels(reader *r, JsonObject *slide, sf_manifest *m)
{
    JsonNode *node = member(slide, "levels");
    if (!node)
        return TRUE;
    if (!JSON_NODE_HOLDS_ARRAY(node))
        return fail(r, "slide.levels", "is not an array");
    JsonArray *array = json_node_get_array(node);
    m->n_levels = json_array_get_length(array);
    m->levels = g_new0(sf_manifest_level, MAX(m->n_levels, 1));
    for (size_t i = 0; i < m->n_levels; i++) {
        g_autofree char *field = g_strdup_printf("slide.levels[%zu]", i);
        JsonNode *level_node = json_array_get_element(array, (guint)i);
        if (!JSON_NODE_HOLDS_OBJECT(level_node))
            return fail(r, field, "is not an object");
        JsonObject *level = json_node_get_object(level_node);
        g_autofree char *f_w = g_strconcat(field, ".width", NULL);
        g_autofree char *f_h = g_strconcat(field, ".height", NULL);
        g_autofree char *f_d = g_strconcat(field, ".downsample", NULL);
        if (!get_int(r, level, "width", f_w, 1, G_MAXINT64, &m->levels[i].width) ||
            !get_int(r, level, "height", f_h, 1, G_MAXINT64, &m->levels[i].height) ||
            !get_optional_double(r, level, "downsample", f_d, &m->levels[i].downsample))
            return FALSE;
    }
    return TRUE;
}

static gboolean read_slide(reader *r, JsonObject *root, sf_manifest *m)
{
    JsonObject *slide = get_object(r, root, "slide", "slide");
    if (!slide)
        return FALSE;
    if (!get_string(r, slide, "path", "slide.path", TRUE, &m->slide_path) ||
        !get_string(r, slide, "name", "slide.name", TRUE, &m->slide_name) ||
        !get_string(r, slide, "vendor", "slide.vendor", FALSE, &m->vendor) ||
        !get_int(r, slide, "width", "slide.width", 1, G_MAXINT64, &m->width) ||
        !get_int(r, slide, "height", "slide.height", 1, G_MAXINT64, &m->height) ||
        !get_optional_double(r, slide, "mpp_x", "slide.mpp_x", &m->mpp_x) ||
        !get_optional_double(r, slide, "mpp_y", "slide.mpp_y", &m->mpp_y))
        return FALSE;
    if (!*m->slide_name)
        return fail(r, "slide.name", "is empty");

    JsonNode *bounds = member(slide, "bounds");
    if (bounds) {
        if (!JSON_NODE_HOLDS_OBJECT(bounds))
            return fail(r, "slide.bounds", "is neither null nor an object");
        JsonObject *b = json_node_get_object(bounds);
        if (!get_int(r, b, "x", "slide.bounds.x", G_MININT32, G_MAXINT64, &m->bounds_x) ||
            !get_int(r, b, "y", "slide.bounds.y", G_MININT32, G_MAXINT64, &m->bounds_y) ||
            !get_int(r, b, "width", "slide.bounds.width", 0, G_MAXINT64, &m->bounds_width) ||
            !get_int(r, b, "height", "slide.bounds.height", 0, G_MAXINT64, &m->bounds_height))
            return FALSE;
        m->has_bounds = TRUE;
    }

    gboolean has_size, has_mtime;
    if (!get_optional_int(r, slide, "file_size", "slide.file_size", 0, G_MAXINT64, &has_size,
                          &m->file_size) ||
        !get_optional_int(r, slide, "file_mtime", "slide.file_mtime", G_MININT64, G_MAXINT64,
                          &has_mtime, &m->file_mtime) ||
        !get_optional_double(r, slide, "objective_power", "slide.objective_power",
                             &m->objective_power) ||
        !get_string(r, slide, "quickhash", "slide.quickhash", FALSE, &m->quickhash))
        return FALSE;
    m->has_file_stamp = has_size && has_mtime;
    return read_levels(r, slide, m);
}

static gboolean read_region(reader *r, JsonNode *node, size_t index, sf_manifest_region *region)
{
    g_autofree char *field = g_strdup_printf("regions[%zu]", index);
    if (!JSON_NODE_HOLDS_OBJECT(node))
        return fail(r, field, "is not an object");
    JsonObject *object = json_node_get_object(node);
    int64_t id;
    g_autofree char *f_id = g_strconcat(field, ".id", NULL);
    if (!get_int(r, object, "id", f_id, 0, G_MAXINT, &id))
        return FALSE;
    region->id = (int)id;

    g_autofree char *f_box = g_strconcat(field, ".level0", NULL);
    JsonObject *box = get_object(r, object, "level0", f_box);
    if (!box || !get_box(r, box, f_box, &region->x, &region->y, &region->w, &region->h))
        return FALSE;
    g_autofree char *f_overview = g_strconcat(field, ".overview", NULL);
    g_autofree char *f_tissue = g_strconcat(field, ".tissue_fraction", NULL);
    JsonObject *overview;
    if (!get_optional_object(r, object, "overview", f_overview, &overview) ||
        (overview && !get_box(r, overview, f_overview, &region->overview.x, &region->overview.y,
                              &region->overview.w, &region->overview.h)) ||
        !get_optional_double(r, object, "tissue_fraction", f_tissue, &region->tissue_fraction))
        return FALSE;
    region->has_overview = overview != NULL;

    g_autofree char *f_frag = g_strconcat(field, ".fragment", NULL);
    JsonObject *fragment = get_object(r, object, "fragment", f_frag);
    if (!fragment)
        return FALSE;
    g_autofree char *f_file = g_strconcat(f_frag, ".file", NULL);
    g_autofree char *f_fw = g_strconcat(f_frag, ".width", NULL);
    g_autofree char *f_fh = g_strconcat(f_frag, ".height", NULL);
    int64_t fw, fh;
    if (!get_string(r, fragment, "file", f_file, TRUE, &region->fragment_file) ||
        !get_int(r, fragment, "width", f_fw, 1, G_MAXINT, &fw) ||
        !get_int(r, fragment, "height", f_fh, 1, G_MAXINT, &fh))
        return FALSE;
    region->fragment_width = (int)fw;
    region->fragment_height = (int)fh;
    g_autofree char *f_ds = g_strconcat(f_frag, ".downsample", NULL);
    g_autofree char *f_level = g_strconcat(f_frag, ".level", NULL);
    gboolean has_level;
    int64_t level = 0;
    if (!get_optional_double(r, fragment, "downsample", f_ds, &region->fragment_downsample) ||
        !get_optional_int(r, fragment, "level", f_level, 0, G_MAXINT, &has_level, &level))
        return FALSE;
    region->fragment_level = (int)level;

    /* The tile of a region of tissue it is (read with "tissue" below). */
    g_autofree char *f_of = g_strconcat(field, ".tissue", NULL);
    g_autofree char *f_row = g_strconcat(field, ".row", NULL);
    g_autofree char *f_col = g_strconcat(field, ".col", NULL);
    gboolean has_row, has_col;
    int64_t tissue = 0, row = 0, col = 0;
    if (!get_optional_int(r, object, "tissue", f_of, 0, G_MAXINT, &region->has_tissue, &tissue) ||
        !get_optional_int(r, object, "row", f_row, 0, G_MAXINT, &has_row, &row) ||
        !get_optional_int(r, object, "col", f_col, 0, G_MAXINT, &has_col, &col))
        return FALSE;
    region->tissue = (int)tissue;
    region->row = (int)row;
    region->col = (int)col;
    region->fragment_name = g_path_get_basename(region->fragment_file);
    if (!*region->fragment_file || !strcmp(region->fragment_name, ".") ||
        !strcmp(region->fragment_name, "/"))
        return fail(r, f_file, "is not a file name");
    return TRUE;
}

static gboolean read_regions(reader *r, JsonObject *root, sf_manifest *m)
{
    JsonNode *node = member(root, "regions");
    if (!node)
        return fail(r, "regions", "is missing");
    if (!JSON_NODE_HOLDS_ARRAY(node))
        return fail(r, "regions", "is not an array");
    JsonArray *array = json_node_get_array(node);
    m->n_regions = json_array_get_length(array);
    m->regions = g_new0(sf_manifest_region, MAX(m->n_regions, 1));
    for (size_t i = 0; i < m->n_regions; i++)
        if (!read_region(r, json_array_get_element(array, (guint)i), i, &m->regions[i]))
            return FALSE;
    return TRUE;
}

static gboolean read_tool(reader *r, JsonObject *root, sf_manifest *m)
{
    JsonObject *tool;
    return get_optional_object(r, root, "tool", "tool", &tool) &&
           (!tool || get_string(r, tool, "version", "tool.version", FALSE, &m->tool_version));
}

static gboolean read_overview(reader *r, JsonObject *root, sf_manifest *m)
{
    JsonObject *o;
    if (!get_optional_object(r, root, "overview", "overview", &o))
        return FALSE;
    if (!o)
        return TRUE;
    sf_manifest_overview *v = &m->overview;
    int64_t level, width, height;
    if (!get_string(r, o, "file", "overview.file", TRUE, &v->file) ||
        !get_int(r, o, "level", "overview.level", 0, G_MAXINT, &level) ||
        !get_optional_double(r, o, "level_downsample", "overview.level_downsample",
                             &v->level_downsample) ||
        !get_int(r, o, "width", "overview.width", 1, G_MAXINT, &width) ||
        !get_int(r, o, "height", "overview.height", 1, G_MAXINT, &height) ||
        !get_optional_double(r, o, "scale_x", "overview.scale_x", &v->scale_x) ||
        !get_optional_double(r, o, "scale_y", "overview.scale_y", &v->scale_y))
        return FALSE;
    v->level = (int)level;
    v->width = (int)width;
    v->height = (int)height;
    m->has_overview = TRUE;
    return TRUE;
}

static gboolean read_run(reader *r, JsonObject *root, sf_manifest *m)
{
    JsonObject *params, *timings;
    gboolean has_threshold;
    int64_t threshold;
    if (!get_optional_object(r, root, "params", "params", &params) ||
        !get_optional_int(r, root, "threshold", "threshold", 0, 255, &has_threshold, &threshold) ||
        !get_optional_object(r, root, "timings", "timings", &timings))
        return FALSE;
    if (params)
        m->params = json_node_copy(member(root, "params"));
    m->threshold = has_threshold ? (int)threshold : -1;
    if (!timings)
        return TRUE;
    sf_manifest_timings *t = &m->timings;
    return get_optional_double(r, timings, "open", "timings.open", &t->open) &&
           get_optional_double(r, timings, "overview", "timings.overview", &t->overview) &&
           get_optional_double(r, timings, "detect", "timings.detect", &t->detect) &&
           get_optional_double(r, timings, "write", "timings.write", &t->write) &&
           get_optional_double(r, timings, "fragments", "timings.fragments", &t->fragments) &&
           get_optional_double(r, timings, "total", "timings.total", &t->total);
}

/* One entry of "tissue": a region and the grid of tiles that cut it, given
 * to each of its fragments. */
static gboolean read_tissue_entry(reader *r, JsonNode *node, size_t index, sf_manifest *m,
                                  GHashTable *ids)
{
    g_autofree char *field = g_strdup_printf("tissue[%zu]", index);
    if (!JSON_NODE_HOLDS_OBJECT(node))
        return fail(r, field, "is not an object");
    JsonObject *object = json_node_get_object(node);
    g_autofree char *f_id = g_strconcat(field, ".id", NULL);
    g_autofree char *f_detected = g_strconcat(field, ".detected", NULL);
    g_autofree char *f_box = g_strconcat(field, ".level0", NULL);
    g_autofree char *f_ds = g_strconcat(field, ".downsample", NULL);
    g_autofree char *f_rows = g_strconcat(field, ".rows", NULL);
    g_autofree char *f_cols = g_strconcat(field, ".cols", NULL);
    g_autofree char *f_overlap = g_strconcat(field, ".overlap", NULL);
    int64_t id, rows, cols, overlap;
    sf_box detected, box;
    double downsample;
    JsonObject *detected_object, *box_object;
    if (!get_int(r, object, "id", f_id, 0, G_MAXINT, &id) ||
        !(detected_object = get_object(r, object, "detected", f_detected)) ||
        !get_box(r, detected_object, f_detected, &detected.x, &detected.y, &detected.w,
                 &detected.h) ||
        !(box_object = get_object(r, object, "level0", f_box)) ||
        !get_box(r, box_object, f_box, &box.x, &box.y, &box.w, &box.h) ||
        !get_optional_double(r, object, "downsample", f_ds, &downsample) ||
        !get_int(r, object, "rows", f_rows, 1, G_MAXINT, &rows) ||
        !get_int(r, object, "cols", f_cols, 1, G_MAXINT, &cols) ||
        !get_int(r, object, "overlap", f_overlap, 0, G_MAXINT, &overlap))
        return FALSE;
    if (g_hash_table_contains(ids, GINT_TO_POINTER(id)))
        return fail(r, f_id, "repeats an earlier entry's");
    g_hash_table_add(ids, GINT_TO_POINTER(id));
    for (size_t i = 0; i < m->n_regions; i++) {
        sf_manifest_region *region = &m->regions[i];
        if (!region->has_tissue || region->tissue != id)
            continue;
        region->detected = detected;
        region->tissue_box = box;
        region->tissue_downsample = downsample;
        region->rows = (int)rows;
        region->cols = (int)cols;
        region->overlap = (int)overlap;
    }
    return TRUE;
}

/* "tissue" (optional; manifests before tiles have none): every region a
 * fragment names must have its entry. */
static gboolean read_tissue(reader *r, JsonObject *root, sf_manifest *m)
{
    JsonNode *node = member(root, "tissue");
    g_autoptr(GHashTable) ids = g_hash_table_new(g_direct_hash, g_direct_equal);
    if (node) {
        if (!JSON_NODE_HOLDS_ARRAY(node))
            return fail(r, "tissue", "is not an array");
        JsonArray *array = json_node_get_array(node);
        for (guint i = 0; i < json_array_get_length(array); i++)
            if (!read_tissue_entry(r, json_array_get_element(array, i), i, m, ids))
                return FALSE;
    }
    for (size_t i = 0; i < m->n_regions; i++)
        if (m->regions[i].has_tissue &&
            !g_hash_table_contains(ids, GINT_TO_POINTER(m->regions[i].tissue))) {
            g_autofree char *field = g_strdup_printf("regions[%zu].tissue", i);
            return fail(r, field, "names no entry of 'tissue'");
        }
    return TRUE;
}

/* ---- What the report shows besides: all optional ------------------------- */

/* The optional array `name`; *array NULL when it is missing. */
static gboolean get_optional_array(reader *r, JsonObject *object, const char *name,
                                   JsonArray **array)
{
    JsonNode *node = member(object, name);
    *array = node ? sf_json_array(node) : NULL;
    return !node || *array || fail(r, name, "is not an array");
}

/* A string's text, or any other value as compact JSON. */
static char *text_of(JsonNode *node)
{
    const char *text = sf_json_string(node);
    return text ? g_strdup(text) : sf_json_text(node, FALSE);
}

static gboolean read_boxes(reader *r, JsonArray *array, const char *name, sf_box **boxes, size_t *n)
{
    *n = array ? json_array_get_length(array) : 0;
    *boxes = g_new0(sf_box, MAX(*n, 1));
    for (size_t i = 0; i < *n; i++) {
        g_autofree char *field = g_strdup_printf("%s[%zu]", name, i);
        JsonObject *box = sf_json_object(json_array_get_element(array, (guint)i));
        if (!box)
            return fail(r, field, "is not an object");
        sf_box *b = &(*boxes)[i];
        if (!get_box(r, box, field, &b->x, &b->y, &b->w, &b->h))
            return FALSE;
    }
    return TRUE;
}

static gboolean read_report_fields(reader *r, JsonObject *root, sf_manifest *m)
{
    JsonArray *components, *warnings, *rejected;
    JsonObject *detection;
    if (!get_optional_array(r, root, "components", &components) ||
        !get_optional_object(r, root, "detection", "detection", &detection) ||
        !get_optional_array(r, root, "warnings", &warnings) ||
        !get_optional_array(r, root, "rejected", &rejected) ||
        !read_boxes(r, components, "components", &m->components, &m->n_components))
        return FALSE;
    if (detection)
        m->detection = json_node_copy(member(root, "detection"));
    if (warnings) {
        /* A sentence, or an object with one in "message". */
        guint n = json_array_get_length(warnings);
        m->warnings = g_new0(char *, n + 1);
        for (guint i = 0; i < n; i++) {
            JsonNode *w = json_array_get_element(warnings, i);
            JsonObject *o = sf_json_object(w);
            JsonNode *message = o ? member(o, "message") : NULL;
            m->warnings[i] = text_of(message ? message : w);
        }
    }
    m->n_rejected = rejected ? json_array_get_length(rejected) : 0;
    m->rejected = g_new0(sf_manifest_rejected, MAX(m->n_rejected, 1));
    for (size_t i = 0; i < m->n_rejected; i++) {
        g_autofree char *field = g_strdup_printf("rejected[%zu]", i);
        JsonNode *node = json_array_get_element(rejected, (guint)i);
        JsonObject *object = sf_json_object(node);
        if (!object)
            return fail(r, field, "is not an object");
        sf_manifest_rejected *out = &m->rejected[i];
        JsonObject *box;
        g_autofree char *f_box = g_strconcat(field, ".overview", NULL);
        if (!get_optional_object(r, object, "overview", f_box, &box) ||
            (box && !get_box(r, box, f_box, &out->box.x, &out->box.y, &out->box.w, &out->box.h)))
            return FALSE;
        JsonNode *reason = member(object, "reason");
        out->reason = text_of(reason ? reason : node);
    }
    return TRUE;
}

sf_manifest *sf_manifest_load(const char *path, GError **error)
{
    g_autofree char *text = NULL;
    size_t length = 0;
    if (!sf_input_read(path, "manifest", SF_INPUT_FILE, SF_JSON_MAX_FILE_BYTES, &text, &length,
                       error))
        return NULL;
    return sf_manifest_parse(path, text, length, error);
}

sf_manifest *sf_manifest_parse(const char *path, const char *text, size_t length, GError **error)
{
    g_autoptr(JsonNode) root_node =
        sf_json_parse(path, text, length, SF_JSON_MAX_FILE_VALUES, error);
    if (!root_node)
        return NULL;
    reader r = {path, error};
    if (!JSON_NODE_HOLDS_OBJECT(root_node)) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s: not a slidefrag manifest", path);
        return NULL;
    }
    JsonObject *root = json_node_get_object(root_node);
    const char *schema = sf_json_string_member(root, "schema");
    if (!schema || strcmp(schema, SF_MANIFEST_SCHEMA) != 0) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT,
                    "%s: not a slidefrag manifest (schema is not \"%s\")", path,
                    SF_MANIFEST_SCHEMA);
        return NULL;
    }

    g_autoptr(sf_manifest) m = sf_manifest_new();
    m->path = g_strdup(path);
    if (!read_tool(&r, root, m) || !read_slide(&r, root, m) || !read_overview(&r, root, m) ||
        !read_run(&r, root, m) || !read_regions(&r, root, m) || !read_tissue(&r, root, m) ||
        !read_report_fields(&r, root, m))
        return NULL;
    return g_steal_pointer(&m);
}
