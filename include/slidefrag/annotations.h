/*
 * Annotations drawn on fragments in Makesense.AI, read from its exports,
 * mapped back onto the slide's level-0 pixels and written for viewers.
 *
 * Reading never stops at a bad entry: each problem is recorded with the file
 * and line it came from and the valid annotations around it are kept.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "slidefrag/manifest.h"

G_BEGIN_DECLS

/* ---- The annotation model -------------------------------------------- */

typedef enum {
    SF_SHAPE_RECTANGLE, /* 4 vertices: top-left, top-right, bottom-right, bottom-left */
    SF_SHAPE_POLYGON,   /* >= 3 vertices, not closed (no repeated first vertex) */
    SF_SHAPE_POINT,     /* 1 vertex */
    SF_SHAPE_LINE,      /* 2 vertices: start, end */
} sf_shape;

/* "rectangle", "polygon", "point", "line". */
const char *sf_shape_name(sf_shape shape);

typedef struct sf_vertex {
    double x, y;
} sf_vertex;

typedef struct sf_annotation {
    char *label;
    sf_shape shape;
    sf_vertex *vertices; /* fragment pixels as read; level-0 pixels once mapped */
    size_t n_vertices;
    /* The image as the export names it ("<stem>.jpg"; YOLO keeps only the
     * stem). Once mapped: the fragment's file name. */
    char *image;
    /* YOLO: vertices are fractions of the image size, not pixels. */
    gboolean normalised;
    int image_width, image_height; /* as the export states it; 0 when it does not */
    /* Once mapped: the level-0 box of the fragment it was drawn on, where
     * shapes cut by a tile's edge meet their other part. */
    int64_t fragment_x, fragment_y, fragment_w, fragment_h;
    /* Where it came from, for messages: the file ("export.zip/a.txt" for a
     * zip member), the 1-based line (0 when the format has none) and a JSON
     * path such as "annotations[3]" (or NULL). */
    char *source;
    int line;
    char *where;
} sf_annotation;

void sf_annotation_free(sf_annotation *annotation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_annotation, sf_annotation_free)

/* "file:line", "file: where" or "file"; g_free it. */
char *sf_annotation_location(const sf_annotation *annotation);

/* The name under which an image is looked up: its base name without an
 * image extension (.jpg, .jpeg, .png, ...), so that "a.jpg", "a.png" and
 * YOLO's "a" all meet. g_free it. */
char *sf_image_key(const char *image);

/* ---- Problems ---------------------------------------------------------- */

typedef enum {
    SF_SKIP_MALFORMED,     /* not parseable: bad XML/JSON/CSV line, missing field */
    SF_SKIP_BAD_SIZE,      /* a negative or zero width/height */
    SF_SKIP_UNKNOWN_CLASS, /* class index or category not in the label list */
    SF_SKIP_PATH,          /* a name with directory parts ("../x", "/x") */
    SF_SKIP_DUPLICATE,     /* one export lists the same image twice */
    SF_SKIP_NO_FRAGMENT,   /* the image matches no known fragment */
    SF_SKIP_OUTSIDE,       /* a vertex lies outside the fragment */
    SF_SKIP_SIZE_UNKNOWN,  /* the fragment's pixel size is needed but unknown */
    SF_SKIP_SIZE_MISMATCH, /* the export's image size differs from the manifest's */
    SF_SKIP_NOT_EXPORT,    /* a file given that no Makesense export looks like */
    SF_SKIP_N_REASONS,
} sf_skip_reason;

/* A short plural-neutral phrase for summaries ("outside the fragment"). */
const char *sf_skip_reason_text(sf_skip_reason reason);

typedef struct sf_annotation_problem {
    sf_skip_reason reason;
    char *message;   /* "<file>:<line>: <cause>" */
    guint n_skipped; /* annotations lost (a whole unreadable file counts 1) */
    gboolean note;   /* informational only: skipped nothing, never fatal */
    /* Problems this entry stands for: 1, except for the one entry per
     * reason that counts those past SF_MAX_LISTED_PROBLEMS (its message
     * then says so), so that a file of a million bad lines costs a
     * thousand messages, not a million. */
    guint n_problems;
} sf_annotation_problem;

/* Problems kept with their message per reason; the rest are counted. */
#define SF_MAX_LISTED_PROBLEMS 1000

/* ---- Reading exports --------------------------------------------------- */

typedef enum {
    SF_EXPORT_UNKNOWN,
    SF_EXPORT_YOLO,      /* <stem>.txt: "cls cx cy w h", normalised */
    SF_EXPORT_VOC,       /* <stem>.xml: Pascal VOC */
    SF_EXPORT_RECT_CSV,  /* rectangles, with header */
    SF_EXPORT_POINT_CSV, /* label,x,y,image,w,h */
    SF_EXPORT_LINE_CSV,  /* label,x1,y1,x2,y2,image,w,h */
    SF_EXPORT_COCO,      /* polygons, COCO JSON */
    SF_EXPORT_VGG,       /* polygons, VGG Image Annotator JSON */
    SF_EXPORT_ZIP,       /* a zip of any of the above */
} sf_export_format;

const char *sf_export_format_name(sf_export_format format);

/* The format of a file from its content alone (the extension is not used).
 * XML is reported as VOC and JSON as COCO or VGG; the parser then checks. */
sf_export_format sf_export_detect(const char *data, size_t length);

/* ---- Limits -------------------------------------------------------------
 *
 * What reading exports may cost. Without them a 0.5 MB zip holding 200 MiB
 * of valid YOLO lines took 7.7 GB before the system killed it: a zipped
 * export costs about 15,000 times its download. The real Makesense.AI
 * keeps a project in one browser tab; a dense one (500 fragments of 200
 * polygons of 20 vertices, 100,000 annotations) exports about 80 MB as
 * COCO JSON, 4 MB as YOLO. The limits leave room of 3 to 10 times that,
 * and keep the worst input a map accepts under about 1 GB of memory
 * (docs/robustness.md). Going past one is fatal: the map stops with
 * SF_EXIT_BAD_INPUT and writes nothing, since what was read of a bomb means
 * nothing.
 */
typedef struct sf_export_limits {
    /* Bytes read per export (one EXPORT argument): its files, and the
     * members of its zips as decompressed. */
    size_t max_bytes;
    /* Annotations one set keeps, every export together, and their
     * vertices. */
    size_t max_annotations;
    size_t max_vertices;
    /* JSON values in one COCO annotation, image or category, or one VGG
     * image entry: the memory of json-glib's nodes for it (about 100
     * bytes a value) is what reading a JSON export costs beyond its text. */
    size_t max_entry_values;
} sf_export_limits;

#define SF_EXPORT_MAX_BYTES ((size_t)256 << 20)
#define SF_EXPORT_MAX_ANNOTATIONS ((size_t)1000000)
#define SF_EXPORT_MAX_VERTICES ((size_t)10000000)
#define SF_EXPORT_MAX_ENTRY_VALUES ((size_t)1000000)

typedef struct sf_annotation_set_private sf_annotation_set_private;

typedef struct sf_annotation_set {
    GPtrArray *annotations; /* sf_annotation*, in reading order */
    GPtrArray *problems;    /* sf_annotation_problem*, in reading order */
    sf_annotation_set_private *priv;
} sf_annotation_set;

sf_annotation_set *sf_annotation_set_new(void);
void sf_annotation_set_free(sf_annotation_set *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_annotation_set, sf_annotation_set_free)

/* Replaces the limits (the SF_EXPORT_MAX_* defaults): for tests, which
 * reach them with small inputs. */
void sf_annotation_set_set_limits(sf_annotation_set *set, const sf_export_limits *limits);

/* YOLO class names in the project's label order; without them a class
 * index n becomes "class_<n>". */
void sf_annotation_set_set_labels(sf_annotation_set *set, const char *const *labels);
/* Reads a labels file: one name per line, blank lines ignored. Errors:
 * SF_EXIT_MISSING, SF_EXIT_BAD_INPUT (no names). */
gboolean sf_annotation_set_load_labels(sf_annotation_set *set, const char *path, GError **error);

/* Records a problem; `location` is "file:line" or similar. */
void sf_annotation_set_add_problem(sf_annotation_set *set, sf_skip_reason reason, guint n_skipped,
                                   const char *location, const char *format, ...)
    G_GNUC_PRINTF(5, 6);
/* Annotations lost to problems (notes excluded). */
guint sf_annotation_set_n_skipped(const sf_annotation_set *set);
/* Whether any problem (not a note) was recorded. */
gboolean sf_annotation_set_has_errors(const sf_annotation_set *set);
/* Files read as Makesense exports, empty and malformed ones included; 0
 * when everything given was something else (a readme, images), which
 * `map` refuses. */
guint sf_annotation_set_n_exports(const sf_annotation_set *set);

/* The byte count of the image file an export states (VGG's `size`),
 * looked up by sf_image_key; FALSE when none did. */
gboolean sf_annotation_set_image_bytes(const sf_annotation_set *set, const char *image,
                                       int64_t *bytes);

/* Records a note: something assumed or skipped on purpose, never an
 * error; `reason` classes it for the summary. */
void sf_annotation_set_add_note(sf_annotation_set *set, sf_skip_reason reason,
                                const char *location, const char *format, ...)
    G_GNUC_PRINTF(4, 5);

/*
 * Drops annotations that repeat, exactly (image, label, shape, vertices),
 * ones read from an earlier export: the same export given twice (a zip
 * and its unpacked folder, `map exports/...`) would double everything. A
 * note per pair of exports says how many were kept once. Within one
 * export nothing is dropped: a shape drawn twice was drawn twice.
 * sf_annotations_map calls it. Returns how many were dropped.
 */
guint sf_annotation_set_drop_repeats(sf_annotation_set *set);

/* The pixel size an export states for an image (looked up by sf_image_key);
 * FALSE when none did. */
gboolean sf_annotation_set_image_size(const sf_annotation_set *set, const char *image, int *width,
                                      int *height);

/*
 * Starts a new export: images listed twice are detected within one export
 * (one command-line argument), not across exports. sf_annotations_read_path
 * calls it itself.
 */
void sf_annotation_set_begin_export(sf_annotation_set *set);
/* The same, naming the export for messages (sf_annotations_read_path). */
void sf_annotation_set_begin_named_export(sf_annotation_set *set, const char *name);

/*
 * Reads one export given on the command line: a file of any supported
 * format, a zip of them, or a folder (searched recursively). Inside
 * folders and zips, files that are not exports (images, readme) are noted
 * and ignored. Everything wrong inside goes into set->problems; errors are
 * an unreadable path (SF_EXIT_MISSING), a limit passed (SF_EXIT_BAD_INPUT)
 * and memory refused (SF_EXIT_FAILURE), after which the set is to be
 * dropped.
 */
gboolean sf_annotations_read_path(sf_annotation_set *set, const char *path, GError **error);

/* Reads one file's content. `name` is used in messages and, for YOLO, as
 * the image name (its base name without the last extension). Errors: a
 * limit passed or memory refused, as above. */
gboolean sf_annotations_read_data(sf_annotation_set *set, const char *name, const char *data,
                                  size_t length, GError **error);

/* ---- Mapping onto the slide -------------------------------------------- */

typedef enum {
    SF_OFFSET_NONE,   /* level-0 pixels of the whole slide */
    SF_OFFSET_BOUNDS, /* minus openslide.bounds-x/y: QuPath's default crop */
} sf_slide_offset;

/* Fragments known from manifests, found by image name. */
typedef struct sf_fragment_index sf_fragment_index;

sf_fragment_index *sf_fragment_index_new(void);
void sf_fragment_index_free(sf_fragment_index *index);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_fragment_index, sf_fragment_index_free)
/* Adds a manifest, taking ownership. Errors: SF_EXIT_BAD_INPUT when another
 * manifest already describes a slide of the same name. */
gboolean sf_fragment_index_add(sf_fragment_index *index, sf_manifest *manifest, GError **error);
size_t sf_fragment_index_n_manifests(const sf_fragment_index *index);

/* The annotations of one slide, in level-0 pixels. */
typedef struct sf_slide_annotations {
    char *stem;                  /* slide name, used for the output file name */
    const sf_manifest *manifest; /* NULL when placed from fragment names alone */
    sf_slide_offset offset;
    int64_t offset_x, offset_y; /* what was subtracted from every coordinate */
    GPtrArray *annotations;     /* sf_annotation*; image = fragment file name */
} sf_slide_annotations;

void sf_slide_annotations_free(sf_slide_annotations *slide);

/*
 * Maps every annotation of `set`: fragment pixel (px, py) lands on
 * (X + px * W / width, Y + py * H / height), with (X, Y, W, H) the
 * fragment's level-0 box and width x height its pixel size. With manifests
 * in `index` (may be NULL) they alone say where an image belongs; without,
 * the image name is parsed (sf_fragment_name_parse) and the pixel size taken
 * from what the export states. YOLO needs no pixel size: its fractions f
 * land on X + f * W. Annotations that cannot be placed become problems in
 * `set`. The annotations move out of `set` (set->annotations is empty
 * afterwards), so a large export is held once, not twice. Returns sf_slide_annotations* sorted by
 * stem (free with g_ptr_array_unref); *n_mapped counts the annotations placed. Errors:
 * SF_EXIT_USAGE for SF_OFFSET_BOUNDS without any manifest.
 */
GPtrArray *sf_annotations_map(sf_annotation_set *set, const sf_fragment_index *index,
                              sf_slide_offset offset, guint *n_mapped, GError **error);

/*
 * Joins what neighbouring fragments (tiles) share, on one mapped slide:
 * pieces of one label drawn on two fragments that touch or overlap, which
 * touch or overlap each other (within one fragment pixel) where the
 * fragments meet, become one shape, the GEOS union of the pieces; a point
 * drawn on two tiles' overlap stays once. Pieces on one fragment are left
 * as drawn. Returns how many joined shapes there now are; *n_joined how
 * many pieces went into them. sf_annotations_map calls it per slide.
 */
guint sf_annotations_join_seams(sf_slide_annotations *slide, guint *n_joined);

/* ---- Annotations already on the slide ------------------------------------ */

/* The slide a whole-slide annotation file names: "a.geojson", "a.json",
 * "a.xml" and QuPath's "a.svs.geojson" all name slide "a". g_free it. */
char *sf_annotation_file_stem(const char *path);

/*
 * Reads a file of level-0 annotations: QuPath GeoJSON (a FeatureCollection
 * of Polygon, MultiPolygon, Point and LineString features, labelled by
 * their classification), ASAP XML or Aperio ImageScope XML: what `map`
 * writes, and what a lab has from an earlier round or a model. Its shapes
 * join set->annotations in level-0 pixels with `image` the slide's stem
 * (`stem`, or NULL for sf_annotation_file_stem of the path); axis-aligned
 * four-corner outlines are rectangles. Problems and limits as for exports.
 */
gboolean sf_level0_read_path(sf_annotation_set *set, const char *path, const char *stem,
                             GError **error);

/* ---- Pre-annotation: level-0 shapes onto fragments ---------------------- */

typedef enum {
    SF_PREANNOTATE_COCO, /* one COCO JSON for every fragment: boxes and polygons */
    SF_PREANNOTATE_VOC,  /* a Pascal VOC file per fragment: boxes */
} sf_preannotate_format;

/*
 * Writes the level-0 shapes of `set` (their `image` a slide name) onto the
 * fragments of `manifests` (sf_manifest*) as a Makesense.AI import: each
 * shape is clipped to every fragment it reaches and put in that fragment's
 * pixels, (x - X) * width / W. COCO: OUT/pre-annotations.json, boxes with
 * their `bbox` and every area as a `segmentation` (Makesense imports
 * either). VOC: OUT/<fragment>.xml with whole-pixel boxes (its importer
 * reads integers); polygons are left out, said so. Points and lines
 * cannot be imported into Makesense: left out, said so. `offset`
 * SF_OFFSET_BOUNDS: the coordinates are minus openslide.bounds-x/y, as
 * QuPath's. Notes and problems go into `set`; *n_written counts shapes
 * written (one per fragment reached). Errors: SF_EXIT_OUTPUT.
 */
gboolean sf_preannotate_write(sf_annotation_set *set, GPtrArray *manifests,
                              sf_preannotate_format format, sf_slide_offset offset,
                              const char *out_dir, guint *n_written, GError **error);

/* ---- Writing ----------------------------------------------------------- */

typedef enum {
    SF_ANNOTATIONS_GEOJSON,    /* QuPath GeoJSON FeatureCollection */
    SF_ANNOTATIONS_ASAP,       /* ASAP XML */
    SF_ANNOTATIONS_IMAGESCOPE, /* Aperio ImageScope XML */
    SF_ANNOTATIONS_COCO,       /* COCO JSON, one image: the slide */
    SF_ANNOTATIONS_CSV,        /* one row per vertex */
} sf_annotation_format;

/* "geojson", "asap", "imagescope", "coco", "csv". */
gboolean sf_annotation_format_parse(const char *name, sf_annotation_format *format);
/* The output file extension without the dot. */
const char *sf_annotation_format_extension(sf_annotation_format format);

/* A stable colour for a label: the same name always gets the same one. */
void sf_label_colour(const char *label, uint8_t rgb[3]);

/* The whole file in memory; g_free it. */
char *sf_annotations_serialise(const sf_slide_annotations *slide, sf_annotation_format format,
                               size_t *length);

/*
 * Writes OUT/<stem>.<ext> atomically; *path_out (may be NULL) receives the
 * path. Errors: SF_EXIT_BAD_INPUT for an unsafe stem, SF_EXIT_OUTPUT.
 */
gboolean sf_annotations_write(const sf_slide_annotations *slide, sf_annotation_format format,
                              const char *out_dir, char **path_out, GError **error);

G_END_DECLS
