/*
 * Reading a slidefrag manifest (docs/manifest.md) back, and the fragment
 * file names that carry a region's level-0 box.
 */
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "io/json_safe.h"
#include "slidefrag/error.h"
#include "slidefrag/manifest.h"

#define MANIFEST_SCHEMA "slidefrag.manifest/1"

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
    if (!object || !json_object_has_member(object, name))
        return NULL;
    JsonNode *node = json_object_get_member(object, name);
    return JSON_NODE_HOLDS_NULL(node) ? NULL : node;
}

static JsonObject *get_object(reader *r, JsonObject *object, const char *name, const char *field)
{
    JsonNode *node = member(object, name);
    if (!node) {
        fail(r, field, "is missing");
        return NULL;
    }
    if (!JSON_NODE_HOLDS_OBJECT(node)) {
        fail(r, field, "is not an object");
        return NULL;
    }
    return json_node_get_object(node);
}

static gboolean get_string(reader *r, JsonObject *object, const char *name, const char *field,
                           gboolean required, char **out)
{
    JsonNode *node = member(object, name);
    if (!node) {
        *out = NULL;
        return required ? fail(r, field, "is missing") : TRUE;
    }
    if (json_node_get_value_type(node) != G_TYPE_STRING)
        return fail(r, field, "is not a string");
    *out = g_strdup(json_node_get_string(node));
    return TRUE;
}

/* Integers may be written as 2220 or 2220.0; anything fractional is wrong. */
static gboolean get_int(reader *r, JsonObject *object, const char *name, const char *field,
                        int64_t min, int64_t max, int64_t *out)
{
    JsonNode *node = member(object, name);
    if (!node)
        return fail(r, field, "is missing");
    GType type = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node) : G_TYPE_INVALID;
    int64_t value;
    if (type == G_TYPE_INT64) {
        value = json_node_get_int(node);
    } else if (type == G_TYPE_DOUBLE) {
        double d = json_node_get_double(node);
        if (!(d >= -9.0e15 && d <= 9.0e15) || d != (double)(int64_t)d)
            return fail(r, field, "is not an integer");
        value = (int64_t)d;
    } else {
        return fail(r, field, "is not an integer");
    }
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
    GType type = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node) : G_TYPE_INVALID;
    if (type == G_TYPE_INT64)
        *out = (double)json_node_get_int(node);
    else if (type == G_TYPE_DOUBLE)
        *out = json_node_get_double(node);
    else
        return fail(r, field, "is not a number");
    if (!(*out >= 0) || *out > 1e6)
        return fail(r, field, "is out of range");
    return TRUE;
}

/* ---- The manifest ------------------------------------------------------ */

static void region_clear(sf_manifest_region *region)
{
    g_free(region->fragment_file);
    g_free(region->fragment_name);
}

static void entries_free(sf_manifest_entry *entries, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        g_free(entries[i].key);
        g_free(entries[i].value);
    }
    g_free(entries);
}

void sf_manifest_free(sf_manifest *manifest)
{
    if (!manifest)
        return;
    for (size_t i = 0; i < manifest->n_regions; i++)
        region_clear(&manifest->regions[i]);
    g_free(manifest->regions);
    g_free(manifest->tool_version);
    g_free(manifest->overview_file);
    g_free(manifest->mask_file);
    g_free(manifest->boxes_file);
    entries_free(manifest->params, manifest->n_params);
    entries_free(manifest->detection, manifest->n_detection);
    entries_free(manifest->timings, manifest->n_timings);
    g_strfreev(manifest->warnings);
    g_free(manifest->components);
    for (size_t i = 0; i < manifest->n_rejected; i++)
        g_free(manifest->rejected[i].reason);
    g_free(manifest->rejected);
    g_free(manifest->path);
    g_free(manifest->slide_path);
    g_free(manifest->slide_name);
    g_free(manifest->vendor);
    g_free(manifest);
}

/* A box {"x", "y", "w", "h"} at `node`, named `field` in messages. */
static gboolean read_box(reader *r, JsonNode *node, const char *field, sf_box *box)
{
    if (!JSON_NODE_HOLDS_OBJECT(node))
        return fail(r, field, "is not an object");
    JsonObject *object = json_node_get_object(node);
    g_autofree char *f_x = g_strconcat(field, ".x", NULL);
    g_autofree char *f_y = g_strconcat(field, ".y", NULL);
    g_autofree char *f_w = g_strconcat(field, ".w", NULL);
    g_autofree char *f_h = g_strconcat(field, ".h", NULL);
    return get_int(r, object, "x", f_x, 0, G_MAXINT64, &box->x) &&
           get_int(r, object, "y", f_y, 0, G_MAXINT64, &box->y) &&
           get_int(r, object, "w", f_w, 1, G_MAXINT64, &box->w) &&
           get_int(r, object, "h", f_h, 1, G_MAXINT64, &box->h);
}

/* A JSON value as the report shows it. */
static char *value_text(JsonNode *node)
{
    if (JSON_NODE_HOLDS_NULL(node))
        return g_strdup("null");
    if (!JSON_NODE_HOLDS_VALUE(node))
        return sf_json_text(node, FALSE);
    GType type = json_node_get_value_type(node);
    if (type == G_TYPE_STRING)
        return g_strdup(json_node_get_string(node));
    if (type == G_TYPE_BOOLEAN)
        return g_strdup(json_node_get_boolean(node) ? "true" : "false");
    if (type == G_TYPE_INT64)
        return g_strdup_printf("%" PRId64, json_node_get_int(node));
    char number[SF_NUMBER_TEXT_SIZE];
    return g_strdup(sf_number_text(number, json_node_get_double(node)));
}

/* The members of the optional object `name` as entries, in order. */
static gboolean read_entries(reader *r, JsonObject *root, const char *name,
                             sf_manifest_entry **entries, size_t *n)
{
    JsonNode *node = member(root, name);
    if (!node)
        return TRUE;
    if (!JSON_NODE_HOLDS_OBJECT(node))
        return fail(r, name, "is not an object");
    JsonObject *object = json_node_get_object(node);
    g_autoptr(GList) names = json_object_get_members(object);
    *n = g_list_length(names);
    *entries = g_new0(sf_manifest_entry, MAX(*n, 1));
    size_t i = 0;
    for (GList *l = names; l; l = l->next, i++) {
        (*entries)[i].key = g_strdup(l->data);
        (*entries)[i].value = value_text(json_object_get_member(object, l->data));
    }
    return TRUE;
}

/* The optional array `name`, or NULL (with *ok FALSE when it is not one). */
static JsonArray *optional_array(reader *r, JsonObject *root, const char *name, gboolean *ok)
{
    JsonNode *node = member(root, name);
    *ok = TRUE;
    if (!node)
        return NULL;
    if (!JSON_NODE_HOLDS_ARRAY(node)) {
        *ok = fail(r, name, "is not an array");
        return NULL;
    }
    return json_node_get_array(node);
}

/* The parts of a manifest only the report uses; all optional. */
static gboolean read_report_fields(reader *r, JsonObject *root, sf_manifest *m)
{
    m->threshold = -1;
    JsonNode *tool = member(root, "tool");
    if (tool && JSON_NODE_HOLDS_OBJECT(tool) &&
        !get_string(r, json_node_get_object(tool), "version", "tool.version", FALSE,
                    &m->tool_version))
        return FALSE;
    JsonNode *overview = member(root, "overview");
    if (overview) {
        if (!JSON_NODE_HOLDS_OBJECT(overview))
            return fail(r, "overview", "is not an object");
        JsonObject *o = json_node_get_object(overview);
        int64_t w, h;
        if (!get_string(r, o, "file", "overview.file", TRUE, &m->overview_file) ||
            !get_string(r, o, "mask", "overview.mask", FALSE, &m->mask_file) ||
            !get_string(r, o, "boxes", "overview.boxes", FALSE, &m->boxes_file) ||
            !get_int(r, o, "width", "overview.width", 1, 65535, &w) ||
            !get_int(r, o, "height", "overview.height", 1, 65535, &h))
            return FALSE;
        m->overview_width = (int)w;
        m->overview_height = (int)h;
    }
    if (member(root, "threshold")) {
        int64_t t;
        if (!get_int(r, root, "threshold", "threshold", 0, 255, &t))
            return FALSE;
        m->threshold = (int)t;
    }
    if (!read_entries(r, root, "params", &m->params, &m->n_params) ||
        !read_entries(r, root, "detection", &m->detection, &m->n_detection) ||
        !read_entries(r, root, "timings", &m->timings, &m->n_timings))
        return FALSE;

    gboolean ok;
    GPtrArray *warnings = g_ptr_array_new();
    JsonArray *array = optional_array(r, root, "warnings", &ok);
    for (guint i = 0; array && i < json_array_get_length(array); i++) {
        /* A sentence, or an object with one in "message". */
        JsonNode *w = json_array_get_element(array, i);
        JsonNode *message =
            JSON_NODE_HOLDS_OBJECT(w) ? member(json_node_get_object(w), "message") : NULL;
        g_ptr_array_add(warnings, value_text(message ? message : w));
    }
    g_ptr_array_add(warnings, NULL);
    m->warnings = (char **)g_ptr_array_free(warnings, FALSE);
    if (!ok)
        return FALSE;

    array = optional_array(r, root, "components", &ok);
    if (!ok)
        return FALSE;
    m->n_components = array ? json_array_get_length(array) : 0;
    m->components = g_new0(sf_box, MAX(m->n_components, 1));
    for (size_t i = 0; i < m->n_components; i++) {
        g_autofree char *field = g_strdup_printf("components[%zu]", i);
        if (!read_box(r, json_array_get_element(array, (guint)i), field, &m->components[i]))
            return FALSE;
    }

    array = optional_array(r, root, "rejected", &ok);
    if (!ok)
        return FALSE;
    m->n_rejected = array ? json_array_get_length(array) : 0;
    m->rejected = g_new0(sf_manifest_rejected, MAX(m->n_rejected, 1));
    for (size_t i = 0; i < m->n_rejected; i++) {
        g_autofree char *field = g_strdup_printf("rejected[%zu]", i);
        JsonNode *node = json_array_get_element(array, (guint)i);
        sf_manifest_rejected *rejected = &m->rejected[i];
        if (!JSON_NODE_HOLDS_OBJECT(node))
            return fail(r, field, "is not an object");
        JsonObject *object = json_node_get_object(node);
        JsonNode *box = member(object, "overview");
        g_autofree char *f_box = g_strconcat(field, ".overview", NULL);
        if (box && !read_box(r, box, f_box, &rejected->box))
            return FALSE;
        JsonNode *reason = member(object, "reason");
        rejected->reason = value_text(reason ? reason : node);
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
    return TRUE;
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
    if (!box)
        return FALSE;
    g_autofree char *f_x = g_strconcat(f_box, ".x", NULL);
    g_autofree char *f_y = g_strconcat(f_box, ".y", NULL);
    g_autofree char *f_w = g_strconcat(f_box, ".w", NULL);
    g_autofree char *f_h = g_strconcat(f_box, ".h", NULL);
    if (!get_int(r, box, "x", f_x, 0, G_MAXINT64, &region->x) ||
        !get_int(r, box, "y", f_y, 0, G_MAXINT64, &region->y) ||
        !get_int(r, box, "w", f_w, 1, G_MAXINT64, &region->w) ||
        !get_int(r, box, "h", f_h, 1, G_MAXINT64, &region->h))
        return FALSE;

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
    JsonNode *overview = member(object, "overview");
    g_autofree char *f_overview = g_strconcat(field, ".overview", NULL);
    if (overview && !read_box(r, overview, f_overview, &region->overview))
        return FALSE;
    g_autofree char *f_tissue = g_strconcat(field, ".tissue_fraction", NULL);
    if (!get_optional_double(r, object, "tissue_fraction", f_tissue, &region->tissue_fraction))
        return FALSE;
    if (member(fragment, "level")) {
        g_autofree char *f_level = g_strconcat(f_frag, ".level", NULL);
        int64_t level;
        if (!get_int(r, fragment, "level", f_level, 0, 1000, &level))
            return FALSE;
        region->fragment_level = (int)level;
    }
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

sf_manifest *sf_manifest_load(const char *path, GError **error)
{
    g_autofree char *text = NULL;
    gsize length = 0;
    GError *local = NULL;
    if (!g_file_get_contents(path, &text, &length, &local)) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: cannot read manifest: %s", path,
                    local->message);
        g_error_free(local);
        return NULL;
    }
    return sf_manifest_parse(path, text, length, error);
}

sf_manifest *sf_manifest_parse(const char *path, const char *text, size_t length, GError **error)
{
    GError *local = NULL;
    if (!sf_json_check_depth(path, text, length, error))
        return NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, text, (gssize)length, &local)) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s: not valid JSON: %s", path,
                    local->message);
        g_error_free(local);
        return NULL;
    }
    JsonNode *root_node = json_parser_get_root(parser);
    reader r = {path, error};
    if (!root_node || !JSON_NODE_HOLDS_OBJECT(root_node)) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s: not a slidefrag manifest", path);
        return NULL;
    }
    JsonObject *root = json_node_get_object(root_node);
    JsonNode *schema = member(root, "schema");
    if (!schema || json_node_get_value_type(schema) != G_TYPE_STRING ||
        strcmp(json_node_get_string(schema), MANIFEST_SCHEMA) != 0) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT,
                    "%s: not a slidefrag manifest (schema is not \"%s\")", path, MANIFEST_SCHEMA);
        return NULL;
    }

    g_autoptr(sf_manifest) m = g_new0(sf_manifest, 1);
    m->path = g_strdup(path);
    if (!read_slide(&r, root, m) || !read_regions(&r, root, m) || !read_report_fields(&r, root, m))
        return NULL;
    return g_steal_pointer(&m);
}

/* ---- Fragment names ---------------------------------------------------- */

/* Parses `prefix` followed by decimal digits at *p; advances *p. */
static gboolean parse_field(const char **p, char prefix, int64_t *out)
{
    if (**p != prefix)
        return FALSE;
    const char *s = *p + 1;
    if (!g_ascii_isdigit(*s))
        return FALSE;
    int64_t value = 0;
    for (; g_ascii_isdigit(*s); s++) {
        int digit = *s - '0';
        if (value > (G_MAXINT64 - digit) / 10)
            return FALSE;
        value = value * 10 + digit;
    }
    *out = value;
    *p = s;
    return TRUE;
}

/* "x<X>_y<Y>_w<W>_h<H>.<ext>" exactly. */
static gboolean parse_box(const char *s, int64_t *x, int64_t *y, int64_t *w, int64_t *h)
{
    if (!parse_field(&s, 'x', x) || *s++ != '_' || !parse_field(&s, 'y', y) || *s++ != '_' ||
        !parse_field(&s, 'w', w) || *s++ != '_' || !parse_field(&s, 'h', h))
        return FALSE;
    if (*s != '.' || s[1] == '\0' || strchr(s + 1, '.'))
        return FALSE;
    return *w > 0 && *h > 0;
}

gboolean sf_fragment_name_parse(const char *name, char **stem, int64_t *x, int64_t *y, int64_t *w,
                                int64_t *h)
{
    g_return_val_if_fail(name != NULL, FALSE);
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    size_t length = strlen(base);
    int64_t bx, by, bw, bh;
    /* The stem may contain "__" itself: the separator is the last "__" that
     * is followed by a box, and something must precede it. */
    for (size_t i = length < 2 ? 0 : length - 2; i > 0; i--) {
        if (base[i] != '_' || base[i + 1] != '_' || !parse_box(base + i + 2, &bx, &by, &bw, &bh))
            continue;
        if (stem)
            *stem = g_strndup(base, i);
        if (x)
            *x = bx;
        if (y)
            *y = by;
        if (w)
            *w = bw;
        if (h)
            *h = bh;
        return TRUE;
    }
    return FALSE;
}

char *sf_fragment_name_format(const char *stem, int64_t x, int64_t y, int64_t w, int64_t h)
{
    return g_strdup_printf("%s__x%" PRId64 "_y%" PRId64 "_w%" PRId64 "_h%" PRId64 ".jpg", stem, x,
                           y, w, h);
}
