/* The detection and output options shared by `run` and later `batch`. */
#pragma once

#include <glib.h>

#include "slidefrag/run.h"

typedef struct sf_run_options {
    char *values[32];    /* one per sf_run_params_keys() entry, NULL if not given */
    gboolean flags[32];  /* the same for the on/off keys, given as bare flags */
    char *params_file;
    int threads;
} sf_run_options;

/* A GOptionGroup filling `options`; free the options with sf_run_options_clear. */
GOptionGroup *sf_run_option_group(sf_run_options *options);
void sf_run_options_clear(sf_run_options *options);

/* Defaults, then the --params file, then the command line. */
gboolean sf_run_options_resolve(const sf_run_options *options, sf_run_params *params,
                                GError **error);
