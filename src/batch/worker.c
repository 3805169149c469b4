/*
 * One child process per slide: a decoder that crashes or aborts takes down
 * only its own slide. The child is this same program running the hidden
 * `_run-one` command (cli/cmd_run_one.c); it reads the parameters on stdin
 * and answers with one JSON line on stdout (sf_batch_answer_line).
 */
#define _GNU_SOURCE /* prctl's PR_SET_PDEATHSIG */

#include <gio/gio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "batch/batch.h"
#include "io/json_read.h"
#include "io/json_safe.h"
#include "run/run_internal.h"
#include "slidefrag/batch.h"
#include "slidefrag/error.h"

struct sf_batch_workers {
    char *exe;
    JsonNode *params;
    char *params_json;
    char *threads;
    GMutex lock;
    gboolean stopping;  /* under lock */
    int cause;          /* the signal the batch was stopped by, under lock */
    GPtrArray *running; /* GSubprocess, under lock */
};

sf_batch_workers *sf_batch_workers_new(const char *exe, JsonNode *params, int threads)
{
    sf_batch_workers *workers = g_new0(sf_batch_workers, 1);
    workers->exe = g_strdup(exe);
    workers->params = json_node_copy(params);
    workers->params_json = sf_json_text(params, FALSE);
    workers->threads = g_strdup_printf("%d", threads);
    g_mutex_init(&workers->lock);
    workers->running = g_ptr_array_new_with_free_func(g_object_unref);
    return workers;
}

void sf_batch_workers_free(sf_batch_workers *workers)
{
    if (!workers)
        return;
    g_free(workers->exe);
    json_node_unref(workers->params);
    g_free(workers->params_json);
    g_free(workers->threads);
    g_mutex_clear(&workers->lock);
    g_ptr_array_unref(workers->running);
    g_free(workers);
}

void sf_batch_workers_stop(sf_batch_workers *workers, int cause, int signal)
{
    g_mutex_lock(&workers->lock);
    workers->stopping = TRUE;
    if (!workers->cause)
        workers->cause = cause;
    for (guint i = 0; i < workers->running->len; i++)
        g_subprocess_send_signal(g_ptr_array_index(workers->running, i), signal);
    g_mutex_unlock(&workers->lock);
}

gboolean sf_batch_workers_stopping(sf_batch_workers *workers)
{
    g_mutex_lock(&workers->lock);
    gboolean stopping = workers->stopping;
    g_mutex_unlock(&workers->lock);
    return stopping;
}

const char *sf_batch_signal_name(int signal)
{
    switch (signal) {
    case SIGABRT:
        return "SIGABRT";
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGFPE:
        return "SIGFPE";
    case SIGILL:
        return "SIGILL";
    case SIGKILL:
        return "SIGKILL";
    case SIGTERM:
        return "SIGTERM";
    case SIGINT:
        return "SIGINT";
    case SIGPIPE:
        return "SIGPIPE";
    case SIGXCPU:
        return "SIGXCPU";
    default:
        return "signal";
    }
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void child_setup(gpointer data)
{
    (void)data;
    /* Our threads may block signals, and the batch ignores SIGPIPE; a
     * slide's process starts with neither. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGPIPE, &dfl, NULL);
    /* Its own process group: a terminal's Ctrl-C reaches only the batch,
     * which then stops its children in order. */
    setpgid(0, 0);
    /* And if the batch itself is killed outright, its children follow. The
     * "parent" here is the forking thread, which waits for this child. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* The last non-empty line of a child's output, shortened for a summary. */
static char *last_line(GBytes *bytes)
{
    if (!bytes)
        return NULL;
    gsize length = 0;
    const char *data = g_bytes_get_data(bytes, &length);
    if (length == 0)
        return NULL;
    g_autofree char *text = g_strndup(data, length);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (int i = (int)g_strv_length(lines) - 1; i >= 0; i--) {
        char *line = g_strstrip(lines[i]);
        if (*line) {
            char *copy = g_utf8_make_valid(line, -1);
            if (g_utf8_strlen(copy, -1) > 300)
                *g_utf8_offset_to_pointer(copy, 300) = '\0';
            return copy;
        }
    }
    return NULL;
}

/* Milliseconds are plenty for a summary, and print short in JSON. */
static double seconds_since(gint64 start)
{
    return round((double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC * 1000) / 1000;
}

static void set_failed(sf_batch_item *item, char *error)
{
    item->status = SF_BATCH_FAILED;
    g_free(item->error);
    item->error = error;
}

char *sf_batch_answer_line(const sf_run_result *result, const GError *error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    if (error) {
        sf_json_add_string(b, "status", "failed");
        sf_json_add_int(b, "code", sf_exit_code(error));
        sf_json_add_string(b, "error", error->message);
    } else {
        sf_json_add_string(b, "status", "ok");
        sf_json_add_string(b, "output", result->output_dir);
        sf_json_add_int(b, "regions", result->n_regions);
        sf_json_add_int(b, "fragments", result->n_fragments);
        sf_json_add_double(b, "seconds", result->seconds);
        if (result->note)
            sf_json_add_string(b, "note", result->note);
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return sf_json_text(root, FALSE);
}

/* Reads the child's JSON answer (sf_batch_answer_line) into the item;
 * FALSE when there is none. */
static gboolean read_answer(sf_batch_item *item, GBytes *out)
{
    g_autofree char *line = last_line(out);
    if (!line)
        return FALSE;
    g_autoptr(JsonNode) root =
        sf_json_parse("child answer", line, strlen(line), SF_JSON_MAX_FILE_VALUES, NULL);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return FALSE;
    JsonObject *answer = json_node_get_object(root);
    const char *status = json_object_get_string_member_with_default(answer, "status", "");
    if (!strcmp(status, "ok")) {
        item->status = SF_BATCH_OK;
        item->n_regions = (int)json_object_get_int_member_with_default(answer, "regions", 0);
        item->n_fragments = (int)json_object_get_int_member_with_default(answer, "fragments", 0);
        const char *note = json_object_get_string_member_with_default(answer, "note", NULL);
        item->note = note ? g_strdup(note) : NULL;
        return TRUE;
    }
    if (!strcmp(status, "failed")) {
        set_failed(item, g_strdup(json_object_get_string_member_with_default(
                             answer, "error", "failed without a message")));
        return TRUE;
    }
    return FALSE;
}

static void classify(sf_batch_workers *workers, sf_batch_item *item, GSubprocess *child,
                     GBytes *out, GBytes *err)
{
    if (g_subprocess_get_if_signaled(child)) {
        int sig = g_subprocess_get_term_sig(child);
        if (sf_batch_workers_stopping(workers) &&
            (sig == SIGTERM || sig == SIGINT || sig == SIGKILL)) {
            /* Stopped after its manifest was written: the folder is
             * complete, and a resumed batch would skip it too. */
            if (sf_batch_is_done(item->output_dir, item->path, workers->params, &item->n_regions,
                                 &item->n_fragments)) {
                item->status = SF_BATCH_OK;
                return;
            }
            /* It got SIGTERM from the batch, but what stopped it is what
             * stopped the batch: Ctrl-C is SIGINT. */
            g_mutex_lock(&workers->lock);
            int cause = workers->cause ? workers->cause : sig;
            g_mutex_unlock(&workers->lock);
            item->status = SF_BATCH_INTERRUPTED;
            item->error = g_strdup_printf("stopped by %s", sf_batch_signal_name(cause));
            return;
        }
        g_autofree char *tail = last_line(err);
        set_failed(item,
                   g_strdup_printf("crashed: signal %d (%s)%s%s", sig, sf_batch_signal_name(sig),
                                   tail ? "; " : "", tail ? tail : ""));
        return;
    }
    if (read_answer(item, out)) {
        int code = g_subprocess_get_exit_status(child);
        if (item->status == SF_BATCH_OK && code != 0)
            set_failed(item, g_strdup_printf("exited with code %d after finishing", code));
        return;
    }
    g_autofree char *tail = last_line(err);
    set_failed(item, g_strdup_printf("exited with code %d without a result%s%s",
                                     g_subprocess_get_exit_status(child), tail ? "; " : "",
                                     tail ? tail : ""));
}

void sf_batch_workers_run(sf_batch_workers *workers, sf_batch_item *item)
{
    gint64 start = g_get_monotonic_time();
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                  G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
    const char *argv[] = {workers->exe, "_run-one",       item->path, item->output_dir,
                          "-",          workers->threads, NULL};

    /* Checking and launching under one lock: a stop either comes first and
     * nothing starts, or comes after and reaches this child. */
    g_autoptr(GError) error = NULL;
    g_mutex_lock(&workers->lock);
    if (workers->stopping) {
        g_mutex_unlock(&workers->lock);
        item->status = SF_BATCH_INTERRUPTED;
        item->error = g_strdup("not started");
        return;
    }
    GSubprocess *child = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv, &error);
    if (child)
        g_ptr_array_add(workers->running, g_object_ref(child));
    item->started = TRUE;
    g_mutex_unlock(&workers->lock);
    if (!child) {
        set_failed(item, g_strdup_printf("cannot start a worker process: %s", error->message));
        item->seconds = seconds_since(start);
        return;
    }

    g_autoptr(GBytes) input = g_bytes_new(workers->params_json, strlen(workers->params_json));
    g_autoptr(GBytes) out = NULL;
    g_autoptr(GBytes) err = NULL;
    if (!g_subprocess_communicate(child, input, NULL, &out, &err, &error)) {
        /* Only a broken pipe to a child that died early gets here; its exit
         * status says more. */
        g_subprocess_wait(child, NULL, NULL);
    }
    g_mutex_lock(&workers->lock);
    g_ptr_array_remove_fast(workers->running, child);
    g_mutex_unlock(&workers->lock);

    classify(workers, item, child, out, err);
    g_object_unref(child);
    item->seconds = seconds_since(start);
    /* A killed child leaves its temporary files; nothing else will. */
    if (item->status != SF_BATCH_OK) {
        g_autofree char *stem = sf_slide_stem(item->path);
        sf_slide_folder_clean_killed(item->output_dir, stem);
    }
}
