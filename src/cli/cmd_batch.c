/* slidefrag batch INPUT... -o OUTDIR: many slides on one machine
 * (the engine is src/batch). */
#include <stdio.h>

#include "cli/commands.h"
#include "cli/run_options.h"
#include "slidefrag/batch.h"
#include "slidefrag/error.h"

static int usage_error(const char *message)
{
    fprintf(stderr, "slidefrag batch: %s\nTry 'slidefrag batch --help'.\n", message);
    return SF_EXIT_USAGE;
}

typedef struct batch_options {
    char *out_root;
    int jobs;
    int threads;
    gboolean resume, quiet, log_json;
    sf_run_options run;
} batch_options;

static void batch_options_clear(batch_options *o)
{
    g_free(o->out_root);
    sf_run_options_clear(&o->run);
}

int sf_cmd_batch(int argc, char **argv)
{
    batch_options o = {0};
    GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &o.out_root,
         "Output folder; each slide gets OUTDIR/<stem>/", "OUTDIR"},
        {"jobs", 'j', 0, G_OPTION_ARG_INT, &o.jobs, "Slides at a time (default: the cores)", "N"},
        {"threads-per-slide", 0, 0, G_OPTION_ARG_INT, &o.threads,
         "Threads within one slide (default: cores / jobs)", "M"},
        {"resume", 0, 0, G_OPTION_ARG_NONE, &o.resume,
         "Skip slides finished earlier with the same file and parameters", NULL},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet, "Print nothing but failures", NULL},
        {"log-json", 0, 0, G_OPTION_ARG_NONE, &o.log_json, "One JSON object per event on stderr",
         NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) context =
        g_option_context_new("INPUT... - run many slides in parallel");
    g_option_context_set_summary(
        context, "INPUT is a slide, a folder (searched recursively for the slide extensions\n"
                 "'slidefrag info --formats' lists) or @FILE listing one path per line.\n"
                 "Writes OUTDIR/<stem>/ per slide as 'run' does, and OUTDIR/summary.json\n"
                 "and summary.csv. Exit status: 0 all done, 7 some failed, 130/143\n"
                 "interrupted by SIGINT/SIGTERM.");
    sf_run_options_add(context, entries, &o.run);

    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        batch_options_clear(&o);
        return usage_error(error->message);
    }
    int code = SF_EXIT_OK;
    sf_run_params params;
    if (o.jobs < 0 || o.threads < 0) {
        code = usage_error("--jobs and --threads-per-slide take 1 or more");
    } else if (o.run.threads > 0 && o.threads > 0 && o.run.threads != o.threads) {
        code = usage_error("--threads and --threads-per-slide disagree; give one");
    } else if (argc < 2) {
        code = usage_error("no input given");
    } else if (!o.out_root) {
        code = usage_error("no output folder given (-o OUTDIR)");
    } else if (!sf_run_options_resolve(&o.run, &params, &error)) {
        fprintf(stderr, "slidefrag batch: %s\n", error->message);
        code = sf_exit_code(error);
    }
    if (code != SF_EXIT_OK) {
        batch_options_clear(&o);
        return code;
    }
    /* --threads means the same as for run: threads within a slide. */
    sf_batch_options batch = {
        .out_root = o.out_root,
        .jobs = o.jobs,
        .threads = o.threads ? o.threads : o.run.threads,
        .resume = o.resume,
        .quiet = o.quiet,
        .log_json = o.log_json,
    };
    if (!sf_batch_run(&batch, &params, (const char *const *)argv + 1, &code, &error)) {
        fprintf(stderr, "slidefrag batch: %s\n", error->message);
        code = sf_exit_code(error);
    }
    batch_options_clear(&o);
    return code;
}
