/*
 * Reading slidefrag manifests (docs/manifest.md) back: what `map` and `eval`
 * need to place fragments on their slide, and what the report shows.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "slidefrag/core.h"

G_BEGIN_DECLS

typedef struct sf_manifest_region {
    int id;
    int64_t x, y, w, h;                  /* level-0 box */
    char *fragment_file;                 /* as written, e.g. "fragments/<name>.jpg" */
    char *fragment_name;                 /* its basename */
    int fragment_width, fragment_height; /* pixels of the fragment image */
    /* The rest is optional in a manifest; zero when absent. */
    sf_box overview; /* the detector's box, overview pixels */
    double tissue_fraction;
    int fragment_level; /* pyramid level read for the fragment */
} sf_manifest_region;

/* A name and its value as text ("red", "0.5", "true", compact JSON for
 * lists and objects): parameters and the detector's decisions. */
typedef struct sf_manifest_entry {
    char *key;
    char *value;
} sf_manifest_entry;

/* An object the detector found and did not keep. */
typedef struct sf_manifest_rejected {
    sf_box box;   /* overview pixels; w = 0 when the manifest gives none */
    char *reason; /* its "reason", else the whole entry as JSON */
} sf_manifest_rejected;

typedef struct sf_manifest {
    char *path; /* the manifest file read */
    char *slide_path, *slide_name, *vendor;
    int64_t width, height; /* level 0 */
    double mpp_x, mpp_y;   /* 0 when unknown */
    gboolean has_bounds;
    int64_t bounds_x, bounds_y, bounds_width, bounds_height;
    sf_manifest_region *regions;
    size_t n_regions;

    /* What the report shows besides. Optional in a manifest (older ones
     * and other writers may lack any of it): NULL, 0 or empty when absent,
     * threshold -1. */
    char *tool_version;
    char *overview_file, *mask_file, *boxes_file; /* relative to the manifest */
    int overview_width, overview_height;
    int threshold;
    sf_manifest_entry *params; /* in the manifest's order */
    size_t n_params;
    sf_manifest_entry *detection; /* the detector's decisions ("mode", ...) */
    size_t n_detection;
    char **warnings;    /* NULL-terminated, never NULL */
    sf_box *components; /* one box per connected component, overview pixels */
    size_t n_components;
    sf_manifest_rejected *rejected;
    size_t n_rejected;
    sf_manifest_entry *timings; /* stage -> seconds, as text */
    size_t n_timings;
} sf_manifest;

/* Errors: SF_EXIT_MISSING (cannot read), SF_EXIT_BAD_INPUT (not a
 * slidefrag manifest, or a field missing or of the wrong type; the message
 * names the file and the field). */
sf_manifest *sf_manifest_load(const char *path, GError **error);
/* The same from the file's `length` bytes of `text`; `path` names it. */
sf_manifest *sf_manifest_parse(const char *path, const char *text, size_t length, GError **error);
void sf_manifest_free(sf_manifest *manifest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_manifest, sf_manifest_free)

/*
 * Parses a fragment file name "<stem>__x<X>_y<Y>_w<W>_h<H>.<ext>" (any
 * directory part is ignored). The stem may itself contain "__"; the last
 * occurrence is used. Returns FALSE when the name does not have that form or
 * a number is out of range (w, h must be > 0; x, y >= 0).
 */
gboolean sf_fragment_name_parse(const char *name, char **stem, int64_t *x, int64_t *y, int64_t *w,
                                int64_t *h);
/* The fragment file name for a slide stem and level-0 box (".jpg"). */
char *sf_fragment_name_format(const char *stem, int64_t x, int64_t y, int64_t w, int64_t h);

G_END_DECLS
