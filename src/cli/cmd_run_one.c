/*
 * slidefrag _run-one SLIDE OUTPUT_DIR PARAMS THREADS: the child side of
 * batch. Runs one slide into exactly OUTPUT_DIR with the parameters of the
 * JSON file PARAMS ("-" for stdin) and prints one JSON line saying what
 * happened. Not for people: batch chose the folder and parameters already.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "slidefrag/batch.h"
#include "slidefrag/error.h"
#include "slidefrag/run.h"

static int answer(const sf_run_result *result, const GError *error)
{
    g_autofree char *line = sf_batch_answer_line(result, error);
    printf("%s\n", line);
    fflush(stdout);
    if (!error)
        return SF_EXIT_OK;
    return sf_exit_code(error);
}

int sf_cmd_run_one(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "slidefrag _run-one: internal to 'slidefrag batch'; "
                        "use 'slidefrag run' instead\n");
        return SF_EXIT_USAGE;
    }
    const char *slide = argv[1], *output_dir = argv[2];
    const char *params_path = strcmp(argv[3], "-") ? argv[3] : "/dev/stdin";
    g_autoptr(GError) error = NULL;
    sf_run_params params;
    sf_run_params_default(&params);
    if (!sf_run_params_load(&params, params_path, &error))
        return answer(NULL, error);
    char *end = NULL;
    long threads = strtol(argv[4], &end, 10);
    if (end == argv[4] || *end || threads < 1 || threads > 4096) {
        g_set_error(&error, SF_ERROR, SF_EXIT_USAGE, "threads: '%s' is not 1 or more", argv[4]);
        return answer(NULL, error);
    }
    params.threads = (int)threads;

    sf_run_result result = {0};
    int code = sf_run_slide(slide, output_dir, &params, &result, &error) ? answer(&result, NULL)
                                                                         : answer(NULL, error);
    sf_run_result_clear(&result);
    return code;
}
