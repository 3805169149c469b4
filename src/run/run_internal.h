/* Pieces of the run job shared between its files and with tune. */
#pragma once

#include "slidefrag/run.h"

/* The fragment resolution of a region (a level-0 box): level-0 pixels per
 * fragment pixel, never below 1, and the pyramid level to read it from. */
gboolean sf_fragment_resolution(const sf_slide *slide, const sf_target *target, const sf_box *box,
                                double *downsample, int *level, GError **error);

/* One fragment of a region: its level-0 box, its pixel size, and its place
 * in the region's grid of tiles. */
typedef struct sf_tile {
    sf_box level0;
    int width, height;
    int row, col;
} sf_tile;

/*
 * Cuts a region (level-0 `box`, read at `downsample`) into a grid of tiles
 * of at most `tile` fragment pixels a side, neighbours sharing at least
 * `overlap` fragment pixels (less one for rounding, 0 <= overlap < tile /
 * 2): rows x cols tiles of one size, the first at the box's corner, the
 * last at its opposite one, together covering it exactly. A box that fits
 * is one tile. NULL when there would be more than SF_FRAGMENTS_MAX tiles
 * (*n_tiles is then above it), or no memory. g_free the result.
 */
sf_tile *sf_tile_plan(const sf_box *box, double downsample, int tile, int overlap, int *rows,
                      int *cols, size_t *n_tiles);

/* An overview box grown by `padding` overview pixels, mapped to level 0
 * (rounded outward) and clamped to the slide. */
sf_box sf_region_to_level0(const sf_box *box, double padding, double scale_x, double scale_y,
                           int64_t slide_width, int64_t slide_height);

/* The SF_EXIT_USAGE error for a µm value on a slide whose µm/px is unknown
 * or implausible (sf_run_usable_mpp); `what` says what cannot be done. */
gboolean sf_run_no_mpp_error(const sf_slide *slide, const char *what, GError **error);

/* The slide's file name without its last extension: the fragment name stem. */
char *sf_slide_stem(const char *path);

/* ---- slide_folder.c: the slide's output folder --------------------------- */

/* A slide's output folder, held open and locked while a run uses it. */
typedef struct sf_slide_folder sf_slide_folder;

/* Creates `path` (and its parents) and its fragments/ folder, opens both
 * without following a link and waits for the folder's lock. Errors:
 * SF_EXIT_OUTPUT when a folder cannot be created or either is a symbolic
 * link (refused: the run removes files in them). */
sf_slide_folder *sf_slide_folder_open(const char *path, const char *stem, GError **error);
void sf_slide_folder_close(sf_slide_folder *folder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_slide_folder, sf_slide_folder_close)

/* Removes the temporary files of slidefrag's own outputs that a killed run
 * left (sf_output's ".<name>.XXXXXX.part" for the overview, mask, boxes,
 * manifest and this slide's fragment names), and nothing else. */
void sf_slide_folder_remove_temp_files(sf_slide_folder *folder);

/* The fragments earlier runs may have left: those the manifest lists and
 * those a killed run announced, each a fragment name of this slide. */
GHashTable *sf_slide_folder_earlier_fragments(sf_slide_folder *folder);

/* Records, durably and before they are written, the fragment names that a
 * run may leave in the folder, so that a later run can remove them even if
 * this one is killed before its manifest lists them. */
gboolean sf_slide_folder_announce_fragments(sf_slide_folder *folder, GHashTable *names,
                                            GError **error);
/* Drops the manifest: from here on the folder is unfinished. */
gboolean sf_slide_folder_remove_manifest(sf_slide_folder *folder, GError **error);
/* Removes the fragments in `names` that are not in `keep`. */
void sf_slide_folder_remove_fragments(sf_slide_folder *folder, GHashTable *names, GHashTable *keep);
/* Drops the announced names, once a manifest lists every fragment left. */
void sf_slide_folder_forget_pending(sf_slide_folder *folder);

/* The cleaning after a run that was killed (batch): its temporary files
 * go, if no run holds the folder now; a link is never followed. */
void sf_slide_folder_clean_killed(const char *path, const char *stem);

/* Test hook: called with the name of each step sf_run_slide reaches
 * ("opened", "folder-ready", ..., "done") so that a test can kill the run or
 * change its input at an exact point. Unset (NULL) outside tests. */
typedef void (*sf_run_step_hook)(const char *step, void *data);
void sf_run_set_step_hook(sf_run_step_hook hook, void *data);
