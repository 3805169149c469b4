/*
 * Reading slidefrag manifests (docs/manifest.md) back: what `map` and `eval`
 * need to place fragments on their slide.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "slidefrag/fragment_name.h"

G_BEGIN_DECLS

typedef struct sf_manifest_region {
    int id;
    int64_t x, y, w, h;         /* level-0 box */
    char *fragment_file;        /* as written, e.g. "fragments/<name>.jpg" */
    char *fragment_name;        /* its basename */
    int fragment_width, fragment_height; /* pixels of the fragment image */
} sf_manifest_region;

typedef struct sf_manifest {
    char *path;                 /* the manifest file read */
    char *slide_path, *slide_name, *vendor;
    int64_t width, height;      /* level 0 */
    double mpp_x, mpp_y;        /* 0 when unknown */
    gboolean has_bounds;
    int64_t bounds_x, bounds_y, bounds_width, bounds_height;
    sf_manifest_region *regions;
    size_t n_regions;
} sf_manifest;

/* Errors: SF_EXIT_MISSING (cannot read), SF_EXIT_BAD_INPUT (not a
 * slidefrag manifest, or a field missing or of the wrong type; the message
 * names the file and the field). */
sf_manifest *sf_manifest_load(const char *path, GError **error);
/* The same from the file's `length` bytes of `text`; `path` names it. */
sf_manifest *sf_manifest_parse(const char *path, const char *text, size_t length, GError **error);
void sf_manifest_free(sf_manifest *manifest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_manifest, sf_manifest_free)

G_END_DECLS
