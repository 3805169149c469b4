/* slidefrag run SLIDE... -o OUTDIR: the main job. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run_options.h"
#include "slidefrag/error.h"
#include "slidefrag/run.h"

static int usage_error(GOptionContext *context, const char *message)
{
    fprintf(stderr, "slidefrag run: %s\n", message);
    (void)context;
    fprintf(stderr, "Try 'slidefrag run --help'.\n");
    return SF_EXIT_USAGE;
}

int sf_cmd_run(int argc, char **argv)
{
    g_autofree char *out_root = NULL;
    sf_run_options options = {0};
    GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out_root,
         "Output folder; each slide gets OUTDIR/<stem>/", "OUTDIR"},
        {NULL},
    };
    g_autoptr(GOptionContext) context =
        g_option_context_new("SLIDE... - find tissue and cut fragments");
    g_option_context_set_summary(context,
                                 "Writes per slide: overview.jpg, mask.png, boxes.jpg,\n"
                                 "fragments/<stem>__x<X>_y<Y>_w<W>_h<H>.jpg and manifest.json.");
    sf_run_options_add(context, entries, &options);
    g_option_context_set_help_enabled(context, TRUE);

    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        sf_run_options_clear(&options);
        return usage_error(context, error->message);
    }
    sf_run_params params;
    gboolean resolved = sf_run_options_resolve(&options, &params, &error);
    sf_run_options_clear(&options);
    if (!resolved) {
        fprintf(stderr, "slidefrag run: %s\n", error->message);
        return sf_exit_code(error);
    }
    if (argc < 2)
        return usage_error(context, "no slide given");
    if (!out_root)
        return usage_error(context, "no output folder given (-o OUTDIR)");

    int n_failed = 0, last_code = SF_EXIT_OK;
    g_auto(GStrv) dirs =
        sf_run_output_dirs(out_root, (const char *const *)argv + 1, (size_t)argc - 1);
    for (int i = 1; i < argc; i++) {
        sf_run_result result = {0};
        g_autoptr(GError) slide_error = NULL;
        if (sf_run_slide(argv[i], dirs[i - 1], &params, &result, &slide_error)) {
            printf("%s: %d region%s -> %s (%.2f s)\n", argv[i], result.n_regions,
                   result.n_regions == 1 ? "" : "s", result.output_dir, result.seconds);
            if (result.note)
                fprintf(stderr, "slidefrag run: note: %s\n", result.note);
        } else {
            fprintf(stderr, "slidefrag run: %s\n", slide_error->message);
            n_failed++;
            last_code = sf_exit_code(slide_error);
        }
        sf_run_result_clear(&result);
    }
    if (n_failed == 0)
        return SF_EXIT_OK;
    if (argc - 1 == 1)
        return last_code;
    fprintf(stderr, "slidefrag run: %d of %d slides failed\n", n_failed, argc - 1);
    return SF_EXIT_SOME_FAILED;
}
