/* Reading manifests back (docs/manifest.md) and fragment file names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-glib/json-glib.h>

#include "support.h"

#include <string.h>

#include "slidefrag/error.h"
#include "slidefrag/manifest.h"

/* A manifest laid out as docs/manifest.md shows it; %s slots: bounds,
 * mpp_x, the first region's fragment width. */
static const char manifest_template[] =
    "{\n"
    "  \"schema\": \"slidefrag.manifest/1\",\n"
    "  \"tool\": {\"name\": \"slidefrag\", \"version\": \"0.1.0\"},\n"
    "  \"slide\": {\n"
    "    \"path\": \"/data/cmu-1-small-region.svs\",\n"
    "    \"name\": \"cmu-1-small-region\",\n"
    "    \"file_size\": 1938955, \"file_mtime\": 1790000000,\n"
    "    \"vendor\": \"aperio\",\n"
    "    \"width\": 2220, \"height\": 2967,\n"
    "    \"mpp_x\": %s, \"mpp_y\": 0.499,\n"
    "    \"objective_power\": 20,\n"
    "    \"quickhash\": \"abc\",\n"
    "    \"bounds\": %s,\n"
    "    \"levels\": [{\"width\": 2220, \"height\": 2967, \"downsample\": 1.0}]\n"
    "  },\n"
    "  \"overview\": {\"file\": \"overview.jpg\", \"mask\": \"mask.png\", \"boxes\": "
    "\"boxes.jpg\", \"level\": 0, \"level_downsample\": 1.0, \"width\": 1197, \"height\": 1600, "
    "\"scale_x\": 1.854636, \"scale_y\": 1.854375},\n"
    "  \"params\": {\"channel\": \"red\"},\n"
    "  \"threshold\": 203,\n"
    "  \"regions\": [\n"
    "    {\"id\": 0, \"level0\": {\"x\": 0, \"y\": 10, \"w\": 2220, \"h\": 1500},\n"
    "     \"overview\": {\"x\": 0, \"y\": 5, \"w\": 1197, \"h\": 809}, \"tissue_fraction\": 0.61,\n"
    "     \"fragment\": {\"file\": \"fragments/cmu-1-small-region__x0_y10_w2220_h1500.jpg\",\n"
    "                  \"width\": %s, \"height\": 750, \"downsample\": 2.0, \"level\": 0}},\n"
    "    {\"id\": 1, \"level0\": {\"x\": 100, \"y\": 1600, \"w\": 300, \"h\": 200},\n"
    "     \"overview\": {\"x\": 54, \"y\": 863, \"w\": 162, \"h\": 108}, \"tissue_fraction\": "
    "0.5,\n"
    "     \"fragment\": {\"file\": \"fragments/cmu-1-small-region__x100_y1600_w300_h200.jpg\",\n"
    "                  \"width\": 300, \"height\": 200, \"downsample\": 1.0, \"level\": 0}}\n"
    "  ],\n"
    "  \"timings\": {\"open\": 0.001, \"total\": 1.0}\n"
    "}\n";

static char *write_manifest(const char *dir, const char *mpp_x, const char *bounds,
                            const char *fragment_width)
{
    g_autofree char *text = g_strdup_printf(manifest_template, mpp_x, bounds, fragment_width);
    char *path = g_build_filename(dir, "manifest.json", NULL);
    assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static char *write_text(const char *dir, const char *name, const char *text)
{
    char *path = g_build_filename(dir, name, NULL);
    assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static void test_load_documented_manifest(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = write_manifest(dir, "0.499", "null", "1110");
    g_autoptr(GError) error = NULL;
    g_autoptr(sf_manifest) m = sf_manifest_load(path, &error);
    assert_non_null(m);
    assert_string_equal(m->path, path);
    assert_string_equal(m->slide_path, "/data/cmu-1-small-region.svs");
    assert_string_equal(m->slide_name, "cmu-1-small-region");
    assert_string_equal(m->vendor, "aperio");
    assert_int_equal(m->width, 2220);
    assert_int_equal(m->height, 2967);
    assert_float_equal(m->mpp_x, 0.499, 1e-12);
    assert_float_equal(m->mpp_y, 0.499, 1e-12);
    assert_false(m->has_bounds);
    assert_int_equal(m->n_regions, 2);
    assert_int_equal(m->regions[0].id, 0);
    assert_int_equal(m->regions[0].x, 0);
    assert_int_equal(m->regions[0].y, 10);
    assert_int_equal(m->regions[0].w, 2220);
    assert_int_equal(m->regions[0].h, 1500);
    assert_string_equal(m->regions[0].fragment_file,
                        "fragments/cmu-1-small-region__x0_y10_w2220_h1500.jpg");
    assert_string_equal(m->regions[0].fragment_name, "cmu-1-small-region__x0_y10_w2220_h1500.jpg");
    assert_int_equal(m->regions[0].fragment_width, 1110);
    assert_int_equal(m->regions[0].fragment_height, 750);
    assert_int_equal(m->regions[1].id, 1);
    assert_int_equal(m->regions[1].x, 100);
    assert_int_equal(m->regions[1].y, 1600);
    assert_int_equal(m->regions[1].fragment_width, 300);
    test_remove_tree(dir);
}

/* What only run and resume use: the file stamp, slide details, overview,
 * params, threshold, region details and timings. */
static void test_load_run_details(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = write_manifest(dir, "0.499", "null", "1110");
    g_autoptr(sf_manifest) m = sf_manifest_load(path, NULL);
    assert_non_null(m);
    assert_string_equal(m->tool_version, "0.1.0");
    assert_true(m->has_file_stamp);
    assert_int_equal(m->file_size, 1938955);
    assert_int_equal(m->file_mtime, 1790000000);
    assert_float_equal(m->objective_power, 20, 0);
    assert_string_equal(m->quickhash, "abc");
    assert_int_equal(m->n_levels, 1);
    assert_int_equal(m->levels[0].width, 2220);
    assert_float_equal(m->levels[0].downsample, 1.0, 0);
    assert_true(m->has_overview);
    assert_string_equal(m->overview.file, "overview.jpg");
    assert_int_equal(m->overview.width, 1197);
    assert_float_equal(m->overview.scale_y, 1.854375, 0);
    assert_non_null(m->params);
    assert_string_equal(json_object_get_string_member(json_node_get_object(m->params), "channel"),
                        "red");
    assert_int_equal(m->threshold, 203);
    assert_true(m->regions[1].has_overview);
    assert_int_equal(m->regions[1].overview.x, 54);
    assert_int_equal(m->regions[1].overview.h, 108);
    assert_float_equal(m->regions[1].tissue_fraction, 0.5, 0);
    assert_float_equal(m->regions[0].fragment_downsample, 2.0, 0);
    assert_float_equal(m->timings.open, 0.001, 0);
    assert_float_equal(m->timings.total, 1.0, 0);
    test_remove_tree(dir);
}

/* What the writer writes, the reader reads back to the same manifest:
 * load, write, load, write gives the same text twice. */
static void test_write_read_round_trip(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = write_manifest(
        dir, "0.499", "{\"x\": 12, \"y\": 34, \"width\": 500, \"height\": 400}", "1110");
    g_autoptr(sf_manifest) first = sf_manifest_load(path, NULL);
    assert_non_null(first);
    g_autofree char *text = sf_manifest_text(first);
    assert_true(g_str_has_prefix(text, "{\n  \"schema\" : \"" SF_MANIFEST_SCHEMA "\""));
    g_autofree char *written = g_build_filename(dir, "written.json", NULL);
    GError *error = NULL;
    assert_true(sf_manifest_write(first, written, &error));
    g_autoptr(sf_manifest) second = sf_manifest_load(written, &error);
    assert_non_null(second);
    g_autofree char *again = sf_manifest_text(second);
    assert_string_equal(again, text);
    assert_true(second->has_bounds);
    assert_int_equal(second->bounds_height, 400);
    assert_int_equal(second->n_regions, first->n_regions);
    assert_string_equal(second->regions[1].fragment_file, first->regions[1].fragment_file);
    assert_int_equal(second->file_mtime, first->file_mtime);
    assert_true(json_node_equal(second->params, first->params));
    test_remove_tree(dir);
}

/* The optional members, when present, must have their type. */
static void test_optional_members_checked(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    static const struct {
        const char *member, *field;
    } cases[] = {
        {"\"params\": 3,", "'params' is not an object"},
        {"\"threshold\": 300,", "'threshold' is out of range"},
        {"\"timings\": {\"total\": \"long\"},", "'timings.total' is not a number"},
        {"\"overview\": {\"file\": \"overview.jpg\"},", "'overview.level' is missing"},
        {"\"tool\": [],", "'tool' is not an object"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = g_strdup_printf(
            "{\"schema\": \"slidefrag.manifest/1\", %s \"slide\": {\"path\": \"/a.svs\","
            " \"name\": \"a\", \"width\": 10, \"height\": 10}, \"regions\": []}",
            cases[i].member);
        g_autofree char *path = write_text(dir, "optional.json", text);
        g_autoptr(GError) error = NULL;
        g_autoptr(sf_manifest) m = sf_manifest_load(path, &error);
        assert_null(m);
        if (!strstr(error->message, cases[i].field))
            fail_msg("'%s' not in: %s", cases[i].field, error->message);
    }
    test_remove_tree(dir);
}

static void test_bounds_and_unknown_mpp(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = write_manifest(
        dir, "null", "{\"x\": 1200, \"y\": 3400, \"width\": 50000, \"height\": 40000}", "1110");
    g_autoptr(GError) error = NULL;
    g_autoptr(sf_manifest) m = sf_manifest_load(path, &error);
    assert_non_null(m);
    assert_true(m->has_bounds);
    assert_int_equal(m->bounds_x, 1200);
    assert_int_equal(m->bounds_y, 3400);
    assert_int_equal(m->bounds_width, 50000);
    assert_int_equal(m->bounds_height, 40000);
    assert_true(m->mpp_x == 0.0);
    test_remove_tree(dir);
}

/* Loads `path` expecting failure with `code` and every `needles` text. */
static void expect_failure(const char *path, int code, const char *needle1, const char *needle2)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(sf_manifest) m = sf_manifest_load(path, &error);
    assert_null(m);
    assert_non_null(error);
    assert_true(error->domain == SF_ERROR);
    assert_int_equal(error->code, code);
    if (!strstr(error->message, needle1) || (needle2 && !strstr(error->message, needle2)))
        fail_msg("message '%s' lacks '%s' / '%s'", error->message, needle1, needle2 ? needle2 : "");
}

static void test_errors_name_file_and_field(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *missing = g_build_filename(dir, "nope.json", NULL);
    expect_failure(missing, SF_EXIT_MISSING, missing, NULL);

    g_autofree char *not_json = write_text(dir, "bad.json", "{\"schema\": ");
    expect_failure(not_json, SF_EXIT_BAD_INPUT, not_json, "JSON");

    g_autofree char *other = write_text(dir, "other.json", "{\"schema\": \"something/2\"}");
    expect_failure(other, SF_EXIT_BAD_INPUT, other, "not a slidefrag manifest");

    g_autofree char *array = write_text(dir, "array.json", "[1, 2]");
    expect_failure(array, SF_EXIT_BAD_INPUT, array, "not a slidefrag manifest");

    /* A string where a number belongs, and a fractional pixel size. */
    g_autofree char *wrong_type = write_manifest(dir, "\"fast\"", "null", "1110");
    expect_failure(wrong_type, SF_EXIT_BAD_INPUT, wrong_type, "slide.mpp_x");
    g_autofree char *fraction = write_manifest(dir, "0.5", "null", "1110.5");
    expect_failure(fraction, SF_EXIT_BAD_INPUT, "regions[0].fragment.width", "not an integer");
    g_autofree char *zero = write_manifest(dir, "0.5", "null", "0");
    expect_failure(zero, SF_EXIT_BAD_INPUT, "regions[0].fragment.width", "out of range");
    g_autofree char *bad_bounds = write_manifest(dir, "0.5", "{\"x\": 1}", "10");
    expect_failure(bad_bounds, SF_EXIT_BAD_INPUT, "slide.bounds.y", "missing");

    g_autofree char *no_regions = write_text(
        dir, "noregions.json",
        "{\"schema\": \"slidefrag.manifest/1\", \"slide\": {\"path\": \"/a.svs\", \"name\": "
        "\"a\", \"width\": 10, \"height\": 10}}");
    expect_failure(no_regions, SF_EXIT_BAD_INPUT, "'regions'", "missing");
    test_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_documented_manifest),
        cmocka_unit_test(test_load_run_details),
        cmocka_unit_test(test_write_read_round_trip),
        cmocka_unit_test(test_optional_members_checked),
        cmocka_unit_test(test_bounds_and_unknown_mpp),
        cmocka_unit_test(test_errors_name_file_and_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
