/*
 * slidefrag manifests (docs/manifest.md): what a run writes, last, into
 * each slide's folder, and what `map`, `eval` and `batch --resume` read
 * back. One model for both directions; the reader accepts manifests that
 * leave out what `map` does not need (the fields marked optional).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>

#include "slidefrag/core.h"
#include "slidefrag/fragment_name.h"
#include "slidefrag/slide.h"

G_BEGIN_DECLS

/* The schema every manifest declares; the reader requires it. */
#define SF_MANIFEST_SCHEMA "slidefrag.manifest/1"

typedef struct sf_manifest_region {
    int id;
    int64_t x, y, w, h;                  /* level-0 box */
    char *fragment_file;                 /* as written, e.g. "fragments/<name>.jpg" */
    char *fragment_name;                 /* its basename */
    int fragment_width, fragment_height; /* pixels of the fragment image */
    /* Optional when read (0 when missing): */
    gboolean has_overview;
    sf_box overview;            /* the detector's box, overview pixels, before padding */
    double tissue_fraction;     /* of the overview box */
    double fragment_downsample; /* level-0 pixels per fragment pixel */
    int fragment_level;         /* the pyramid level read */
    /* The region of tissue this fragment is a tile of ("tissue" in the
     * file, one entry per region): has_tissue FALSE in manifests written
     * before tiles, where every fragment is a whole region. */
    gboolean has_tissue;
    int tissue;        /* its id, the same for every tile of one region */
    int row, col;      /* this tile's place in the region's grid */
    int rows, cols;    /* the grid */
    int overlap;       /* fragment px neighbouring tiles share, at least */
    double tissue_downsample; /* the resolution of its tiles, level-0 px per fragment px */
    sf_box detected;   /* the region on level 0 before padding: what eval scores */
    sf_box tissue_box; /* the region on level 0 with padding: what its tiles cover */
} sf_manifest_region;

typedef struct sf_manifest_level {
    int64_t width, height;
    double downsample;
} sf_manifest_level;

typedef struct sf_manifest_overview {
    char *file; /* "overview.jpg" or "overview.png" */
    int level;
    double level_downsample;
    int width, height;
    double scale_x, scale_y; /* level-0 pixels per overview pixel */
} sf_manifest_overview;

typedef struct sf_manifest_timings {
    double open, overview, detect, write, fragments, total; /* seconds */
} sf_manifest_timings;

/* An object the detector found and did not keep. */
typedef struct sf_manifest_rejected {
    sf_box box;   /* overview pixels; w = 0 when the manifest gives none */
    char *reason; /* its "reason", else the whole entry as JSON text */
} sf_manifest_rejected;

typedef struct sf_manifest {
    char *path;         /* the manifest file read (NULL when built) */
    char *tool_version; /* optional */
    char *slide_path, *slide_name, *vendor;
    int64_t width, height; /* level 0 */
    double mpp_x, mpp_y;   /* 0 when unknown */
    gboolean has_bounds;
    int64_t bounds_x, bounds_y, bounds_width, bounds_height;
    sf_manifest_region *regions;
    size_t n_regions;
    /* Optional when read: */
    gboolean has_file_stamp; /* the slide file as it was read */
    int64_t file_size;       /* bytes */
    int64_t file_mtime;      /* seconds since the epoch */
    double objective_power;  /* 0 when unknown */
    char *quickhash;
    sf_manifest_level *levels;
    size_t n_levels;
    gboolean has_overview;
    sf_manifest_overview overview;
    JsonNode *params; /* the "params" object, as run --params reads it; NULL when missing */
    int threshold;    /* -1 when missing */
    sf_manifest_timings timings;
    /* Optional, what the report shows (docs/report.md): */
    sf_box *components; /* the mask's connected components, overview pixels */
    size_t n_components;
    JsonNode *detection;            /* the detector's decisions by name; NULL when missing */
    char **warnings;                /* NULL-terminated; NULL when missing */
    sf_manifest_rejected *rejected; /* what the detector found and did not keep */
    size_t n_rejected;
} sf_manifest;

/* Errors: SF_EXIT_MISSING (cannot read), SF_EXIT_BAD_INPUT (not a
 * slidefrag manifest, or a field missing or of the wrong type; the message
 * names the file and the field). */
sf_manifest *sf_manifest_load(const char *path, GError **error);
/* The same from the file's `length` bytes of `text`; `path` names it. */
sf_manifest *sf_manifest_parse(const char *path, const char *text, size_t length, GError **error);
/* An empty manifest to fill in (threshold -1), for sf_manifest_write. */
sf_manifest *sf_manifest_new(void);
void sf_manifest_free(sf_manifest *manifest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_manifest, sf_manifest_free)

/* Fills in what the manifest records of an open slide: vendor, size, µm/px,
 * objective power, quickhash, bounds and levels. */
void sf_manifest_describe_slide(sf_manifest *manifest, const sf_slide *slide);

/* The manifest as its file holds it (indented JSON ending in a newline);
 * g_free it. The optional members are written when known (has_..., params
 * not NULL, threshold >= 0). */
char *sf_manifest_text(const sf_manifest *manifest);
/* Writes it atomically to `path`. Errors: SF_EXIT_OUTPUT. */
gboolean sf_manifest_write(const sf_manifest *manifest, const char *path, GError **error);

/* A slide's path as a manifest records it: absolute, and made valid UTF-8
 * (U+FFFD) since JSON holds nothing else; the file is still opened by its
 * bytes. g_free it. */
char *sf_manifest_path_text(const char *slide_path);
/* Whether the manifest was written for the slide at `slide_path` (its
 * recorded path is sf_manifest_path_text of it). */
gboolean sf_manifest_is_of_slide(const sf_manifest *manifest, const char *slide_path);

/* Whether the file at `path` is still the one the manifest recorded (same
 * size and modification time); FALSE when it records none. */
gboolean sf_manifest_file_unchanged(const sf_manifest *manifest, const char *path);

/* The boxes where the manifest says tissue is, on level 0: each region's
 * detected box (before padding, one per region however many tiles cut it)
 * when the manifest has them, else each fragment's box. What eval scores. */
GArray *sf_manifest_tissue_boxes(const sf_manifest *manifest);

/* A slide as `info --json` describes it: its path, the members the
 * manifest's "slide" object holds after its name and stamp, and its
 * associated images. */
JsonNode *sf_slide_info_json(const sf_slide *slide);
/* The formats slidefrag reads with their file-name extensions, and every
 * extension once: {"formats": [{name, description, extensions}], "extensions"}. */
JsonNode *sf_slide_formats_json(void);

G_END_DECLS
