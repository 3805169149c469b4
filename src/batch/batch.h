/*
 * slidefrag batch: many slides, each in a child process of its own, with
 * resume, clean interruption, progress and a summary: the engine's parts
 * (its API is slidefrag/batch.h).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

typedef enum {
    SF_BATCH_PENDING,
    SF_BATCH_OK,
    SF_BATCH_FAILED,
    SF_BATCH_SKIPPED,     /* --resume found it finished with the same input and parameters */
    SF_BATCH_INTERRUPTED, /* stopped by SIGINT/SIGTERM, or never started because of one */
} sf_batch_status;

/* One slide of a batch and, once done, what became of it. */
typedef struct sf_batch_item {
    char *path;       /* absolute, as given (symlinks kept) */
    char *output_dir; /* OUTDIR/<stem> or OUTDIR/<stem>-<hash> */
    sf_batch_status status;
    gboolean started; /* a child process ran for it */
    char *error;      /* NULL unless failed or interrupted */
    char *note;       /* what the run said the user should know, or NULL */
    int n_regions, n_fragments;
    double seconds;
} sf_batch_item;

const char *sf_batch_status_name(sf_batch_status status);
void sf_batch_item_free(sf_batch_item *item);

/* ---- inputs.c ---------------------------------------------------------- */

/*
 * Expands command-line inputs into absolute slide paths: a folder is searched
 * recursively for slide extensions (sorted, dot files skipped), "@FILE" reads
 * one path per line (# comments and blank lines ignored, relative paths
 * relative to FILE's folder), anything else is a slide path. A file reached
 * twice (same real path) is kept once, at its first place.
 * Errors: SF_EXIT_MISSING for an unreadable list file or folder.
 */
GPtrArray *sf_batch_collect_inputs(const char *const *inputs, GError **error);

/* ---- resume.c ---------------------------------------------------------- */

/*
 * TRUE when output_dir holds a manifest written for this very slide file
 * (same path, size and modification time) with these parameters; the
 * manifest's region and fragment counts are returned then.
 */
gboolean sf_batch_is_done(const char *output_dir, const char *slide_path, JsonNode *params,
                          int *n_regions, int *n_fragments);

/* ---- summary.c --------------------------------------------------------- */

/* The item's output folder, or NULL when it was never written (a slide
 * that failed before creating it, or never started). */
const char *sf_batch_item_folder(const sf_batch_item *item);

/* Writes OUTDIR/summary.json and summary.csv atomically, one row per item in
 * the order given. On failure neither is left, not even an earlier one. */
gboolean sf_batch_write_summary(const char *out_root, sf_batch_item *const *items, guint n_items,
                                GError **error);

/* ---- worker.c ---------------------------------------------------------- */

/* The running children of a batch, so that an interruption can reach them. */
typedef struct sf_batch_workers sf_batch_workers;

/* params: sf_run_params_to_json of the parameters, passed to every child. */
sf_batch_workers *sf_batch_workers_new(const char *exe, JsonNode *params, int threads);
void sf_batch_workers_free(sf_batch_workers *workers);
/* Stops launching and sends `signal` to every running child, because the
 * batch received `cause` (SIGINT, SIGTERM), which the children stopped
 * this way are said to be stopped by. Thread-safe. */
void sf_batch_workers_stop(sf_batch_workers *workers, int cause, int signal);
gboolean sf_batch_workers_stopping(sf_batch_workers *workers);

/* Runs one slide in a child process and fills in the item's status, error,
 * counts and seconds. Blocks; called from the batch's thread pool. */
void sf_batch_workers_run(sf_batch_workers *workers, sf_batch_item *item);

/* ---- progress.c -------------------------------------------------------- */

typedef enum {
    SF_PROGRESS_LINES, /* one plain line per finished slide */
    SF_PROGRESS_TTY,   /* one live line, redrawn */
    SF_PROGRESS_QUIET, /* only failures */
    SF_PROGRESS_JSON,  /* one JSON object per event */
} sf_progress_mode;

typedef struct sf_progress sf_progress;

sf_progress *sf_progress_new(sf_progress_mode mode, guint total);
void sf_progress_free(sf_progress *progress);
void sf_progress_start(sf_progress *progress, const char *out_root, guint n_skipped, int jobs,
                       int threads);
void sf_progress_slide(sf_progress *progress, const sf_batch_item *item);
void sf_progress_interrupt(sf_progress *progress, int signal);
/* Redraws the live line (the clock moves the ETA). */
void sf_progress_tick(sf_progress *progress);
/* summary_path: NULL when the summary could not be written. */
void sf_progress_end(sf_progress *progress, const char *summary_path, int exit_code);

/* "SIGABRT" and friends; "signal N" for others. */
const char *sf_batch_signal_name(int signal);
