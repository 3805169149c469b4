/*
 * The batch engine: each slide runs in a child process (worker.c)
 * supervised by a thread of a pool; the calling thread owns progress,
 * signals and the summary.
 */
#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "batch/batch.h"
#include "run/run_internal.h"
#include "slidefrag/batch.h"
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

/* One item per slide, with its output folder as `run` names it. */
static GPtrArray *make_items(GPtrArray *paths, const char *out_root)
{
    g_auto(GStrv) dirs =
        sf_run_output_dirs(out_root, (const char *const *)paths->pdata, paths->len);
    GPtrArray *items = g_ptr_array_new_with_free_func((GDestroyNotify)sf_batch_item_free);
    for (guint i = 0; i < paths->len; i++) {
        sf_batch_item *item = g_new0(sf_batch_item, 1);
        item->path = g_strdup(g_ptr_array_index(paths, i));
        item->output_dir = g_steal_pointer(&dirs[i]);
        g_ptr_array_add(items, item);
    }
    return items;
}

void sf_batch_share_cores(int cores, guint n_to_run, int *jobs, int *threads)
{
    cores = MAX(cores, 1);
    if (*jobs == 0)
        *jobs = *threads > 0 ? MAX(1, cores / *threads) : cores;
    if (n_to_run > 0 && (guint)*jobs > n_to_run)
        *jobs = (int)n_to_run;
    if (*threads == 0)
        *threads = MAX(1, cores / *jobs);
}

static int run_items(const sf_batch_options *o, const char *out_root, const sf_run_params *params,
                     GPtrArray *items)
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
    int jobs = o->jobs, threads = o->threads;
    sf_batch_share_cores((int)g_get_num_processors(), items->len - n_skipped, &jobs, &threads);

    sf_progress_mode mode = o->log_json             ? SF_PROGRESS_JSON
                            : o->quiet              ? SF_PROGRESS_QUIET
                            : isatty(STDERR_FILENO) ? SF_PROGRESS_TTY
                                                    : SF_PROGRESS_LINES;
    g_autofree char *exe = o->exe ? g_strdup(o->exe) : own_executable();
    batch b = {
        .workers = sf_batch_workers_new(exe, params_json, threads),
        .progress = sf_progress_new(mode, items->len),
        .loop = g_main_loop_new(NULL, FALSE),
    };
    guint sigint_source = g_unix_signal_add(SIGINT, on_sigint, &b);
    guint sigterm_source = g_unix_signal_add(SIGTERM, on_sigterm, &b);
    guint tick_source = mode == SF_PROGRESS_TTY ? g_timeout_add_seconds(1, on_tick, &b) : 0;

    sf_progress_start(b.progress, out_root, n_skipped, jobs, threads);
    for (guint i = 0; i < items->len; i++) {
        sf_batch_item *item = g_ptr_array_index(items, i);
        if (item->status == SF_BATCH_SKIPPED)
            sf_progress_slide(b.progress, item);
    }
    GThreadPool *pool = g_thread_pool_new(run_slide_task, &b, jobs, FALSE, NULL);
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
    g_autofree char *summary_path = g_build_filename(out_root, "summary.json", NULL);
    gboolean summary_written =
        sf_batch_write_summary(out_root, (sf_batch_item *const *)items->pdata, items->len, &error);
    if (!summary_written) {
        fprintf(stderr, "slidefrag batch: %s\n", error->message);
        if (code == SF_EXIT_OK)
            code = sf_exit_code(error);
    }
    g_autoptr(GError) report_error = NULL;
    if (!write_report(out_root, items, &report_error)) {
        fprintf(stderr, "slidefrag batch: %s\n", report_error->message);
        if (code == SF_EXIT_OK)
            code = sf_exit_code(report_error);
    }
    sf_progress_end(b.progress, summary_written ? summary_path : NULL, code);

    g_main_loop_unref(b.loop);
    sf_progress_free(b.progress);
    sf_batch_workers_free(b.workers);
    return code;
}

gboolean sf_batch_run(const sf_batch_options *o, const sf_run_params *params,
                      const char *const *inputs, int *status, GError **error)
{
    /* Absolute, so the summary's folders hold wherever it is read from. */
    g_autofree char *out_root = g_canonicalize_filename(o->out_root, NULL);
    g_autoptr(GPtrArray) paths = sf_batch_collect_inputs(inputs, error);
    if (!paths)
        return FALSE;
    if (paths->len == 0) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "no slide found in the inputs");
        return FALSE;
    }
    if (g_mkdir_with_parents(out_root, 0777) != 0) {
        int err = errno;
        g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "%s: cannot create folder: %s", out_root,
                    g_strerror(err));
        return FALSE;
    }
    /* Writing to a child that died early must be an error, not a signal
     * that kills the whole batch. */
    signal(SIGPIPE, SIG_IGN);
    g_autoptr(GPtrArray) items = make_items(paths, out_root);
    *status = run_items(o, out_root, params, items);
    return TRUE;
}
