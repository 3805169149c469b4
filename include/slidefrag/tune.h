/*
 * Searching run parameters against ground truth (`slidefrag tune`): a grid
 * of parameter values, each combination scored on every slide with the
 * method's objective (score.h), best first.
 */
#pragma once

#include <glib.h>

#include "slidefrag/run.h"
#include "slidefrag/score.h"

G_BEGIN_DECLS

/* A parsed grid: per parameter key, the values to try. */
typedef struct sf_tune_grid sf_tune_grid;

/*
 * Parses {"key": [values...] or value, ...}; `name` names the text in
 * messages. Every value is checked as the parameter's own (sf_run_params_set);
 * parameters that change the overview cannot vary (tune reads each overview
 * once), and a grid of more than SF_TUNE_MAX_SETS combinations is refused
 * with its product spelled out. Errors: SF_EXIT_BAD_INPUT.
 */
sf_tune_grid *sf_tune_grid_parse(const char *name, const char *text, size_t length, GError **error);
/* The same from a file (a regular file, bounded as every JSON input). */
sf_tune_grid *sf_tune_grid_load(const char *path, GError **error);
/* The grid tune searches when none is given. */
sf_tune_grid *sf_tune_grid_default(void);
void sf_tune_grid_free(sf_tune_grid *grid);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_tune_grid, sf_tune_grid_free)

/* A grid of 100,000 sets on 10 slides is a million region searches, about
 * ten minutes on 2 cores; anything larger is a typo or a job for a smarter
 * search than a grid. */
#define SF_TUNE_MAX_SETS 100000

typedef struct sf_tune_candidate {
    sf_run_params params;
    sf_score score; /* summed over the slides */
    gboolean base;  /* the base parameters, not a grid combination */
    size_t index;   /* place in the grid's expansion, 0 for the base */
    gboolean failed;
    char *description; /* the grid's values: "channel=red close=7 ..." */
} sf_tune_candidate;

typedef struct sf_tune_result {
    sf_tune_candidate *ranked; /* best first; failed ones last */
    size_t n_candidates;
    const sf_tune_candidate *base;
    int n_slides;
    size_t n_masks; /* distinct masks computed per slide */
    double seconds, load_seconds;
} sf_tune_result;

void sf_tune_result_clear(sf_tune_result *result);

/*
 * Reads each slide's overview once at base->overview, then scores the base
 * parameters and every combination of the grid on every slide; candidates
 * that agree up to the mask share one mask per slide. `truth` holds
 * sf_slide_boxes*, matched to slides by stem. jobs 0 means all cores.
 * Errors: what opening and reading a slide give; SF_EXIT_MISSING for a
 * slide without truth.
 */
gboolean sf_tune(const sf_run_params *base, const sf_tune_grid *grid,
                 const char *const *slide_paths, int n_slides, GPtrArray *truth,
                 const sf_score_params *score_params, int jobs, sf_tune_result *result,
                 GError **error);

/* Writes {"params": ..., "slides", "objective", "mean_iou", "f1"}: a file
 * `run --params` reads. */
gboolean sf_tune_write_params(const char *path, const sf_tune_candidate *best, int n_slides,
                              GError **error);

G_END_DECLS
