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
#include "io/json_safe.h"
#include "slidefrag/error.h"
#include "slidefrag/run.h"

static void print_answer(JsonBuilder *b)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *line = sf_json_text(root, FALSE);
    printf("%s\n", line);
    fflush(stdout);
}

static int answer_failed(const GError *error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    sf_json_add_string(b, "status", "failed");
    sf_json_add_int(b, "code", error->code);
    sf_json_add_string(b, "error", error->message);
    json_builder_end_object(b);
    print_answer(b);
    return error->domain == SF_ERROR ? error->code : SF_EXIT_FAILURE;
}

static int answer_ok(const sf_run_result *result)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    sf_json_add_string(b, "status", "ok");
    sf_json_add_string(b, "output", result->output_dir);
    sf_json_add_int(b, "regions", result->n_regions);
    sf_json_add_int(b, "fragments", result->n_fragments);
    sf_json_add_double(b, "seconds", result->seconds);
    json_builder_end_object(b);
    print_answer(b);
    return SF_EXIT_OK;
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
        return answer_failed(error);
    char *end = NULL;
    long threads = strtol(argv[4], &end, 10);
    if (end == argv[4] || *end || threads < 1 || threads > 4096) {
        g_set_error(&error, SF_ERROR, SF_EXIT_USAGE, "threads: '%s' is not 1 or more", argv[4]);
        return answer_failed(error);
    }
    params.threads = (int)threads;

    sf_run_result result = {0};
    int code = sf_run_slide(slide, output_dir, &params, &result, &error) ? answer_ok(&result)
                                                                         : answer_failed(error);
    sf_run_result_clear(&result);
    return code;
}
