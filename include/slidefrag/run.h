/*
 * The run job: one slide in, overview, mask, regions, fragments and a
 * manifest out (docs/manifest.md).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "slidefrag/detect.h"
#include "slidefrag/slide.h"

G_BEGIN_DECLS

/* How a resolution is asked for: longest side in pixels, a downsample from
 * level 0, or micrometres per pixel. */
typedef enum {
    SF_TARGET_MAX_SIZE,
    SF_TARGET_DOWNSAMPLE,
    SF_TARGET_MPP,
} sf_target_kind;

typedef struct sf_target {
    sf_target_kind kind;
    double value;
} sf_target;

/* A length or an area in overview pixels, or in physical units. */
typedef struct sf_measure {
    double value;
    gboolean microns; /* value in µm (lengths) or µm² (areas) */
} sf_measure;

typedef struct sf_run_params {
    sf_target overview;
    sf_target fragment;
    gboolean overview_png; /* lossless overview.png instead of overview.jpg */
    int jpeg_quality;
    sf_detect_params detect; /* gap/min-area replaced by the measures below */
    sf_measure gap;
    sf_measure min_area;
    /* min_area was not given: on a slide without µm/px the physical default
     * becomes min_area_fraction = SF_MIN_AREA_FRACTION_NO_MPP instead. */
    bool min_area_default;
    double min_area_fraction;
    double min_tissue_fraction;
    sf_measure padding; /* overview px or µm around each region's fragments */
    bool padding_default;
    /* The fragment target was not given: SF_FRAGMENT_MPP_DEFAULT, or on a
     * slide without µm/px SF_FRAGMENT_MAX_SIZE_NO_MPP. */
    bool fragment_default;
    int tile;           /* longest side of a fragment, fragment px */
    sf_measure overlap; /* between neighbouring tiles: fragment px, or µm */
    int threads;        /* fragment workers within one slide */
} sf_run_params;

/* Regions smaller than this are dropped by default: tissue fragments of a
 * needle biopsy are larger, dust is smaller, whatever the slide's size. */
#define SF_MIN_AREA_DEFAULT_UM2 5000.0
/* The fallback on slides that do not record µm/px: 1/10000 of the overview. */
#define SF_MIN_AREA_FRACTION_NO_MPP 0.0001

/* Fragments: about 1 µm/px by default, a 10x view; on slides that do not
 * record µm/px, the finest resolution whose longest side fits 4096 px. */
#define SF_FRAGMENT_MPP_DEFAULT 1.0
#define SF_FRAGMENT_MAX_SIZE_NO_MPP 4096
/*
 * Tiles. Measured with the real Makesense.AI in Chromium: in a 1600 x 1000
 * window its zoom (at most 4x the fitted view) shows images up to about
 * 3,500 px long at 1:1; it stays smooth up to about 144 MP, freezes for
 * seconds on every action past about 200 MP, and silently fails to load
 * an image over 65,500 px a side or 536,870,911 px in area. A region larger
 * than a tile is cut into overlapping tiles of at most SF_TILE_MAX a side:
 * 12000^2 = 144 MP, so no option can make a fragment the app cannot take.
 */
#define SF_TILE_DEFAULT 4096
#define SF_TILE_MIN 64
#define SF_TILE_MAX 12000
/* Neighbouring tiles share this many fragment pixels by default (128 µm
 * at 1 µm/px): a cell cut by one seam is whole in the other tile. */
#define SF_OVERLAP_DEFAULT_PX 128
/* A slide yields at most this many fragments (a whole 100,000 px slide at
 * level 0 in 4096 px tiles is about 600). */
#define SF_FRAGMENTS_MAX 100000
/* The default margin around each region's fragments: 20 µm of glass, or
 * one overview pixel on slides that do not record µm/px. */
#define SF_PADDING_DEFAULT_UM 20.0
#define SF_PADDING_NO_MPP_PX 1.0

void sf_run_params_default(sf_run_params *params);

/*
 * The µm/px a run works with: the slide's, or a manifest's, when it is a
 * resolution some scanner could write, else 0 (unknown). A damaged header
 * can claim 1e-300 µm/px, and 5000 µm² in such pixels is beyond any
 * integer. 0.001 µm/px is 200 times finer than light microscopy resolves;
 * 10,000 µm/px puts a whole slide in a handful of pixels.
 */
#define SF_MPP_MIN 0.001
#define SF_MPP_MAX 10000.0
double sf_run_usable_mpp(double mpp);

/* The parameters as used on a slide of this µm/px (0: unknown): defaults
 * that depend on the slide resolved (see min_area_default). What the
 * manifest records. */
void sf_run_params_for_mpp(const sf_run_params *params, double mpp, sf_run_params *out);

/* What a change of a parameter invalidates, earliest first. tune reads
 * each overview once and computes one mask per group of candidates that
 * agree up to SF_PARAM_STAGE_MASK. */
typedef enum sf_param_stage {
    SF_PARAM_STAGE_OVERVIEW, /* the overview itself */
    SF_PARAM_STAGE_MASK,     /* the tissue mask */
    SF_PARAM_STAGE_REGIONS,  /* the regions found on the mask */
    SF_PARAM_STAGE_OUTPUT,   /* only what is written: fragments, file formats */
} sf_param_stage;

/* One run parameter as a front end shows it. */
typedef struct sf_param_info {
    const char *key;  /* long option and JSON key: "max-size", "channel", ... */
    const char *arg;  /* its argument in help ("PX"); NULL for an on/off flag */
    const char *help; /* one line, without the default */
    sf_param_stage stage;
} sf_param_info;

/* The parameters, in help and manifest order: indices 0 .. count - 1. */
size_t sf_run_params_count(void);
const sf_param_info *sf_run_param_info_at(size_t index);
/* The parameter of a key, or NULL. */
const sf_param_info *sf_run_param_lookup(const char *key);
/* A parameter's value as text ("2048", "otsu", "5000um2"), or NULL when the
 * key is not how the value is given (--mpp while --max-size is). g_free it. */
char *sf_run_param_text(const sf_run_params *params, const char *key);

/*
 * Sets one parameter from its text form, as given on the command line or in
 * a --params file. `key` is the long option name without dashes ("channel",
 * "threshold", "open", "gap", "fragment-max-size", ...). Errors:
 * SF_EXIT_USAGE with a message naming the option and the bad value.
 */
gboolean sf_run_params_set(sf_run_params *params, const char *key, const char *value,
                           GError **error);
/* Every parameter, as a JSON object of the same keys (manifest "params"). */
JsonNode *sf_run_params_to_json(const sf_run_params *params);
/* Applies a JSON object of those keys; `source` names it in messages.
 * Errors: SF_EXIT_BAD_INPUT. */
gboolean sf_run_params_apply_json(sf_run_params *params, JsonObject *object, const char *source,
                                  GError **error);
/* Applies a JSON object file of the same keys (a `--params` file, or the
 * "params" of a manifest). */
gboolean sf_run_params_load(sf_run_params *params, const char *path, GError **error);
/* Sets the parameters given by index (values[i] for sf_run_param_info_at(i),
 * NULL where not given), as a command line does: two values for one
 * setting (--max-size and --mpp) are SF_EXIT_USAGE. */
gboolean sf_run_params_set_all(sf_run_params *params, char *const *values, GError **error);

/* What one slide's run produced. */
typedef struct sf_run_result {
    char *output_dir;
    int n_regions;
    int n_fragments;
    double seconds;
    char *note; /* what the user should know about a finished run, or NULL */
} sf_run_result;

void sf_run_result_clear(sf_run_result *result);

/*
 * Processes one slide into `output_dir` (created; the caller picks a folder
 * per slide, sf_run_output_dirs): overview, mask, boxes figure, fragments,
 * report.html and the manifest. Fragments are named after the folder:
 * fragments/<folder name>__x<X>_y<Y>_w<W>_h<H>.jpg, one per tile of each
 * region. Every file is written under a temporary name and renamed when
 * complete, the manifest last, once the folder holds exactly what it lists.
 * Errors carry an sf_exit_status.
 */
gboolean sf_run_slide(const char *slide_path, const char *output_dir, const sf_run_params *params,
                      sf_run_result *result, GError **error);

/* ---- Progress ------------------------------------------------------------ */

/* The stages of a run, in their order. */
typedef enum {
    SF_RUN_OPENING,
    SF_RUN_READING_OVERVIEW,
    SF_RUN_FINDING_TISSUE,
    SF_RUN_WRITING_OVERVIEW, /* overview, mask and boxes figure */
    SF_RUN_CUTTING_FRAGMENTS,
    SF_RUN_WRITING_REPORT,
    SF_RUN_WRITING_MANIFEST,
} sf_run_stage;

/* "opening the slide", "cutting fragments", ... */
const char *sf_run_stage_text(sf_run_stage stage);

typedef struct sf_run_progress {
    sf_run_stage stage;
    int fragments_done, n_fragments; /* known from SF_RUN_CUTTING_FRAGMENTS on */
    int64_t rows_done, n_rows;       /* fragment rows written, all fragments together */
} sf_run_progress;

/* Told at the start of every stage and as fragment rows are written. Calls
 * never overlap, but may come from the run's threads: keep it quick. */
typedef void (*sf_run_progress_fn)(const sf_run_progress *progress, void *user_data);

/* sf_run_slide, telling `progress` (may be NULL) how it goes. */
gboolean sf_run_slide_progress(const char *slide_path, const char *output_dir,
                               const sf_run_params *params, sf_run_progress_fn progress,
                               void *user_data, sf_run_result *result, GError **error);

/*
 * The output folder of each slide under out_root, as `run` and `batch` name
 * them: OUTDIR/<stem>, or OUTDIR/<stem>-<8 hex digits of a hash of the
 * absolute path> when several of the paths share a stem or an earlier run
 * left OUTDIR/<stem> for another slide file; the same on every run, so
 * that resuming finds them again. n folders, NULL-terminated; g_strfreev.
 */
char **sf_run_output_dirs(const char *out_root, const char *const *slide_paths, size_t n);

/* The overview size and level for a target. */
gboolean sf_overview_geometry(const sf_slide *slide, const sf_target *target, int *width,
                              int *height, int *level, GError **error);

/* A slide's overview, the image detection runs on; run and tune read it
 * the same way. */
typedef struct sf_overview {
    int width, height;
    int level;               /* the pyramid level it is read from */
    double scale_x, scale_y; /* level-0 pixels per overview pixel */
    uint8_t *pixels;         /* RGB, width * 3 bytes a row; NULL until read */
} sf_overview;

/* Size, level and scale for a target (sf_overview_geometry), nothing read. */
gboolean sf_overview_plan(const sf_slide *slide, const sf_target *target, sf_overview *overview,
                          GError **error);
/* Reads a planned overview's pixels: the whole slide area-averaged from its
 * level, decoded on the slide's read threads. */
gboolean sf_overview_read(sf_slide *slide, sf_overview *overview, GError **error);
/* The pixels as a core image (valid while the overview is). */
sf_image sf_overview_image(const sf_overview *overview);
void sf_overview_clear(sf_overview *overview);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(sf_overview, sf_overview_clear)

/* Detection parameters in overview pixels for a slide's overview scale
 * (converts µm gap, area and padding when mpp is known). */
gboolean sf_run_detect_params(const sf_run_params *params, const sf_slide *slide,
                              double overview_scale, sf_detect_params *detect, double *padding_px,
                              GError **error);

G_END_DECLS
