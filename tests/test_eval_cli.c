/* slidefrag eval end to end: box files in, scores out, errors named. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "slidefrag/error.h"

static void write_file(const char *dir, const char *name, const char *text)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *parent = g_path_get_dirname(path);
    assert_int_equal(g_mkdir_with_parents(parent, 0755), 0);
    assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void assert_near(double actual, double expected)
{
    if (!(fabs(actual - expected) <= 1e-12 * (1.0 + fabs(expected))))
        fail_msg("got %.17g, expected %.17g", actual, expected);
}

/* Runs eval with --json and returns the parsed document's root object. */
static JsonParser *run_json(const char *const *argv, char **err)
{
    char *out = NULL;
    int status = test_run_slidefrag(argv, &out, err);
    if (status != 0)
        fail_msg("exit %d: %s", status, err && *err ? *err : "");
    JsonParser *parser = json_parser_new();
    GError *error = NULL;
    if (!json_parser_load_from_data(parser, out, -1, &error))
        fail_msg("not JSON (%s): %s", error->message, out);
    g_free(out);
    return parser;
}

static JsonObject *root_of(JsonParser *parser)
{
    return json_node_get_object(json_parser_get_root(parser));
}

static JsonObject *slide_at(JsonObject *root, guint i)
{
    return json_array_get_object_element(json_object_get_array_member(root, "slides"), i);
}

static double num(JsonObject *o, const char *name)
{
    assert_true(json_object_has_member(o, name));
    return json_object_get_double_member(o, name);
}

static int64_t integer(JsonObject *o, const char *name)
{
    assert_true(json_object_has_member(o, name));
    return json_object_get_int_member(o, name);
}

/*
 * The case where greedy matching fails (tests/test_score.c): truth
 * A = (0,0,6,10), B = (0,0,10,5); predictions P = (0,0,10,10) as a GeoJSON
 * Polygon and Q = (0,5,6,5) as a MultiPolygon. Optimal: A-Q and B-P, IoU
 * 0.5 each. loss 1; penalty 30 / 130 = 3/13; at lambda 2 the objective is
 * 1 + 6/13.
 */
static void test_two_files(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    write_file(dir, "truth.json", "[[0, 0, 6, 10], [0, 0, 10, 5]]");
    write_file(dir, "pred.geojson",
               "{\"type\": \"FeatureCollection\", \"features\": ["
               "{\"type\": \"Feature\", \"properties\": {\"objectType\": \"annotation\"},"
               " \"geometry\": {\"type\": \"Polygon\", \"coordinates\":"
               " [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]}},"
               "{\"type\": \"Feature\", \"properties\": {},"
               " \"geometry\": {\"type\": \"MultiPolygon\", \"coordinates\":"
               " [[[[0, 5], [6, 5], [6, 10], [0, 10], [0, 5]]]]}}]}");
    g_autofree char *truth = g_build_filename(dir, "truth.json", NULL);
    g_autofree char *pred = g_build_filename(dir, "pred.geojson", NULL);

    const char *argv[] = {"eval",   "--truth",  truth, "--pred", pred,
                          "--json", "--lambda", "2",   NULL};
    g_autofree char *err = NULL;
    g_autoptr(JsonParser) parser = run_json(argv, &err);
    JsonObject *root = root_of(parser);
    assert_near(num(root, "lambda"), 2.0);
    assert_near(num(root, "iou_threshold"), 0.5);
    JsonObject *s = slide_at(root, 0);
    assert_string_equal(json_object_get_string_member(s, "truth_format"), "list");
    assert_string_equal(json_object_get_string_member(s, "pred_format"), "geojson");
    assert_false(json_object_get_boolean_member(s, "missing_prediction"));
    assert_int_equal(integer(s, "n_truth"), 2);
    assert_int_equal(integer(s, "n_pred"), 2);
    assert_int_equal(integer(s, "true_positives"), 2);
    assert_near(num(s, "mean_iou"), 0.5);
    assert_near(num(s, "precision"), 1.0);
    assert_near(num(s, "recall"), 1.0);
    assert_near(num(s, "f1"), 1.0);
    assert_near(num(s, "loss"), 1.0);
    assert_near(num(s, "penalty"), 3.0 / 13.0);
    assert_near(num(s, "objective"), 1.0 + 6.0 / 13.0);
    JsonArray *matches = json_object_get_array_member(s, "matches");
    assert_int_equal(json_array_get_length(matches), 2);
    assert_int_equal(json_object_get_int_member(json_array_get_object_element(matches, 0), "pred"),
                     1);
    assert_int_equal(json_object_get_int_member(json_array_get_object_element(matches, 1), "pred"),
                     0);
    JsonArray *q =
        json_object_get_array_member(json_array_get_object_element(matches, 0), "pred_box");
    assert_int_equal(json_array_get_int_element(q, 0), 0);
    assert_int_equal(json_array_get_int_element(q, 1), 5);
    assert_int_equal(json_array_get_int_element(q, 2), 6);
    assert_int_equal(json_array_get_int_element(q, 3), 5);
    JsonObject *overall = json_object_get_object_member(root, "overall");
    assert_int_equal(integer(overall, "n_slides"), 1);
    assert_near(num(overall, "objective"), 1.0 + 6.0 / 13.0);

    /* The table says the same in text. */
    const char *text_argv[] = {"eval", "-t", truth, "-p", pred, NULL};
    g_autofree char *out = NULL;
    assert_int_equal(test_run_slidefrag(text_argv, &out, NULL), 0);
    test_assert_contains(out, "mean IoU");
    test_assert_contains(out, "truth ");
    test_assert_contains(out, "1.2308"); /* 1 + 3/13 at lambda 1 */
    test_assert_contains(out, "overall (1 slide)");
    test_remove_tree(dir);
}

static const char *manifest_a =
    "{\"schema\": \"slidefrag.manifest/1\","
    " \"slide\": {\"path\": \"/data/a.svs\", \"name\": \"a\", \"width\": 1000, \"height\": 1000},"
    " \"regions\": ["
    "  {\"id\": 0, \"level0\": {\"x\": 5, \"y\": 0, \"w\": 10, \"h\": 10},"
    "   \"fragment\": {\"file\": \"fragments/a__x5_y0_w10_h10.jpg\", \"width\": 10, \"height\": "
    "10}},"
    "  {\"id\": 1, \"level0\": {\"x\": 0, \"y\": 0, \"w\": 10, \"h\": 10},"
    "   \"fragment\": {\"file\": \"fragments/a__x0_y0_w10_h10.jpg\", \"width\": 10, \"height\": "
    "10}},"
    "  {\"id\": 2, \"level0\": {\"x\": 200, \"y\": 200, \"w\": 4, \"h\": 4},"
    "   \"fragment\": {\"file\": \"fragments/a__x200_y200_w4_h4.jpg\", \"width\": 4, \"height\": "
    "4}}"
    "]}";

/*
 * Folders, matched by stem:
 *  a: truth (0,0,10,10), (100,100,10,10); predictions from a manifest in
 *     folder "a-0badc0de" (slide.name "a"): (5,0,10,10), (0,0,10,10),
 *     (200,200,4,4). T1 takes the exact box (IoU 1); T2 meets nothing.
 *     TP 1, FP 2, FN 1, loss 0 + 1 + 2 = 3, penalty 50 / 216.
 *  b: truth from GeoJSON features: a Point (5,5) -> (5,5,1,1) and a
 *     LineString (20,20)-(30,25) -> (20,20,10,5); prediction (20,20,10,5).
 *     TP 1, FN 1, loss 1, penalty 0.
 *  c: truth of 2 boxes, no prediction: FN 2, loss 2.
 *  Overall: truth 6, pred 4, TP 2, FP 2, FN 4; mean IoU (1 + 1) / 6 = 1/3;
 *  P 2/4, R 2/6, F1 4 / (4 + 2 + 4) = 0.4; loss 6; objective 6 + 50/216.
 */
static void test_folders(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *truth = g_build_filename(dir, "truth", NULL);
    g_autofree char *pred = g_build_filename(dir, "pred", NULL);
    write_file(truth, "a.json", "[[0, 0, 10, 10], [100, 100, 10, 10]]");
    write_file(truth, "b.svs.geojson",
               "[{\"type\": \"Feature\", \"geometry\": {\"type\": \"Point\", \"coordinates\":"
               " [5, 5]}},"
               " {\"type\": \"Feature\", \"geometry\": null},"
               " {\"type\": \"Feature\", \"geometry\": {\"type\": \"GeometryCollection\","
               "  \"geometries\": [{\"type\": \"LineString\", \"coordinates\":"
               "  [[20, 20], [30, 25]]}]}}]");
    write_file(truth, "c.json", "[[0, 0, 5, 5], [50, 50, 5, 5]]");
    write_file(truth, "notes.txt", "not boxes");
    write_file(pred, "a-0badc0de/manifest.json", manifest_a);
    write_file(pred, "b.json", "[[20, 20, 10, 5]]");
    write_file(pred, "summary.json", "{\"slides\": 3}");
    write_file(pred, "z.json", "[[0, 0, 1, 1]]");

    const char *argv[] = {"eval", "--truth", truth, "--pred", pred, "--json", NULL};
    g_autofree char *err = NULL;
    g_autoptr(JsonParser) parser = run_json(argv, &err);
    JsonObject *root = root_of(parser);
    assert_int_equal(json_array_get_length(json_object_get_array_member(root, "slides")), 3);

    JsonObject *a = slide_at(root, 0);
    assert_string_equal(json_object_get_string_member(a, "slide"), "a");
    assert_string_equal(json_object_get_string_member(a, "pred_format"), "manifest");
    assert_int_equal(integer(a, "true_positives"), 1);
    assert_int_equal(integer(a, "false_positives"), 2);
    assert_int_equal(integer(a, "false_negatives"), 1);
    assert_near(num(a, "mean_iou"), 0.5);
    assert_near(num(a, "loss"), 3.0);
    assert_near(num(a, "penalty"), 50.0 / 216.0);
    assert_near(num(a, "objective"), 3.0 + 50.0 / 216.0);
    JsonArray *unmatched = json_object_get_array_member(a, "unmatched_predictions");
    assert_int_equal(json_array_get_length(unmatched), 2);
    assert_int_equal(json_array_get_int_element(unmatched, 0), 0);
    assert_int_equal(json_array_get_int_element(unmatched, 1), 2);

    JsonObject *b = slide_at(root, 1);
    assert_string_equal(json_object_get_string_member(b, "slide"), "b");
    assert_string_equal(json_object_get_string_member(b, "truth_format"), "geojson");
    assert_int_equal(integer(b, "n_truth"), 2);
    assert_int_equal(integer(b, "true_positives"), 1);
    assert_near(num(b, "mean_iou"), 0.5);
    assert_near(num(b, "loss"), 1.0);
    JsonArray *bm = json_object_get_array_member(b, "matches");
    JsonArray *point =
        json_object_get_array_member(json_array_get_object_element(bm, 0), "truth_box");
    assert_int_equal(json_array_get_int_element(point, 0), 5);
    assert_int_equal(json_array_get_int_element(point, 2), 1);
    assert_int_equal(json_array_get_int_element(point, 3), 1);
    assert_true(json_object_get_null_member(json_array_get_object_element(bm, 0), "pred"));
    assert_near(json_object_get_double_member(json_array_get_object_element(bm, 1), "iou"), 1.0);

    JsonObject *c = slide_at(root, 2);
    assert_string_equal(json_object_get_string_member(c, "slide"), "c");
    assert_true(json_object_get_boolean_member(c, "missing_prediction"));
    assert_true(json_object_get_null_member(c, "pred_file"));
    assert_int_equal(integer(c, "false_negatives"), 2);
    assert_near(num(c, "recall"), 0.0);
    assert_near(num(c, "loss"), 2.0);

    JsonObject *o = json_object_get_object_member(root, "overall");
    assert_int_equal(integer(o, "n_slides"), 3);
    assert_int_equal(integer(o, "n_truth"), 6);
    assert_int_equal(integer(o, "n_pred"), 4);
    assert_int_equal(integer(o, "true_positives"), 2);
    assert_int_equal(integer(o, "false_positives"), 2);
    assert_int_equal(integer(o, "false_negatives"), 4);
    assert_near(num(o, "mean_iou"), 1.0 / 3.0);
    assert_near(num(o, "precision"), 0.5);
    assert_near(num(o, "recall"), 1.0 / 3.0);
    assert_near(num(o, "f1"), 0.4);
    assert_near(num(o, "loss"), 6.0);
    assert_near(num(o, "objective"), 6.0 + 50.0 / 216.0);

    /* What did not pair is said, in the document and on stderr. */
    g_autofree char *notes = json_to_string(json_object_get_member(root, "notes"), FALSE);
    test_assert_contains(notes, "no prediction for slide c");
    test_assert_contains(notes, "no truth for slide z");
    test_assert_contains(notes, "summary.json: not a box file, ignored");
    test_assert_contains(err, "no prediction for slide c");

    const char *text_argv[] = {"eval", "--truth", truth, "--pred", pred, NULL};
    g_autofree char *out = NULL;
    assert_int_equal(test_run_slidefrag(text_argv, &out, NULL), 0);
    test_assert_contains(out, "overall (3 slides)");
    test_assert_contains(out, "note: no prediction for slide c");
    test_remove_tree(dir);
}

/* Runs eval expecting failure; the message must name `file`. */
static void expect_error(const char *truth, const char *pred, int code, const char *file,
                         const char *cause)
{
    const char *argv[] = {"eval", "--truth", truth, "--pred", pred, NULL};
    g_autofree char *err = NULL;
    int status = test_run_slidefrag(argv, NULL, &err);
    if (status != code)
        fail_msg("exit %d, expected %d: %s", status, code, err);
    test_assert_contains(err, file);
    test_assert_contains(err, cause);
}

/* --ignore: a prediction on a crumb is left out of the score (no false
 * positive), and the JSON names it; matches keep the prediction's index in
 * its file. Without --ignore the same crumb is a false positive. */
static void test_ignore(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    write_file(dir, "truth/a.json", "[[100, 100, 50, 50]]");
    write_file(dir, "ignore/a.json", "[[0, 0, 20, 20]]");
    write_file(dir, "pred/a.json", "[[2, 2, 6, 6], [100, 100, 50, 50], [300, 300, 10, 10]]");
    g_autofree char *truth = g_build_filename(dir, "truth", NULL);
    g_autofree char *ignore = g_build_filename(dir, "ignore", NULL);
    g_autofree char *pred = g_build_filename(dir, "pred", NULL);

    const char *with[] = {"eval", "-t", truth, "-p", pred, "--ignore", ignore, "--json", NULL};
    g_autoptr(JsonParser) parser = run_json(with, NULL);
    JsonObject *s = slide_at(root_of(parser), 0);
    assert_int_equal(integer(s, "n_pred"), 2);
    assert_int_equal(integer(s, "false_positives"), 1);
    assert_near(num(s, "loss"), 1.0);
    JsonArray *ignored = json_object_get_array_member(s, "ignored_predictions");
    assert_int_equal(json_array_get_length(ignored), 1);
    assert_int_equal(json_array_get_int_element(ignored, 0), 0);
    JsonArray *unmatched = json_object_get_array_member(s, "unmatched_predictions");
    assert_int_equal(json_array_get_length(unmatched), 1);
    assert_int_equal(json_array_get_int_element(unmatched, 0), 2);
    JsonObject *m = json_array_get_object_element(json_object_get_array_member(s, "matches"), 0);
    assert_int_equal(integer(m, "pred"), 1);
    assert_near(num(m, "iou"), 1.0);

    const char *without[] = {"eval", "-t", truth, "-p", pred, "--json", NULL};
    g_autoptr(JsonParser) plain = run_json(without, NULL);
    s = slide_at(root_of(plain), 0);
    assert_int_equal(integer(s, "n_pred"), 3);
    assert_int_equal(integer(s, "false_positives"), 2);
    assert_near(num(s, "loss"), 2.0);

    /* A missing ignore file is an error naming it. */
    g_autofree char *missing = g_build_filename(dir, "nothing.json", NULL);
    const char *bad[] = {"eval", "-t", truth, "-p", pred, "--ignore", missing, NULL};
    g_autofree char *err = NULL;
    assert_int_equal(test_run_slidefrag(bad, NULL, &err), SF_EXIT_MISSING);
    test_assert_contains(err, "nothing.json");
    test_remove_tree(dir);
}

static void test_errors(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    write_file(dir, "good.json", "[[0, 0, 5, 5]]");
    write_file(dir, "broken.json", "[[0, 0, 5, 5]");
    write_file(dir, "shortbox.json", "[[0, 0, 5, 5], [1, 2, 3]]");
    write_file(dir, "zero.json", "[[0, 0, 0, 5]]");
    write_file(dir, "other.json", "{\"hello\": 1}");
    write_file(dir, "circle.geojson",
               "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\","
               " \"geometry\": {\"type\": \"Circle\", \"coordinates\": [1, 2]}}]}");
    write_file(dir, "badman.json", "{\"schema\": \"slidefrag.manifest/1\", \"regions\": []}");
    write_file(dir, "dup/x.json", "[[0, 0, 5, 5]]");
    write_file(dir, "dup/x.geojson", "{\"type\": \"FeatureCollection\", \"features\": []}");
    g_autofree char *empty = g_build_filename(dir, "empty", NULL);
    assert_int_equal(g_mkdir(empty, 0755), 0);
#define P(name) g_autofree char *name = g_build_filename(dir, #name ".json", NULL)
    P(good);
    P(broken);
    P(shortbox);
    P(zero);
    P(other);
    P(badman);
    P(missing);
#undef P
    g_autofree char *circle = g_build_filename(dir, "circle.geojson", NULL);
    g_autofree char *dup = g_build_filename(dir, "dup", NULL);

    expect_error(missing, good, SF_EXIT_MISSING, missing, "no such file");
    expect_error(good, missing, SF_EXIT_MISSING, missing, "no such file");
    expect_error(good, broken, SF_EXIT_BAD_INPUT, broken, "not valid JSON");
    expect_error(shortbox, good, SF_EXIT_BAD_INPUT, shortbox, "element 1: is not [x, y, w, h]");
    expect_error(good, zero, SF_EXIT_BAD_INPUT, zero, "must be positive");
    expect_error(good, other, SF_EXIT_BAD_INPUT, other, "neither a slidefrag manifest");
    expect_error(good, circle, SF_EXIT_BAD_INPUT, circle, "unknown geometry type \"Circle\"");
    expect_error(good, badman, SF_EXIT_BAD_INPUT, badman, "slide");
    expect_error(dup, good, SF_EXIT_BAD_INPUT, "x.geojson", "both hold the boxes of slide \"x\"");
    expect_error(empty, good, SF_EXIT_MISSING, empty, "no box files");

    /* Usage errors. */
    const char *no_pred[] = {"eval", "--truth", good, NULL};
    const char *bad_iou[] = {"eval", "--truth", good, "--pred", good, "--iou", "1.5", NULL};
    const char *bad_lambda[] = {"eval", "--truth", good, "--pred", good, "--lambda", "-1", NULL};
    const char *const *usage[] = {no_pred, bad_iou, bad_lambda};
    const char *said[] = {"give --truth and --pred", "--iou must be between 0 and 1",
                          "--lambda must be a number >= 0"};
    for (size_t i = 0; i < G_N_ELEMENTS(usage); i++) {
        g_autofree char *err = NULL;
        assert_int_equal(test_run_slidefrag(usage[i], NULL, &err), SF_EXIT_USAGE);
        test_assert_contains(err, said[i]);
    }
    test_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_files),
        cmocka_unit_test(test_folders),
        cmocka_unit_test(test_ignore),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
