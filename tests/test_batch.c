/* slidefrag batch end to end: statuses, resume, interruption, crashes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include "support.h"
#include "slidefrag/error.h"

/* Fast settings: small overviews and fragments. */
#define FAST "--max-size", "256", "--fragment-max-size", "256"

/* Runs slidefrag with argv and checks the exit code; returns stderr. */
static char *run_expect(const char *const *argv, int expect_code)
{
    g_autofree char *out = NULL;
    char *err = NULL;
    int code = test_run_slidefrag(argv, &out, &err);
    if (code != expect_code)
        fail_msg("exit %d, expected %d; stderr:\n%s", code, expect_code, err);
    return err;
}

typedef struct summary {
    JsonParser *parser;
    JsonArray *slides;
} summary;

static summary load_summary(const char *out_dir)
{
    g_autofree char *path = g_build_filename(out_dir, "summary.json", NULL);
    summary s = {json_parser_new(), NULL};
    GError *error = NULL;
    if (!json_parser_load_from_file(s.parser, path, &error))
        fail_msg("%s: %s", path, error->message);
    JsonObject *root = json_node_get_object(json_parser_get_root(s.parser));
    assert_string_equal(json_object_get_string_member(root, "schema"), "slidefrag.batch-summary/1");
    s.slides = json_object_get_array_member(root, "slides");
    return s;
}

static void summary_clear(summary *s)
{
    g_object_unref(s->parser);
}

/* The summary row whose path ends with `suffix`; fails if not exactly one. */
static JsonObject *row(const summary *s, const char *suffix)
{
    JsonObject *found = NULL;
    for (guint i = 0; i < json_array_get_length(s->slides); i++) {
        JsonObject *r = json_array_get_object_element(s->slides, i);
        const char *path = json_object_get_string_member(r, "path");
        if (g_str_has_suffix(path, suffix) &&
            (strlen(path) == strlen(suffix) || path[strlen(path) - strlen(suffix) - 1] == '/')) {
            if (found)
                fail_msg("two rows end with %s", suffix);
            found = r;
        }
    }
    if (!found)
        fail_msg("no summary row for %s", suffix);
    return found;
}

static const char *status_of(const summary *s, const char *suffix)
{
    return json_object_get_string_member(row(s, suffix), "status");
}

static int count_status(const summary *s, const char *status)
{
    int n = 0;
    for (guint i = 0; i < json_array_get_length(s->slides); i++)
        if (!strcmp(json_object_get_string_member(json_array_get_object_element(s->slides, i),
                                                  "status"),
                    status))
            n++;
    return n;
}

/* The manifest in a row's folder; a path that does not exist when the row
 * names no folder. */
static char *manifest_of(JsonObject *r)
{
    const char *folder = json_object_get_string_member(r, "output");
    return g_build_filename(folder ? folder : "/nonexistent", "manifest.json", NULL);
}

static int count_lines(const char *path)
{
    g_autofree char *text = NULL;
    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* in/: three good slides, one that opens but cannot be read, one that is
 * not a slide, a text file, and sub/small.svs sharing a stem. */
static char *make_mixed_folder(const char *root)
{
    char *in = g_build_filename(root, "in", NULL);
    g_autofree char *sub = g_build_filename(in, "sub", NULL);
    assert_int_equal(g_mkdir_with_parents(sub, 0755), 0);
    test_copy_fixture("small.svs", in, NULL);
    test_copy_fixture("boxes.tiff", in, NULL);
    test_copy_fixture("cmu-1-small-region.svs", in, NULL);
    test_copy_fixture("unreadable.svs", in, NULL);
    test_copy_fixture("broken.svs", in, NULL);
    test_copy_fixture("small.svs", sub, NULL);
    g_autofree char *notes = g_build_filename(in, "notes.txt", NULL);
    test_write_text(notes, "not a slide\n");
    return in;
}

static void test_statuses_and_outputs(void **state)
{
    (void)state;
    g_autofree char *root = test_make_tmpdir();
    g_autofree char *in = make_mixed_folder(root);
    g_autofree char *out = g_build_filename(root, "out", NULL);
    /* The same slides again, directly and through a list: each runs once. */
    g_autofree char *list = g_build_filename(root, "list.txt", NULL);
    test_write_text(list, "# slides\n\nin/boxes.tiff\n  in/sub/small.svs\r\n");
    g_autofree char *again = g_build_filename(in, "small.svs", NULL);
    g_autofree char *at_list = g_strconcat("@", list, NULL);
    const char *argv[] = {"batch", in, again, at_list, "-o", out, "-j", "2", FAST, NULL};
    g_autofree char *err = run_expect(argv, SF_EXIT_SOME_FAILED);

    summary s = load_summary(out);
    assert_int_equal(json_array_get_length(s.slides), 6); /* notes.txt is not a slide */
    assert_string_equal(status_of(&s, "in/small.svs"), "ok");
    assert_string_equal(status_of(&s, "sub/small.svs"), "ok");
    assert_string_equal(status_of(&s, "boxes.tiff"), "ok");
    assert_string_equal(status_of(&s, "cmu-1-small-region.svs"), "ok");
    assert_string_equal(status_of(&s, "unreadable.svs"), "failed");
    assert_string_equal(status_of(&s, "broken.svs"), "failed");

    /* Rows in sorted path order, whatever order the slides finished in. */
    for (guint i = 1; i < json_array_get_length(s.slides); i++) {
        const char *a =
            json_object_get_string_member(json_array_get_object_element(s.slides, i - 1), "path");
        const char *b =
            json_object_get_string_member(json_array_get_object_element(s.slides, i), "path");
        assert_true(strcmp(a, b) < 0);
    }

    /* Failures carry their cause and leave no manifest. */
    JsonObject *unreadable = row(&s, "unreadable.svs");
    assert_non_null(strstr(json_object_get_string_member(unreadable, "error"), "unreadable.svs"));
    assert_true(json_object_get_null_member(unreadable, "regions"));
    g_autofree char *unreadable_manifest = manifest_of(unreadable);
    assert_false(g_file_test(unreadable_manifest, G_FILE_TEST_EXISTS));
    assert_non_null(
        strstr(json_object_get_string_member(row(&s, "broken.svs"), "error"), "broken.svs"));
    /* broken.svs never opened, so its folder was never made, and neither
     * the summary nor the CSV names one. */
    assert_true(json_object_get_null_member(row(&s, "broken.svs"), "output"));
    g_autofree char *broken_dir = g_build_filename(out, "broken", NULL);
    assert_false(g_file_test(broken_dir, G_FILE_TEST_EXISTS));
    g_autofree char *csv_path = g_build_filename(out, "summary.csv", NULL);
    g_autofree char *csv_text = NULL;
    assert_true(g_file_get_contents(csv_path, &csv_text, NULL, NULL));
    g_auto(GStrv) csv_rows = g_strsplit(csv_text, "\r\n", -1);
    for (char **r = csv_rows; *r; r++)
        if (strstr(*r, "broken.svs"))
            assert_true(g_str_has_suffix(*r, ","));

    /* Each good slide has its own folder with a manifest naming it, and the
     * summary's counts agree with that manifest. */
    const char *good[] = {"in/small.svs", "sub/small.svs", "boxes.tiff", "cmu-1-small-region.svs"};
    g_autoptr(GHashTable) folders = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        JsonObject *r = row(&s, good[i]);
        assert_true(json_object_get_null_member(r, "error"));
        const char *folder = json_object_get_string_member(r, "output");
        assert_true(g_str_has_prefix(folder, out));
        assert_false(g_hash_table_contains(folders, folder));
        g_hash_table_add(folders, (char *)folder);
        g_autofree char *manifest_path = manifest_of(r);
        g_autoptr(JsonParser) parser = json_parser_new();
        assert_true(json_parser_load_from_file(parser, manifest_path, NULL));
        JsonObject *manifest = json_node_get_object(json_parser_get_root(parser));
        assert_string_equal(
            json_object_get_string_member(json_object_get_object_member(manifest, "slide"), "path"),
            json_object_get_string_member(r, "path"));
        int n_regions =
            (int)json_array_get_length(json_object_get_array_member(manifest, "regions"));
        assert_int_equal(json_object_get_int_member(r, "regions"), n_regions);
        assert_int_equal(json_object_get_int_member(r, "fragments"), n_regions);
        /* small.svs is 16x16 px at 0.499 µm/px: 64 µm², below the default
         * minimum region of 5000 µm², so it has no regions. */
        if (strstr(good[i], "small.svs"))
            assert_int_equal(n_regions, 0);
        else
            assert_true(n_regions >= 1);
    }
    /* The shared stem got two suffixed folders. */
    const char *small_a = json_object_get_string_member(row(&s, "in/small.svs"), "output");
    const char *small_b = json_object_get_string_member(row(&s, "sub/small.svs"), "output");
    g_autofree char *small_prefix = g_build_filename(out, "small-", NULL);
    assert_true(g_str_has_prefix(small_a, small_prefix));
    assert_true(g_str_has_prefix(small_b, small_prefix));
    g_autofree char *boxes_dir = g_build_filename(out, "boxes", NULL);
    assert_string_equal(json_object_get_string_member(row(&s, "boxes.tiff"), "output"), boxes_dir);

    g_autofree char *csv = g_build_filename(out, "summary.csv", NULL);
    assert_int_equal(count_lines(csv), 7);
    test_assert_no_partial_files(out);
    summary_clear(&s);
    test_remove_tree(root);
}

static void test_resume(void **state)
{
    (void)state;
    g_autofree char *root = test_make_tmpdir();
    g_autofree char *in = g_build_filename(root, "in", NULL);
    g_autofree char *sub = g_build_filename(in, "sub", NULL);
    assert_int_equal(g_mkdir_with_parents(sub, 0755), 0);
    test_copy_fixture("small.svs", in, NULL);
    test_copy_fixture("boxes.tiff", in, NULL);
    test_copy_fixture("small.svs", sub, NULL);
    g_autofree char *out = g_build_filename(root, "out", NULL);

    const char *first[] = {"batch", in, "-o", out, FAST, NULL};
    g_free(run_expect(first, 0));
    summary s = load_summary(out);
    assert_int_equal(count_status(&s, "ok"), 3);
    g_autofree char *boxes_manifest = manifest_of(row(&s, "boxes.tiff"));
    g_autofree char *small_manifest = manifest_of(row(&s, "sub/small.svs"));
    summary_clear(&s);
    g_autofree char *before = NULL;
    assert_true(g_file_get_contents(boxes_manifest, &before, NULL, NULL));

    /* Finished with the same input and parameters: nothing is redone (the
     * manifest, with its timings, is the very same file). */
    const char *resume[] = {"batch", in, "-o", out, "--resume", "--log-json", FAST, NULL};
    g_autofree char *log = run_expect(resume, 0);
    s = load_summary(out);
    assert_int_equal(count_status(&s, "skipped"), 3);
    assert_int_equal(json_object_get_int_member(row(&s, "boxes.tiff"), "regions"), 1);
    summary_clear(&s);
    g_autofree char *after = NULL;
    assert_true(g_file_get_contents(boxes_manifest, &after, NULL, NULL));
    assert_string_equal(before, after);
    /* --log-json: every stderr line is one JSON event. */
    g_auto(GStrv) lines = g_strsplit(g_strstrip(log), "\n", -1);
    assert_int_equal(g_strv_length(lines), 5); /* start, 3 slides, end */
    for (char **line = lines; *line; line++) {
        g_autoptr(JsonNode) event = json_from_string(*line, NULL);
        assert_non_null(event);
        assert_true(json_object_has_member(json_node_get_object(event), "event"));
    }

    /* A slide whose manifest is missing (a killed run) is the only one redone. */
    assert_int_equal(g_unlink(small_manifest), 0);
    g_free(run_expect(resume, 0));
    s = load_summary(out);
    assert_string_equal(status_of(&s, "sub/small.svs"), "ok");
    assert_string_equal(status_of(&s, "in/small.svs"), "skipped");
    assert_string_equal(status_of(&s, "boxes.tiff"), "skipped");
    summary_clear(&s);
    assert_true(g_file_test(small_manifest, G_FILE_TEST_EXISTS));

    /* A slide file that changed is redone. */
    g_autofree char *boxes = g_build_filename(in, "boxes.tiff", NULL);
    struct utimbuf times = {.actime = 1000000000, .modtime = 1000000000};
    assert_int_equal(g_utime(boxes, &times), 0);
    g_free(run_expect(resume, 0));
    s = load_summary(out);
    assert_string_equal(status_of(&s, "boxes.tiff"), "ok");
    assert_int_equal(count_status(&s, "skipped"), 2);
    summary_clear(&s);

    /* Different parameters: everything is redone. */
    const char *changed[] = {"batch",          in,   "-o", out, "--resume",
                             "--jpeg-quality", "80", FAST, NULL};
    g_free(run_expect(changed, 0));
    s = load_summary(out);
    assert_int_equal(count_status(&s, "ok"), 3);
    summary_clear(&s);
    test_remove_tree(root);
}

/* A slide name that is not UTF-8, beside one that fails: summary.json and
 * the --log-json events stay JSON (the name made valid, U+FFFD), and
 * --resume knows the slide it finished. */
static void test_slide_name_not_utf8(void **state)
{
    (void)state;
    g_autofree char *root = test_make_tmpdir();
    g_autofree char *in = g_build_filename(root, "in", NULL);
    assert_int_equal(g_mkdir_with_parents(in, 0755), 0);
    test_copy_fixture("small.svs", in, "bad\xff\xfename.svs");
    test_copy_fixture("broken.svs", in, "worse\xff.svs");
    g_autofree char *out = g_build_filename(root, "out", NULL);
    const char *first[] = {"batch", in, "-o", out, "--log-json", FAST, NULL};
    g_autofree char *log = run_expect(first, SF_EXIT_SOME_FAILED);
    g_auto(GStrv) lines = g_strsplit(g_strstrip(log), "\n", -1);
    for (char **line = lines; *line; line++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) event = json_from_string(*line, &error);
        if (!event)
            fail_msg("not JSON: %s: %s", error->message, *line);
    }
    summary s = load_summary(out);
    assert_string_equal(status_of(&s, "bad\xef\xbf\xbd\xef\xbf\xbdname.svs"), "ok");
    assert_string_equal(status_of(&s, "worse\xef\xbf\xbd.svs"), "failed");
    summary_clear(&s);
    g_autofree char *csv_path = g_build_filename(out, "summary.csv", NULL);
    g_autofree char *csv = NULL;
    assert_true(g_file_get_contents(csv_path, &csv, NULL, NULL));
    assert_true(g_utf8_validate(csv, -1, NULL));

    const char *resume[] = {"batch", in, "-o", out, "--resume", FAST, NULL};
    g_free(run_expect(resume, SF_EXIT_SOME_FAILED));
    s = load_summary(out);
    assert_string_equal(status_of(&s, "bad\xef\xbf\xbd\xef\xbf\xbdname.svs"), "skipped");
    summary_clear(&s);
    test_remove_tree(root);
}

/* Whether any OUTDIR/<folder>/manifest.json exists yet. */
static gboolean any_manifest(const char *out)
{
    g_autoptr(GDir) listing = g_dir_open(out, 0, NULL);
    if (!listing)
        return FALSE;
    const char *name;
    while ((name = g_dir_read_name(listing))) {
        g_autofree char *path = g_build_filename(out, name, "manifest.json", NULL);
        if (g_file_test(path, G_FILE_TEST_EXISTS))
            return TRUE;
    }
    return FALSE;
}

/* Starts a batch of slow slides, `jobs` at a time, sends `sig` once the
 * first is done, and returns the batch's exit code. */
static int interrupt_batch(const char *in, const char *out, int sig, const char *jobs)
{
    const char *argv[] = {SLIDEFRAG_BINARY,      "batch", in,        "-o", out, "-j", jobs,
                          "--threads-per-slide", "1",     "--quiet", FAST, NULL};
    GPid pid;
    GError *error = NULL;
    if (!g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                       &error))
        fail_msg("%s", error->message);
    for (int i = 0; i < 1200 && !any_manifest(out); i++)
        g_usleep(25000);
    assert_true(any_manifest(out));
    assert_int_equal(kill(pid, sig), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    g_spawn_close_pid(pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Interrupted by `signal_name` (what the user sent the batch, whatever it
 * sent the slides): every interrupted row says so, or that it never
 * started, in which case it names no folder. */
static void check_interrupted_run(const char *out, int n_slides, const char *signal_name)
{
    test_assert_no_partial_files(out);
    summary s = load_summary(out);
    assert_int_equal(json_array_get_length(s.slides), n_slides);
    assert_true(count_status(&s, "ok") >= 1);
    assert_true(count_status(&s, "interrupted") >= 1);
    assert_int_equal(count_status(&s, "ok") + count_status(&s, "interrupted"), n_slides);
    /* Finished means a manifest; interrupted means none. */
    for (guint i = 0; i < json_array_get_length(s.slides); i++) {
        JsonObject *r = json_array_get_object_element(s.slides, i);
        g_autofree char *manifest = manifest_of(r);
        assert_int_equal(g_file_test(manifest, G_FILE_TEST_EXISTS),
                         !strcmp(json_object_get_string_member(r, "status"), "ok"));
        if (strcmp(json_object_get_string_member(r, "status"), "interrupted"))
            continue;
        const char *error = json_object_get_string_member(r, "error");
        g_autofree char *stopped = g_strconcat("stopped by ", signal_name, NULL);
        if (!strcmp(error, "not started"))
            assert_true(json_object_get_null_member(r, "output"));
        else if (strcmp(error, stopped))
            fail_msg("interrupted by %s, yet the row says '%s'", signal_name, error);
    }
    summary_clear(&s);
}

static void test_sigterm_stops_cleanly_and_resumes(void **state)
{
    (void)state;
    g_autofree char *root = test_make_tmpdir();
    g_autofree char *in = g_build_filename(root, "in", NULL);
    assert_int_equal(g_mkdir(in, 0755), 0);
    /* A quick slide first, so that the signal comes while a slower one is
     * being written. */
    test_copy_fixture("small.svs", in, "a.svs");
    test_copy_fixture("cmu-1-small-region.svs", in, "b.svs");
    test_copy_fixture("cmu-1-small-region.svs", in, "c.svs");
    g_autofree char *out = g_build_filename(root, "out", NULL);

    assert_int_equal(interrupt_batch(in, out, SIGTERM, "1"), 128 + SIGTERM);
    check_interrupted_run(out, 3, "SIGTERM");

    /* Resuming finishes what was cut short and keeps what was done. */
    summary s = load_summary(out);
    int n_done = count_status(&s, "ok");
    summary_clear(&s);
    const char *resume[] = {"batch", in, "-o", out, "--resume", "--quiet", FAST, NULL};
    g_free(run_expect(resume, 0));
    s = load_summary(out);
    assert_int_equal(count_status(&s, "skipped"), n_done);
    assert_int_equal(count_status(&s, "ok"), 3 - n_done);
    summary_clear(&s);
    test_remove_tree(root);
}

static void test_sigint(void **state)
{
    (void)state;
    g_autofree char *root = test_make_tmpdir();
    g_autofree char *in = g_build_filename(root, "in", NULL);
    assert_int_equal(g_mkdir(in, 0755), 0);
    test_copy_fixture("small.svs", in, "a.svs");
    test_copy_fixture("cmu-1-small-region.svs", in, "b.svs");
    g_autofree char *out = g_build_filename(root, "out", NULL);
    assert_int_equal(interrupt_batch(in, out, SIGINT, "1"), 128 + SIGINT);
    check_interrupted_run(out, 2, "SIGINT");
    test_remove_tree(root);
}

/* Preloads the shim into the batch and its children (ASan wants to be the
 * first library loaded; the shim before it is harmless), with `variable`
 * set to `value`; shim_end undoes it. */
static char *shim_begin(const char *variable, const char *value)
{
    char *asan_saved = g_strdup(g_getenv("ASAN_OPTIONS"));
    g_autofree char *asan = asan_saved ? g_strconcat(asan_saved, ":verify_asan_link_order=0", NULL)
                                       : g_strdup("verify_asan_link_order=0");
    g_setenv("ASAN_OPTIONS", asan, TRUE);
    g_setenv("LD_PRELOAD", SLIDEFRAG_CRASH_SHIM, TRUE);
    g_setenv(variable, value, TRUE);
    return asan_saved;
}

static void shim_end(const char *variable, char *asan_saved)
{
    g_unsetenv("LD_PRELOAD");
    g_unsetenv(variable);
    if (asan_saved)
        g_setenv("ASAN_OPTIONS", asan_saved, TRUE);
    else
        g_unsetenv("ASAN_OPTIONS");
    g_free(asan_saved);
}

/* Ctrl-C sends the batch SIGINT; the batch stops its slides with SIGTERM,
 * but the summary says what the user did: a slide still opening (and so
 * without a folder yet) was stopped by SIGINT. */
static void test_sigint_is_reported_as_sigint(void **state)
{
    (void)state;
    g_autofree char *root = test_make_tmpdir();
    g_autofree char *in = g_build_filename(root, "in", NULL);
    assert_int_equal(g_mkdir(in, 0755), 0);
    test_copy_fixture("small.svs", in, "a.svs");
    test_copy_fixture("small.svs", in, "hang.svs");
    g_autofree char *out = g_build_filename(root, "out", NULL);
    char *asan_saved = shim_begin("SLIDEFRAG_HANG_SLIDE", "hang.svs");
    int code = interrupt_batch(in, out, SIGINT, "2");
    shim_end("SLIDEFRAG_HANG_SLIDE", asan_saved);
    assert_int_equal(code, 128 + SIGINT);
    check_interrupted_run(out, 2, "SIGINT");
    summary s = load_summary(out);
    JsonObject *hang = row(&s, "hang.svs");
    assert_string_equal(json_object_get_string_member(hang, "status"), "interrupted");
    assert_string_equal(json_object_get_string_member(hang, "error"), "stopped by SIGINT");
    assert_true(json_object_get_null_member(hang, "output"));
    summary_clear(&s);
    test_remove_tree(root);
}

static void test_crash_is_isolated(void **state)
{
    (void)state;
    g_autofree char *root = test_make_tmpdir();
    g_autofree char *in = g_build_filename(root, "in", NULL);
    assert_int_equal(g_mkdir(in, 0755), 0);
    test_copy_fixture("small.svs", in, NULL);
    test_copy_fixture("boxes.tiff", in, NULL);
    test_copy_fixture("small.svs", in, "third.svs");
    g_autofree char *out = g_build_filename(root, "out", NULL);

    /* The children inherit the environment: the one that opens boxes.tiff
     * aborts inside OpenSlide. */
    char *asan_saved = shim_begin("SLIDEFRAG_CRASH_SLIDE", "boxes");
    const char *argv[] = {"batch", in, "-o", out, "-j", "2", FAST, NULL};
    g_autofree char *err = NULL;
    g_autofree char *stdout_text = NULL;
    int code = test_run_slidefrag(argv, &stdout_text, &err);
    shim_end("SLIDEFRAG_CRASH_SLIDE", asan_saved);

    if (code != SF_EXIT_SOME_FAILED)
        fail_msg("exit %d; stderr:\n%s", code, err);
    summary s = load_summary(out);
    JsonObject *crashed = row(&s, "boxes.tiff");
    assert_string_equal(json_object_get_string_member(crashed, "status"), "failed");
    assert_true(g_str_has_prefix(json_object_get_string_member(crashed, "error"),
                                 "crashed: signal 6 (SIGABRT)"));
    assert_string_equal(status_of(&s, "small.svs"), "ok");
    assert_string_equal(status_of(&s, "third.svs"), "ok");
    summary_clear(&s);
    test_assert_no_partial_files(out);
    test_remove_tree(root);
}

static void test_usage_errors(void **state)
{
    (void)state;
    g_autofree char *root = test_make_tmpdir();
    g_autofree char *out = g_build_filename(root, "out", NULL);
    g_autofree char *slide = test_fixture("small.svs");

    const char *no_output[] = {"batch", slide, NULL};
    g_free(run_expect(no_output, SF_EXIT_USAGE));
    const char *bad_jobs[] = {"batch", slide, "-o", out, "--jobs", "-1", NULL};
    g_free(run_expect(bad_jobs, SF_EXIT_USAGE));
    const char *bad_param[] = {"batch", slide, "-o", out, "--channel", "purple", NULL};
    g_free(run_expect(bad_param, SF_EXIT_USAGE));

    g_autofree char *missing_list = g_build_filename(root, "nope.txt", NULL);
    g_autofree char *at_missing = g_strconcat("@", missing_list, NULL);
    const char *no_list[] = {"batch", at_missing, "-o", out, NULL};
    g_autofree char *err = run_expect(no_list, SF_EXIT_MISSING);
    assert_non_null(strstr(err, "nope.txt"));

    /* A folder without slides is an error, not an empty success. */
    g_autofree char *empty = g_build_filename(root, "empty", NULL);
    assert_int_equal(g_mkdir(empty, 0755), 0);
    const char *no_slides[] = {"batch", empty, "-o", out, NULL};
    g_free(run_expect(no_slides, SF_EXIT_MISSING));
    assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
    test_remove_tree(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statuses_and_outputs),
        cmocka_unit_test(test_resume),
        cmocka_unit_test(test_slide_name_not_utf8),
        cmocka_unit_test(test_sigterm_stops_cleanly_and_resumes),
        cmocka_unit_test(test_sigint),
        cmocka_unit_test(test_sigint_is_reported_as_sigint),
        cmocka_unit_test(test_crash_is_isolated),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
