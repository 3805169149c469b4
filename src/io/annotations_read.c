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
#include <libxml/xmlreader.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <zip.h>

#include "io/folder.h"
#include "io/input.h"
#include "io/json_read.h"
#include "slidefrag/annotations.h"
#include "slidefrag/error.h"

/* A labels file names a project's labels, a few hundred at most. */
#define MAX_LABELS_FILE_BYTES ((size_t)1 << 20)

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
    sf_export_limits limits;
    size_t n_bytes;    /* read in this export */
    size_t n_vertices; /* kept, every export */
    size_t n_pending;  /* read but not yet kept (a VOC file's objects) */
    /* Problems listed per reason, and the entry counting the others. */
    guint n_listed[SF_SKIP_N_REASONS];
    sf_annotation_problem *unlisted[SF_SKIP_N_REASONS];
    /* A limit passed or memory refused: reading stops, the set is void. */
    GError *fatal;
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
    if (!sf_input_read(path, "labels", MAX_LABELS_FILE_BYTES, &text, &length, error))
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
            rest->message = g_strdup_printf("%s: and more problems like the %d before, not listed",
                                            location, SF_MAX_LISTED_PROBLEMS);
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
    problem->message = g_strdup_printf("%s: %s", location, cause);
    g_ptr_array_add(set->problems, problem);
    return problem;
}

/* ---- Limits ------------------------------------------------------------ */

/* Records the first fatal error; every reader stops at the next check. */
static void fatal(sf_annotation_set *set, int code, const char *location, const char *format, ...)
    G_GNUC_PRINTF(4, 5);
static void fatal(sf_annotation_set *set, int code, const char *location, const char *format, ...)
{
    if (set->priv->fatal)
        return;
    va_list args;
    va_start(args, format);
    g_autofree char *cause = g_strdup_vprintf(format, args);
    va_end(args);
    set->priv->fatal = g_error_new(SF_ERROR, code, "%s: %s", location, cause);
}

static gboolean stopped(const sf_annotation_set *set)
{
    return set->priv->fatal != NULL;
}

/* Counts `n` more bytes of this export against its budget. */
static gboolean take_bytes(sf_annotation_set *set, const char *location, size_t n)
{
    sf_annotation_set_private *priv = set->priv;
    if (n > priv->limits.max_bytes - MIN(priv->n_bytes, priv->limits.max_bytes)) {
        g_autofree char *limit = sf_input_size_text(priv->limits.max_bytes);
        fatal(set, SF_EXIT_BAD_INPUT, location,
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

static gboolean room_for(sf_annotation_set *set, const char *location, size_t n_vertices)
{
    if (stopped(set))
        return FALSE;
    g_autofree char *why = over_limit(set, n_vertices);
    if (why)
        fatal(set, SF_EXIT_BAD_INPUT, location, "%s", why);
    return why == NULL;
}

/* Keeps `a` when it fits the limits; frees it otherwise. */
static gboolean keep(sf_annotation_set *set, sf_annotation *a)
{
    g_autofree char *why = stopped(set) ? NULL : over_limit(set, a->n_vertices);
    if (stopped(set) || why) {
        g_autofree char *location = sf_annotation_location(a);
        fatal(set, SF_EXIT_BAD_INPUT, location, "%s", why);
        sf_annotation_free(a);
        return FALSE;
    }
    set->priv->n_vertices += a->n_vertices;
    g_ptr_array_add(set->annotations, a);
    return TRUE;
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
    set->priv->n_bytes = 0;
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

/*
 * The lines of a text one at a time, without their "\n" or "\r\n": what
 * g_strsplit would give, without holding them all (a 200 MiB export once
 * became 5 million separate strings before it was parsed).
 */
typedef struct {
    const char *p, *end;
    gboolean done;
    gboolean too_long; /* the last line was longer than asked and not copied */
    int number;        /* 1-based, of the line last returned */
} line_reader;

static void line_reader_init(line_reader *r, const char *data, size_t length)
{
    /* A UTF-8 byte order mark (Windows editors write one) is not text:
     * left in, it made the first YOLO box unreadable. */
    if (length >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
        data += 3;
        length -= 3;
    }
    *r = (line_reader){.p = data, .end = data + length};
}

/* Copies the next line into `line` (empty, with too_long set, when longer
 * than `max_length`); FALSE after the last one. */
static gboolean line_reader_next(line_reader *r, GString *line, size_t max_length)
{
    if (r->done)
        return FALSE;
    const char *newline = memchr(r->p, '\n', (size_t)(r->end - r->p));
    const char *stop = newline ? newline : r->end;
    size_t n = (size_t)(stop - r->p);
    if (n && stop[-1] == '\r')
        n--;
    g_string_truncate(line, 0);
    r->too_long = n > max_length;
    if (!r->too_long)
        g_string_append_len(line, r->p, (gssize)n);
    r->number++;
    if (newline)
        r->p = newline + 1;
    else
        r->done = TRUE;
    return TRUE;
}

/*
 * Splits `line` in place at any of `separators`, dropping empty fields
 * when `skip_empty`, and stores at most `max` of them: returns how many
 * there are in all, so a line of a million fields is counted, not copied.
 */
static int split_fields(char *line, const char *separators, gboolean skip_empty, char **fields,
                        int max)
{
    int n = 0;
    for (char *p = line;;) {
        char *q = p + strcspn(p, separators);
        gboolean last = *q == '\0';
        *q = '\0';
        if (!skip_empty || *p) {
            if (n < max)
                fields[n] = p;
            n++;
        }
        if (last)
            return n;
        p = q + 1;
    }
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

/* One line's vote: which text layout it looks like. Splits `line`. */
static sf_export_format classify_line(char *line)
{
    char *fields[16];
    if (strchr(line, ',')) {
        int n = split_fields(line, ",", FALSE, fields, 8);
        if (n == 6 && all_numeric(fields, 1, 3) && all_numeric(fields, 4, 6))
            return SF_EXPORT_POINT_CSV;
        if (n == 8 && all_numeric(fields, 1, 5) && all_numeric(fields, 6, 8))
            return SF_EXPORT_LINE_CSV;
        return SF_EXPORT_UNKNOWN;
    }
    int n = split_fields(line, " \t", TRUE, fields, (int)G_N_ELEMENTS(fields));
    int64_t cls;
    if (n < 2 || !parse_int(fields[0], 0, G_MAXINT, &cls))
        return SF_EXPORT_UNKNOWN;
    return all_numeric(fields, 1, MIN(n, (int)G_N_ELEMENTS(fields))) ? SF_EXPORT_YOLO
                                                                     : SF_EXPORT_UNKNOWN;
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
    /* The majority of the first lines decides, so one bad line does not.
     * Lines far longer than any export's count as unknown, uncopied. */
    line_reader lines;
    line_reader_init(&lines, text, rest);
    g_autoptr(GString) line = g_string_new(NULL);
    int votes[SF_EXPORT_ZIP + 1] = {0};
    int counted = 0;
    while (counted < 50 && line_reader_next(&lines, line, 64 * 1024)) {
        if (lines.number == 1 && !strcmp(line->str, RECT_CSV_HEADER))
            return SF_EXPORT_RECT_CSV;
        if (!lines.too_long && blank(line->str))
            continue;
        votes[lines.too_long ? SF_EXPORT_UNKNOWN : classify_line(line->str)]++;
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

/* Lines that are not blank, for the count of a file skipped whole. */
static guint count_lines(const char *data, size_t length)
{
    guint n = 0;
    gboolean blank_so_far = TRUE;
    for (size_t i = 0; i < length; i++) {
        if (data[i] == '\n') {
            n += !blank_so_far;
            blank_so_far = TRUE;
        } else if (!g_ascii_isspace(data[i])) {
            blank_so_far = FALSE;
        }
    }
    return n + !blank_so_far;
}

static void read_yolo(sf_annotation_set *set, const char *name, const char *data, size_t length)
{
    g_autofree char *image = file_stem(name);
    if (!image_name_ok(image)) {
        problem(set, SF_SKIP_PATH, count_lines(data, length), name,
                "image name '%s' is not a file name", image);
        return;
    }
    const char *first = NULL;
    if (!register_image(set, SF_EXPORT_YOLO, image, new_group(set), name, &first)) {
        problem(set, SF_SKIP_DUPLICATE, count_lines(data, length), name,
                "image '%s' is already listed by %s in this export; file skipped", image, first);
        return;
    }
    line_reader lines;
    line_reader_init(&lines, data, length);
    g_autoptr(GString) text = g_string_new(NULL);
    while (!stopped(set) && line_reader_next(&lines, text, G_MAXSIZE)) {
        int line = lines.number;
        if (blank(text->str))
            continue;
        g_autofree char *where = line_location(name, line);
        char *fields[6];
        int n = split_fields(text->str, " \t", TRUE, fields, 6);
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
        keep(set, a);
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

/* One <object> as read, kept until the whole file is known to be good. */
typedef struct {
    int line;
    char *label;
    double v[4];           /* xmin, ymin, xmax, ymax */
    sf_skip_reason reason; /* when cause is set */
    char *cause;           /* why it is skipped, or NULL */
} voc_object;

static void voc_object_clear(gpointer data)
{
    voc_object *o = data;
    g_free(o->label);
    g_free(o->cause);
}

static void read_voc_object(xmlNode *object, voc_object *o)
{
    o->line = (int)xmlGetLineNo(object);
    o->label = xml_child_text(object, "name");
    if (!o->label || !*o->label) {
        o->reason = SF_SKIP_MALFORMED;
        o->cause = g_strdup("object without a <name>");
        return;
    }
    xmlNode *box = xml_child(object, "bndbox");
    static const char *const tags[] = {"xmin", "ymin", "xmax", "ymax"};
    for (int k = 0; k < 4; k++) {
        g_autofree char *text = xml_child_text(box, tags[k]);
        if (!box || !text || !parse_double(text, &o->v[k])) {
            o->reason = SF_SKIP_MALFORMED;
            o->cause = g_strdup_printf("object '%s': <bndbox>/<%s> %s", o->label, tags[k],
                                       text ? "is not a number" : "is missing");
            return;
        }
    }
    const double *v = o->v;
    if (v[2] <= v[0] || v[3] <= v[1]) {
        o->reason = SF_SKIP_BAD_SIZE;
        o->cause = g_strdup_printf("object '%s': %s box (xmin %g, ymin %g, xmax %g, ymax %g)",
                                   o->label, v[2] < v[0] || v[3] < v[1] ? "negative" : "empty",
                                   v[0], v[1], v[2], v[3]);
    }
}

/* The first error libxml2 reports, with its line. */
typedef struct {
    int line;
    char *message;
    gboolean no_memory;
} xml_failure;

static void on_xml_error(void *data, xmlErrorPtr error)
{
    xml_failure *failure = data;
    if (error->code == XML_ERR_NO_MEMORY)
        failure->no_memory = TRUE;
    if (failure->message || error->level < XML_ERR_ERROR)
        return;
    failure->line = error->line;
    failure->message = g_strstrip(g_strdup(error->message ? error->message : "?"));
}

/* What a VOC file says about its image, read before its objects are kept. */
typedef struct {
    gboolean is_voc; /* the root is <annotation> */
    char *root;      /* the root element's name */
    int root_line;
    char *image;           /* <filename>, the first one */
    char *w_text, *h_text; /* <size>/<width|height> */
    GArray *objects;       /* voc_object */
    gboolean doctype;
    xml_failure failure;
} voc_file;

static void voc_file_clear(voc_file *f)
{
    g_free(f->root);
    g_free(f->image);
    g_free(f->w_text);
    g_free(f->h_text);
    g_array_unref(f->objects);
    g_free(f->failure.message);
}

/*
 * Reads untrusted XML as a stream (libxml2's xmlTextReader): one <object>
 * is in memory at a time, so a 156 MB file no longer costs gigabytes of
 * tree. No network, no DTD loading, no entity substitution, and a document
 * that declares a DTD at all is refused where the declaration is met,
 * before anything could use it: neither external entities nor entity
 * expansion bombs take effect.
 */
static void scan_voc(sf_annotation_set *set, const char *name, const char *data, size_t length,
                     voc_file *f)
{
    xmlTextReader *reader = xmlReaderForMemory(
        data, (int)length, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!reader) {
        fatal(set, SF_EXIT_FAILURE, name, "out of memory reading XML");
        return;
    }
    xmlTextReaderSetStructuredErrorHandler(reader, on_xml_error, &f->failure);
    int status = xmlTextReaderRead(reader);
    while (status == 1 && !stopped(set)) {
        int type = xmlTextReaderNodeType(reader);
        int depth = xmlTextReaderDepth(reader);
        if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
            f->doctype = TRUE;
            break;
        }
        if (type != XML_READER_TYPE_ELEMENT || depth > 1) {
            status = xmlTextReaderRead(reader);
            continue;
        }
        const char *element = (const char *)xmlTextReaderConstName(reader);
        if (depth == 0) {
            f->root = g_strdup(element);
            f->root_line = (int)xmlGetLineNo(xmlTextReaderCurrentNode(reader));
            f->is_voc = !strcmp(element, "annotation");
            if (!f->is_voc)
                break;
            status = xmlTextReaderRead(reader);
            continue;
        }
        gboolean wanted = !strcmp(element, "object") ||
                          (!strcmp(element, "filename") && !f->image) ||
                          (!strcmp(element, "size") && !f->w_text && !f->h_text);
        xmlNode *node = wanted ? xmlTextReaderExpand(reader) : NULL;
        if (wanted && !node) {
            status = -1;
            break;
        }
        if (node && !strcmp(element, "object")) {
            g_autofree char *where = line_location(name, (int)xmlGetLineNo(node));
            if (!room_for(set, where, 4))
                break;
            voc_object o = {0};
            read_voc_object(node, &o);
            g_array_append_val(f->objects, o);
            set->priv->n_pending++;
        } else if (node && !strcmp(element, "filename")) {
            f->image = xml_text(node);
        } else if (node) {
            f->w_text = xml_child_text(node, "width");
            f->h_text = xml_child_text(node, "height");
        }
        /* Past the element: the reader frees what it leaves behind. */
        status = xmlTextReaderNext(reader);
    }
    if (status < 0 && !f->failure.message)
        f->failure.message = g_strdup("?");
    if (f->failure.no_memory)
        fatal(set, SF_EXIT_FAILURE, name, "out of memory reading XML");
    xmlFreeTextReader(reader);
}

static void read_voc(sf_annotation_set *set, const char *name, const char *data, size_t length,
                     gboolean in_container)
{
    if (length > G_MAXINT) {
        problem(set, SF_SKIP_MALFORMED, 1, name, "XML file too large");
        return;
    }
    voc_file f = {.objects = g_array_new(FALSE, TRUE, sizeof(voc_object))};
    g_array_set_clear_func(f.objects, voc_object_clear);
    scan_voc(set, name, data, length, &f);
    set->priv->n_pending -= f.objects->len;
    guint n_objects = f.objects->len;
    int width = 0, height = 0;
    dim_status w_ok = f.w_text ? parse_dimension(f.w_text, &width) : DIM_OK;
    dim_status h_ok = f.h_text ? parse_dimension(f.h_text, &height) : DIM_OK;
    const char *first = NULL;
    g_autofree char *where = line_location(name, f.root_line);

    if (stopped(set)) {
        /* A limit was passed: nothing more to say about this file. */
    } else if (f.failure.message) {
        g_autofree char *at = line_location(name, f.failure.line);
        problem(set, SF_SKIP_MALFORMED, MAX(n_objects, 1), at, "not well-formed XML: %s",
                f.failure.message);
    } else if (f.doctype) {
        problem(set, SF_SKIP_MALFORMED, 1, name,
                "XML with a DOCTYPE is refused (entities are never expanded)");
    } else if (!f.is_voc) {
        if (in_container)
            note(set, name, "ignored: XML but not a VOC <annotation>");
        else
            problem(set, SF_SKIP_NOT_EXPORT, 1, name, "XML root is <%s>, not a VOC <annotation>",
                    f.root ? f.root : "");
    } else if (!f.image || !*f.image) {
        problem(set, SF_SKIP_MALFORMED, MAX(n_objects, 1), where, "no <filename>");
    } else if (!image_name_ok(f.image)) {
        problem(set, SF_SKIP_PATH, MAX(n_objects, 1), where,
                "<filename> '%s' is a path, not a file name", f.image);
    } else if (w_ok == DIM_MALFORMED || h_ok == DIM_MALFORMED || !f.w_text != !f.h_text) {
        problem(set, SF_SKIP_MALFORMED, MAX(n_objects, 1), where,
                "<size> width/height are not integers");
    } else if (w_ok == DIM_NOT_POSITIVE || h_ok == DIM_NOT_POSITIVE) {
        problem(set, SF_SKIP_BAD_SIZE, MAX(n_objects, 1), where,
                "image size %s x %s is not positive", f.w_text, f.h_text);
    } else if (!register_image(set, SF_EXPORT_VOC, f.image, new_group(set), name, &first)) {
        problem(set, SF_SKIP_DUPLICATE, MAX(n_objects, 1), where,
                "image '%s' is already listed by %s in this export; file skipped", f.image, first);
    } else {
        if (width > 0)
            remember_size(set, f.image, width, height);
        for (guint i = 0; i < n_objects && !stopped(set); i++) {
            const voc_object *o = &g_array_index(f.objects, voc_object, i);
            g_autofree char *at = line_location(name, o->line);
            if (o->cause) {
                problem(set, o->reason, 1, at, "%s", o->cause);
                continue;
            }
            sf_annotation *a = rectangle_new(o->label, o->v[0], o->v[1], o->v[2], o->v[3], f.image,
                                             name, o->line, NULL);
            a->image_width = width;
            a->image_height = height;
            keep(set, a);
        }
    }
    voc_file_clear(&f);
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
                         int line, char *text, csv_run *run)
{
    g_autofree char *where = line_location(name, line);
    char *f[8];
    int n = split_fields(text, ",", FALSE, f, (int)G_N_ELEMENTS(f));
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
    keep(set, a);
}

static void read_csv(sf_annotation_set *set, sf_export_format format, const char *name,
                     const char *data, size_t length)
{
    const csv_layout *layout = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(csv_layouts); i++)
        if (csv_layouts[i].format == format)
            layout = &csv_layouts[i];
    g_return_if_fail(layout != NULL);
    line_reader lines;
    line_reader_init(&lines, data, length);
    g_autoptr(GString) text = g_string_new(NULL);
    csv_run run = {0};
    gboolean header = format == SF_EXPORT_RECT_CSV;
    while (!stopped(set) && line_reader_next(&lines, text, G_MAXSIZE)) {
        if (blank(text->str))
            continue;
        if (header) {
            header = FALSE;
            if (!strcmp(text->str, RECT_CSV_HEADER))
                continue;
        }
        read_csv_row(set, layout, name, lines.number, text->str, &run);
    }
    g_free(run.image);
}

/* ---- JSON (COCO, VGG) ------------------------------------------------------ */

/*
 * A JSON export is read in passes over its text with the pull reader
 * (json_read.h), never as one tree: first its outline (the top-level
 * names, which say COCO or VGG, and which names repeat), then one entry at
 * a time as a small json-glib tree, freed before the next. COCO needs its
 * images and categories before its annotations, and Makesense writes the
 * categories last, so COCO takes one more pass.
 */

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

static JsonArray *json_array_member(JsonObject *object, const char *name)
{
    JsonNode *node = json_member(object, name);
    return node && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
}

/* x and y of vertex i of a polygon given as one flat list (COCO) or two
 * lists (VGG). */
typedef struct {
    JsonArray *flat;
    JsonArray *xs, *ys;
} json_polygon;

static guint polygon_length(const json_polygon *p)
{
    if (p->flat)
        return json_array_get_length(p->flat);
    return 2 * json_array_get_length(p->xs);
}

static JsonNode *polygon_coordinate(const json_polygon *p, guint i)
{
    if (p->flat)
        return json_array_get_element(p->flat, i);
    return json_array_get_element(i % 2 ? p->ys : p->xs, i / 2);
}

/* [x0, y0, x1, y1, ...] -> polygon vertices, dropping a closing vertex
 * that repeats the first. NULL when it is not a polygon. */
static sf_vertex *polygon_vertices(const json_polygon *p, size_t *n_out, const char **why)
{
    guint n = polygon_length(p);
    if (n % 2) {
        *why = "an odd number of coordinates";
        return NULL;
    }
    sf_vertex *v = g_new(sf_vertex, MAX(n / 2, 1));
    for (guint i = 0; i < n; i++) {
        double d;
        if (!json_number(polygon_coordinate(p, i), &d)) {
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

static sf_annotation *polygon_annotation(const char *label, sf_vertex *vertices, size_t n,
                                         const char *image, const char *source, const char *where)
{
    sf_annotation *a = annotation_new(label, SF_SHAPE_POLYGON, 0, image, source, 0, where);
    g_free(a->vertices);
    a->vertices = vertices;
    a->n_vertices = n;
    return a;
}

/* A problem for a reader that failed: "<name>:<line>: <cause>". A limit
 * passed inside an entry is fatal; malformed text skips the file. */
static void json_failed(sf_annotation_set *set, const char *name, const sf_json_reader *reader,
                        guint n_skipped)
{
    g_autofree char *where = line_location(name, sf_json_reader_error_line(reader));
    const char *cause = sf_json_reader_error_cause(reader);
    if (g_str_has_prefix(cause, "more than "))
        fatal(set, SF_EXIT_BAD_INPUT, where, "%s", cause);
    else
        problem(set, SF_SKIP_MALFORMED, n_skipped, where, "%s", cause);
}

/* The top level of a JSON export. */
typedef struct {
    gboolean object;        /* the root is an object */
    GHashTable *names;      /* its member names */
    GHashTable *duplicated; /* names it holds twice */
    GHashTable *kinds;      /* name -> GINT_TO_POINTER(first token of its value) */
} json_outline;

static void json_outline_clear(json_outline *o)
{
    g_clear_pointer(&o->names, g_hash_table_unref);
    g_clear_pointer(&o->duplicated, g_hash_table_unref);
    g_clear_pointer(&o->kinds, g_hash_table_unref);
}

/* Reads the whole text once, checking it is JSON; FALSE (with a problem)
 * when it is not. */
static gboolean json_outline_read(sf_annotation_set *set, const char *name, const char *data,
                                  size_t length, json_outline *o)
{
    o->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    o->duplicated = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    o->kinds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(sf_json_reader) r = sf_json_reader_new(name, data, length);
    gboolean ok = sf_json_reader_next(r, NULL);
    o->object = ok && r->token == SF_JSON_OBJECT_BEGIN;
    while (ok && o->object) {
        ok = sf_json_reader_next(r, NULL);
        if (!ok || r->token == SF_JSON_OBJECT_END)
            break;
        if (!g_hash_table_add(o->names, g_strdup(r->key)))
            g_hash_table_add(o->duplicated, g_strdup(r->key));
        else
            g_hash_table_insert(o->kinds, g_strdup(r->key), GINT_TO_POINTER(r->token));
        ok = sf_json_reader_skip(r, NULL);
    }
    if (ok && !o->object)
        ok = sf_json_reader_skip(r, NULL);
    if (ok)
        ok = sf_json_reader_next(r, NULL); /* nothing after the root */
    if (!ok)
        json_failed(set, name, r, 1);
    return ok;
}

static sf_json_token outline_kind(const json_outline *o, const char *name)
{
    gpointer kind;
    if (!g_hash_table_lookup_extended(o->kinds, name, NULL, &kind))
        return SF_JSON_END;
    return (sf_json_token)GPOINTER_TO_INT(kind);
}

/* Called with each entry: an element of a top-level array, or a top-level
 * member; `key` is the array's or the member's name. */
typedef void (*json_entry_fn)(sf_annotation_set *set, const char *name, const char *key,
                              guint index, JsonNode *entry, gpointer data);

/*
 * One pass over a text already outlined: each element of the top-level
 * arrays named in `arrays` (NULL-terminated), or with `arrays` NULL each
 * top-level member, goes to `fn` as a tree of its own.
 */
static void json_entries(sf_annotation_set *set, const char *name, const char *data, size_t length,
                         const char *const *arrays, json_entry_fn fn, gpointer fn_data)
{
    g_autoptr(sf_json_reader) r = sf_json_reader_new(name, data, length);
    size_t max_values = set->priv->limits.max_entry_values;
    if (!sf_json_reader_next(r, NULL))
        return;
    while (!stopped(set) && sf_json_reader_next(r, NULL) && r->token != SF_JSON_OBJECT_END) {
        g_autofree char *key = g_strdup(r->key);
        gboolean wanted = arrays && r->token == SF_JSON_ARRAY_BEGIN && g_strv_contains(arrays, key);
        if (!arrays) {
            g_autoptr(JsonNode) entry = sf_json_reader_build(r, max_values, NULL);
            if (!entry) {
                json_failed(set, name, r, 1);
                return;
            }
            fn(set, name, key, 0, entry, fn_data);
            continue;
        }
        if (!wanted) {
            if (!sf_json_reader_skip(r, NULL))
                return;
            continue;
        }
        for (guint index = 0; !stopped(set); index++) {
            if (!sf_json_reader_next(r, NULL))
                return;
            if (r->token == SF_JSON_ARRAY_END)
                break;
            g_autoptr(JsonNode) entry = sf_json_reader_build(r, max_values, NULL);
            if (!entry) {
                json_failed(set, name, r, 1);
                return;
            }
            fn(set, name, key, index, entry, fn_data);
        }
    }
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
    const char *file_name = json_string(json_member(o, "file_name"));
    if (!o || !json_integer(json_member(o, "id"), &id) || !file_name) {
        problem(set, SF_SKIP_MALFORMED, 0, where, "an image needs an integer id and a file_name");
        return;
    }
    if (g_hash_table_contains(by_id, &id)) {
        problem(set, SF_SKIP_MALFORMED, 0, where, "image id %" G_GINT64_FORMAT " repeated", id);
        return;
    }
    coco_image *image = g_new0(coco_image, 1);
    image->file_name = g_strdup(file_name);
    image->usable = FALSE;
    image->reason = SF_SKIP_MALFORMED;
    const char *first = NULL;
    if (!json_integer(json_member(o, "width"), &w) || !json_integer(json_member(o, "height"), &h) ||
        w > G_MAXINT || h > G_MAXINT) {
        image->problem = problem(set, SF_SKIP_MALFORMED, 0, where,
                                 "image '%s': width/height are not integers", file_name);
    } else if (w <= 0 || h <= 0) {
        image->reason = SF_SKIP_BAD_SIZE;
        image->problem =
            problem(set, SF_SKIP_BAD_SIZE, 0, where,
                    "image '%s': size %" G_GINT64_FORMAT " x %" G_GINT64_FORMAT " is not positive",
                    file_name, w, h);
    } else if (!image_name_ok(file_name)) {
        image->reason = SF_SKIP_PATH;
        image->problem = problem(set, SF_SKIP_PATH, 0, where,
                                 "file_name '%s' is a path, not a file name", file_name);
    } else if (!register_image(set, SF_EXPORT_COCO, file_name, new_group(set), where, &first)) {
        image->reason = SF_SKIP_DUPLICATE;
        image->problem =
            problem(set, SF_SKIP_DUPLICATE, 0, where,
                    "image '%s' is already listed (%s); its annotations skipped", file_name, first);
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

static void read_coco_category(JsonNode *node, GHashTable *names)
{
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    int64_t id;
    const char *label = json_string(json_member(o, "name"));
    if (!o || !json_integer(json_member(o, "id"), &id) || !label || !*label)
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
    if (!o || !json_integer(json_member(o, "image_id"), &image_id) ||
        !json_integer(json_member(o, "category_id"), &category_id)) {
        problem(set, SF_SKIP_MALFORMED, 1, where, "needs integer image_id and category_id");
        return;
    }
    coco_image *image = g_hash_table_lookup(tables->images, &image_id);
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
    const char *label = g_hash_table_lookup(tables->categories, &category_id);
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
        JsonArray *b = json_array_member(o, "bbox");
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
        keep(set, a);
        return;
    }
    for (guint p = 0; p < json_array_get_length(polygons) && !stopped(set); p++) {
        JsonNode *flat = json_array_get_element(polygons, p);
        const char *why = "not an array of numbers";
        size_t n = 0;
        json_polygon polygon = {.flat =
                                    JSON_NODE_HOLDS_ARRAY(flat) ? json_node_get_array(flat) : NULL};
        sf_vertex *v = polygon.flat ? polygon_vertices(&polygon, &n, &why) : NULL;
        if (!v) {
            problem(set, SF_SKIP_MALFORMED, 1, where, "segmentation[%u] has %s", p, why);
            continue;
        }
        g_autofree char *sub = json_array_get_length(polygons) > 1
                                   ? g_strdup_printf("%s.segmentation[%u]", path, p)
                                   : g_strdup(path);
        sf_annotation *a = polygon_annotation(label, v, n, image->file_name, name, sub);
        a->image_width = image->width;
        a->image_height = image->height;
        keep(set, a);
    }
}

static void read_coco(sf_annotation_set *set, const char *name, const char *data, size_t length,
                      const json_outline *outline)
{
    static const char *const tables[] = {"images", "categories", NULL};
    static const char *const annotations[] = {"annotations", NULL};
    sf_json_token categories = outline_kind(outline, "categories");
    if (outline_kind(outline, "images") != SF_JSON_ARRAY_BEGIN ||
        outline_kind(outline, "annotations") != SF_JSON_ARRAY_BEGIN ||
        (categories != SF_JSON_END && categories != SF_JSON_ARRAY_BEGIN &&
         categories != SF_JSON_NULL)) {
        problem(set, SF_SKIP_MALFORMED, 1, name,
                "COCO needs arrays 'images', 'annotations' and 'categories'");
        return;
    }
    for (const char *const *t = tables; *t; t++)
        if (g_hash_table_contains(outline->duplicated, *t) ||
            g_hash_table_contains(outline->duplicated, "annotations")) {
            problem(set, SF_SKIP_MALFORMED, 1, name,
                    "'%s' appears twice at the top level; file skipped",
                    g_hash_table_contains(outline->duplicated, *t) ? *t : "annotations");
            return;
        }
    coco_tables t = {
        .images = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, coco_image_free),
        .categories = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free),
    };
    json_entries(set, name, data, length, tables, read_coco_table_entry, &t);
    json_entries(set, name, data, length, annotations, read_coco_annotation, &t);
    g_hash_table_unref(t.images);
    g_hash_table_unref(t.categories);
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
    json_polygon polygon = {.xs = json_array_member(shape, "all_points_x"),
                            .ys = json_array_member(shape, "all_points_y")};
    if (!polygon.xs || !polygon.ys ||
        json_array_get_length(polygon.xs) != json_array_get_length(polygon.ys)) {
        problem(set, SF_SKIP_MALFORMED, 1, where,
                "all_points_x and all_points_y must be arrays of the same length");
        return;
    }
    const char *why = NULL;
    size_t n = 0;
    sf_vertex *v = polygon_vertices(&polygon, &n, &why);
    if (!v) {
        problem(set, SF_SKIP_MALFORMED, 1, where, "polygon has %s", why);
        return;
    }
    keep(set, polygon_annotation(label, v, n, image, name, path));
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
    const json_outline *outline = data;
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
        return;
    }
    if (!image_name_ok(image)) {
        problem(set, SF_SKIP_PATH, n_regions, where, "file name '%s' is a path", image);
        return;
    }
    if (g_hash_table_contains(outline->duplicated, key)) {
        problem(set, SF_SKIP_DUPLICATE, n_regions, where,
                "image '%s' is listed twice in this file; skipped", key);
        return;
    }
    if (!register_image(set, SF_EXPORT_VGG, image, new_group(set), where, &first)) {
        problem(set, SF_SKIP_DUPLICATE, n_regions, where,
                "image '%s' is already listed (%s); skipped", image, first);
        return;
    }
    if (JSON_NODE_HOLDS_ARRAY(regions)) {
        JsonArray *list = json_node_get_array(regions);
        for (guint i = 0; i < json_array_get_length(list) && !stopped(set); i++) {
            char number[16];
            g_snprintf(number, sizeof number, "%u", i);
            read_vgg_region(set, name, image, number, json_array_get_element(list, i));
        }
    } else {
        JsonObject *object = json_node_get_object(regions);
        g_autoptr(GList) region_keys = json_object_get_members(object);
        for (GList *r = region_keys; r && !stopped(set); r = r->next)
            read_vgg_region(set, name, image, r->data, json_object_get_member(object, r->data));
    }
}

static void read_json(sf_annotation_set *set, const char *name, const char *data, size_t length,
                      gboolean in_container)
{
    json_outline outline = {0};
    if (json_outline_read(set, name, data, length, &outline)) {
        if (!outline.object) {
            if (in_container)
                note(set, name, "ignored: JSON but neither COCO nor VGG");
            else
                problem(set, SF_SKIP_NOT_EXPORT, 1, name, "JSON but neither COCO nor VGG");
        } else if (outline_kind(&outline, "annotations") != SF_JSON_END &&
                   outline_kind(&outline, "images") != SF_JSON_END &&
                   outline_kind(&outline, "annotations") != SF_JSON_NULL &&
                   outline_kind(&outline, "images") != SF_JSON_NULL) {
            read_coco(set, name, data, length, &outline);
        } else {
            json_entries(set, name, data, length, NULL, read_vgg_entry, &outline);
        }
    }
    json_outline_clear(&outline);
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

/* The fatal error, if any, into `error`. */
static gboolean outcome(const sf_annotation_set *set, GError **error)
{
    if (!set->priv->fatal)
        return TRUE;
    g_propagate_error(error, g_error_copy(set->priv->fatal));
    return FALSE;
}

gboolean sf_annotations_read_data(sf_annotation_set *set, const char *name, const char *data,
                                  size_t length, GError **error)
{
    if (!stopped(set))
        read_any(set, name, data, length, FROM_ARGUMENT);
    return outcome(set, error);
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
    if (!archive && zip_error_code_zip(&zerr) == ZIP_ER_MEMORY)
        fatal(set, SF_EXIT_FAILURE, name, "out of memory reading the zip");
    else if (!archive)
        problem(set, SF_SKIP_MALFORMED, 1, name, "not a readable zip: %s",
                zip_error_strerror(&zerr));
    if (!archive) {
        if (source)
            zip_source_free(source);
        zip_error_fini(&zerr);
        return;
    }
    zip_error_fini(&zerr);
    zip_int64_t n = zip_get_num_entries(archive, 0);
    for (zip_int64_t i = 0; i < n && !stopped(set); i++) {
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
        if (!(st.valid & ZIP_STAT_SIZE)) {
            problem(set, SF_SKIP_MALFORMED, 1, display, "zip member of unknown size");
            continue;
        }
        /* The stated size is checked before anything is inflated; the
         * bytes inflated can never exceed it (libzip stops there), so a
         * member lying about its size costs no more than it states. Every
         * entry counts, also entries sharing one compressed stream. */
        if (!take_bytes(set, display, st.size))
            break;
        char *content = g_try_malloc(st.size + 1);
        if (!content) {
            fatal(set, SF_EXIT_FAILURE, display,
                  "out of memory for a zip member of %" G_GUINT64_FORMAT " bytes",
                  (guint64)st.size);
            break;
        }
        zip_file_t *file = zip_fopen_index(archive, (zip_uint64_t)i, 0);
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
        if (complete) {
            content[st.size] = '\0';
            read_any(set, display, content, st.size, FROM_ZIP);
        }
        g_free(content);
    }
    zip_discard(archive);
}

static gboolean read_file(sf_annotation_set *set, const char *path, origin from, GError **error)
{
    sf_annotation_set_private *priv = set->priv;
    size_t left = priv->limits.max_bytes - MIN(priv->n_bytes, priv->limits.max_bytes);
    g_autofree char *data = NULL;
    size_t length = 0;
    GError *local = NULL;
    if (!sf_input_read(path, "an annotation export", left, &data, &length, &local)) {
        if (local->code == SF_EXIT_MISSING) {
            g_propagate_error(error, local);
            return FALSE;
        }
        /* Too large: the export as a whole when others came before. */
        if (local->code == SF_EXIT_BAD_INPUT && priv->n_bytes > 0)
            take_bytes(set, path, left + 1);
        else if (!priv->fatal)
            priv->fatal = g_error_copy(local);
        g_error_free(local);
        return outcome(set, error);
    }
    /* A zip counts by its members, as inflated (read_zip). */
    if (sf_export_detect(data, length) != SF_EXPORT_ZIP)
        take_bytes(set, path, length);
    read_any(set, path, data, length, from);
    return outcome(set, error);
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
    if (stopped(set))
        return outcome(set, error);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: no such file or folder", path);
        return FALSE;
    }
    if (g_file_test(path, G_FILE_TEST_IS_DIR))
        return read_folder(set, path, error);
    return read_file(set, path, FROM_ARGUMENT, error);
}
