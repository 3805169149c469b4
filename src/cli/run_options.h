/* The run parameters as command-line options, shared by run, batch and tune. */
#pragma once

#include <glib.h>

#include "slidefrag/run.h"

typedef struct sf_run_options {
    char **values; /* per run parameter (sf_run_param_info_at), NULL if not given */
    char *params_file;
    int threads;
} sf_run_options;

/*
 * Makes the context's main group: the command's own `entries` first, then
 * every run parameter, --params and --threads, so that `--help` lists them
 * all. Free the options with sf_run_options_clear after parsing.
 */
void sf_run_options_add(GOptionContext *context, const GOptionEntry *entries,
                        sf_run_options *options);
void sf_run_options_clear(sf_run_options *options);

/* Defaults, then the --params file, then the command line. */
gboolean sf_run_options_resolve(const sf_run_options *options, sf_run_params *params,
                                GError **error);
