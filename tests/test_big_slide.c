/*
 * slidefrag run on a generated slide of gigapixels with pieces of real
 * tissue at known places (scripts/make-biopsy-slide). scripts/test makes the
 * slide once and names it in SLIDEFRAG_BIG_SLIDE and SLIDEFRAG_BIG_TRUTH;
 * without them the test is skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "support.h"
#include "slidefrag/manifest.h"

/* Level-0 slack for "within a few overview pixels": the overview scale
 * times this many pixels. */
#define OVERVIEW_PIXELS 3.0

static gboolean contains(const sf_box *r, const int64_t t[4], double slack)
{
    return r->x <= t[0] + slack && r->y <= t[1] + slack && r->x + r->w >= t[0] + t[2] - slack &&
           r->y + r->h >= t[1] + t[3] - slack;
}

static gboolean close_to(const sf_box *r, const int64_t t[4], double slack)
{
    return fabs((double)(r->x - t[0])) <= slack && fabs((double)(r->y - t[1])) <= slack &&
           fabs((double)(r->x + r->w - t[0] - t[2])) <= slack &&
           fabs((double)(r->y + r->h - t[1] - t[3])) <= slack;
}

static void test_every_piece_found(void **state)
{
    (void)state;
    const char *slide = g_getenv("SLIDEFRAG_BIG_SLIDE");
    const char *truth_path = g_getenv("SLIDEFRAG_BIG_TRUTH");
    if (!slide || !truth_path)
        skip();
    g_autofree char *dir = test_make_tmpdir();
    const char *argv[] = {"run", slide, "-o", dir, NULL};
    g_autofree char *err = NULL;
    int code = test_run_slidefrag(argv, NULL, &err);
    if (code != 0)
        fail_msg("run exit %d: %s", code, err);

    g_autofree char *stem = g_path_get_basename(slide);
    *strrchr(stem, '.') = '\0';
    g_autofree char *manifest_path = g_build_filename(dir, stem, "manifest.json", NULL);
    GError *error = NULL;
    g_autoptr(sf_manifest) manifest = sf_manifest_load(manifest_path, &error);
    if (!manifest)
        fail_msg("%s", error->message);
    /* At least two gigapixels, read through a pyramid. */
    assert_true(manifest->width * manifest->height >= 2000000000LL);

    g_autoptr(JsonParser) parser = json_parser_new();
    assert_true(json_parser_load_from_file(parser, truth_path, NULL));
    JsonArray *truth = json_node_get_array(json_parser_get_root(parser));
    guint n_truth = json_array_get_length(truth);
    assert_true(n_truth >= 10);

    g_autoptr(JsonParser) mparser = json_parser_new();
    assert_true(json_parser_load_from_file(mparser, manifest_path, NULL));
    JsonObject *overview = json_object_get_object_member(
        json_node_get_object(json_parser_get_root(mparser)), "overview");
    double slack = OVERVIEW_PIXELS * json_object_get_double_member(overview, "scale_x");

    /* Pieces are compared with the regions as detected: before padding,
     * whatever tiles cut them. */
    g_autoptr(GArray) detected = sf_manifest_tissue_boxes(manifest);
    guint exact = 0;
    for (guint i = 0; i < n_truth; i++) {
        JsonArray *box = json_array_get_array_element(truth, i);
        int64_t t[4];
        for (int k = 0; k < 4; k++)
            t[k] = json_array_get_int_element(box, k);
        gboolean found = FALSE, near = FALSE;
        for (guint r = 0; r < detected->len; r++) {
            found |= contains(&g_array_index(detected, sf_box, r), t, slack);
            near |= close_to(&g_array_index(detected, sf_box, r), t, slack);
        }
        if (!found)
            fail_msg("piece %u at %" G_GINT64_FORMAT ",%" G_GINT64_FORMAT " (%" G_GINT64_FORMAT
                     "x%" G_GINT64_FORMAT ") is in no region",
                     i, t[0], t[1], t[2], t[3]);
        exact += near;
    }
    /* Pieces laid a few hundred pixels apart may share a region; the rest
     * must each have a region of their own, edges within a few overview
     * pixels. */
    if (exact * 10 < n_truth * 8)
        fail_msg("only %u of %u pieces have a region within %.0f px", exact, n_truth, slack);

    /* The fragment names carry the manifest's boxes; fragments are 1 µm/px
     * (1 / 0.499 level-0 px a fragment px) and none is over a tile. */
    for (size_t r = 0; r < manifest->n_regions; r++) {
        const sf_manifest_region *region = &manifest->regions[r];
        assert_true(region->has_tissue);
        assert_float_equal(region->tissue_downsample, 1 / 0.499, 1e-9);
        assert_true(region->fragment_width <= 4096 && region->fragment_height <= 4096);
        g_autofree char *name_stem = NULL;
        int64_t x, y, w, h;
        assert_true(sf_fragment_name_parse(region->fragment_name, &name_stem, &x, &y, &w, &h));
        assert_string_equal(name_stem, stem);
        assert_true(x == region->x && y == region->y && w == region->w && h == region->h);
        g_autofree char *file = g_build_filename(dir, stem, region->fragment_file, NULL);
        assert_true(g_file_test(file, G_FILE_TEST_IS_REGULAR));
    }
    test_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_piece_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
