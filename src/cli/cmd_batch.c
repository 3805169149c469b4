/*
 * slidefrag batch INPUT... -o OUTDIR: many slides on one machine. Each slide
 * runs in a child process (src/batch/worker.c) supervised by a thread of a
 * pool; the main thread owns progress, signals and the summary.
 */
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "batch/batch.h"
#include "cli/commands.h"
#include "cli/run_options.h"
#include "run/run_internal.h"
#include "slidefrag/error.h"
#include "slidefrag/report.h"

typedef struct batch {
    sf_batch_workers *workers;
    sf_progress *progress;
    GMainLoop *loop;
    guint n_running; /* pushed to the pool and not yet reported */
    int stop_signal; /* the first SIGINT/SIGTERM, 0 if none */
} batch;

typedef struct slide_report {
    batch *batch;
    sf_batch_item *item;
} slide_report;

static int usage_error(const char *message)
{
    fprintf(stderr, "slidefrag batch: %s\nTry 'slidefrag batch --help'.\n", message);
    return SF_EXIT_USAGE;
}

/* Main thread: a pool thread finished a slide. */
static gboolean on_slide_done(gpointer data)
{
    slide_report *report = data;
    batch *b = report->batch;
    sf_progress_slide(b->progress, report->item);
    if (--b->n_running == 0)
        g_main_loop_quit(b->loop);
    return G_SOURCE_REMOVE;
}

/* Pool thread: one slide, start to end. */
static void run_slide_task(gpointer data, gpointer user_data)
{
    batch *b = user_data;
    sf_batch_item *item = data;
    sf_batch_workers_run(b->workers, item);
    slide_report *report = g_new(slide_report, 1);
    *report = (slide_report){b, item};
    g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, on_slide_done, report, g_free);
}

static void stop(batch *b, int signal)
{
    if (b->stop_signal) {
        /* A second interruption: the user will not wait any longer. */
        sf_batch_workers_stop(b->workers, b->stop_signal, SIGKILL);
        return;
    }
    b->stop_signal = signal;
    sf_progress_interrupt(b->progress, signal);
    sf_batch_workers_stop(b->workers, signal, SIGTERM);
}

static gboolean on_sigint(gpointer data)
{
    stop(data, SIGINT);
    return G_SOURCE_CONTINUE;
}

static gboolean on_sigterm(gpointer data)
{
    stop(data, SIGTERM);
    return G_SOURCE_CONTINUE;
}

static gboolean on_tick(gpointer data)
{
    batch *b = data;
    sf_progress_tick(b->progress);
    return G_SOURCE_CONTINUE;
}

/* This very program, for the children. /proc/self/exe stays valid even if
 * the file is replaced (rebuilt) during a long batch. */
static char *own_executable(void)
{
    if (g_file_test("/proc/self/exe", G_FILE_TEST_IS_EXECUTABLE))
        return g_strdup("/proc/self/exe");
    return g_find_program_in_path("slidefrag");
}

/* One item per slide, with its output folder: stems met more than once get
 * folders of their own, as in `run`. */
static GPtrArray *make_items(GPtrArray *paths, const char *out_root)
{
    g_autoptr(GHashTable) stem_counts =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < paths->len; i++) {
        char *stem = sf_slide_stem(g_ptr_array_index(paths, i));
        int n = GPOINTER_TO_INT(g_hash_table_lookup(stem_counts, stem));
        g_hash_table_replace(stem_counts, stem, GINT_TO_POINTER(n + 1));
    }
    GPtrArray *items = g_ptr_array_new_with_free_func((GDestroyNotify)sf_batch_item_free);
    for (guint i = 0; i < paths->len; i++) {
        const char *path = g_ptr_array_index(paths, i);
        g_autofree char *stem = sf_slide_stem(path);
        sf_batch_item *item = g_new0(sf_batch_item, 1);
        item->path = g_strdup(path);
        item->output_dir = sf_run_output_dir(
            out_root, path, GPOINTER_TO_INT(g_hash_table_lookup(stem_counts, stem)) > 1);
        g_ptr_array_add(items, item);
    }
    return items;
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

/* --jobs and --threads-per-slide: by default the cores are shared out, never
 * oversubscribed; explicit values are taken as given. */
static void share_cores(batch_options *o, guint n_to_run)
{
    int cores = (int)g_get_num_processors();
    if (o->jobs == 0)
        o->jobs = o->threads > 0 ? MAX(1, cores / o->threads) : cores;
    if (n_to_run > 0 && (guint)o->jobs > n_to_run)
        o->jobs = (int)n_to_run;
    if (o->threads == 0)
        o->threads = MAX(1, cores / o->jobs);
}

/* OUTDIR/report.html: the summary's rows, linking to each slide's page. */
static gboolean write_report(const char *out_root, GPtrArray *items, GError **error)
{
    g_autofree sf_report_row *rows = g_new0(sf_report_row, MAX(items->len, 1));
    for (guint i = 0; i < items->len; i++) {
        const sf_batch_item *item = g_ptr_array_index(items, i);
        rows[i] = (sf_report_row){item->path, sf_batch_item_folder(item),
                                  sf_batch_status_name(item->status), item->error, item->seconds};
    }
    return sf_report_write_index(out_root, rows, items->len, error);
}

static int run_batch(batch_options *o, const sf_run_params *params, GPtrArray *items)
{
    g_autoptr(JsonNode) params_json = sf_run_params_to_json(params);
    guint n_skipped = 0;
    for (guint i = 0; o->resume && i < items->len; i++) {
        sf_batch_item *item = g_ptr_array_index(items, i);
        if (sf_batch_is_done(item->output_dir, item->path, params_json, &item->n_regions,
                             &item->n_fragments)) {
            item->status = SF_BATCH_SKIPPED;
            n_skipped++;
        }
    }
    share_cores(o, items->len - n_skipped);

    sf_progress_mode mode = o->log_json             ? SF_PROGRESS_JSON
                            : o->quiet              ? SF_PROGRESS_QUIET
                            : isatty(STDERR_FILENO) ? SF_PROGRESS_TTY
                                                    : SF_PROGRESS_LINES;
    g_autofree char *exe = own_executable();
    batch b = {
        .workers = sf_batch_workers_new(exe, params_json, o->threads),
        .progress = sf_progress_new(mode, items->len),
        .loop = g_main_loop_new(NULL, FALSE),
    };
    guint sigint_source = g_unix_signal_add(SIGINT, on_sigint, &b);
    guint sigterm_source = g_unix_signal_add(SIGTERM, on_sigterm, &b);
    guint tick_source = mode == SF_PROGRESS_TTY ? g_timeout_add_seconds(1, on_tick, &b) : 0;

    sf_progress_start(b.progress, o->out_root, n_skipped, o->jobs, o->threads);
    for (guint i = 0; i < items->len; i++) {
        sf_batch_item *item = g_ptr_array_index(items, i);
        if (item->status == SF_BATCH_SKIPPED)
            sf_progress_slide(b.progress, item);
    }
    GThreadPool *pool = g_thread_pool_new(run_slide_task, &b, o->jobs, FALSE, NULL);
    for (guint i = 0; i < items->len; i++) {
        sf_batch_item *item = g_ptr_array_index(items, i);
        if (item->status != SF_BATCH_SKIPPED) {
            b.n_running++;
            g_thread_pool_push(pool, item, NULL);
        }
    }
    if (b.n_running > 0)
        g_main_loop_run(b.loop);
    g_thread_pool_free(pool, FALSE, TRUE);
    /* A signal that came while nothing was running still counts. */
    while (g_main_context_iteration(NULL, FALSE))
        ;
    if (tick_source)
        g_source_remove(tick_source);
    g_source_remove(sigint_source);
    g_source_remove(sigterm_source);

    int code = SF_EXIT_OK;
    for (guint i = 0; i < items->len; i++)
        if (((sf_batch_item *)g_ptr_array_index(items, i))->status == SF_BATCH_FAILED)
            code = SF_EXIT_SOME_FAILED;
    /* 128 + signal, as a shell reports a process killed by it. */
    if (b.stop_signal)
        code = 128 + b.stop_signal;
    g_autoptr(GError) error = NULL;
    g_autofree char *summary_path = g_build_filename(o->out_root, "summary.json", NULL);
    if (!sf_batch_write_summary(o->out_root, (sf_batch_item *const *)items->pdata, items->len,
                                &error) ||
        !write_report(o->out_root, items, &error)) {
        fprintf(stderr, "slidefrag batch: %s\n", error->message);
        if (code == SF_EXIT_OK)
            code = error->code;
    }
    sf_progress_end(b.progress, summary_path, code);

    g_main_loop_unref(b.loop);
    sf_progress_free(b.progress);
    sf_batch_workers_free(b.workers);
    return code;
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
        code = error->code;
    }
    if (code != SF_EXIT_OK) {
        batch_options_clear(&o);
        return code;
    }
    /* Absolute, so the summary's folders hold wherever it is read from. */
    char *abs_root = g_canonicalize_filename(o.out_root, NULL);
    g_free(o.out_root);
    o.out_root = abs_root;
    /* --threads means the same as for run: threads within a slide. */
    if (o.threads == 0)
        o.threads = o.run.threads;

    g_autoptr(GPtrArray) paths = sf_batch_collect_inputs((const char *const *)argv + 1, &error);
    g_autoptr(GPtrArray) items = NULL;
    if (!paths) {
        fprintf(stderr, "slidefrag batch: %s\n", error->message);
        code = error->code;
    } else if (paths->len == 0) {
        fprintf(stderr, "slidefrag batch: no slide found in the inputs\n");
        code = SF_EXIT_MISSING;
    } else if (g_mkdir_with_parents(o.out_root, 0777) != 0) {
        int err = errno;
        fprintf(stderr, "slidefrag batch: %s: cannot create folder: %s\n", o.out_root,
                g_strerror(err));
        code = SF_EXIT_OUTPUT;
    } else {
        /* Writing to a child that died early must be an error, not a
         * signal that kills the whole batch. */
        signal(SIGPIPE, SIG_IGN);
        items = make_items(paths, o.out_root);
        code = run_batch(&o, &params, items);
    }
    batch_options_clear(&o);
    return code;
}
