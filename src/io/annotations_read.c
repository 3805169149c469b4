/*
 * Makesense.AI exports read into annotations (formats.md, "Makesense.AI
 * exports"): YOLO, Pascal VOC, the three CSV layouts, COCO and VGG JSON,
 * loose, in folders or in the zip the browser downloads.
 *
 * Every problem is recorded against its file and line and reading goes on,
 * so one bad line never costs the valid annotations around it.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <zip.h>

#include "io/folder.h"
#include "io/json_safe.h"
#include "slidefrag/annotations.h"
#include "slidefrag/error.h"

/* Annotation files are small; anything this large is not one. */
#define MAX_EXPORT_FILE_BYTES ((gsize)1 << 30)

#define RECT_CSV_HEADER                                                                            \
    "label_name,bbox_x,bbox_y,bbox_width,bbox_height,image_name,image_width,image_height"

typedef struct {
    int width, height;
} image_size;

/* Where an image was first listed in the current export. */
typedef struct {
    guint group;
    char *location;
} listing;

struct sf_annotation_set_private {
    char **labels; /* NULL: "class_<n>" */
    guint n_labels;
    GHashTable *image_sizes; /* image key -> image_size* */
    GHashTable *listed;      /* "<format>/<image key>" -> listing*, this export */
    guint next_group;
};

/* ---- Model ------------------------------------------------------------- */

const char *sf_shape_name(sf_shape shape)
{
    switch (shape) {
    case SF_SHAPE_RECTANGLE:
        return "rectangle";
    case SF_SHAPE_POLYGON:
        return "polygon";
    case SF_SHAPE_POINT:
        return "point";
    case SF_SHAPE_LINE:
        return "line";
    }
    return "?";
}

void sf_annotation_free(sf_annotation *annotation)
{
    if (!annotation)
        return;
    g_free(annotation->label);
    g_free(annotation->vertices);
    g_free(annotation->image);
    g_free(annotation->source);
    g_free(annotation->where);
    g_free(annotation);
}

char *sf_annotation_location(const sf_annotation *annotation)
{
    if (annotation->line > 0)
        return g_strdup_printf("%s:%d", annotation->source, annotation->line);
    if (annotation->where)
        return g_strdup_printf("%s: %s", annotation->source, annotation->where);
    return g_strdup(annotation->source);
}

char *sf_image_key(const char *image)
{
    static const char *const extensions[] = {".jpg",  ".jpeg", ".png",  ".tif",
                                             ".tiff", ".bmp",  ".webp", ".gif"};
    const char *slash = strrchr(image, '/');
    const char *base = slash ? slash + 1 : image;
    const char *dot = strrchr(base, '.');
    if (dot && dot != base)
        for (size_t i = 0; i < G_N_ELEMENTS(extensions); i++)
            if (!g_ascii_strcasecmp(dot, extensions[i]))
                return g_strndup(base, (gsize)(dot - base));
    return g_strdup(base);
}

const char *sf_skip_reason_text(sf_skip_reason reason)
{
    switch (reason) {
    case SF_SKIP_MALFORMED:
        return "malformed";
    case SF_SKIP_BAD_SIZE:
        return "negative or zero size";
    case SF_SKIP_UNKNOWN_CLASS:
        return "unknown class";
    case SF_SKIP_PATH:
        return "path in a name";
    case SF_SKIP_DUPLICATE:
        return "image listed twice";
    case SF_SKIP_NO_FRAGMENT:
        return "no matching fragment";
    case SF_SKIP_OUTSIDE:
        return "outside the fragment";
    case SF_SKIP_SIZE_UNKNOWN:
        return "fragment size unknown";
    case SF_SKIP_SIZE_MISMATCH:
        return "image size differs from the manifest";
    case SF_SKIP_NOT_EXPORT:
        return "not an export";
    case SF_SKIP_N_REASONS:
        break;
    }
    return "?";
}

const char *sf_export_format_name(sf_export_format format)
{
    static const char *const names[] = {"unknown",       "YOLO",      "VOC XML",
                                        "rectangle CSV", "point CSV", "line CSV",
                                        "COCO JSON",     "VGG JSON",  "zip"};
    return (unsigned)format < G_N_ELEMENTS(names) ? names[format] : "unknown";
}

static void problem_free(gpointer data)
{
    sf_annotation_problem *problem = data;
    g_free(problem->message);
    g_free(problem);
}

static void listing_free(gpointer data)
{
    listing *l = data;
    g_free(l->location);
    g_free(l);
}

sf_annotation_set *sf_annotation_set_new(void)
{
    sf_annotation_set *set = g_new0(sf_annotation_set, 1);
    set->annotations = g_ptr_array_new_with_free_func((GDestroyNotify)sf_annotation_free);
    set->problems = g_ptr_array_new_with_free_func(problem_free);
    set->priv = g_new0(sf_annotation_set_private, 1);
    set->priv->image_sizes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    set->priv->listed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, listing_free);
    return set;
}

void sf_annotation_set_free(sf_annotation_set *set)
{
    if (!set)
        return;
    g_ptr_array_unref(set->annotations);
    g_ptr_array_unref(set->problems);
    g_strfreev(set->priv->labels);
    g_hash_table_unref(set->priv->image_sizes);
    g_hash_table_unref(set->priv->listed);
    g_free(set->priv);
    g_free(set);
}

void sf_annotation_set_set_labels(sf_annotation_set *set, const char *const *labels)
{
    g_strfreev(set->priv->labels);
    set->priv->labels = labels ? g_strdupv((char **)labels) : NULL;
    set->priv->n_labels = labels ? g_strv_length(set->priv->labels) : 0;
}

gboolean sf_annotation_set_load_labels(sf_annotation_set *set, const char *path, GError **error)
{
    g_autofree char *text = NULL;
    GError *local = NULL;
    if (!g_file_get_contents(path, &text, NULL, &local)) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: cannot read labels: %s", path,
                    local->message);
        g_error_free(local);
        return FALSE;
    }
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (char **line = lines; *line; line++) {
        g_strstrip(*line);
        if (**line)
            g_ptr_array_add(names, *line);
    }
    if (names->len == 0) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s: no label names in the file", path);
        return FALSE;
    }
    g_ptr_array_add(names, NULL);
    sf_annotation_set_set_labels(set, (const char *const *)names->pdata);
    return TRUE;
}

static sf_annotation_problem *add_problem_v(sf_annotation_set *set, sf_skip_reason reason,
                                            guint n_skipped, gboolean note, const char *location,
                                            const char *format, va_list args)
{
    sf_annotation_problem *problem = g_new0(sf_annotation_problem, 1);
    g_autofree char *cause = g_strdup_vprintf(format, args);
    problem->reason = reason;
    problem->n_skipped = note ? 0 : n_skipped;
    problem->note = note;
    problem->message = g_strdup_printf("%s: %s", location, cause);
    g_ptr_array_add(set->problems, problem);
    return problem;
}

void sf_annotation_set_add_problem(sf_annotation_set *set, sf_skip_reason reason, guint n_skipped,
                                   const char *location, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    add_problem_v(set, reason, n_skipped, FALSE, location, format, args);
    va_end(args);
}

static sf_annotation_problem *problem(sf_annotation_set *set, sf_skip_reason reason,
                                      guint n_skipped, const char *location, const char *format,
                                      ...) G_GNUC_PRINTF(5, 6);
static sf_annotation_problem *problem(sf_annotation_set *set, sf_skip_reason reason,
                                      guint n_skipped, const char *location, const char *format,
                                      ...)
{
    va_list args;
    va_start(args, format);
    sf_annotation_problem *p = add_problem_v(set, reason, n_skipped, FALSE, location, format, args);
    va_end(args);
    return p;
}

static void note(sf_annotation_set *set, const char *location, const char *format, ...)
    G_GNUC_PRINTF(3, 4);
static void note(sf_annotation_set *set, const char *location, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    add_problem_v(set, SF_SKIP_NOT_EXPORT, 0, TRUE, location, format, args);
    va_end(args);
}

guint sf_annotation_set_n_skipped(const sf_annotation_set *set)
{
    guint n = 0;
    for (guint i = 0; i < set->problems->len; i++)
        n += ((const sf_annotation_problem *)set->problems->pdata[i])->n_skipped;
    return n;
}

gboolean sf_annotation_set_has_errors(const sf_annotation_set *set)
{
    for (guint i = 0; i < set->problems->len; i++)
        if (!((const sf_annotation_problem *)set->problems->pdata[i])->note)
            return TRUE;
    return FALSE;
}

gboolean sf_annotation_set_image_size(const sf_annotation_set *set, const char *image, int *width,
                                      int *height)
{
    g_autofree char *key = sf_image_key(image);
    const image_size *size = g_hash_table_lookup(set->priv->image_sizes, key);
    if (!size)
        return FALSE;
    *width = size->width;
    *height = size->height;
    return TRUE;
}

static void remember_size(sf_annotation_set *set, const char *image, int width, int height)
{
    char *key = sf_image_key(image);
    if (g_hash_table_contains(set->priv->image_sizes, key)) {
        g_free(key);
        return;
    }
    image_size *size = g_new(image_size, 1);
    size->width = width;
    size->height = height;
    g_hash_table_insert(set->priv->image_sizes, key, size);
}

void sf_annotation_set_begin_export(sf_annotation_set *set)
{
    g_hash_table_remove_all(set->priv->listed);
}

/* A group is one listing of an image: a YOLO/VOC file, a COCO image entry,
 * a VGG entry, or a run of consecutive CSV rows. */
static guint new_group(sf_annotation_set *set)
{
    return ++set->priv->next_group;
}

/* Records that `group` lists `image`; FALSE (with the first listing's
 * location) when another group of the same export and format did. */
static gboolean register_image(sf_annotation_set *set, sf_export_format format, const char *image,
                               guint group, const char *location, const char **first)
{
    g_autofree char *image_key = sf_image_key(image);
    char *key = g_strdup_printf("%d/%s", (int)format, image_key);
    listing *l = g_hash_table_lookup(set->priv->listed, key);
    if (l) {
        g_free(key);
        *first = l->location;
        return l->group == group;
    }
    l = g_new(listing, 1);
    l->group = group;
    l->location = g_strdup(location);
    g_hash_table_insert(set->priv->listed, key, l);
    return TRUE;
}

/* Image names come from the export's content: they must name a file, never
 * a path, whatever is later built from them. */
static gboolean image_name_ok(const char *name)
{
    return *name && !strchr(name, '/') && !strchr(name, '\\') && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

/* Exports and file names may hold any bytes; the files map writes are
 * UTF-8 (JSON and XML readers refuse anything else), so text is made valid
 * UTF-8 here, once, with U+FFFD for what is not. */
static char *valid_utf8(const char *text)
{
    return text ? g_utf8_make_valid(text, -1) : NULL;
}

static sf_annotation *annotation_new(const char *label, sf_shape shape, size_t n_vertices,
                                     const char *image, const char *source, int line,
                                     const char *where)
{
    sf_annotation *a = g_new0(sf_annotation, 1);
    a->label = valid_utf8(label);
    a->shape = shape;
    a->n_vertices = n_vertices;
    a->vertices = g_new0(sf_vertex, n_vertices);
    a->image = valid_utf8(image);
    a->source = valid_utf8(source);
    a->line = line;
    a->where = valid_utf8(where);
    return a;
}

static sf_annotation *rectangle_new(const char *label, double x0, double y0, double x1, double y1,
                                    const char *image, const char *source, int line,
                                    const char *where)
{
    sf_annotation *a = annotation_new(label, SF_SHAPE_RECTANGLE, 4, image, source, line, where);
    a->vertices[0] = (sf_vertex){x0, y0};
    a->vertices[1] = (sf_vertex){x1, y0};
    a->vertices[2] = (sf_vertex){x1, y1};
    a->vertices[3] = (sf_vertex){x0, y1};
    return a;
}

/* ---- Small parsers ----------------------------------------------------- */

static gboolean parse_double(const char *s, double *out)
{
    if (!*s || g_ascii_isspace(*s))
        return FALSE;
    char *end = NULL;
    errno = 0;
    double value = g_ascii_strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(value))
        return FALSE;
    *out = value;
    return TRUE;
}

static gboolean parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    gint64 value;
    if (!g_ascii_string_to_signed(s, 10, min, max, &value, NULL))
        return FALSE;
    *out = value;
    return TRUE;
}

/* An image dimension: an integer, reported apart when not positive. */
typedef enum { DIM_OK, DIM_MALFORMED, DIM_NOT_POSITIVE } dim_status;

static dim_status parse_dimension(const char *s, int *out)
{
    int64_t value;
    if (!parse_int(s, G_MININT, G_MAXINT, &value))
        return DIM_MALFORMED;
    if (value <= 0)
        return DIM_NOT_POSITIVE;
    *out = (int)value;
    return DIM_OK;
}

static char *line_location(const char *source, int line)
{
    return g_strdup_printf("%s:%d", source, line);
}

/* Splits text into lines, dropping the '\r' of CRLF; line i is number i+1. */
static char **split_lines(const char *data, size_t length)
{
    g_autofree char *text = g_strndup(data, length);
    char **lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        size_t n = strlen(*l);
        if (n && (*l)[n - 1] == '\r')
            (*l)[n - 1] = '\0';
    }
    return lines;
}

static gboolean blank(const char *s)
{
    for (; *s; s++)
        if (!g_ascii_isspace(*s))
            return FALSE;
    return TRUE;
}

/* The base name without its last extension ("a/b.c.txt" -> "b.c"). */
static char *file_stem(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? g_strndup(base, (gsize)(dot - base)) : g_strdup(base);
}

/* ---- Format detection --------------------------------------------------- */

static const char *skip_bom_and_space(const char *data, size_t length, size_t *rest)
{
    if (length >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
        data += 3;
        length -= 3;
    }
    while (length && g_ascii_isspace(*data)) {
        data++;
        length--;
    }
    *rest = length;
    return data;
}

static gboolean all_numeric(char **fields, int from, int to)
{
    double d;
    for (int i = from; i < to; i++)
        if (!parse_double(fields[i], &d))
            return FALSE;
    return TRUE;
}

/* One line's vote: which text layout it looks like. */
static sf_export_format classify_line(const char *line)
{
    if (strchr(line, ',')) {
        g_auto(GStrv) fields = g_strsplit(line, ",", -1);
        int n = (int)g_strv_length(fields);
        if (n == 6 && all_numeric(fields, 1, 3) && all_numeric(fields, 4, 6))
            return SF_EXPORT_POINT_CSV;
        if (n == 8 && all_numeric(fields, 1, 5) && all_numeric(fields, 6, 8))
            return SF_EXPORT_LINE_CSV;
        return SF_EXPORT_UNKNOWN;
    }
    g_auto(GStrv) fields = g_strsplit_set(line, " \t", -1);
    int n = 0;
    int64_t cls;
    gboolean numeric = TRUE;
    for (char **f = fields; *f; f++) {
        if (!**f)
            continue;
        double d;
        if (n == 0 ? !parse_int(*f, 0, G_MAXINT, &cls) : !parse_double(*f, &d))
            numeric = FALSE;
        n++;
    }
    return numeric && n >= 2 ? SF_EXPORT_YOLO : SF_EXPORT_UNKNOWN;
}

sf_export_format sf_export_detect(const char *data, size_t length)
{
    if (length >= 4 && !memcmp(data, "PK\x03\x04", 4))
        return SF_EXPORT_ZIP;
    if (memchr(data, '\0', length))
        return SF_EXPORT_UNKNOWN;
    size_t rest;
    const char *text = skip_bom_and_space(data, length, &rest);
    if (!rest)
        return SF_EXPORT_UNKNOWN;
    if (*text == '<')
        return SF_EXPORT_VOC;
    if (*text == '{' || *text == '[') {
        /* COCO has these three top-level arrays; VGG is keyed by file name. */
        g_autofree char *head = g_strndup(text, MIN(rest, (size_t)1 << 20));
        if (strstr(head, "\"annotations\"") && strstr(head, "\"images\""))
            return SF_EXPORT_COCO;
        return SF_EXPORT_VGG;
    }
    g_auto(GStrv) lines = split_lines(text, rest);
    if (!strcmp(lines[0], RECT_CSV_HEADER))
        return SF_EXPORT_RECT_CSV;
    /* The majority of the first lines decides, so one bad line does not. */
    int votes[SF_EXPORT_ZIP + 1] = {0};
    int counted = 0;
    for (char **l = lines; *l && counted < 50; l++) {
        if (blank(*l))
            continue;
        votes[classify_line(*l)]++;
        counted++;
    }
    sf_export_format best = SF_EXPORT_UNKNOWN;
    int best_votes = 0;
    for (int f = SF_EXPORT_YOLO; f <= SF_EXPORT_LINE_CSV; f++)
        if (votes[f] > best_votes) {
            best = (sf_export_format)f;
            best_votes = votes[f];
        }
    return best;
}

/* ---- YOLO ---------------------------------------------------------------- */

static char *class_name(sf_annotation_set *set, int64_t cls)
{
    if (set->priv->labels)
        return cls < set->priv->n_labels ? g_strdup(set->priv->labels[cls]) : NULL;
    return g_strdup_printf("class_%" G_GINT64_FORMAT, cls);
}

static void read_yolo(sf_annotation_set *set, const char *name, const char *data, size_t length)
{
    g_autofree char *image = file_stem(name);
    g_auto(GStrv) lines = split_lines(data, length);
    guint n_lines = 0;
    for (char **l = lines; *l; l++)
        n_lines += !blank(*l);
    if (!image_name_ok(image)) {
        problem(set, SF_SKIP_PATH, n_lines, name, "image name '%s' is not a file name", image);
        return;
    }
    const char *first = NULL;
    if (!register_image(set, SF_EXPORT_YOLO, image, new_group(set), name, &first)) {
        problem(set, SF_SKIP_DUPLICATE, n_lines, name,
                "image '%s' is already listed by %s in this export; file skipped", image, first);
        return;
    }
    for (int i = 0; lines[i]; i++) {
        int line = i + 1;
        if (blank(lines[i]))
            continue;
        g_autofree char *where = line_location(name, line);
        g_auto(GStrv) raw = g_strsplit_set(lines[i], " \t", -1);
        char *fields[6];
        int n = 0;
        for (char **f = raw; *f; f++)
            if (**f) {
                if (n < 6)
                    fields[n] = *f;
                n++;
            }
        if (n != 5) {
            problem(set, SF_SKIP_MALFORMED, 1, where,
                    "expected 5 fields (class cx cy w h), found %d", n);
            continue;
        }
        int64_t cls;
        double v[4];
        if (!parse_int(fields[0], 0, G_MAXINT, &cls)) {
            problem(set, SF_SKIP_MALFORMED, 1, where, "class '%s' is not a non-negative integer",
                    fields[0]);
            continue;
        }
        gboolean numbers = TRUE;
        for (int k = 0; k < 4; k++)
            numbers = numbers && parse_double(fields[k + 1], &v[k]);
        if (!numbers) {
            problem(set, SF_SKIP_MALFORMED, 1, where, "cx cy w h are not all numbers");
            continue;
        }
        if (v[2] <= 0 || v[3] <= 0) {
            problem(set, SF_SKIP_BAD_SIZE, 1, where, "%s box size %s x %s",
                    v[2] < 0 || v[3] < 0 ? "negative" : "zero", fields[3], fields[4]);
            continue;
        }
        g_autofree char *label = class_name(set, cls);
        if (!label) {
            problem(set, SF_SKIP_UNKNOWN_CLASS, 1, where,
                    "unknown class index %" G_GINT64_FORMAT " (the labels file has %u names)", cls,
                    set->priv->n_labels);
            continue;
        }
        sf_annotation *a = rectangle_new(label, v[0] - v[2] / 2, v[1] - v[3] / 2, v[0] + v[2] / 2,
                                         v[1] + v[3] / 2, image, name, line, NULL);
        a->normalised = TRUE;
        g_ptr_array_add(set->annotations, a);
    }
}

/* ---- Pascal VOC XML ------------------------------------------------------ */

static xmlNode *xml_child(xmlNode *node, const char *name)
{
    for (xmlNode *c = node ? node->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
            return c;
    return NULL;
}

/* Direct text only: entity references are never followed. */
static char *xml_text(xmlNode *node)
{
    GString *s = g_string_new(NULL);
    for (xmlNode *c = node ? node->children : NULL; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            g_string_append(s, (const char *)c->content);
    return g_strstrip(g_string_free(s, FALSE));
}

static char *xml_child_text(xmlNode *node, const char *name)
{
    xmlNode *c = xml_child(node, name);
    return c ? xml_text(c) : NULL;
}

/*
 * Parses untrusted XML: no network, no DTD loading, no entity substitution,
 * and any document that declares a DTD at all is refused, so neither
 * external entities nor entity expansion bombs can take effect.
 */
static xmlDoc *parse_xml(sf_annotation_set *set, const char *name, const char *data, size_t length)
{
    if (length > G_MAXINT) {
        problem(set, SF_SKIP_MALFORMED, 1, name, "XML file too large");
        return NULL;
    }
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        problem(set, SF_SKIP_MALFORMED, 1, name, "out of memory parsing XML");
        return NULL;
    }
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, data, (int)length, NULL, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        g_autofree char *cause = g_strstrip(g_strdup(e && e->message ? e->message : "?"));
        g_autofree char *where = line_location(name, e ? e->line : 0);
        problem(set, SF_SKIP_MALFORMED, 1, where, "not well-formed XML: %s", cause);
    } else if (doc->intSubset || doc->extSubset) {
        problem(set, SF_SKIP_MALFORMED, 1, name,
                "XML with a DOCTYPE is refused (entities are never expanded)");
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
}

static guint count_children(xmlNode *node, const char *name)
{
    guint n = 0;
    for (xmlNode *c = node->children; c; c = c->next)
        n += c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name);
    return n;
}

static void read_voc_object(sf_annotation_set *set, const char *name, xmlNode *object,
                            const char *image, int width, int height)
{
    int line = (int)xmlGetLineNo(object);
    g_autofree char *where = line_location(name, line);
    g_autofree char *label = xml_child_text(object, "name");
    if (!label || !*label) {
        problem(set, SF_SKIP_MALFORMED, 1, where, "object without a <name>");
        return;
    }
    xmlNode *box = xml_child(object, "bndbox");
    static const char *const tags[] = {"xmin", "ymin", "xmax", "ymax"};
    double v[4];
    for (int k = 0; k < 4; k++) {
        g_autofree char *text = xml_child_text(box, tags[k]);
        if (!box || !text || !parse_double(text, &v[k])) {
            problem(set, SF_SKIP_MALFORMED, 1, where, "object '%s': <bndbox>/<%s> %s", label,
                    tags[k], text ? "is not a number" : "is missing");
            return;
        }
    }
    if (v[2] <= v[0] || v[3] <= v[1]) {
        problem(set, SF_SKIP_BAD_SIZE, 1, where,
                "object '%s': %s box (xmin %g, ymin %g, xmax %g, ymax %g)", label,
                v[2] < v[0] || v[3] < v[1] ? "negative" : "empty", v[0], v[1], v[2], v[3]);
        return;
    }
    sf_annotation *a = rectangle_new(label, v[0], v[1], v[2], v[3], image, name, line, NULL);
    a->image_width = width;
    a->image_height = height;
    g_ptr_array_add(set->annotations, a);
}

static void read_voc(sf_annotation_set *set, const char *name, const char *data, size_t length,
                     gboolean in_container)
{
    xmlDoc *doc = parse_xml(set, name, data, length);
    if (!doc)
        return;
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || strcmp((const char *)root->name, "annotation") != 0) {
        if (in_container)
            note(set, name, "ignored: XML but not a VOC <annotation>");
        else
            problem(set, SF_SKIP_NOT_EXPORT, 1, name, "XML root is <%s>, not a VOC <annotation>",
                    root ? (char *)root->name : "");
        xmlFreeDoc(doc);
        return;
    }
    guint n_objects = count_children(root, "object");
    g_autofree char *image = xml_child_text(root, "filename");
    int width = 0, height = 0;
    xmlNode *size = xml_child(root, "size");
    g_autofree char *w_text = xml_child_text(size, "width");
    g_autofree char *h_text = xml_child_text(size, "height");
    dim_status w_ok = w_text ? parse_dimension(w_text, &width) : DIM_OK;
    dim_status h_ok = h_text ? parse_dimension(h_text, &height) : DIM_OK;
    const char *first = NULL;
    g_autofree char *where = line_location(name, (int)xmlGetLineNo(root));

    if (!image || !*image) {
        problem(set, SF_SKIP_MALFORMED, MAX(n_objects, 1), where, "no <filename>");
    } else if (!image_name_ok(image)) {
        problem(set, SF_SKIP_PATH, MAX(n_objects, 1), where,
                "<filename> '%s' is a path, not a file name", image);
    } else if (w_ok == DIM_MALFORMED || h_ok == DIM_MALFORMED || !w_text != !h_text) {
        problem(set, SF_SKIP_MALFORMED, MAX(n_objects, 1), where,
                "<size> width/height are not integers");
    } else if (w_ok == DIM_NOT_POSITIVE || h_ok == DIM_NOT_POSITIVE) {
        problem(set, SF_SKIP_BAD_SIZE, MAX(n_objects, 1), where,
                "image size %s x %s is not positive", w_text, h_text);
    } else if (!register_image(set, SF_EXPORT_VOC, image, new_group(set), name, &first)) {
        problem(set, SF_SKIP_DUPLICATE, MAX(n_objects, 1), where,
                "image '%s' is already listed by %s in this export; file skipped", image, first);
    } else {
        if (width > 0)
            remember_size(set, image, width, height);
        for (xmlNode *c = root->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, "object"))
                read_voc_object(set, name, c, image, width, height);
    }
    xmlFreeDoc(doc);
}

/* ---- CSV (Makesense writes no quoting) ----------------------------------- */

typedef struct {
    sf_export_format format;
    int n_fields;
    int n_coords; /* numbers after the label */
    const char *layout;
} csv_layout;

static const csv_layout csv_layouts[] = {
    {SF_EXPORT_RECT_CSV, 8, 4, "label,x,y,width,height,image,image_width,image_height"},
    {SF_EXPORT_POINT_CSV, 6, 2, "label,x,y,image,image_width,image_height"},
    {SF_EXPORT_LINE_CSV, 8, 4, "label,x1,y1,x2,y2,image,image_width,image_height"},
};

/* Tracks runs of rows per image: Makesense writes each image's rows
 * together, so an image coming back after another is listed twice. */
typedef struct {
    char *image;
    guint group;
    sf_annotation_problem *duplicate; /* reported for this run */
} csv_run;

static sf_annotation *csv_annotation(const csv_layout *layout, char **f, const double *v,
                                     const char *name, int line)
{
    const char *image = f[layout->n_coords + 1];
    switch (layout->format) {
    case SF_EXPORT_RECT_CSV:
        return rectangle_new(f[0], v[0], v[1], v[0] + v[2], v[1] + v[3], image, name, line, NULL);
    case SF_EXPORT_POINT_CSV: {
        sf_annotation *a = annotation_new(f[0], SF_SHAPE_POINT, 1, image, name, line, NULL);
        a->vertices[0] = (sf_vertex){v[0], v[1]};
        return a;
    }
    default: {
        sf_annotation *a = annotation_new(f[0], SF_SHAPE_LINE, 2, image, name, line, NULL);
        a->vertices[0] = (sf_vertex){v[0], v[1]};
        a->vertices[1] = (sf_vertex){v[2], v[3]};
        return a;
    }
    }
}

static void read_csv_row(sf_annotation_set *set, const csv_layout *layout, const char *name,
                         int line, const char *text, csv_run *run)
{
    g_autofree char *where = line_location(name, line);
    g_auto(GStrv) f = g_strsplit(text, ",", -1);
    int n = (int)g_strv_length(f);
    if (n != layout->n_fields) {
        problem(set, SF_SKIP_MALFORMED, 1, where, "expected %d fields (%s), found %d",
                layout->n_fields, layout->layout, n);
        return;
    }
    double v[4];
    for (int k = 0; k < layout->n_coords; k++)
        if (!parse_double(f[k + 1], &v[k])) {
            problem(set, SF_SKIP_MALFORMED, 1, where, "field %d '%s' is not a number", k + 2,
                    f[k + 1]);
            return;
        }
    const char *image = f[layout->n_coords + 1];
    int width = 0, height = 0;
    dim_status w_ok = parse_dimension(f[layout->n_coords + 2], &width);
    dim_status h_ok = parse_dimension(f[layout->n_coords + 3], &height);
    if (!*f[0]) {
        problem(set, SF_SKIP_MALFORMED, 1, where, "empty label name");
        return;
    }
    if (!image_name_ok(image)) {
        problem(set, SF_SKIP_PATH, 1, where, "image name '%s' is not a file name", image);
        return;
    }
    if (w_ok == DIM_MALFORMED || h_ok == DIM_MALFORMED) {
        problem(set, SF_SKIP_MALFORMED, 1, where, "image size '%s x %s' is not two integers",
                f[layout->n_coords + 2], f[layout->n_coords + 3]);
        return;
    }
    if (w_ok == DIM_NOT_POSITIVE || h_ok == DIM_NOT_POSITIVE) {
        problem(set, SF_SKIP_BAD_SIZE, 1, where, "image size %s x %s is not positive",
                f[layout->n_coords + 2], f[layout->n_coords + 3]);
        return;
    }
    if (layout->format == SF_EXPORT_RECT_CSV && (v[2] <= 0 || v[3] <= 0)) {
        problem(set, SF_SKIP_BAD_SIZE, 1, where, "%s rectangle size %s x %s",
                v[2] < 0 || v[3] < 0 ? "negative" : "zero", f[3], f[4]);
        return;
    }

    if (!run->image || strcmp(run->image, image) != 0) {
        g_free(run->image);
        run->image = g_strdup(image);
        run->group = new_group(set);
        run->duplicate = NULL;
    }
    const char *first = NULL;
    if (run->duplicate) {
        run->duplicate->n_skipped++;
        return;
    }
    if (!register_image(set, layout->format, image, run->group, where, &first)) {
        run->duplicate =
            problem(set, SF_SKIP_DUPLICATE, 1, where,
                    "image '%s' is listed again (first at %s); these rows skipped", image, first);
        return;
    }
    remember_size(set, image, width, height);
    sf_annotation *a = csv_annotation(layout, f, v, name, line);
    a->image_width = width;
    a->image_height = height;
    g_ptr_array_add(set->annotations, a);
}

static void read_csv(sf_annotation_set *set, sf_export_format format, const char *name,
                     const char *data, size_t length)
{
    const csv_layout *layout = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(csv_layouts); i++)
        if (csv_layouts[i].format == format)
            layout = &csv_layouts[i];
    g_return_if_fail(layout != NULL);
    if (length >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
        data += 3;
        length -= 3;
    }
    g_auto(GStrv) lines = split_lines(data, length);
    csv_run run = {0};
    gboolean header = format == SF_EXPORT_RECT_CSV;
    for (int i = 0; lines[i]; i++) {
        if (blank(lines[i]))
            continue;
        if (header) {
            header = FALSE;
            if (!strcmp(lines[i], RECT_CSV_HEADER))
                continue;
        }
        read_csv_row(set, layout, name, i + 1, lines[i], &run);
    }
    g_free(run.image);
}

/* ---- JSON (COCO, VGG) ------------------------------------------------------ */

/* Watches the parser to catch repeated top-level keys, which json-glib
 * would otherwise merge silently (the last one wins). */
typedef struct {
    int depth;
    GHashTable *seen;       /* top-level keys */
    GHashTable *duplicated; /* top-level keys seen twice */
} json_watch;

static void on_container_start(JsonParser *parser, gpointer data)
{
    (void)parser;
    ((json_watch *)data)->depth++;
}

static void on_object_end(JsonParser *parser, JsonObject *object, gpointer data)
{
    (void)parser;
    (void)object;
    ((json_watch *)data)->depth--;
}

static void on_array_end(JsonParser *parser, JsonArray *array, gpointer data)
{
    (void)parser;
    (void)array;
    ((json_watch *)data)->depth--;
}

static void on_object_member(JsonParser *parser, JsonObject *object, const char *member,
                             gpointer data)
{
    (void)parser;
    (void)object;
    json_watch *watch = data;
    if (watch->depth != 1)
        return;
    if (!g_hash_table_add(watch->seen, g_strdup(member)))
        g_hash_table_add(watch->duplicated, g_strdup(member));
}

static JsonParser *parse_json(sf_annotation_set *set, const char *name, const char *data,
                              size_t length, GHashTable *duplicated)
{
    if (length >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
        data += 3;
        length -= 3;
    }
    /* json-glib recurses per level: refuse what would overflow the stack. */
    int deep_line = 0;
    if (sf_json_depth_bound(data, length, SF_JSON_MAX_DEPTH, &deep_line) > SF_JSON_MAX_DEPTH) {
        g_autofree char *where = line_location(name, deep_line);
        problem(set, SF_SKIP_MALFORMED, 1, where, "JSON nested deeper than %d levels; refused",
                SF_JSON_MAX_DEPTH);
        return NULL;
    }
    JsonParser *parser = json_parser_new();
    json_watch watch = {0, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
                        duplicated};
    g_signal_connect(parser, "object-start", G_CALLBACK(on_container_start), &watch);
    g_signal_connect(parser, "array-start", G_CALLBACK(on_container_start), &watch);
    g_signal_connect(parser, "object-end", G_CALLBACK(on_object_end), &watch);
    g_signal_connect(parser, "array-end", G_CALLBACK(on_array_end), &watch);
    g_signal_connect(parser, "object-member", G_CALLBACK(on_object_member), &watch);
    GError *error = NULL;
    gboolean ok = json_parser_load_from_data(parser, data, (gssize)length, &error);
    g_signal_handlers_disconnect_by_data(parser, &watch);
    g_hash_table_unref(watch.seen);
    if (!ok) {
        /* json-glib says "<data>:<line>:<column>: <cause>". */
        const char *text = error->message;
        if (g_str_has_prefix(text, "<data>:"))
            text += strlen("<data>:");
        char *end = NULL;
        guint64 line = g_ascii_strtoull(text, &end, 10);
        guint64 column = end && *end == ':' ? g_ascii_strtoull(end + 1, &end, 10) : 0;
        if (line > 0 && end && g_str_has_prefix(end, ": ")) {
            g_autofree char *where = g_strdup_printf("%s:%" G_GUINT64_FORMAT, name, line);
            problem(set, SF_SKIP_MALFORMED, 1, where,
                    "not valid JSON (column %" G_GUINT64_FORMAT "): %s", column, end + 2);
        } else {
            problem(set, SF_SKIP_MALFORMED, 1, name, "not valid JSON: %s", error->message);
        }
        g_error_free(error);
        g_object_unref(parser);
        return NULL;
    }
    return parser;
}

static JsonNode *json_member(JsonObject *object, const char *name)
{
    if (!object || !json_object_has_member(object, name))
        return NULL;
    JsonNode *node = json_object_get_member(object, name);
    return JSON_NODE_HOLDS_NULL(node) ? NULL : node;
}

static gboolean json_number(JsonNode *node, double *out)
{
    if (!node || !JSON_NODE_HOLDS_VALUE(node))
        return FALSE;
    GType type = json_node_get_value_type(node);
    if (type == G_TYPE_INT64)
        *out = (double)json_node_get_int(node);
    else if (type == G_TYPE_DOUBLE)
        *out = json_node_get_double(node);
    else
        return FALSE;
    return isfinite(*out);
}

static gboolean json_integer(JsonNode *node, int64_t *out)
{
    double d;
    if (!json_number(node, &d) || d != floor(d) || fabs(d) > 9e15)
        return FALSE;
    *out = (int64_t)d;
    return TRUE;
}

static const char *json_string(JsonNode *node)
{
    return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING
               ? json_node_get_string(node)
               : NULL;
}

/* Flat [x0, y0, x1, y1, ...] -> polygon vertices, dropping a closing vertex
 * that repeats the first. NULL when it is not a polygon. */
static sf_vertex *polygon_from_flat(JsonArray *flat, size_t *n_out, const char **why)
{
    guint n = json_array_get_length(flat);
    if (n % 2) {
        *why = "an odd number of coordinates";
        return NULL;
    }
    sf_vertex *v = g_new(sf_vertex, MAX(n / 2, 1));
    for (guint i = 0; i < n; i++) {
        double d;
        if (!json_number(json_array_get_element(flat, i), &d)) {
            *why = "a coordinate that is not a number";
            g_free(v);
            return NULL;
        }
        if (i % 2)
            v[i / 2].y = d;
        else
            v[i / 2].x = d;
    }
    size_t count = n / 2;
    if (count > 1 && v[0].x == v[count - 1].x && v[0].y == v[count - 1].y)
        count--;
    if (count < 3) {
        *why = "fewer than 3 vertices";
        g_free(v);
        return NULL;
    }
    *n_out = count;
    return v;
}

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

static GHashTable *read_coco_images(sf_annotation_set *set, const char *name, JsonArray *images)
{
    GHashTable *by_id = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, coco_image_free);
    for (guint i = 0; i < json_array_get_length(images); i++) {
        g_autofree char *where = g_strdup_printf("%s: images[%u]", name, i);
        JsonNode *node = json_array_get_element(images, i);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        int64_t id, w, h;
        const char *file_name = json_string(json_member(o, "file_name"));
        if (!o || !json_integer(json_member(o, "id"), &id) || !file_name) {
            problem(set, SF_SKIP_MALFORMED, 0, where,
                    "an image needs an integer id and a file_name");
            continue;
        }
        if (g_hash_table_contains(by_id, &id)) {
            problem(set, SF_SKIP_MALFORMED, 0, where, "image id %" G_GINT64_FORMAT " repeated", id);
            continue;
        }
        coco_image *image = g_new0(coco_image, 1);
        image->file_name = g_strdup(file_name);
        image->usable = FALSE;
        image->reason = SF_SKIP_MALFORMED;
        const char *first = NULL;
        if (!json_integer(json_member(o, "width"), &w) ||
            !json_integer(json_member(o, "height"), &h) || w > G_MAXINT || h > G_MAXINT) {
            image->problem = problem(set, SF_SKIP_MALFORMED, 0, where,
                                     "image '%s': width/height are not integers", file_name);
        } else if (w <= 0 || h <= 0) {
            image->reason = SF_SKIP_BAD_SIZE;
            image->problem = problem(set, SF_SKIP_BAD_SIZE, 0, where,
                                     "image '%s': size %" G_GINT64_FORMAT " x %" G_GINT64_FORMAT
                                     " is not positive",
                                     file_name, w, h);
        } else if (!image_name_ok(file_name)) {
            image->reason = SF_SKIP_PATH;
            image->problem = problem(set, SF_SKIP_PATH, 0, where,
                                     "file_name '%s' is a path, not a file name", file_name);
        } else if (!register_image(set, SF_EXPORT_COCO, file_name, new_group(set), where, &first)) {
            image->reason = SF_SKIP_DUPLICATE;
            image->problem = problem(set, SF_SKIP_DUPLICATE, 0, where,
                                     "image '%s' is already listed (%s); its annotations skipped",
                                     file_name, first);
        } else {
            image->usable = TRUE;
            image->width = (int)w;
            image->height = (int)h;
            remember_size(set, file_name, image->width, image->height);
        }
        int64_t *key = g_new(int64_t, 1);
        *key = id;
        g_hash_table_insert(by_id, key, image);
    }
    return by_id;
}

static GHashTable *read_coco_categories(JsonArray *categories)
{
    GHashTable *names = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    for (guint i = 0; categories && i < json_array_get_length(categories); i++) {
        JsonNode *node = json_array_get_element(categories, i);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        int64_t id;
        const char *label = json_string(json_member(o, "name"));
        if (!o || !json_integer(json_member(o, "id"), &id) || !label || !*label)
            continue;
        int64_t *key = g_new(int64_t, 1);
        *key = id;
        g_hash_table_replace(names, key, g_strdup(label));
    }
    return names;
}

static void read_coco_annotation(sf_annotation_set *set, const char *name, guint index,
                                 JsonNode *node, GHashTable *images, GHashTable *categories)
{
    g_autofree char *path = g_strdup_printf("annotations[%u]", index);
    g_autofree char *where = g_strdup_printf("%s: %s", name, path);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    int64_t image_id, category_id;
    if (!o || !json_integer(json_member(o, "image_id"), &image_id) ||
        !json_integer(json_member(o, "category_id"), &category_id)) {
        problem(set, SF_SKIP_MALFORMED, 1, where, "needs integer image_id and category_id");
        return;
    }
    coco_image *image = g_hash_table_lookup(images, &image_id);
    if (!image) {
        problem(set, SF_SKIP_MALFORMED, 1, where, "image_id %" G_GINT64_FORMAT " is not in images",
                image_id);
        return;
    }
    if (!image->usable) {
        if (image->problem)
            image->problem->n_skipped++;
        return;
    }
    const char *label = g_hash_table_lookup(categories, &category_id);
    if (!label) {
        problem(set, SF_SKIP_UNKNOWN_CLASS, 1, where,
                "category_id %" G_GINT64_FORMAT " is not in categories", category_id);
        return;
    }
    JsonNode *seg = json_member(o, "segmentation");
    if (seg && JSON_NODE_HOLDS_OBJECT(seg)) {
        problem(set, SF_SKIP_MALFORMED, 1, where, "RLE segmentation is not supported");
        return;
    }
    JsonArray *polygons = seg && JSON_NODE_HOLDS_ARRAY(seg) ? json_node_get_array(seg) : NULL;
    if (!polygons || json_array_get_length(polygons) == 0) {
        /* No outline: fall back to the box, which every COCO writer gives. */
        JsonNode *bbox = json_member(o, "bbox");
        JsonArray *b = bbox && JSON_NODE_HOLDS_ARRAY(bbox) ? json_node_get_array(bbox) : NULL;
        double v[4];
        gboolean ok = b && json_array_get_length(b) == 4;
        for (guint k = 0; ok && k < 4; k++)
            ok = json_number(json_array_get_element(b, k), &v[k]);
        if (!ok) {
            problem(set, SF_SKIP_MALFORMED, 1, where, "neither a segmentation nor a bbox");
            return;
        }
        if (v[2] <= 0 || v[3] <= 0) {
            problem(set, SF_SKIP_BAD_SIZE, 1, where, "bbox size %g x %g is not positive", v[2],
                    v[3]);
            return;
        }
        sf_annotation *a = rectangle_new(label, v[0], v[1], v[0] + v[2], v[1] + v[3],
                                         image->file_name, name, 0, path);
        a->image_width = image->width;
        a->image_height = image->height;
        g_ptr_array_add(set->annotations, a);
        return;
    }
    for (guint p = 0; p < json_array_get_length(polygons); p++) {
        JsonNode *flat = json_array_get_element(polygons, p);
        const char *why = "not an array of numbers";
        size_t n = 0;
        sf_vertex *v = JSON_NODE_HOLDS_ARRAY(flat)
                           ? polygon_from_flat(json_node_get_array(flat), &n, &why)
                           : NULL;
        if (!v) {
            problem(set, SF_SKIP_MALFORMED, 1, where, "segmentation[%u] has %s", p, why);
            continue;
        }
        g_autofree char *sub = json_array_get_length(polygons) > 1
                                   ? g_strdup_printf("%s.segmentation[%u]", path, p)
                                   : g_strdup(path);
        sf_annotation *a =
            annotation_new(label, SF_SHAPE_POLYGON, 0, image->file_name, name, 0, sub);
        g_free(a->vertices);
        a->vertices = v;
        a->n_vertices = n;
        a->image_width = image->width;
        a->image_height = image->height;
        g_ptr_array_add(set->annotations, a);
    }
}

static void read_coco(sf_annotation_set *set, const char *name, JsonObject *root)
{
    JsonNode *images = json_member(root, "images");
    JsonNode *annotations = json_member(root, "annotations");
    JsonNode *categories = json_member(root, "categories");
    if (!images || !JSON_NODE_HOLDS_ARRAY(images) || !annotations ||
        !JSON_NODE_HOLDS_ARRAY(annotations) || (categories && !JSON_NODE_HOLDS_ARRAY(categories))) {
        problem(set, SF_SKIP_MALFORMED, 1, name,
                "COCO needs arrays 'images', 'annotations' and 'categories'");
        return;
    }
    g_autoptr(GHashTable) by_id = read_coco_images(set, name, json_node_get_array(images));
    g_autoptr(GHashTable) labels =
        read_coco_categories(categories ? json_node_get_array(categories) : NULL);
    JsonArray *list = json_node_get_array(annotations);
    for (guint i = 0; i < json_array_get_length(list); i++)
        read_coco_annotation(set, name, i, json_array_get_element(list, i), by_id, labels);
}

static void read_vgg_region(sf_annotation_set *set, const char *name, const char *image,
                            const char *region_key, JsonNode *node)
{
    g_autofree char *path = g_strdup_printf("\"%s\" regions[%s]", image, region_key);
    g_autofree char *where = g_strdup_printf("%s: %s", name, path);
    JsonObject *region = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    JsonNode *shape_node = json_member(region, "shape_attributes");
    JsonNode *attributes = json_member(region, "region_attributes");
    JsonObject *shape =
        shape_node && JSON_NODE_HOLDS_OBJECT(shape_node) ? json_node_get_object(shape_node) : NULL;
    const char *label = attributes && JSON_NODE_HOLDS_OBJECT(attributes)
                            ? json_string(json_member(json_node_get_object(attributes), "label"))
                            : NULL;
    const char *kind = json_string(json_member(shape, "name"));
    if (!shape || !kind) {
        problem(set, SF_SKIP_MALFORMED, 1, where, "region without shape_attributes.name");
        return;
    }
    if (!label || !*label) {
        problem(set, SF_SKIP_MALFORMED, 1, where, "region without region_attributes.label");
        return;
    }
    if (strcmp(kind, "polygon") != 0) {
        problem(set, SF_SKIP_MALFORMED, 1, where, "shape '%s' is not supported (polygon only)",
                kind);
        return;
    }
    JsonNode *xs_node = json_member(shape, "all_points_x");
    JsonNode *ys_node = json_member(shape, "all_points_y");
    JsonArray *xs = xs_node && JSON_NODE_HOLDS_ARRAY(xs_node) ? json_node_get_array(xs_node) : NULL;
    JsonArray *ys = ys_node && JSON_NODE_HOLDS_ARRAY(ys_node) ? json_node_get_array(ys_node) : NULL;
    if (!xs || !ys || json_array_get_length(xs) != json_array_get_length(ys)) {
        problem(set, SF_SKIP_MALFORMED, 1, where,
                "all_points_x and all_points_y must be arrays of the same length");
        return;
    }
    /* Interleave into the flat layout so both JSON formats share one path. */
    g_autoptr(JsonArray) flat = json_array_new();
    for (guint i = 0; i < json_array_get_length(xs); i++) {
        json_array_add_element(flat, json_node_copy(json_array_get_element(xs, i)));
        json_array_add_element(flat, json_node_copy(json_array_get_element(ys, i)));
    }
    const char *why = NULL;
    size_t n = 0;
    sf_vertex *v = polygon_from_flat(flat, &n, &why);
    if (!v) {
        problem(set, SF_SKIP_MALFORMED, 1, where, "polygon has %s", why);
        return;
    }
    sf_annotation *a = annotation_new(label, SF_SHAPE_POLYGON, 0, image, name, 0, path);
    g_free(a->vertices);
    a->vertices = v;
    a->n_vertices = n;
    g_ptr_array_add(set->annotations, a);
}

static guint json_container_size(JsonNode *node)
{
    if (node && JSON_NODE_HOLDS_OBJECT(node))
        return json_object_get_size(json_node_get_object(node));
    if (node && JSON_NODE_HOLDS_ARRAY(node))
        return json_array_get_length(json_node_get_array(node));
    return 0;
}

static void read_vgg(sf_annotation_set *set, const char *name, JsonObject *root,
                     GHashTable *duplicated)
{
    g_autoptr(GList) keys = json_object_get_members(root);
    for (GList *k = keys; k; k = k->next) {
        const char *key = k->data;
        JsonNode *node = json_object_get_member(root, key);
        JsonObject *entry = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        JsonNode *regions = json_member(entry, "regions");
        const char *image = json_string(json_member(entry, "filename"));
        if (!image)
            image = key;
        g_autofree char *where = g_strdup_printf("%s: \"%s\"", name, key);
        guint n_regions = MAX(json_container_size(regions), 1);
        const char *first = NULL;
        if (!entry || !regions ||
            !(JSON_NODE_HOLDS_OBJECT(regions) || JSON_NODE_HOLDS_ARRAY(regions))) {
            problem(set, SF_SKIP_MALFORMED, n_regions, where, "entry without 'regions'");
            continue;
        }
        if (!image_name_ok(image)) {
            problem(set, SF_SKIP_PATH, n_regions, where, "file name '%s' is a path", image);
            continue;
        }
        if (g_hash_table_contains(duplicated, key)) {
            problem(set, SF_SKIP_DUPLICATE, n_regions, where,
                    "image '%s' is listed twice in this file; skipped", key);
            continue;
        }
        if (!register_image(set, SF_EXPORT_VGG, image, new_group(set), where, &first)) {
            problem(set, SF_SKIP_DUPLICATE, n_regions, where,
                    "image '%s' is already listed (%s); skipped", image, first);
            continue;
        }
        if (JSON_NODE_HOLDS_ARRAY(regions)) {
            JsonArray *list = json_node_get_array(regions);
            for (guint i = 0; i < json_array_get_length(list); i++) {
                char index[16];
                g_snprintf(index, sizeof index, "%u", i);
                read_vgg_region(set, name, image, index, json_array_get_element(list, i));
            }
        } else {
            JsonObject *object = json_node_get_object(regions);
            g_autoptr(GList) region_keys = json_object_get_members(object);
            for (GList *r = region_keys; r; r = r->next)
                read_vgg_region(set, name, image, r->data, json_object_get_member(object, r->data));
        }
    }
}

static void read_json(sf_annotation_set *set, const char *name, const char *data, size_t length,
                      gboolean in_container)
{
    g_autoptr(GHashTable) duplicated = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(JsonParser) parser = parse_json(set, name, data, length, duplicated);
    if (!parser)
        return;
    JsonNode *root = json_parser_get_root(parser);
    JsonObject *object = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    if (!object) {
        if (in_container)
            note(set, name, "ignored: JSON but neither COCO nor VGG");
        else
            problem(set, SF_SKIP_NOT_EXPORT, 1, name, "JSON but neither COCO nor VGG");
        return;
    }
    if (json_member(object, "annotations") && json_member(object, "images"))
        read_coco(set, name, object);
    else
        read_vgg(set, name, object, duplicated);
}

/* ---- Files, folders and zips --------------------------------------------- */

/* Where a file was found: given by itself, or met in a folder or a zip. */
typedef enum { FROM_ARGUMENT, FROM_FOLDER, FROM_ZIP } origin;

static void read_zip(sf_annotation_set *set, const char *name, const char *data, size_t length);

static void read_any(sf_annotation_set *set, const char *name, const char *data, size_t length,
                     origin from)
{
    /* Inside a folder or zip, other files (notes, images) are expected. */
    gboolean in_container = from != FROM_ARGUMENT;
    sf_export_format format = sf_export_detect(data, length);
    switch (format) {
    case SF_EXPORT_YOLO:
        read_yolo(set, name, data, length);
        break;
    case SF_EXPORT_VOC:
        read_voc(set, name, data, length, in_container);
        break;
    case SF_EXPORT_RECT_CSV:
    case SF_EXPORT_POINT_CSV:
    case SF_EXPORT_LINE_CSV:
        read_csv(set, format, name, data, length);
        break;
    case SF_EXPORT_COCO:
    case SF_EXPORT_VGG:
        read_json(set, name, data, length, in_container);
        break;
    case SF_EXPORT_ZIP:
        if (from == FROM_ZIP)
            note(set, name, "ignored: a zip inside a zip is not opened");
        else
            read_zip(set, name, data, length);
        break;
    case SF_EXPORT_UNKNOWN: {
        size_t rest;
        skip_bom_and_space(data, length, &rest);
        if (rest == 0)
            note(set, name, "empty file, nothing to map");
        else if (in_container)
            note(set, name, "ignored: not a Makesense export");
        else
            problem(set, SF_SKIP_NOT_EXPORT, 1, name,
                    "not a Makesense export (YOLO, VOC, CSV, COCO or VGG)");
        break;
    }
    }
}

void sf_annotations_read_data(sf_annotation_set *set, const char *name, const char *data,
                              size_t length)
{
    read_any(set, name, data, length, FROM_ARGUMENT);
}

/* Files a folder of exports commonly holds beside them. */
static gboolean quietly_ignored(const char *base)
{
    g_autofree char *key = sf_image_key(base);
    return base[0] == '.' || strcmp(key, base) != 0 || !strcmp(base, "__MACOSX");
}

/* A member name that stays inside the archive: relative, no "..". */
static gboolean member_name_ok(const char *member)
{
    if (!*member || member[0] == '/' || strchr(member, '\\') || strchr(member, ':'))
        return FALSE;
    g_auto(GStrv) parts = g_strsplit(member, "/", -1);
    for (char **p = parts; *p; p++)
        if (!strcmp(*p, ".."))
            return FALSE;
    return TRUE;
}

static void read_zip(sf_annotation_set *set, const char *name, const char *data, size_t length)
{
    zip_error_t zerr;
    zip_error_init(&zerr);
    zip_source_t *source = zip_source_buffer_create(data, length, 0, &zerr);
    zip_t *archive = source ? zip_open_from_source(source, ZIP_RDONLY, &zerr) : NULL;
    if (!archive) {
        problem(set, SF_SKIP_MALFORMED, 1, name, "not a readable zip: %s",
                zip_error_strerror(&zerr));
        if (source)
            zip_source_free(source);
        zip_error_fini(&zerr);
        return;
    }
    zip_error_fini(&zerr);
    zip_int64_t n = zip_get_num_entries(archive, 0);
    for (zip_int64_t i = 0; i < n; i++) {
        zip_stat_t st;
        if (zip_stat_index(archive, (zip_uint64_t)i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME))
            continue;
        const char *member = st.name;
        size_t member_length = strlen(member);
        if (member_length && member[member_length - 1] == '/')
            continue; /* a folder entry */
        g_autofree char *display = g_strdup_printf("%s/%s", name, member);
        const char *base = strrchr(member, '/') ? strrchr(member, '/') + 1 : member;
        if (!member_name_ok(member)) {
            problem(set, SF_SKIP_PATH, 1, display,
                    "zip member name is a path outside the archive; skipped");
            continue;
        }
        if (quietly_ignored(base) || g_str_has_prefix(member, "__MACOSX/"))
            continue;
        if (!(st.valid & ZIP_STAT_SIZE) || st.size > MAX_EXPORT_FILE_BYTES) {
            problem(set, SF_SKIP_MALFORMED, 1, display, "zip member too large or of unknown size");
            continue;
        }
        zip_file_t *file = zip_fopen_index(archive, (zip_uint64_t)i, 0);
        g_autofree char *content = g_malloc(st.size + 1);
        zip_int64_t got = 0;
        if (file) {
            while ((zip_uint64_t)got < st.size) {
                zip_int64_t r = zip_fread(file, content + got, st.size - (zip_uint64_t)got);
                if (r <= 0)
                    break;
                got += r;
            }
        }
        gboolean complete = file && (zip_uint64_t)got == st.size;
        const char *why = file ? zip_file_strerror(file) : zip_strerror(archive);
        if (!complete)
            problem(set, SF_SKIP_MALFORMED, 1, display, "cannot read zip member: %s", why);
        if (file)
            zip_fclose(file);
        if (complete)
            read_any(set, display, content, st.size, FROM_ZIP);
    }
    zip_discard(archive);
}

static gboolean read_file(sf_annotation_set *set, const char *path, origin from, GError **error)
{
    GStatBuf st;
    if (g_stat(path, &st) == 0 && (gsize)st.st_size > MAX_EXPORT_FILE_BYTES) {
        problem(set, SF_SKIP_MALFORMED, 1, path, "file too large for an annotation export");
        return TRUE;
    }
    g_autofree char *data = NULL;
    gsize length = 0;
    GError *local = NULL;
    if (!g_file_get_contents(path, &data, &length, &local)) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: cannot read: %s", path, local->message);
        g_error_free(local);
        return FALSE;
    }
    read_any(set, path, data, length, from);
    return TRUE;
}

static gboolean read_folder(sf_annotation_set *set, const char *path, GError **error)
{
    g_autoptr(GPtrArray) names = sf_folder_sorted_names(path, error);
    if (!names)
        return FALSE;
    for (guint i = 0; i < names->len; i++) {
        const char *base = names->pdata[i];
        if (quietly_ignored(base))
            continue;
        g_autofree char *child = g_build_filename(path, base, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_SYMLINK) && g_file_test(child, G_FILE_TEST_IS_DIR))
            continue; /* never loop through links */
        gboolean ok = g_file_test(child, G_FILE_TEST_IS_DIR)
                          ? read_folder(set, child, error)
                          : read_file(set, child, FROM_FOLDER, error);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

gboolean sf_annotations_read_path(sf_annotation_set *set, const char *path, GError **error)
{
    sf_annotation_set_begin_export(set);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: no such file or folder", path);
        return FALSE;
    }
    if (g_file_test(path, G_FILE_TEST_IS_DIR))
        return read_folder(set, path, error);
    return read_file(set, path, FROM_ARGUMENT, error);
}
