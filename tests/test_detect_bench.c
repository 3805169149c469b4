/*
 * The detection benchmark as a test: scripts/bench-detect runs `slidefrag
 * run` with the default parameters on every slide of the benchmark (real
 * images with truth drawn by hand, and one generated slide per artefact;
 * docs/detection.md) and fails when an image's mean box IoU or F1 falls
 * below the figures recorded in fixtures/detect/recorded.json.
 *
 * The slides are made once per build tree into <build>/detect-bench by
 * scripts/make-detect-slides and made again only when the scripts or the
 * fixtures they come from change.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <json-glib/json-glib.h>
#include <string.h>

static void test_defaults_keep_their_figures(void **state)
{
    (void)state;
    g_autofree char *build = g_path_get_dirname(SLIDEFRAG_BINARY);
    g_autofree char *work = g_build_filename(build, "detect-bench", NULL);
    g_autofree char *script =
        g_build_filename(SLIDEFRAG_SOURCE_DIR, "scripts", "bench-detect", NULL);
    g_autofree char *recorded =
        g_build_filename(SLIDEFRAG_SOURCE_DIR, "fixtures", "detect", "recorded.json", NULL);
    const char *argv[] = {script,      "--work",   work,      "--slidefrag", SLIDEFRAG_BINARY,
                          "--methods", "defaults", "--check", recorded,      NULL};
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status = 0;
    GError *error = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out, &err, &status, &error))
        fail_msg("%s: %s", script, error->message);
    if (!g_spawn_check_wait_status(status, NULL))
        fail_msg("bench-detect failed:\n%s\n%s", out, err);

    /* Every recorded image was scored: a table row names each. */
    g_autoptr(JsonParser) parser = json_parser_new();
    assert_true(json_parser_load_from_file(parser, recorded, NULL));
    JsonObject *defaults = json_object_get_object_member(
        json_node_get_object(json_parser_get_root(parser)), "defaults");
    g_autoptr(GList) names = json_object_get_members(defaults);
    assert_true(g_list_length(names) >= 25);
    for (GList *n = names; n; n = n->next) {
        g_autofree char *row = g_strconcat("\n", (const char *)n->data, " ", NULL);
        if (!strstr(out, row))
            fail_msg("%s is not in the table:\n%s", (const char *)n->data, out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_keep_their_figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
