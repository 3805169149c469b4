/*
 * Many slides on one machine: each runs in a child process of its own (the
 * `_run-one` command of the slidefrag program), so that a decoder that
 * crashes fails only its slide; with --resume, clean interruption by
 * SIGINT/SIGTERM, progress on stderr and OUTDIR/summary.json and
 * summary.csv.
 */
#pragma once

#include <glib.h>

#include "slidefrag/run.h"

G_BEGIN_DECLS

typedef struct sf_batch_options {
    const char *out_root; /* created when missing */
    int jobs;             /* slides at a time; 0: as many as the cores allow */
    int threads;          /* threads within one slide; 0: the cores shared out */
    gboolean resume;      /* skip slides finished with the same file and parameters */
    gboolean quiet;       /* print nothing but failures */
    gboolean log_json;    /* one JSON object per event on stderr */
    /* The slidefrag program whose `_run-one` command runs a slide; NULL:
     * this process's own executable. */
    const char *exe;
} sf_batch_options;

/*
 * Runs every slide `inputs` name (slides, folders searched recursively for
 * slide files, "@FILE" lists), each into its folder under out_root (as
 * `run` names them), and writes the summary. Returns FALSE, with nothing
 * run, when the inputs cannot be read (SF_EXIT_MISSING), hold no slide
 * (SF_EXIT_MISSING) or out_root cannot be created (SF_EXIT_OUTPUT);
 * otherwise TRUE and the batch's exit status: 0, SF_EXIT_SOME_FAILED, 128 +
 * the signal that interrupted it, or SF_EXIT_OUTPUT when the summary
 * cannot be written.
 */
gboolean sf_batch_run(const sf_batch_options *options, const sf_run_params *params,
                      const char *const *inputs, int *status, GError **error);

/* --jobs and --threads-per-slide (0: not given) for `n_to_run` slides on
 * `cores` cores: by default the cores are shared out, never
 * oversubscribed; given values are kept, jobs no more than the slides. */
void sf_batch_share_cores(int cores, guint n_to_run, int *jobs, int *threads);

/* The one line `_run-one` prints for its parent: what became of the slide
 * (`result` when it finished, else `error`). g_free it. */
char *sf_batch_answer_line(const sf_run_result *result, const GError *error);

G_END_DECLS
