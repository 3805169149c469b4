/* slidefrag tune on generated biopsy slides with known tissue boxes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "support.h"

static char *workdir;

/* Two slides from scripts/make-biopsy-slide: real tissue pieces, dust, a pen
 * line and a smudge on glass, with the true boxes beside them. */
static int make_slides(void **state)
{
    (void)state;
    workdir = test_make_tmpdir();
    g_autofree char *script =
        g_build_filename(SLIDEFRAG_SOURCE_DIR, "scripts", "make-biopsy-slide", NULL);
    for (int seed = 1; seed <= 2; seed++) {
        g_autofree char *slide = g_strdup_printf("%s/biopsy%d.svs", workdir, seed);
        g_autofree char *truth = g_strdup_printf("%s/truth/biopsy%d.json", workdir, seed);
        g_autofree char *truth_dir = g_path_get_dirname(truth);
        g_mkdir_with_parents(truth_dir, 0755);
        g_autofree char *seed_text = g_strdup_printf("%d", seed);
        const char *argv[] = {script,    "--out",   slide,  "--truth",  truth,  "--seed",
                              seed_text, "--width", "6000", "--height", "4500", NULL};
        int status = 0;
        g_autofree char *err = NULL;
        GError *error = NULL;
        if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                          &err, &status, &error) ||
            !g_spawn_check_wait_status(status, NULL))
            fail_msg("make-biopsy-slide failed: %s", error ? error->message : err);
    }
    return 0;
}

static int remove_slides(void **state)
{
    (void)state;
    test_remove_tree(workdir);
    g_free(workdir);
    return 0;
}

static double json_number(const char *text, const char *const *path)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, text, -1, NULL))
        fail_msg("not JSON: %s", text);
    JsonNode *node = json_parser_get_root(parser);
    for (; *path; path++)
        node = json_object_get_member(json_node_get_object(node), *path);
    assert_non_null(node);
    return json_node_get_double(node);
}

/* The base parameters' score as tune printed it. */
static double base_objective(const char *out)
{
    const char *line = strstr(out, "base: objective ");
    assert_non_null(line);
    return g_ascii_strtod(line + strlen("base: objective "), NULL);
}

static void test_tune_beats_defaults_and_run_reproduces(void **state)
{
    (void)state;
    g_autofree char *grid = g_build_filename(workdir, "grid.json", NULL);
    const char *grid_text = "{\"channel\": [\"red\", \"green\"], \"open\": [0, 3],"
                            " \"close\": [0, 15], \"gap\": [0, 8],"
                            " \"min-area-fraction\": [0.0002, 0.002]}";
    assert_true(g_file_set_contents(grid, grid_text, -1, NULL));
    g_autofree char *truth = g_build_filename(workdir, "truth", NULL);
    g_autofree char *best = g_build_filename(workdir, "best.json", NULL);
    g_autofree char *s1 = g_build_filename(workdir, "biopsy1.svs", NULL);
    g_autofree char *s2 = g_build_filename(workdir, "biopsy2.svs", NULL);
    const char *tune[] = {"tune", "--truth", truth, "--grid", grid, "--max-size",
                          "1024", "-o",      best,  s1,       s2,   NULL};
    g_autofree char *out = NULL, *err = NULL;
    int code = test_run_slidefrag(tune, &out, &err);
    if (code != 0)
        fail_msg("tune exit %d: %s", code, err);

    g_autofree char *best_text = NULL;
    assert_true(g_file_get_contents(best, &best_text, NULL, NULL));
    const char *objective_path[] = {"objective", NULL};
    double tuned = json_number(best_text, objective_path);
    double base = base_objective(out);
    assert_true(tuned <= base);
    /* The grid holds better sets than the defaults on these slides; if the
     * search stopped finding them this would fail. */
    assert_true(tuned < base);

    /* run --params with the result and eval of its manifests give the same
     * objective tune reported. */
    g_autofree char *run_out = g_build_filename(workdir, "run", NULL);
    const char *run[] = {"run", "--params", best, "-o", run_out, s1, s2, NULL};
    g_autofree char *run_err = NULL;
    code = test_run_slidefrag(run, NULL, &run_err);
    if (code != 0)
        fail_msg("run --params exit %d: %s", code, run_err);
    const char *eval[] = {"eval", "--truth", truth, "--pred", run_out, "--json", NULL};
    g_autofree char *eval_out = NULL, *eval_err = NULL;
    code = test_run_slidefrag(eval, &eval_out, &eval_err);
    if (code != 0)
        fail_msg("eval exit %d: %s", code, eval_err);
    const char *overall[] = {"overall", "objective", NULL};
    double reproduced = json_number(eval_out, overall);
    if (fabs(reproduced - tuned) > 1e-9)
        fail_msg("run --params scored %.9f, tune reported %.9f", reproduced, tuned);
}

/* Runs the two slides with `option` (or none) and scores them: eval --json. */
static char *run_and_eval(const char *name, const char *option)
{
    g_autofree char *out = g_build_filename(workdir, name, NULL);
    g_autofree char *s1 = g_build_filename(workdir, "biopsy1.svs", NULL);
    g_autofree char *s2 = g_build_filename(workdir, "biopsy2.svs", NULL);
    const char *run[] = {"run", "--max-size", "1024", "-o", out, s1, s2, option, NULL};
    g_autofree char *err = NULL;
    int code = test_run_slidefrag(run, NULL, &err);
    if (code != 0)
        fail_msg("run exit %d: %s", code, err);
    g_autofree char *truth = g_build_filename(workdir, "truth", NULL);
    const char *eval[] = {"eval", "--truth", truth, "--pred", out, "--json", NULL};
    char *eval_out = NULL;
    g_autofree char *eval_err = NULL;
    code = test_run_slidefrag(eval, &eval_out, &eval_err);
    if (code != 0)
        fail_msg("eval exit %d: %s", code, eval_err);
    return eval_out;
}

/* Each generated slide has a blue or green pen line, which the red channel
 * takes for tissue: one false region per slide. --remove-ink drops exactly
 * those and keeps every region that matched the truth. */
static void test_remove_ink_drops_pen_lines(void **state)
{
    (void)state;
    g_autofree char *plain = run_and_eval("plain", NULL);
    g_autofree char *inkless = run_and_eval("inkless", "--remove-ink");
    const char *fp[] = {"overall", "false_positives", NULL};
    const char *tp[] = {"overall", "true_positives", NULL};
    assert_true(json_number(plain, fp) >= 2);
    assert_true(json_number(inkless, fp) == 0);
    assert_true(json_number(inkless, tp) == json_number(plain, tp));
}

static void test_tune_errors(void **state)
{
    (void)state;
    g_autofree char *truth = g_build_filename(workdir, "truth", NULL);
    g_autofree char *best = g_build_filename(workdir, "never.json", NULL);
    g_autofree char *slide = test_fixture("small.svs");
    /* A slide without truth boxes. */
    const char *no_truth[] = {"tune", "--truth", truth, "-o", best, slide, NULL};
    g_autofree char *err = NULL;
    assert_int_equal(test_run_slidefrag(no_truth, NULL, &err), 3);
    assert_non_null(strstr(err, "small"));
    assert_false(g_file_test(best, G_FILE_TEST_EXISTS));
    /* A grid naming an unknown parameter. */
    g_autofree char *grid = g_build_filename(workdir, "bad-grid.json", NULL);
    assert_true(g_file_set_contents(grid, "{\"colour\": [\"red\"]}", -1, NULL));
    g_autofree char *s1 = g_build_filename(workdir, "biopsy1.svs", NULL);
    const char *bad_grid[] = {"tune", "--truth", truth, "--grid", grid, "-o", best, s1, NULL};
    g_autofree char *err2 = NULL;
    assert_int_equal(test_run_slidefrag(bad_grid, NULL, &err2), 8);
    assert_non_null(strstr(err2, "colour"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tune_beats_defaults_and_run_reproduces),
        cmocka_unit_test(test_remove_ink_drops_pen_lines),
        cmocka_unit_test(test_tune_errors),
    };
    return cmocka_run_group_tests(tests, make_slides, remove_slides);
}
