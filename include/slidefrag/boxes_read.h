/*
 * Level-0 boxes of a slide read from files, for `slidefrag eval`: the
 * regions of a slidefrag manifest, the bounding boxes of the features of a
 * (QuPath) GeoJSON file, or a plain JSON list of [x, y, w, h]. The format is
 * told from the content, not the file name.
 */
#pragma once

#include <glib.h>

#include "slidefrag/core.h"

G_BEGIN_DECLS

typedef enum {
    SF_BOXES_MANIFEST, /* regions[].level0 of a slidefrag manifest */
    SF_BOXES_GEOJSON,  /* FeatureCollection, Feature, or an array of Features */
    SF_BOXES_LIST,     /* [[x, y, w, h], ...], half-open level-0 pixels */
} sf_boxes_format;

/* "manifest", "geojson", "list". */
const char *sf_boxes_format_name(sf_boxes_format format);

typedef struct sf_slide_boxes {
    char *stem; /* the slide's name: manifest slide.name, else the file name
                 * without ".json"/".geojson" (and a slide extension before it) */
    char *path; /* the file read */
    sf_boxes_format format;
    sf_box *boxes; /* in file order */
    size_t n_boxes;
} sf_slide_boxes;

void sf_slide_boxes_free(sf_slide_boxes *boxes);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_slide_boxes, sf_slide_boxes_free)

/*
 * Boxes from a file's content; `path` names it in messages and gives the
 * stem. A manifest is read again from `path` (sf_manifest_load).
 * GeoJSON geometries of any type become the box of their coordinates,
 * widened to whole pixels (a point or a straight line is 1 pixel thick);
 * features without geometry are skipped. List numbers may be fractional:
 * the box then covers them. Errors: SF_EXIT_BAD_INPUT naming the file and
 * the element at fault.
 */
sf_slide_boxes *sf_boxes_parse(const char *path, const char *data, size_t length, GError **error);

/* sf_boxes_parse of a file. Errors: SF_EXIT_MISSING, SF_EXIT_BAD_INPUT. */
sf_slide_boxes *sf_boxes_load(const char *path, GError **error);

/*
 * One file, or a folder of slides: <stem>.json and <stem>.geojson files and
 * <dir>/manifest.json of its subfolders (the output of `slidefrag run` or
 * `batch`). In a folder, JSON that is none of the three formats (a batch's
 * summary.json) is skipped with a note added to `notes` (may be NULL;
 * g_free'd strings). Returns sf_slide_boxes* sorted by stem. Errors:
 * SF_EXIT_MISSING (no such path, or a folder without any box file),
 * SF_EXIT_BAD_INPUT (a malformed file, two files for one stem).
 */
GPtrArray *sf_boxes_load_path(const char *path, GPtrArray *notes, GError **error);

G_END_DECLS
