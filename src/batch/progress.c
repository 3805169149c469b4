/*
 * Batch progress on stderr: a live line on a terminal, a line per slide in
 * logs, JSON events for machines. Called from the main thread only, so
 * lines never interleave.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "batch/batch.h"
#include "io/json_safe.h"

struct sf_progress {
    sf_progress_mode mode;
    guint total;
    guint counts[SF_BATCH_INTERRUPTED + 1];
    guint to_run; /* total minus skipped */
    gint64 start;
    gboolean live_shown;
};

sf_progress *sf_progress_new(sf_progress_mode mode, guint total)
{
    sf_progress *progress = g_new0(sf_progress, 1);
    progress->mode = mode;
    progress->total = total;
    progress->to_run = total;
    progress->start = g_get_monotonic_time();
    return progress;
}

void sf_progress_free(sf_progress *progress)
{
    g_free(progress);
}

static double elapsed(const sf_progress *progress)
{
    return (double)(g_get_monotonic_time() - progress->start) / G_USEC_PER_SEC;
}

static guint n_finished(const sf_progress *progress)
{
    guint n = 0;
    for (int s = SF_BATCH_OK; s <= SF_BATCH_INTERRUPTED; s++)
        n += progress->counts[s];
    return n;
}

/* Slides actually processed in this run (skipped ones took no time). */
static guint n_processed(const sf_progress *progress)
{
    return progress->counts[SF_BATCH_OK] + progress->counts[SF_BATCH_FAILED];
}

static void emit_json(JsonBuilder *b)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *line = sf_json_text(root, FALSE);
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
}

static char *format_duration(double seconds)
{
    gint64 s = (gint64)(seconds + 0.5);
    if (s < 60)
        return g_strdup_printf("%" G_GINT64_FORMAT "s", s);
    if (s < 3600)
        return g_strdup_printf("%" G_GINT64_FORMAT "m %02" G_GINT64_FORMAT "s", s / 60, s % 60);
    return g_strdup_printf("%" G_GINT64_FORMAT "h %02" G_GINT64_FORMAT "m", s / 3600,
                           (s % 3600) / 60);
}

static void clear_live(sf_progress *progress)
{
    if (progress->live_shown) {
        fputs("\r\033[K", stderr);
        progress->live_shown = FALSE;
    }
}

static void draw_live(sf_progress *progress)
{
    double seconds = elapsed(progress);
    guint processed = n_processed(progress);
    guint remaining = progress->total - n_finished(progress);
    g_autofree char *eta = NULL;
    char rate[64] = "-";
    if (processed > 0 && seconds > 0) {
        g_snprintf(rate, sizeof rate, "%.1f", processed * 60.0 / seconds);
        eta = format_duration(remaining * seconds / processed);
    }
    fprintf(stderr, "\r\033[K%u/%u done, %u failed, %s slides/min, ETA %s", n_finished(progress),
            progress->total, progress->counts[SF_BATCH_FAILED], rate, eta ? eta : "-");
    fflush(stderr);
    progress->live_shown = TRUE;
}

/* Error messages name their file; after the path that is said twice. */
static const char *without_path(const sf_batch_item *item)
{
    const char *error = item->error ? item->error : "";
    size_t n = strlen(item->path);
    if (!strncmp(error, item->path, n) && !strncmp(error + n, ": ", 2))
        return error + n + 2;
    return error;
}

void sf_progress_start(sf_progress *progress, const char *out_root, guint n_skipped, int jobs,
                       int threads)
{
    progress->to_run = progress->total - n_skipped;
    if (progress->mode == SF_PROGRESS_JSON) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        sf_json_add_string(b, "event", "start");
        sf_json_add_int(b, "total", progress->total);
        sf_json_add_int(b, "to_run", progress->to_run);
        sf_json_add_int(b, "jobs", jobs);
        sf_json_add_int(b, "threads_per_slide", threads);
        sf_json_add_string(b, "output", out_root);
        json_builder_end_object(b);
        emit_json(b);
        return;
    }
    if (progress->mode == SF_PROGRESS_QUIET)
        return;
    fprintf(stderr, "slidefrag batch: %u slide%s", progress->total,
            progress->total == 1 ? "" : "s");
    if (n_skipped)
        fprintf(stderr, " (%u done earlier, skipped)", n_skipped);
    fprintf(stderr, ", %d job%s x %d thread%s -> %s\n", jobs, jobs == 1 ? "" : "s", threads,
            threads == 1 ? "" : "s", out_root);
    if (progress->mode == SF_PROGRESS_TTY && progress->to_run > 0)
        draw_live(progress);
}

static void slide_json(const sf_progress *progress, const sf_batch_item *item)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    sf_json_add_string(b, "event", "slide");
    sf_json_add_int(b, "done", n_finished(progress));
    sf_json_add_int(b, "total", progress->total);
    sf_json_add_string(b, "path", item->path);
    sf_json_add_string(b, "status", sf_batch_status_name(item->status));
    sf_json_add_string(b, "error", item->error);
    if (item->status == SF_BATCH_OK || item->status == SF_BATCH_SKIPPED) {
        sf_json_add_int(b, "regions", item->n_regions);
        sf_json_add_int(b, "fragments", item->n_fragments);
    }
    sf_json_add_double(b, "seconds", item->seconds);
    sf_json_add_string(b, "output", sf_batch_item_folder(item));
    if (item->note)
        sf_json_add_string(b, "note", item->note);
    json_builder_end_object(b);
    emit_json(b);
}

void sf_progress_slide(sf_progress *progress, const sf_batch_item *item)
{
    progress->counts[item->status]++;
    if (progress->mode == SF_PROGRESS_JSON) {
        slide_json(progress, item);
        return;
    }
    /* Skipped slides were counted in the start line, and those an
     * interruption kept from starting are counted in the end line. */
    if (item->status == SF_BATCH_SKIPPED || !item->started)
        return;
    gboolean failed = item->status == SF_BATCH_FAILED;
    if (progress->mode == SF_PROGRESS_QUIET && !failed)
        return;
    /* On a terminal only failures and notes get a line of their own. */
    if (progress->mode == SF_PROGRESS_TTY && !failed && !item->note) {
        draw_live(progress);
        return;
    }
    clear_live(progress);
    fprintf(stderr, "[%u/%u] %s %s", n_finished(progress), progress->total,
            sf_batch_status_name(item->status), item->path);
    if (item->status == SF_BATCH_OK)
        fprintf(stderr, ": %d region%s, %.1f s%s%s\n", item->n_regions,
                item->n_regions == 1 ? "" : "s", item->seconds, item->note ? "; note: " : "",
                item->note ? item->note : "");
    else
        fprintf(stderr, ": %s\n", without_path(item));
    if (progress->mode == SF_PROGRESS_TTY)
        draw_live(progress);
    fflush(stderr);
}

void sf_progress_interrupt(sf_progress *progress, int signal)
{
    if (progress->mode == SF_PROGRESS_JSON) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        sf_json_add_string(b, "event", "interrupt");
        sf_json_add_string(b, "signal", sf_batch_signal_name(signal));
        json_builder_end_object(b);
        emit_json(b);
        return;
    }
    if (progress->mode == SF_PROGRESS_QUIET)
        return;
    clear_live(progress);
    fprintf(stderr, "slidefrag batch: %s: stopping the running slides and writing the summary\n",
            sf_batch_signal_name(signal));
}

void sf_progress_tick(sf_progress *progress)
{
    if (progress->mode == SF_PROGRESS_TTY && progress->live_shown)
        draw_live(progress);
}

void sf_progress_end(sf_progress *progress, const char *summary_path, int exit_code)
{
    const guint *c = progress->counts;
    const char *summary_text = summary_path ? summary_path : "no summary written";
    if (progress->mode == SF_PROGRESS_JSON) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        sf_json_add_string(b, "event", "end");
        for (int s = SF_BATCH_OK; s <= SF_BATCH_INTERRUPTED; s++)
            sf_json_add_int(b, sf_batch_status_name(s), c[s]);
        sf_json_add_double(b, "seconds", round(elapsed(progress) * 1000) / 1000);
        sf_json_add_string(b, "summary", summary_path);
        sf_json_add_int(b, "exit_code", exit_code);
        json_builder_end_object(b);
        emit_json(b);
        return;
    }
    clear_live(progress);
    if (progress->mode == SF_PROGRESS_QUIET) {
        if (c[SF_BATCH_FAILED])
            fprintf(stderr, "slidefrag batch: %u of %u slides failed; %s%s\n", c[SF_BATCH_FAILED],
                    progress->total, summary_path ? "see " : "", summary_text);
        return;
    }
    g_autofree char *took = format_duration(elapsed(progress));
    fprintf(stderr, "slidefrag batch: %u ok, %u failed, %u skipped, %u interrupted in %s; %s\n",
            c[SF_BATCH_OK], c[SF_BATCH_FAILED], c[SF_BATCH_SKIPPED], c[SF_BATCH_INTERRUPTED], took,
            summary_text);
}
