/*
 * Reading a slidefrag manifest (docs/manifest.md) back, and the fragment
 * file names that carry a region's level-0 box.
 */
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "io/json_read.h"
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

void sf_manifest_free(sf_manifest *manifest)
{
    if (!manifest)
        return;
    for (size_t i = 0; i < manifest->n_regions; i++)
        region_clear(&manifest->regions[i]);
    g_free(manifest->regions);
    g_free(manifest->path);
    g_free(manifest->slide_path);
    g_free(manifest->slide_name);
    g_free(manifest->vendor);
    g_free(manifest);
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
    JsonNode *schema = member(root, "schema");
    if (!schema || json_node_get_value_type(schema) != G_TYPE_STRING ||
        strcmp(json_node_get_string(schema), MANIFEST_SCHEMA) != 0) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT,
                    "%s: not a slidefrag manifest (schema is not \"%s\")", path, MANIFEST_SCHEMA);
        return NULL;
    }

    g_autoptr(sf_manifest) m = g_new0(sf_manifest, 1);
    m->path = g_strdup(path);
    if (!read_slide(&r, root, m) || !read_regions(&r, root, m))
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
