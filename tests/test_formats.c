/* The one list of slide formats and extensions: what it holds, how names
 * match it, and that the README's table and `info --formats` say the
 * same. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "slidefrag/error.h"
#include "slidefrag/slide.h"

static void test_extensions_lower_case_dotted_unique(void **state)
{
    (void)state;
    const char *const *all = sf_slide_extensions();
    int count = 0;
    for (const char *const *e = all; *e; e++, count++) {
        assert_true((*e)[0] == '.' && (*e)[1]);
        g_autofree char *lower = g_ascii_strdown(*e, -1);
        assert_string_equal(lower, *e);
        for (const char *const *f = all; f < e; f++)
            assert_string_not_equal(*f, *e);
    }
    assert_true(count >= 10);
    /* Every format's extensions are in the union. */
    int n = 0;
    const sf_slide_format *formats = sf_slide_formats(&n);
    assert_true(n >= 1);
    for (int i = 0; i < n; i++)
        for (const char *const *e = formats[i].extensions; *e; e++)
            assert_true(g_strv_contains((const char *const *)all, *e));
}

static void test_extension_length(void **state)
{
    (void)state;
    assert_int_equal(sf_slide_extension_length("a.svs"), 4);
    assert_int_equal(sf_slide_extension_length("A.SVS"), 4);
    assert_int_equal(sf_slide_extension_length("x.y.TIFF"), 5);
    assert_int_equal(sf_slide_extension_length("slide.svslide"), 8);
    assert_int_equal(sf_slide_extension_length(".svs"), 0);
    assert_int_equal(sf_slide_extension_length("svs"), 0);
    assert_int_equal(sf_slide_extension_length("a.svs.geojson"), 0);
    assert_int_equal(sf_slide_extension_length("notes.txt"), 0);
}

/* The README's "Formats" table has one row per format, naming exactly
 * its extensions, in order. */
static void test_readme_table_matches(void **state)
{
    (void)state;
    g_autofree char *path = g_build_filename(SLIDEFRAG_SOURCE_DIR, "README.md", NULL);
    g_autofree char *text = NULL;
    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    int n = 0;
    const sf_slide_format *formats = sf_slide_formats(&n);
    for (int i = 0; i < n; i++) {
        g_autofree char *start = g_strdup_printf("| %s | ", formats[i].name);
        const char *row = NULL;
        for (char **l = lines; *l && !row; l++)
            if (g_str_has_prefix(*l, start))
                row = *l;
        if (!row)
            fail_msg("README.md has no row '%s...'", start);
        GString *want = g_string_new("| ");
        for (const char *const *e = formats[i].extensions; *e; e++)
            g_string_append_printf(want, "%s`%s`", e == formats[i].extensions ? "" : " ", *e);
        g_string_append(want, " |");
        if (!g_str_has_suffix(row, want->str))
            fail_msg("README.md's row for %s does not end with %s", formats[i].name, want->str);
        g_string_free(want, TRUE);
    }
}

static void test_info_formats_json(void **state)
{
    (void)state;
    const char *argv[] = {"info", "--formats", "--json", NULL};
    g_autofree char *out = NULL, *err = NULL;
    assert_int_equal(test_run_slidefrag(argv, &out, &err), SF_EXIT_OK);
    g_autoptr(JsonParser) parser = json_parser_new();
    assert_true(json_parser_load_from_data(parser, out, -1, NULL));
    JsonArray *listed = json_object_get_array_member(
        json_node_get_object(json_parser_get_root(parser)), "extensions");
    const char *const *all = sf_slide_extensions();
    assert_int_equal(json_array_get_length(listed), g_strv_length((char **)all));
    for (guint i = 0; all[i]; i++)
        assert_string_equal(json_array_get_string_element(listed, i), all[i]);

    const char *bad[] = {"info", "--formats", "x.svs", NULL};
    assert_int_equal(test_run_slidefrag(bad, NULL, NULL), SF_EXIT_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extensions_lower_case_dotted_unique),
        cmocka_unit_test(test_extension_length),
        cmocka_unit_test(test_readme_table_matches),
        cmocka_unit_test(test_info_formats_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
