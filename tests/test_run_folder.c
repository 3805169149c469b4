/*
 * The slide folder a run leaves: it removes only files slidefrag wrote,
 * never through a link, is consistent wherever the run is killed, and is
 * never marked finished for a slide file that changed while it was read.
 *
 * Runs that must be killed or disturbed at an exact step run sf_run_slide
 * in a forked child with the run's step hook; the others run the built
 * slidefrag.
 */
#define _DEFAULT_SOURCE /* fork, utimes */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"
#include "io/folder.h"
#include "run/run_internal.h"
#include "slidefrag/error.h"
#include "slidefrag/manifest.h"
#include "slidefrag/run.h"

#define STEM "cmu-1-small-region"

static char *tmp_root;

static char *path_in(const char *dir, const char *name)
{
    return g_build_filename(dir, name, NULL);
}

static char *new_dir(const char *name)
{
    char *dir = path_in(tmp_root, name);
    test_remove_tree(dir);
    assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
    return dir;
}

static void assert_exists(const char *dir, const char *name, gboolean exists)
{
    g_autofree char *path = path_in(dir, name);
    if (g_file_test(path, G_FILE_TEST_EXISTS) != exists)
        fail_msg("%s %s", path, exists ? "is missing" : "should be gone");
}

/* ---- sf_run_slide in a child, stopped or disturbed at a step ------------- */

typedef struct step_plan {
    int report_fd;          /* each step's name, one per line, and the error */
    const char *kill_at;    /* SIGKILL at this step */
    const char *disturb_at; /* call disturb() at this step */
    void (*disturb)(const char *slide);
    const char *slide;
} step_plan;

static void on_step(const char *step, void *data)
{
    const step_plan *plan = data;
    if (plan->report_fd >= 0) {
        g_autofree char *line = g_strconcat(step, "\n", NULL);
        (void)!write(plan->report_fd, line, strlen(line));
    }
    if (plan->disturb_at && !strcmp(step, plan->disturb_at))
        plan->disturb(plan->slide);
    if (plan->kill_at && !strcmp(step, plan->kill_at))
        raise(SIGKILL);
}

/* The run parameters of the tests: small overview and fragments, every
 * piece kept, and `padding` overview pixels, which moves every box and so
 * renames every fragment. Runs in the child: no cmocka assertion, whose
 * failure would jump back into the child's copy of the test runner. */
static gboolean test_params(sf_run_params *params, const char *padding, GError **error)
{
    sf_run_params_default(params);
    params->threads = 2;
    return sf_run_params_set(params, "max-size", "256", error) &&
           sf_run_params_set(params, "min-area", "0", error) &&
           sf_run_params_set(params, "fragment-max-size", "128", error) &&
           sf_run_params_set(params, "padding", padding, error);
}

/* Runs one slide into `dir` in a child process following `plan` (the
 * plan's report_fd is filled in here); returns the exit code (128 + signal
 * when killed) and, when `report` is not NULL, what the child reported. */
static int run_in_child(const char *slide, const char *dir, const char *padding, step_plan plan,
                        char **report)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        plan.report_fd = fds[1];
        plan.slide = slide;
        sf_run_set_step_hook(on_step, &plan);
        sf_run_params params;
        GError *error = NULL;
        sf_run_result result = {0};
        int code = SF_EXIT_OK;
        if (!test_params(&params, padding, &error) ||
            !sf_run_slide(slide, dir, &params, &result, &error)) {
            g_autofree char *line = g_strdup_printf("error: %s\n", error->message);
            (void)!write(fds[1], line, strlen(line));
            code = error->code;
        }
        _exit(code);
    }
    close(fds[1]);
    GString *text = g_string_new(NULL);
    char buffer[4096];
    ssize_t n;
    while ((n = read(fds[0], buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            g_string_append_len(text, buffer, n);
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (report)
        *report = g_string_free(text, FALSE);
    else
        g_string_free(text, TRUE);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void run_ok(const char *slide, const char *dir, const char *padding)
{
    g_autofree char *report = NULL;
    int code = run_in_child(slide, dir, padding, (step_plan){0}, &report);
    if (code != 0)
        fail_msg("exit %d: %s", code, report);
}

/* The fragment names a finished folder's manifest lists. */
static GHashTable *listed_fragments(const char *dir)
{
    g_autoptr(sf_manifest) manifest = test_assert_slide_folder_finished(dir);
    GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (size_t i = 0; i < manifest->n_regions; i++)
        g_hash_table_add(names, g_strdup(manifest->regions[i].fragment_name));
    return names;
}

/* ---- Only what slidefrag wrote is removed -------------------------------- */

/* Files a user keeps in the slide folder and its fragments folder: other
 * pictures, another slide's fragments, a name of this slide no manifest
 * lists, and temporary-looking names of files slidefrag does not write
 * survive a run and a rerun; the temporary files of slidefrag's own
 * outputs go. */
static void test_user_files_survive(void **state)
{
    (void)state;
    g_autofree char *slide = test_fixture(STEM ".svs");
    g_autofree char *out = new_dir("user-files");
    g_autofree char *dir = path_in(out, STEM);
    g_autofree char *fragments = path_in(dir, "fragments");
    assert_int_equal(g_mkdir_with_parents(fragments, 0755), 0);
    static const char *const kept[] = {
        "holiday.jpg",
        "other-slide__x0_y0_w10_h10.jpg",
        STEM "__x1_y1_w5_h5.jpg",
        ".holiday.jpg.AbC123.part",
        "notes.part",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(kept); i++) {
        g_autofree char *path = path_in(fragments, kept[i]);
        test_write_text(path, "the user's");
    }
    g_autofree char *own_part = path_in(fragments, "." STEM "__x7_y7_w5_h5.jpg.XyZ789.part");
    g_autofree char *own_overview_part = path_in(dir, ".overview.jpg.Qw3rty.part");
    g_autofree char *user_part = path_in(dir, ".notes.txt.AbC123.part");
    test_write_text(own_part, "half");
    test_write_text(own_overview_part, "half");
    test_write_text(user_part, "the user's");

    const char *padding[] = {"0", "9"};
    for (int round = 0; round < 2; round++) {
        const char *argv[] = {"run",
                              slide,
                              "-o",
                              out,
                              "--max-size",
                              "256",
                              "--min-area",
                              "0",
                              "--padding",
                              padding[round],
                              "--fragment-max-size",
                              "128",
                              NULL};
        g_autofree char *err = NULL;
        int code = test_run_slidefrag(argv, NULL, &err);
        if (code != 0)
            fail_msg("exit %d: %s", code, err);
        for (size_t i = 0; i < G_N_ELEMENTS(kept); i++)
            assert_exists(fragments, kept[i], TRUE);
        assert_false(g_file_test(own_part, G_FILE_TEST_EXISTS));
        assert_false(g_file_test(own_overview_part, G_FILE_TEST_EXISTS));
        assert_true(g_file_test(user_part, G_FILE_TEST_EXISTS));
    }
    /* The second run removed the first run's fragments, and only those:
     * what is left is the second manifest's fragments and the user's. */
    g_autofree char *manifest_path = path_in(dir, "manifest.json");
    g_autoptr(sf_manifest) manifest = sf_manifest_load(manifest_path, NULL);
    assert_non_null(manifest);
    g_autoptr(GPtrArray) expected = g_ptr_array_new();
    for (size_t i = 0; i < G_N_ELEMENTS(kept); i++)
        g_ptr_array_add(expected, (char *)kept[i]);
    for (size_t i = 0; i < manifest->n_regions; i++)
        g_ptr_array_add(expected, manifest->regions[i].fragment_name);
    g_ptr_array_sort(expected, sf_compare_string_ptrs);
    g_ptr_array_add(expected, NULL);
    g_autofree char *wanted = g_strjoinv("|", (char **)expected->pdata);
    g_autofree char *entries = test_dir_entries(fragments);
    assert_string_equal(entries, wanted);
}

/* A manifest edited to list files outside the fragments folder, or names
 * that are not this slide's fragments: none of them is removed. */
static void test_manifest_names_outside_are_not_removed(void **state)
{
    (void)state;
    g_autofree char *slide = test_fixture(STEM ".svs");
    g_autofree char *out = new_dir("edited-manifest");
    g_autofree char *dir = path_in(out, STEM);
    run_ok(slide, dir, "0");
    g_autofree char *victims = path_in(out, "victims");
    assert_int_equal(g_mkdir_with_parents(victims, 0755), 0);
    g_autofree char *victim = path_in(victims, STEM "__x0_y0_w5_h5.jpg");
    g_autofree char *fragments = path_in(dir, "fragments");
    g_autofree char *other = path_in(fragments, "other__x0_y0_w5_h5.jpg");
    g_autofree char *padded = path_in(fragments, STEM "__x00_y0_w5_h5.jpg");
    test_write_text(victim, "the user's");
    test_write_text(other, "the user's");
    test_write_text(padded, "the user's");

    /* Three more regions listing the three files. */
    g_autofree char *manifest_path = path_in(dir, "manifest.json");
    g_autoptr(JsonParser) parser = json_parser_new();
    assert_true(json_parser_load_from_file(parser, manifest_path, NULL));
    JsonObject *root = json_node_get_object(json_parser_get_root(parser));
    JsonArray *regions = json_object_get_array_member(root, "regions");
    static const char *const files[] = {"fragments/../../victims/" STEM "__x0_y0_w5_h5.jpg",
                                        "fragments/other__x0_y0_w5_h5.jpg",
                                        "fragments/" STEM "__x00_y0_w5_h5.jpg"};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *region =
            g_strdup_printf("{\"id\": %zu, \"level0\": {\"x\": 0, \"y\": 0, \"w\": 5, \"h\": 5},"
                            " \"fragment\": {\"file\": \"%s\", \"width\": 5, \"height\": 5}}",
                            10 + i, files[i]);
        json_array_add_element(regions, json_from_string(region, NULL));
    }
    g_autofree char *edited = json_to_string(json_parser_get_root(parser), TRUE);
    test_write_text(manifest_path, edited);
    g_autoptr(sf_manifest) check = sf_manifest_load(manifest_path, NULL);
    assert_non_null(check);

    run_ok(slide, dir, "9");
    assert_true(g_file_test(victim, G_FILE_TEST_EXISTS));
    assert_true(g_file_test(other, G_FILE_TEST_EXISTS));
    assert_true(g_file_test(padded, G_FILE_TEST_EXISTS));
}

/* A fragments folder, or a slide folder, that is a symbolic link (here to
 * a folder outside OUTDIR holding the user's pictures): refused with exit
 * 6 naming the link, and nothing in the linked folder is touched. */
static void check_symlink_refused(const char *link_name)
{
    g_autofree char *slide = test_fixture(STEM ".svs");
    g_autofree char *top = new_dir(link_name);
    g_autofree char *elsewhere = path_in(top, "elsewhere");
    g_autofree char *out = path_in(top, "out");
    g_autofree char *dir = path_in(out, STEM);
    assert_int_equal(g_mkdir_with_parents(elsewhere, 0755), 0);
    assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
    static const char *const files[] = {"holiday.jpg", STEM "__x0_y0_w5_h5.jpg",
                                        "." STEM "__x0_y0_w5_h5.jpg.AbC123.part",
                                        ".overview.jpg.AbC123.part"};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = path_in(elsewhere, files[i]);
        test_write_text(path, "the user's");
    }
    g_autofree char *before = test_dir_entries(elsewhere);
    g_autofree char *link =
        !strcmp(link_name, "fragments") ? path_in(dir, "fragments") : g_strdup(dir);
    if (strcmp(link_name, "fragments"))
        assert_int_equal(g_rmdir(dir), 0);
    assert_int_equal(symlink(elsewhere, link), 0);

    const char *argv[] = {"run", slide, "-o", out, "--max-size", "256", NULL};
    g_autofree char *err = NULL;
    int code = test_run_slidefrag(argv, NULL, &err);
    if (code != SF_EXIT_OUTPUT)
        fail_msg("exit %d, expected 6: %s", code, err);
    test_assert_contains(err, link);
    test_assert_contains(err, "symbolic link");
    g_autofree char *after = test_dir_entries(elsewhere);
    assert_string_equal(after, before);
    /* batch refuses it the same way, and its cleaning touches nothing. */
    const char *batch[] = {"batch", slide, "-o", out, "--max-size", "256", "--quiet", NULL};
    g_free(err);
    err = NULL;
    assert_int_equal(test_run_slidefrag(batch, NULL, &err), SF_EXIT_SOME_FAILED);
    g_autofree char *after_batch = test_dir_entries(elsewhere);
    assert_string_equal(after_batch, before);
}

static void test_symlinked_fragments_folder_refused(void **state)
{
    (void)state;
    check_symlink_refused("fragments");
}

static void test_symlinked_slide_folder_refused(void **state)
{
    (void)state;
    check_symlink_refused("slide-folder");
}

/* ---- Killed at any step: finished means consistent ----------------------- */

/*
 * A run over an earlier run's folder (other padding, so other fragment
 * names), killed at each of its steps in turn. Whenever a manifest is
 * there, it lists exactly the fragments on disk (so batch --resume may
 * trust it); and a later run, with yet other names, leaves only its own
 * fragments: those of the earlier run and of the killed one are gone.
 */
static void test_killed_at_every_step(void **state)
{
    (void)state;
    g_autofree char *slide = test_fixture(STEM ".svs");
    g_autofree char *out = new_dir("killed");
    g_autofree char *dir = path_in(out, STEM);

    /* The steps a rerun goes through. */
    run_ok(slide, dir, "0");
    g_autofree char *report = NULL;
    assert_int_equal(run_in_child(slide, dir, "9", (step_plan){0}, &report), 0);
    g_auto(GStrv) steps = g_strsplit(g_strstrip(report), "\n", -1);
    assert_true(g_strv_length(steps) >= 4);

    for (char **step = steps; *step; step++) {
        test_remove_tree(dir);
        run_ok(slide, dir, "0");
        g_autoptr(GHashTable) first = listed_fragments(dir);
        int code = run_in_child(slide, dir, "9", (step_plan){.kill_at = *step}, NULL);
        assert_int_equal(code, 128 + SIGKILL);
        g_autofree char *manifest_path = path_in(dir, "manifest.json");
        if (g_file_test(manifest_path, G_FILE_TEST_EXISTS)) {
            print_message("killed at %s: finished\n", *step);
            g_autoptr(sf_manifest) manifest = test_assert_slide_folder_finished(dir);
        } else {
            print_message("killed at %s: unfinished\n", *step);
        }
        run_ok(slide, dir, "4");
        g_autoptr(GHashTable) last = listed_fragments(dir);
        GHashTableIter iter;
        gpointer name;
        g_hash_table_iter_init(&iter, first);
        while (g_hash_table_iter_next(&iter, &name, NULL))
            assert_false(g_hash_table_contains(last, name));
        /* Nothing but the outputs is left in the slide folder. */
        g_autofree char *entries = test_dir_entries(dir);
        assert_string_equal(entries,
                            "boxes.jpg|fragments|manifest.json|mask.png|overview.jpg|report.html");
    }
}

/* ---- A slide file that changes during its run ----------------------------- */

static char *replacement;

static void replace_slide(const char *slide)
{
    if (g_rename(replacement, slide) != 0)
        _exit(99);
}

static void touch_slide(const char *slide)
{
    struct timeval times[2] = {{1000000000, 0}, {1000000000, 0}};
    if (utimes(slide, times) != 0)
        _exit(99);
}

static void check_slide_changed(const char *step, void (*disturb)(const char *))
{
    g_autofree char *in = new_dir("changed-in");
    g_autofree char *out = new_dir("changed-out");
    test_copy_fixture(STEM ".svs", in, "slide.svs");
    /* The same pixels in another file: only the file stamp can tell. */
    test_copy_fixture(STEM ".svs", in, "other.svs");
    g_autofree char *slide = path_in(in, "slide.svs");
    replacement = path_in(in, "other.svs");
    g_autofree char *dir = path_in(out, "slide");
    g_autofree char *report = NULL;
    step_plan plan = {.disturb_at = step, .disturb = disturb};
    int code = run_in_child(slide, dir, "0", plan, &report);
    g_clear_pointer(&replacement, g_free);
    if (code != SF_EXIT_SLIDE_READ)
        fail_msg("exit %d, expected 5: %s", code, report);
    test_assert_contains(report, slide);
    test_assert_contains(report, "changed while");
    test_assert_slide_folder_unfinished(dir);
}

static void test_slide_replaced_during_run(void **state)
{
    (void)state;
    check_slide_changed("opened", replace_slide);
}

static void test_slide_modified_during_run(void **state)
{
    (void)state;
    check_slide_changed("fragments-written", touch_slide);
}

static int setup(void **state)
{
    (void)state;
    tmp_root = test_make_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_remove_tree(tmp_root);
    g_free(tmp_root);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_files_survive),
        cmocka_unit_test(test_manifest_names_outside_are_not_removed),
        cmocka_unit_test(test_symlinked_fragments_folder_refused),
        cmocka_unit_test(test_symlinked_slide_folder_refused),
        cmocka_unit_test(test_killed_at_every_step),
        cmocka_unit_test(test_slide_replaced_during_run),
        cmocka_unit_test(test_slide_modified_during_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
