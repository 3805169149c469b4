/*
 * Numbers in the text slidefrag writes (JSON, GeoJSON, CSV, XML): the
 * shortest text that reads back as the same double, through one writer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <string.h>

#include "support.h"
#include "batch/batch.h"
#include "io/json_safe.h"
#include "slidefrag/annotations.h"

static void assert_text(double value, const char *expected)
{
    char buf[SF_NUMBER_TEXT_SIZE];
    assert_string_equal(sf_number_text(buf, value), expected);
}

static void test_shortest_text(void **state)
{
    (void)state;
    assert_text(935.6, "935.6");
    assert_text(0.1, "0.1");
    assert_text(0.1 + 0.2, "0.30000000000000004");
    assert_text(1.0 / 3, "0.3333333333333333");
    assert_text(2.0, "2");
    assert_text(-1.5, "-1.5");
    assert_text(1e-08, "1e-08");
    assert_text(6e18, "6e+18");
    assert_text(-0.0, "0");
    assert_text(DBL_MAX, "1.7976931348623157e+308");
    assert_text(DBL_MIN, "2.2250738585072014e-308");
    /* Subnormals have fewer digits of precision than DBL_DIG. */
    assert_text(DBL_TRUE_MIN, "5e-324");
    assert_text(3 * DBL_TRUE_MIN, "1.5e-323");
    assert_text(NAN, "null");
    assert_text(-INFINITY, "null");
}

/* Any double: the text reads back exactly, and one significant digit
 * fewer would not. */
static void test_round_trip_and_minimal(void **state)
{
    (void)state;
    GRand *rand = g_rand_new_with_seed(11);
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = ((uint64_t)g_rand_int(rand) << 32) | g_rand_int(rand);
        double value;
        memcpy(&value, &bits, sizeof value);
        if (!isfinite(value) || value == 0)
            continue;
        if (i % 3 == 1) /* also ordinary magnitudes, where short texts exist */
            value = round(g_rand_double_range(rand, -1e5, 1e5) * 1000) / 1000;
        else if (i % 3 == 2) /* and subnormals */
            value = ldexp((double)(bits >> 12), -1074);
        char buf[SF_NUMBER_TEXT_SIZE];
        sf_number_text(buf, value);
        if (g_ascii_strtod(buf, NULL) != value)
            fail_msg("%s does not read back as %.17g", buf, value);
        /* Significant digits: those of the mantissa without its leading
         * zeros, nor its trailing ones when it is a whole number. */
        GString *mantissa = g_string_new(NULL);
        for (const char *p = buf; *p && *p != 'e'; p++)
            if (g_ascii_isdigit(*p))
                g_string_append_c(mantissa, *p);
        const char *significant = mantissa->str + strspn(mantissa->str, "0");
        int digits = (int)strlen(significant);
        if (!strchr(buf, '.'))
            while (digits > 0 && significant[digits - 1] == '0')
                digits--;
        g_string_free(mantissa, TRUE);
        if (digits > 1) {
            char shorter[64];
            g_snprintf(shorter, sizeof shorter, "%.*e", digits - 2, value);
            if (g_ascii_strtod(shorter, NULL) == value)
                fail_msg("%s is not the shortest: %s reads back too", buf, shorter);
        }
    }
    g_rand_free(rand);
}

/* JSON keeps json-glib's layout, strings as they are, and doubles as
 * doubles; what it writes is valid JSON that reads back the same. */
static void test_json_text(void **state)
{
    (void)state;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    sf_json_add_double(b, "x", 935.6);
    sf_json_add_double(b, "tiny", 1e-08);
    sf_json_add_double(b, "whole", 2.0);
    sf_json_add_double(b, "nan", NAN);
    sf_json_add_int(b, "count", -12);
    sf_json_add_string(b, "text", "935.60000000000002 \"1e-08.0\" \\ nan");
    sf_json_add_bool(b, "yes", TRUE);
    sf_json_add_string(b, "none", NULL);
    json_builder_set_member_name(b, "list");
    json_builder_begin_array(b);
    json_builder_add_double_value(b, 0.1);
    json_builder_add_double_value(b, 6e18);
    json_builder_add_double_value(b, -0.0);
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);

    g_autofree char *line = sf_json_text(root, FALSE);
    assert_string_equal(line,
                        "{\"x\":935.6,\"tiny\":1e-08,\"whole\":2.0,\"nan\":null,\"count\":-12,"
                        "\"text\":\"935.60000000000002 \\\"1e-08.0\\\" \\\\ nan\","
                        "\"yes\":true,\"none\":null,\"list\":[0.1,6e+18,0.0]}");
    g_autofree char *file = sf_json_file_text(root);
    assert_non_null(strstr(file, "\n  \"x\" : 935.6,\n"));
    assert_true(g_str_has_suffix(file, "}\n"));

    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    if (!json_parser_load_from_data(parser, file, -1, &error))
        fail_msg("%s", error->message);
    JsonObject *o = json_node_get_object(json_parser_get_root(parser));
    assert_true(json_object_get_double_member(o, "x") == 935.6);
    assert_true(json_object_get_double_member(o, "tiny") == 1e-08);
    JsonNode *whole = json_object_get_member(o, "whole");
    assert_int_equal(json_node_get_value_type(whole), G_TYPE_DOUBLE);
    assert_string_equal(json_object_get_string_member(o, "text"),
                        "935.60000000000002 \"1e-08.0\" \\ nan");
}

/* A mapped vertex at 935.6 and one at a third, in every output format. */
static void test_annotation_formats(void **state)
{
    (void)state;
    sf_slide_annotations slide = {.stem = "s", .offset = SF_OFFSET_NONE};
    slide.annotations = g_ptr_array_new_with_free_func((GDestroyNotify)sf_annotation_free);
    sf_annotation *a = g_new0(sf_annotation, 1);
    a->label = g_strdup("tumour");
    a->shape = SF_SHAPE_POINT;
    a->n_vertices = 1;
    a->vertices = g_new0(sf_vertex, 1);
    a->vertices[0] = (sf_vertex){935.6, 1.0 / 3};
    a->image = g_strdup("s__x0_y0_w10_h10.jpg");
    a->source = g_strdup("export.csv");
    a->line = 2;
    g_ptr_array_add(slide.annotations, a);
    const sf_annotation_format formats[] = {SF_ANNOTATIONS_GEOJSON, SF_ANNOTATIONS_ASAP,
                                            SF_ANNOTATIONS_IMAGESCOPE, SF_ANNOTATIONS_COCO,
                                            SF_ANNOTATIONS_CSV};
    for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
        size_t length = 0;
        g_autofree char *text = sf_annotations_serialise(&slide, formats[i], &length);
        const char *ext = sf_annotation_format_extension(formats[i]);
        if (!strstr(text, "935.6") || strstr(text, "935.60000000000002") ||
            !strstr(text, "0.3333333333333333") || strstr(text, "0.33333333333333331"))
            fail_msg("%s:\n%s", ext, text);
    }
    g_ptr_array_unref(slide.annotations);
}

/* A batch summary's seconds, rounded to milliseconds by the worker. */
static void test_batch_summary(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    sf_batch_item item = {.path = "/slides/a.svs",
                          .output_dir = "/out/a",
                          .status = SF_BATCH_OK,
                          .n_regions = 2,
                          .n_fragments = 2,
                          .seconds = 12.345};
    sf_batch_item *items[] = {&item};
    g_autoptr(GError) error = NULL;
    assert_true(sf_batch_write_summary(dir, items, 1, &error));
    g_autofree char *json_path = g_build_filename(dir, "summary.json", NULL);
    g_autofree char *csv_path = g_build_filename(dir, "summary.csv", NULL);
    g_autofree char *json = NULL, *csv = NULL;
    assert_true(g_file_get_contents(json_path, &json, NULL, NULL));
    assert_true(g_file_get_contents(csv_path, &csv, NULL, NULL));
    if (!strstr(json, "\"seconds\" : 12.345,"))
        fail_msg("summary.json:\n%s", json);
    if (!strstr(csv, ",2,2,12.345,"))
        fail_msg("summary.csv:\n%s", csv);
    test_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shortest_text), cmocka_unit_test(test_round_trip_and_minimal),
        cmocka_unit_test(test_json_text),     cmocka_unit_test(test_annotation_formats),
        cmocka_unit_test(test_batch_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
