/*
 * What reading exports keeps (export_internal.h): the annotations, the
 * problems met, the images each export lists, and the limits that bound
 * what a hostile export can cost (annotations.h, "Limits").
 */
#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>

#include "io/export_internal.h"
#include "io/input.h"
#include "slidefrag/error.h"

/* A labels file names a project's labels, a few hundred at most. */
#define MAX_LABELS_FILE_BYTES ((size_t)1 << 20)

typedef struct {
    int width, height;
} image_size;

/* Where an image was first listed in the current export. */
typedef struct {
    guint group;
    char *location;
} listing;

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
    set->priv->image_bytes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    set->priv->export_starts = g_array_new(FALSE, FALSE, sizeof(guint));
    set->priv->export_names = g_ptr_array_new_with_free_func(g_free);
    set->priv->limits = (sf_export_limits){
        .max_bytes = SF_EXPORT_MAX_BYTES,
        .max_annotations = SF_EXPORT_MAX_ANNOTATIONS,
        .max_vertices = SF_EXPORT_MAX_VERTICES,
        .max_entry_values = SF_EXPORT_MAX_ENTRY_VALUES,
    };
    return set;
}

void sf_annotation_set_set_limits(sf_annotation_set *set, const sf_export_limits *limits)
{
    set->priv->limits = *limits;
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
    g_hash_table_unref(set->priv->image_bytes);
    g_array_unref(set->priv->export_starts);
    g_ptr_array_unref(set->priv->export_names);
    g_clear_error(&set->priv->fatal);
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
    size_t length = 0;
    if (!sf_input_read(path, "labels", SF_INPUT_FILE, MAX_LABELS_FILE_BYTES, &text, &length, error))
        return FALSE;
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
    sf_annotation_set_private *priv = set->priv;
    n_skipped = note ? 0 : n_skipped;
    if (priv->n_listed[reason] >= SF_MAX_LISTED_PROBLEMS) {
        /* Counted, not listed: one entry stands for all the others. */
        sf_annotation_problem *rest = priv->unlisted[reason];
        if (!rest) {
            rest = g_new0(sf_annotation_problem, 1);
            rest->reason = reason;
            rest->note = note;
            g_autofree char *text =
                g_strdup_printf("%s: and more problems like the %d before, not listed", location,
                                SF_MAX_LISTED_PROBLEMS);
            rest->message = sf_message_safe(text);
            g_ptr_array_add(set->problems, rest);
            priv->unlisted[reason] = rest;
        }
        rest->n_problems++;
        rest->n_skipped += n_skipped;
        return rest;
    }
    priv->n_listed[reason]++;
    sf_annotation_problem *problem = g_new0(sf_annotation_problem, 1);
    g_autofree char *cause = g_strdup_vprintf(format, args);
    problem->reason = reason;
    problem->n_skipped = n_skipped;
    problem->note = note;
    problem->n_problems = 1;
    /* Locations and causes quote the export (names, labels, values). */
    g_autofree char *text = g_strdup_printf("%s: %s", location, cause);
    problem->message = sf_message_safe(text);
    g_ptr_array_add(set->problems, problem);
    return problem;
}

/* ---- Limits ------------------------------------------------------------ */

/* Records the first fatal error; every reader stops at the next check. */
void sf_export_fatal(sf_annotation_set *set, int code, const char *location, const char *format,
                     ...)
{
    if (set->priv->fatal)
        return;
    va_list args;
    va_start(args, format);
    g_autofree char *cause = g_strdup_vprintf(format, args);
    va_end(args);
    g_autofree char *text = g_strdup_printf("%s: %s", location, cause);
    g_autofree char *safe = sf_message_safe(text);
    set->priv->fatal = g_error_new_literal(SF_ERROR, code, safe);
}

gboolean sf_export_stopped(const sf_annotation_set *set)
{
    return set->priv->fatal != NULL;
}

/* Counts `n` more bytes of this export against its budget. */
gboolean sf_export_take_bytes(sf_annotation_set *set, const char *location, size_t n)
{
    sf_annotation_set_private *priv = set->priv;
    if (n > priv->limits.max_bytes - MIN(priv->n_bytes, priv->limits.max_bytes)) {
        g_autofree char *limit = sf_input_size_text(priv->limits.max_bytes);
        sf_export_fatal(
            set, SF_EXIT_BAD_INPUT, location,
            "the export holds more than %s of files (zip members counted decompressed); "
            "refused",
            limit);
        return FALSE;
    }
    priv->n_bytes += n;
    return TRUE;
}

/* NULL when one more annotation of `n_vertices` vertices fits the limits
 * (counting those read but not yet kept), else the cause. */
static char *over_limit(const sf_annotation_set *set, size_t n_vertices)
{
    const sf_annotation_set_private *priv = set->priv;
    if (set->annotations->len + priv->n_pending >= priv->limits.max_annotations)
        return g_strdup_printf("more than %zu annotations; refused", priv->limits.max_annotations);
    if (n_vertices > priv->limits.max_vertices - MIN(priv->n_vertices, priv->limits.max_vertices))
        return g_strdup_printf("more than %zu vertices in all; refused", priv->limits.max_vertices);
    return NULL;
}

gboolean sf_export_room_for(sf_annotation_set *set, const char *location, size_t n_vertices)
{
    if (sf_export_stopped(set))
        return FALSE;
    g_autofree char *why = over_limit(set, n_vertices);
    if (why)
        sf_export_fatal(set, SF_EXIT_BAD_INPUT, location, "%s", why);
    return why == NULL;
}

/* Keeps `a` when it fits the limits; frees it otherwise. */
gboolean sf_export_keep(sf_annotation_set *set, sf_annotation *a)
{
    g_autofree char *why = sf_export_stopped(set) ? NULL : over_limit(set, a->n_vertices);
    if (sf_export_stopped(set) || why) {
        g_autofree char *location = sf_annotation_location(a);
        sf_export_fatal(set, SF_EXIT_BAD_INPUT, location, "%s", why);
        sf_annotation_free(a);
        return FALSE;
    }
    set->priv->n_vertices += a->n_vertices;
    g_ptr_array_add(set->annotations, a);
    return TRUE;
}

void sf_annotation_set_add_note(sf_annotation_set *set, sf_skip_reason reason, const char *location,
                                const char *format, ...)
{
    va_list args;
    va_start(args, format);
    add_problem_v(set, reason, 0, TRUE, location, format, args);
    va_end(args);
}

void sf_annotation_set_add_problem(sf_annotation_set *set, sf_skip_reason reason, guint n_skipped,
                                   const char *location, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    add_problem_v(set, reason, n_skipped, FALSE, location, format, args);
    va_end(args);
}

sf_annotation_problem *sf_export_problem(sf_annotation_set *set, sf_skip_reason reason,
                                         guint n_skipped, const char *location, const char *format,
                                         ...)
{
    va_list args;
    va_start(args, format);
    sf_annotation_problem *p = add_problem_v(set, reason, n_skipped, FALSE, location, format, args);
    va_end(args);
    return p;
}

void sf_export_note(sf_annotation_set *set, const char *location, const char *format, ...)
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

guint sf_annotation_set_n_exports(const sf_annotation_set *set)
{
    return set->priv->n_exports;
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

void sf_export_remember_size(sf_annotation_set *set, const char *image, int width, int height)
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

void sf_export_remember_bytes(sf_annotation_set *set, const char *image, int64_t bytes)
{
    char *key = sf_image_key(image);
    if (g_hash_table_contains(set->priv->image_bytes, key)) {
        g_free(key);
        return;
    }
    g_hash_table_insert(set->priv->image_bytes, key, g_memdup2(&bytes, sizeof bytes));
}

gboolean sf_annotation_set_image_bytes(const sf_annotation_set *set, const char *image,
                                       int64_t *bytes)
{
    g_autofree char *key = sf_image_key(image);
    const int64_t *found = g_hash_table_lookup(set->priv->image_bytes, key);
    if (found)
        *bytes = *found;
    return found != NULL;
}

void sf_annotation_set_begin_export(sf_annotation_set *set)
{
    sf_annotation_set_begin_named_export(set, NULL);
}

void sf_annotation_set_begin_named_export(sf_annotation_set *set, const char *name)
{
    g_hash_table_remove_all(set->priv->listed);
    set->priv->n_bytes = 0;
    guint start = set->annotations->len;
    g_array_append_val(set->priv->export_starts, start);
    g_ptr_array_add(set->priv->export_names, g_strdup(name ? name : "an earlier export"));
}

/* What makes two annotations the same: where, what, and every vertex to
 * the bit (a repeated export repeats its text, hence its numbers). */
static char *repeat_key(const sf_annotation *a)
{
    g_autofree char *image = sf_image_key(a->image);
    GString *key = g_string_new(NULL);
    g_string_append_printf(key, "%s\n%s\n%d%d", image, a->label, (int)a->shape, a->normalised);
    for (size_t i = 0; i < a->n_vertices; i++)
        g_string_append_printf(key, " %a %a", a->vertices[i].x, a->vertices[i].y);
    return g_string_free(key, FALSE);
}

guint sf_annotation_set_drop_repeats(sf_annotation_set *set)
{
    sf_annotation_set_private *priv = set->priv;
    guint n_exports = priv->export_starts->len;
    if (n_exports < 2)
        return 0;
    /* key -> the export that first held it */
    g_autoptr(GHashTable) first = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    /* dropped[later * n_exports + earlier] */
    g_autofree guint *dropped = g_new0(guint, (gsize)n_exports * n_exports);
    GPtrArray *kept =
        g_ptr_array_new_full(set->annotations->len, (GDestroyNotify)sf_annotation_free);
    guint e = 0, n_dropped = 0;
    gsize n = 0;
    sf_annotation **all = (sf_annotation **)g_ptr_array_steal(set->annotations, &n);
    for (gsize i = 0; i < n; i++) {
        while (e + 1 < n_exports && i >= g_array_index(priv->export_starts, guint, e + 1))
            e++;
        char *key = repeat_key(all[i]);
        gpointer earlier;
        if (g_hash_table_lookup_extended(first, key, NULL, &earlier) &&
            GPOINTER_TO_UINT(earlier) != e) {
            dropped[e * n_exports + GPOINTER_TO_UINT(earlier)]++;
            priv->n_vertices -= all[i]->n_vertices;
            sf_annotation_free(all[i]);
            g_free(key);
            n_dropped++;
            continue;
        }
        if (!g_hash_table_contains(first, key))
            g_hash_table_insert(first, key, GUINT_TO_POINTER(e));
        else
            g_free(key);
        g_ptr_array_add(kept, all[i]);
    }
    g_free(all);
    g_ptr_array_unref(set->annotations);
    set->annotations = kept;
    for (guint later = 0; later < n_exports; later++)
        for (guint earlier = 0; earlier < n_exports; earlier++)
            if (dropped[later * n_exports + earlier])
                sf_annotation_set_add_note(
                    set, SF_SKIP_DUPLICATE, priv->export_names->pdata[later],
                    "%u annotations repeat those of %s (the same export given twice?): kept once",
                    dropped[later * n_exports + earlier],
                    (const char *)priv->export_names->pdata[earlier]);
    /* The starts are spent: a second call finds one export. */
    g_array_set_size(priv->export_starts, 0);
    g_ptr_array_set_size(priv->export_names, 0);
    return n_dropped;
}

/* A group is one listing of an image: a YOLO/VOC file, a COCO image entry,
 * a VGG entry, or a run of consecutive CSV rows. */
guint sf_export_new_group(sf_annotation_set *set)
{
    return ++set->priv->next_group;
}

/* Records that `group` lists `image`; FALSE (with the first listing's
 * location) when another group of the same export and format did. */
gboolean sf_export_register_image(sf_annotation_set *set, sf_export_format format,
                                  const char *image, guint group, const char *location,
                                  const char **first)
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
gboolean sf_export_image_name_ok(const char *name)
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

sf_annotation *sf_export_annotation_new(const char *label, sf_shape shape, size_t n_vertices,
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

gboolean sf_export_rectangle_corners(sf_vertex *v, size_t n)
{
    if (n != 4)
        return FALSE;
    double x0 = MIN(MIN(v[0].x, v[1].x), MIN(v[2].x, v[3].x));
    double x1 = MAX(MAX(v[0].x, v[1].x), MAX(v[2].x, v[3].x));
    double y0 = MIN(MIN(v[0].y, v[1].y), MIN(v[2].y, v[3].y));
    double y1 = MAX(MAX(v[0].y, v[1].y), MAX(v[2].y, v[3].y));
    if (x0 == x1 || y0 == y1)
        return FALSE;
    for (size_t i = 0; i < 4; i++) {
        const sf_vertex *a = &v[i], *b = &v[(i + 1) % 4];
        if ((a->x != x0 && a->x != x1) || (a->y != y0 && a->y != y1) ||
            (a->x != b->x && a->y != b->y))
            return FALSE;
    }
    v[0] = (sf_vertex){x0, y0};
    v[1] = (sf_vertex){x1, y0};
    v[2] = (sf_vertex){x1, y1};
    v[3] = (sf_vertex){x0, y1};
    return TRUE;
}

sf_annotation *sf_export_rectangle_new(const char *label, double x0, double y0, double x1,
                                       double y1, const char *image, const char *source, int line,
                                       const char *where)
{
    sf_annotation *a =
        sf_export_annotation_new(label, SF_SHAPE_RECTANGLE, 4, image, source, line, where);
    a->vertices[0] = (sf_vertex){x0, y0};
    a->vertices[1] = (sf_vertex){x1, y0};
    a->vertices[2] = (sf_vertex){x1, y1};
    a->vertices[3] = (sf_vertex){x0, y1};
    return a;
}
