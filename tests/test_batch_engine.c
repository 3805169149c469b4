/*
 * The batch engine's parts, without child processes: sharing the cores,
 * naming output folders, deciding what --resume skips, the answer a child
 * prints, and collecting inputs. test_batch runs whole batches.
 */
#define _DEFAULT_SOURCE /* utimes */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "support.h"
#include "batch/batch.h"
#include "slidefrag/batch.h"
#include "slidefrag/error.h"
#include "slidefrag/manifest.h"

/* ---- Sharing the cores ------------------------------------------------------ */

static void test_share_cores(void **state)
{
    (void)state;
    static const struct {
        int cores;
        guint n_to_run;
        int jobs, threads; /* given, 0 = not given */
        int want_jobs, want_threads;
    } cases[] = {
        {8, 100, 0, 0, 8, 1},   /* one slide per core */
        {8, 3, 0, 0, 3, 2},     /* fewer slides: their threads share the cores */
        {8, 100, 0, 2, 4, 2},   /* threads given: as many jobs as fit */
        {8, 100, 3, 0, 3, 2},   /* jobs given: the threads share the rest */
        {8, 2, 5, 0, 2, 4},     /* never more jobs than slides */
        {8, 100, 16, 4, 16, 4}, /* both given: taken as they are */
        {1, 10, 0, 0, 1, 1},    {8, 0, 0, 0, 8, 1}, /* everything skipped */
        {0, 10, 0, 0, 1, 1},                        /* no core count known */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        int jobs = cases[i].jobs, threads = cases[i].threads;
        sf_batch_share_cores(cases[i].cores, cases[i].n_to_run, &jobs, &threads);
        if (jobs != cases[i].want_jobs || threads != cases[i].want_threads)
            fail_msg("case %zu: %d jobs x %d threads, expected %d x %d", i, jobs, threads,
                     cases[i].want_jobs, cases[i].want_threads);
    }
}

/* ---- Output folders ------------------------------------------------------------ */

static gboolean is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isxdigit(s[i]))
            return FALSE;
    return s[n] == '\0';
}

/* A stem given once names its folder; a stem given more than once gets a
 * suffix from each full path, distinct and the same on every call. */
static void test_output_dirs_by_stem(void **state)
{
    (void)state;
    const char *paths[] = {"/a/x.svs", "/b/y.svs", "/c/x.svs", "/d/x.tif"};
    g_auto(GStrv) dirs = sf_run_output_dirs("/out", paths, G_N_ELEMENTS(paths));
    assert_int_equal(g_strv_length(dirs), 4);
    assert_string_equal(dirs[1], "/out/y");
    for (int i = 0; i < 4; i += i == 0 ? 2 : 1) {
        assert_true(g_str_has_prefix(dirs[i], "/out/x-"));
        assert_true(is_hex(dirs[i] + strlen("/out/x-"), 8));
    }
    assert_string_not_equal(dirs[0], dirs[2]);
    assert_string_not_equal(dirs[2], dirs[3]);
    g_auto(GStrv) again = sf_run_output_dirs("/out", paths, G_N_ELEMENTS(paths));
    for (int i = 0; i < 4; i++)
        assert_string_equal(again[i], dirs[i]);
    /* The same slide alone in a later batch: its own stem. */
    g_auto(GStrv) alone = sf_run_output_dirs("/out", paths + 2, 1);
    assert_string_equal(alone[0], "/out/x");
}

static void write_manifest_for(const char *dir, const char *slide_path, JsonNode *params)
{
    assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
    g_autoptr(sf_manifest) m = sf_manifest_new();
    m->tool_version = g_strdup("test");
    m->slide_path = g_strdup(slide_path);
    m->slide_name = g_path_get_basename(slide_path);
    m->width = m->height = 16;
    m->mpp_x = m->mpp_y = 0.499;
    GStatBuf st;
    if (g_stat(slide_path, &st) == 0) {
        m->has_file_stamp = TRUE;
        m->file_size = st.st_size;
        m->file_mtime = st.st_mtime;
    }
    m->overview.file = g_strdup("overview.jpg");
    m->params = params ? json_node_copy(params) : NULL;
    m->n_regions = 2;
    m->regions = g_new0(sf_manifest_region, 2);
    for (int i = 0; i < 2; i++) {
        m->regions[i].id = i;
        m->regions[i].w = m->regions[i].h = 1;
        m->regions[i].fragment_file = g_strdup_printf("fragments/x__x%d_y0_w1_h1.jpg", i);
        m->regions[i].fragment_width = m->regions[i].fragment_height = 1;
    }
    g_autofree char *path = g_build_filename(dir, "manifest.json", NULL);
    GError *error = NULL;
    if (!sf_manifest_write(m, path, &error))
        fail_msg("%s", error->message);
}

/* A folder left for another slide file is not taken over. */
static void test_output_dir_owned_by_other_slide(void **state)
{
    (void)state;
    g_autofree char *out = test_make_tmpdir();
    g_autofree char *z_dir = g_build_filename(out, "z", NULL);
    write_manifest_for(z_dir, "/elsewhere/z.svs", NULL);
    const char *mine[] = {"/mine/z.svs"};
    g_auto(GStrv) dirs = sf_run_output_dirs(out, mine, 1);
    g_autofree char *prefix = g_build_filename(out, "z-", NULL);
    assert_true(g_str_has_prefix(dirs[0], prefix));
    const char *theirs[] = {"/elsewhere/z.svs"};
    g_auto(GStrv) same = sf_run_output_dirs(out, theirs, 1);
    assert_string_equal(same[0], z_dir);
    test_remove_tree(out);
}

/* ---- What --resume skips ----------------------------------------------------- */

/* The parameters as batch passes them (resolved == FALSE) or as a run on a
 * slide of `mpp` µm/px records them. */
static JsonNode *params_json(const char *key, const char *value, gboolean resolved, double mpp)
{
    sf_run_params params, used;
    sf_run_params_default(&params);
    if (key)
        assert_true(sf_run_params_set(&params, key, value, NULL));
    if (!resolved)
        return sf_run_params_to_json(&params);
    sf_run_params_for_mpp(&params, mpp, &used);
    return sf_run_params_to_json(&used);
}

static void test_is_done(void **state)
{
    (void)state;
    g_autofree char *root = test_make_tmpdir();
    test_copy_fixture("small.svs", root, "slide.svs");
    g_autofree char *slide = g_build_filename(root, "slide.svs", NULL);
    g_autofree char *dir = g_build_filename(root, "out", "slide", NULL);
    g_autoptr(JsonNode) wanted = params_json(NULL, NULL, FALSE, 0);
    int regions = -1, fragments = -1;

    /* No folder, no manifest. */
    assert_false(sf_batch_is_done(dir, slide, wanted, &regions, &fragments));

    /* The manifest holds the parameters resolved for the slide's µm/px. */
    g_autoptr(JsonNode) resolved = params_json(NULL, NULL, TRUE, 0.499);
    write_manifest_for(dir, slide, resolved);
    assert_true(sf_batch_is_done(dir, slide, wanted, &regions, &fragments));
    assert_int_equal(regions, 2);
    assert_int_equal(fragments, 2);

    /* Other parameters. */
    g_autoptr(JsonNode) other = params_json("jpeg-quality", "80", FALSE, 0);
    assert_false(sf_batch_is_done(dir, slide, other, &regions, &fragments));
    /* Another path to the folder's slide. */
    g_autofree char *elsewhere = g_build_filename(root, "other.svs", NULL);
    test_copy_fixture("small.svs", root, "other.svs");
    assert_false(sf_batch_is_done(dir, elsewhere, wanted, &regions, &fragments));
    /* The slide file modified since. */
    struct timeval times[2] = {{1000000000, 0}, {1000000000, 0}};
    assert_int_equal(utimes(slide, times), 0);
    assert_false(sf_batch_is_done(dir, slide, wanted, &regions, &fragments));
    /* A manifest without parameters, or one that is not a manifest. */
    write_manifest_for(dir, slide, NULL);
    assert_false(sf_batch_is_done(dir, slide, wanted, &regions, &fragments));
    g_autofree char *manifest = g_build_filename(dir, "manifest.json", NULL);
    test_write_text(manifest, "{\"schema\": \"slidefrag.manifest/1\"");
    assert_false(sf_batch_is_done(dir, slide, wanted, &regions, &fragments));
    test_remove_tree(root);
}

/* ---- The answer of _run-one ---------------------------------------------------- */

static JsonObject *parse_line(JsonParser *parser, const char *line)
{
    assert_null(strchr(line, '\n'));
    assert_true(json_parser_load_from_data(parser, line, -1, NULL));
    return json_node_get_object(json_parser_get_root(parser));
}

static void test_answer_line(void **state)
{
    (void)state;
    sf_run_result result = {
        .output_dir = "/out/a", .n_regions = 3, .n_fragments = 3, .seconds = 1.5};
    g_autofree char *ok = sf_batch_answer_line(&result, NULL);
    g_autoptr(JsonParser) p1 = json_parser_new();
    JsonObject *a = parse_line(p1, ok);
    assert_string_equal(json_object_get_string_member(a, "status"), "ok");
    assert_string_equal(json_object_get_string_member(a, "output"), "/out/a");
    assert_int_equal(json_object_get_int_member(a, "regions"), 3);

    g_autoptr(GError) error =
        g_error_new(SF_ERROR, SF_EXIT_SLIDE_READ, "a.svs: line one\nline \"two\"");
    g_autofree char *failed = sf_batch_answer_line(NULL, error);
    g_autoptr(JsonParser) p2 = json_parser_new();
    JsonObject *b = parse_line(p2, failed);
    assert_string_equal(json_object_get_string_member(b, "status"), "failed");
    assert_int_equal(json_object_get_int_member(b, "code"), SF_EXIT_SLIDE_READ);
    assert_string_equal(json_object_get_string_member(b, "error"), error->message);
}

/* ---- Inputs ------------------------------------------------------------------------ */

static void touch(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *parent = g_path_get_dirname(path);
    assert_int_equal(g_mkdir_with_parents(parent, 0755), 0);
    test_write_text(path, "x");
}

/* Folders are searched recursively in name order for slide extensions
 * (any case), dot files skipped; lists take comments and paths relative
 * to themselves; a file reached twice is kept once, at its first place. */
static void test_collect_inputs(void **state)
{
    (void)state;
    g_autofree char *root = test_make_tmpdir();
    touch(root, "in/b.svs");
    touch(root, "in/a/c.NDPI");
    touch(root, "in/a/.hidden.svs");
    touch(root, "in/notes.txt");
    touch(root, "in/z.tiff");
    touch(root, "lone.svs");
    g_autofree char *list = g_build_filename(root, "list.txt", NULL);
    test_write_text(list, "# slides\n\nlone.svs\r\nin/b.svs\n");
    g_autofree char *in = g_build_filename(root, "in", NULL);
    g_autofree char *at_list = g_strconcat("@", list, NULL);
    const char *inputs[] = {at_list, in, NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) paths = sf_batch_collect_inputs(inputs, &error);
    assert_non_null(paths);
    const char *want[] = {"lone.svs", "in/b.svs", "in/a/c.NDPI", "in/z.tiff"};
    assert_int_equal(paths->len, G_N_ELEMENTS(want));
    for (guint i = 0; i < paths->len; i++) {
        g_autofree char *expected = g_build_filename(root, want[i], NULL);
        assert_string_equal(g_ptr_array_index(paths, i), expected);
    }
    /* A list that cannot be read. */
    g_autofree char *missing = g_strconcat("@", root, "/nothing.txt", NULL);
    const char *bad[] = {missing, NULL};
    g_autoptr(GPtrArray) none = sf_batch_collect_inputs(bad, &error);
    assert_null(none);
    test_assert_error(error, SF_EXIT_MISSING, "cannot read the list");
    test_remove_tree(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share_cores),
        cmocka_unit_test(test_output_dirs_by_stem),
        cmocka_unit_test(test_output_dir_owned_by_other_slide),
        cmocka_unit_test(test_is_done),
        cmocka_unit_test(test_answer_line),
        cmocka_unit_test(test_collect_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
