/*
 * Reading slidefrag manifests (docs/manifest.md) back: what `map` and `eval`
 * need to place fragments on their slide.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

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

/*
 * Parses a fragment file name "<stem>__x<X>_y<Y>_w<W>_h<H>.<ext>" (any
 * directory part is ignored). The stem may itself contain "__"; the last
 * occurrence is used. Returns FALSE when the name does not have that form or
 * a number is out of range (w, h must be > 0; x, y >= 0).
 */
gboolean sf_fragment_name_parse(const char *name, char **stem, int64_t *x, int64_t *y,
                                int64_t *w, int64_t *h);
/* The fragment file name for a slide stem and level-0 box (".jpg"). */
char *sf_fragment_name_format(const char *stem, int64_t x, int64_t y, int64_t w, int64_t h);

G_END_DECLS
