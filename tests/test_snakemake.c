/*
 * The Snakemake example as documented (scripts/snakemake-config.yaml), from
 * a fresh copy of the files a clone has: the dry run plans a job for the
 * example slide list's slide, and the real run writes its folder and the
 * summary with slidefrag found on PATH; without it, every job fails saying
 * how to fix it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "support.h"

/* What a clone has that the example uses, at the same relative places. */
static char *fresh_tree(void)
{
    char *root = test_make_tmpdir();
    const char *files[] = {"scripts/Snakefile", "scripts/snakemake-config.yaml",
                           "scripts/example-slides.txt", "fixtures/cmu-1-small-region.svs"};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *from = g_build_filename(SLIDEFRAG_SOURCE_DIR, files[i], NULL);
        g_autofree char *to = g_build_filename(root, files[i], NULL);
        g_autofree char *dir = g_path_get_dirname(to);
        g_mkdir_with_parents(dir, 0755);
        g_autofree char *data = NULL;
        gsize length = 0;
        assert_true(g_file_get_contents(from, &data, &length, NULL));
        assert_true(g_file_set_contents(to, data, (gssize)length, NULL));
    }
    return root;
}

/* PATH without any slidefrag on it, or with the built one first. */
static char **environment(gboolean with_slidefrag)
{
    char **env = g_get_environ();
    const char *path = g_environ_getenv(env, "PATH");
    GString *kept = g_string_new(NULL);
    if (with_slidefrag) {
        g_autofree char *bin = g_path_get_dirname(SLIDEFRAG_BINARY);
        g_string_append(kept, bin);
    }
    g_auto(GStrv) dirs = g_strsplit(path ? path : "/usr/bin:/bin", ":", -1);
    for (char **dir = dirs; *dir; dir++) {
        g_autofree char *candidate = g_build_filename(*dir, "slidefrag", NULL);
        if (g_file_test(candidate, G_FILE_TEST_EXISTS))
            continue;
        g_string_append_printf(kept, "%s%s", kept->len ? ":" : "", *dir);
    }
    env = g_environ_setenv(env, "PATH", kept->str, TRUE);
    g_string_free(kept, TRUE);
    return env;
}

/* The documented command, with `extra` arguments. */
static int snakemake(const char *root, gboolean with_slidefrag, const char *extra, char **out,
                     char **err)
{
    const char *argv[] = {
        "snakemake", "-s", "scripts/Snakefile", "--configfile", "scripts/snakemake-config.yaml",
        "--cores",   "2",  "--keep-going",      extra,          NULL};
    g_auto(GStrv) env = environment(with_slidefrag);
    return test_run(argv, root, (const char *const *)env, out, err);
}

static void test_dry_run_plans_the_example_slide(void **state)
{
    (void)state;
    g_autofree char *root = fresh_tree();
    g_autofree char *out = NULL, *err = NULL;
    int code = snakemake(root, FALSE, "-n", &out, &err);
    if (code != 0)
        fail_msg("snakemake -n: exit %d\n%s%s", code, out, err);
    g_autofree char *all = g_strconcat(out, err, NULL);
    assert_non_null(strstr(all, "cmu-1-small-region/manifest.json"));
    assert_non_null(strstr(all, "rule slide:"));
    /* Nothing ran. */
    g_autofree char *outdir = g_build_filename(root, "slidefrag-out", "cmu-1-small-region", NULL);
    assert_false(g_file_test(outdir, G_FILE_TEST_EXISTS));
    test_remove_tree(root);
}

static void test_runs_with_slidefrag_on_path(void **state)
{
    (void)state;
    g_autofree char *root = fresh_tree();
    g_autofree char *out = NULL, *err = NULL;
    int code = snakemake(root, TRUE, "--quiet", &out, &err);
    if (code != 0)
        fail_msg("snakemake: exit %d\n%s%s", code, out, err);
    g_autofree char *manifest =
        g_build_filename(root, "slidefrag-out", "cmu-1-small-region", "manifest.json", NULL);
    assert_true(g_file_test(manifest, G_FILE_TEST_IS_REGULAR));
    g_autofree char *summary = g_build_filename(root, "slidefrag-out", "summary.json", NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    assert_true(json_parser_load_from_file(parser, summary, NULL));
    JsonObject *counts =
        json_object_get_object_member(json_node_get_object(json_parser_get_root(parser)), "counts");
    assert_int_equal(json_object_get_int_member(counts, "ok"), 1);
    assert_int_equal(json_object_get_int_member(counts, "total"), 1);
    test_remove_tree(root);
}

static void test_without_slidefrag_the_jobs_say_so(void **state)
{
    (void)state;
    g_autofree char *root = fresh_tree();
    g_autofree char *out = NULL, *err = NULL;
    int code = snakemake(root, FALSE, "--quiet", &out, &err);
    assert_int_not_equal(code, 0);
    assert_non_null(strstr(err, "is not on PATH here"));
    g_autofree char *summary = g_build_filename(root, "slidefrag-out", "summary.csv", NULL);
    g_autofree char *csv = NULL;
    assert_true(g_file_get_contents(summary, &csv, NULL, NULL));
    if (!strstr(csv, "failed,cannot run slidefrag: not found on PATH"))
        fail_msg("summary.csv:\n%s", csv);
    /* The slide's folder was never written: its row names none. */
    g_auto(GStrv) rows = g_strsplit(csv, "\r\n", -1);
    assert_non_null(rows[1]);
    if (!g_str_has_suffix(rows[1], ","))
        fail_msg("the failed slide's row names a folder: %s", rows[1]);
    g_autofree char *folder = g_build_filename(root, "slidefrag-out", "cmu-1-small-region", NULL);
    assert_false(g_file_test(folder, G_FILE_TEST_EXISTS));
    test_remove_tree(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dry_run_plans_the_example_slide),
        cmocka_unit_test(test_runs_with_slidefrag_on_path),
        cmocka_unit_test(test_without_slidefrag_the_jobs_say_so),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
