/* slidefrag run SLIDE... -o OUTDIR: the main job. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run_options.h"
#include "cli/run_progress.h"
#include "slidefrag/error.h"
#include "slidefrag/report.h"
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
    sf_run_display *display = sf_run_display_new();
    /* What OUTDIR/report.html lists; `errors` keeps the messages. */
    g_autofree sf_report_row *rows = g_new0(sf_report_row, argc);
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    for (int i = 1; i < argc; i++) {
        sf_run_result result = {0};
        g_autoptr(GError) slide_error = NULL;
        sf_run_display_slide(display, argv[i], i, argc - 1);
        gint64 start = g_get_monotonic_time();
        gboolean ok = sf_run_slide_progress(argv[i], dirs[i - 1], &params, sf_run_display_update,
                                            display, &result, &slide_error);
        sf_run_display_clear(display);
        sf_report_row *row = &rows[i - 1];
        row->path = argv[i];
        row->folder = g_file_test(dirs[i - 1], G_FILE_TEST_IS_DIR) ? dirs[i - 1] : NULL;
        row->seconds = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
        row->status = ok ? "ok" : "failed";
        if (ok) {
            printf("%s: %d region%s, %d fragment%s -> %s (%.2f s)\n", argv[i], result.n_regions,
                   result.n_regions == 1 ? "" : "s", result.n_fragments,
                   result.n_fragments == 1 ? "" : "s", result.output_dir, result.seconds);
            if (result.note)
                fprintf(stderr, "slidefrag run: note: %s\n", result.note);
        } else {
            fprintf(stderr, "slidefrag run: %s\n", slide_error->message);
            n_failed++;
            last_code = sf_exit_code(slide_error);
            row->error = g_strdup(slide_error->message);
            g_ptr_array_add(errors, (char *)row->error);
        }
        sf_run_result_clear(&result);
    }
    sf_run_display_free(display);
    /* The index of every slide, written even when some failed, as a batch
     * writes its summary; but only into an OUTDIR a slide wrote into:
     * slides refused before writing anything leave nothing behind. */
    gboolean any_folder = FALSE;
    for (int i = 0; i < argc - 1; i++)
        any_folder |= rows[i].folder != NULL;
    g_autoptr(GError) report_error = NULL;
    if (any_folder && !sf_report_write_index(out_root, rows, (size_t)argc - 1, &report_error)) {
        fprintf(stderr, "slidefrag run: %s\n", report_error->message);
        if (n_failed == 0)
            return SF_EXIT_OUTPUT;
    }
    if (n_failed == 0)
        return SF_EXIT_OK;
    if (argc - 1 == 1)
        return last_code;
    fprintf(stderr, "slidefrag run: %d of %d slides failed\n", n_failed, argc - 1);
    return SF_EXIT_SOME_FAILED;
}
