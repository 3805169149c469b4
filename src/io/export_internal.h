/*
 * Reading Makesense.AI exports: what the format readers share.
 *
 * annotations_read.c finds the format of each file and opens folders and
 * zips; one file per format reads it (export_yolo.c, export_voc.c,
 * export_csv.c, export_coco.c, export_vgg.c, with export_json.c for the
 * JSON passes COCO and VGG share); annotation_set.c keeps what they read,
 * the problems and the limits; export_text.c has the small text parsers.
 * A new format is one file and one line in annotations_read.c's
 * dispatch.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>

#include "io/json_read.h"
#include "slidefrag/annotations.h"

#define SF_RECT_CSV_HEADER                                                                         \
    "label_name,bbox_x,bbox_y,bbox_width,bbox_height,image_name,image_width,image_height"

struct sf_annotation_set_private {
    char **labels; /* NULL: "class_<n>" */
    guint n_labels;
    GHashTable *image_sizes; /* image key -> image size */
    GHashTable *listed;      /* "<format>/<image key>" -> first listing, this export */
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
    /* Files read as Makesense exports, empty and malformed ones included:
     * not the files ignored as something else. */
    guint n_exports;
    GHashTable *image_bytes; /* image key -> gint64*, file sizes stated (VGG) */
    /* Where each export's annotations start in set->annotations, and its
     * name, for sf_annotation_set_drop_repeats. */
    GArray *export_starts; /* guint */
    GPtrArray *export_names;
};

/* ---- The set (annotation_set.c) ----------------------------------------- */

/* Records a problem; `location` is "file:line" or similar. The entry it
 * returns may stand for several problems (SF_MAX_LISTED_PROBLEMS). */
sf_annotation_problem *sf_export_problem(sf_annotation_set *set, sf_skip_reason reason,
                                         guint n_skipped, const char *location, const char *format,
                                         ...) G_GNUC_PRINTF(5, 6);
/* Something skipped on purpose (a readme in a zip): told, never an error. */
void sf_export_note(sf_annotation_set *set, const char *location, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

/* Records the first fatal error (a limit, memory); readers check
 * sf_export_stopped in their loops and return. */
void sf_export_fatal(sf_annotation_set *set, int code, const char *location, const char *format,
                     ...) G_GNUC_PRINTF(4, 5);
gboolean sf_export_stopped(const sf_annotation_set *set);
/* Counts `n` more bytes of this export; FALSE (fatal) past the limit. */
gboolean sf_export_take_bytes(sf_annotation_set *set, const char *location, size_t n);
/* Room for one more annotation of `n_vertices`; FALSE (fatal) if not. */
gboolean sf_export_room_for(sf_annotation_set *set, const char *location, size_t n_vertices);
/* Keeps `a` when it fits the limits; frees it otherwise. */
gboolean sf_export_keep(sf_annotation_set *set, sf_annotation *a);

/* A group is one listing of an image: a YOLO/VOC file, a COCO image
 * entry, a VGG entry, or a run of consecutive CSV rows. */
guint sf_export_new_group(sf_annotation_set *set);
/* Records that `group` lists `image`; FALSE (with the first listing's
 * location) when another group of the same export and format did. */
gboolean sf_export_register_image(sf_annotation_set *set, sf_export_format format,
                                  const char *image, guint group, const char *location,
                                  const char **first);
void sf_export_remember_size(sf_annotation_set *set, const char *image, int width, int height);
void sf_export_remember_bytes(sf_annotation_set *set, const char *image, int64_t bytes);
/* Whether an image name from an export names a file, never a path. */
gboolean sf_export_image_name_ok(const char *name);

/* New annotations, their text made valid UTF-8. */
sf_annotation *sf_export_annotation_new(const char *label, sf_shape shape, size_t n_vertices,
                                        const char *image, const char *source, int line,
                                        const char *where);
sf_annotation *sf_export_rectangle_new(const char *label, double x0, double y0, double x1,
                                       double y1, const char *image, const char *source, int line,
                                       const char *where);
/* Whether `n` vertices are four axis-aligned corners of a box with an
 * area; if so they are put in sf_shape's rectangle order (top-left,
 * top-right, bottom-right, bottom-left). */
gboolean sf_export_rectangle_corners(sf_vertex *v, size_t n);
/* Takes `vertices`. */
sf_annotation *sf_export_polygon_new(const char *label, sf_vertex *vertices, size_t n,
                                     const char *image, const char *source, const char *where);

/* ---- Text (export_text.c) --------------------------------------------------- */

gboolean sf_export_parse_double(const char *s, double *out);
gboolean sf_export_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* An image dimension: an integer, reported apart when not positive. */
typedef enum {
    SF_DIMENSION_OK,
    SF_DIMENSION_MALFORMED,
    SF_DIMENSION_NOT_POSITIVE,
} sf_export_dimension;

sf_export_dimension sf_export_parse_dimension(const char *s, int *out);

/* "source:line"; g_free it. */
char *sf_export_line_location(const char *source, int line);
gboolean sf_export_blank(const char *s);
/* The base name without its last extension ("a/b.c.txt" -> "b.c"). */
char *sf_export_file_stem(const char *name);
/* Past a UTF-8 byte order mark and white space: the first character. */
const char *sf_export_skip_bom_and_space(const char *data, size_t length, size_t *rest);

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
} sf_line_reader;

void sf_line_reader_init(sf_line_reader *r, const char *data, size_t length);
/* Copies the next line into `line` (empty, with too_long set, when longer
 * than `max_length`); FALSE after the last one. */
gboolean sf_line_reader_next(sf_line_reader *r, GString *line, size_t max_length);

/*
 * Splits `line` in place at any of `separators`, dropping empty fields
 * when `skip_empty`, and stores at most `max` of them: returns how many
 * there are in all, so a line of a million fields is counted, not copied.
 */
int sf_export_split_fields(char *line, const char *separators, gboolean skip_empty, char **fields,
                           int max);

/* ---- The formats -------------------------------------------------------------- */

void sf_export_read_yolo(sf_annotation_set *set, const char *name, const char *data, size_t length);
/* `in_container`: met in a folder or zip, where other XML is expected. */
/* FALSE when the file was ignored as no VOC file at all. */
gboolean sf_export_read_voc(sf_annotation_set *set, const char *name, const char *data,
                            size_t length, gboolean in_container);
void sf_export_read_csv(sf_annotation_set *set, sf_export_format format, const char *name,
                        const char *data, size_t length);
/* FALSE when the file was ignored as neither COCO nor VGG. */
gboolean sf_export_read_json(sf_annotation_set *set, const char *name, const char *data,
                             size_t length, gboolean in_container);

/* ---- JSON exports (export_json.c) ------------------------------------------------ */

/* The top level of a JSON export, read without building it. */
typedef struct {
    gboolean object;        /* the root is an object */
    GHashTable *names;      /* its member names */
    GHashTable *duplicated; /* names it holds twice */
    GHashTable *kinds;      /* name -> GINT_TO_POINTER(first token of its value) */
} sf_json_outline;

void sf_json_outline_clear(sf_json_outline *o);
/* Reads the whole text once, checking it is JSON; FALSE (with a problem)
 * when it is not. */
gboolean sf_json_outline_read(sf_annotation_set *set, const char *name, const char *data,
                              size_t length, sf_json_outline *o);
/* The first token of the top-level member `name`'s value; SF_JSON_END when
 * there is none. */
sf_json_token sf_json_outline_kind(const sf_json_outline *o, const char *name);

/* Called with each entry: an element of a top-level array, or a top-level
 * member; `key` is the array's or the member's name. */
typedef void (*sf_json_entry_fn)(sf_annotation_set *set, const char *name, const char *key,
                                 guint index, JsonNode *entry, gpointer data);

/*
 * One pass over a text already outlined: each element of the top-level
 * arrays named in `arrays` (NULL-terminated), or with `arrays` NULL each
 * top-level member, goes to `fn` as a tree of its own, bounded by the
 * set's max_entry_values.
 */
void sf_json_entries(sf_annotation_set *set, const char *name, const char *data, size_t length,
                     const char *const *arrays, sf_json_entry_fn fn, gpointer fn_data);

/* A problem for a reader that failed: a limit passed inside an entry is
 * fatal, malformed text skips the file. */
void sf_export_json_failed(sf_annotation_set *set, const char *name, const sf_json_reader *reader,
                           guint n_skipped);

/* A polygon's coordinates as one flat list (COCO) or two lists (VGG). */
typedef struct {
    JsonArray *flat;
    JsonArray *xs, *ys;
} sf_json_polygon;

/* [x0, y0, x1, y1, ...] -> vertices, dropping a closing vertex that
 * repeats the first. NULL with *why when it is not a polygon. */
sf_vertex *sf_json_polygon_vertices(const sf_json_polygon *p, size_t *n_out, const char **why);

void sf_export_read_coco(sf_annotation_set *set, const char *name, const char *data, size_t length,
                         const sf_json_outline *outline);
void sf_export_read_vgg(sf_annotation_set *set, const char *name, const char *data, size_t length,
                        const sf_json_outline *outline);
