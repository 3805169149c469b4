/*
 * Fragments a pathologist can annotate: a physical resolution by default,
 * regions larger than a tile cut into overlapping tiles whose names carry
 * their own level-0 boxes, every fragment within what the annotation tool
 * loads, a margin of glass around the tissue, eval scoring what was
 * detected, and fragment names that stay apart for two slides of one stem.
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
#include "slidefrag/error.h"
#include "slidefrag/image_io.h"
#include "slidefrag/manifest.h"
#include "slidefrag/run.h"

#define CMU "cmu-1-small-region"

static char *tmp_root;

static char *new_dir(const char *name)
{
    char *dir = g_build_filename(tmp_root, name, NULL);
    test_remove_tree(dir);
    assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
    return dir;
}

/* slidefrag with the arguments, NULL-terminated; fails unless `expect`. */
static char *run_expect(int expect, const char *first, ...)
{
    const char *argv[64];
    int n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 63; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    g_autofree char *out = NULL;
    char *err = NULL;
    int code = test_run_slidefrag(argv, &out, &err);
    if (code != expect)
        fail_msg("%s: exit %d, expected %d: %s", first, code, expect, err);
    return err;
}

static sf_manifest *load_manifest(const char *dir)
{
    g_autofree char *path = g_build_filename(dir, "manifest.json", NULL);
    g_autoptr(GError) error = NULL;
    sf_manifest *m = sf_manifest_load(path, &error);
    if (!m)
        fail_msg("%s", error->message);
    return m;
}

static gboolean box_inside(const sf_box *inner, const sf_box *outer)
{
    return inner->x >= outer->x && inner->y >= outer->y &&
           inner->x + inner->w <= outer->x + outer->w && inner->y + inner->h <= outer->y + outer->h;
}

/* Every fragment of a finished folder: its file decodes at the size the
 * manifest gives, within `tile` a side; its name is its own box; the tiles
 * of each region form its grid, cover its padded box from corner to
 * corner, and neighbours share at least the overlap. Returns the number of
 * regions cut into more than one tile. */
static int check_tiles(const char *dir, int tile)
{
    g_autoptr(sf_manifest) m = test_assert_slide_folder_finished(dir);
    int n_cut = 0;
    for (size_t i = 0; i < m->n_regions; i++) {
        const sf_manifest_region *r = &m->regions[i];
        assert_true(r->has_tissue);
        if (r->fragment_width > tile || r->fragment_height > tile)
            fail_msg("%s is %dx%d, over a %d px tile", r->fragment_name, r->fragment_width,
                     r->fragment_height, tile);
        g_autofree char *stem = NULL;
        int64_t x, y, w, h;
        assert_true(sf_fragment_name_parse(r->fragment_name, &stem, &x, &y, &w, &h));
        assert_string_equal(stem, m->slide_name);
        assert_true(x == r->x && y == r->y && w == r->w && h == r->h);
        sf_box own = {r->x, r->y, r->w, r->h};
        assert_true(box_inside(&own, &r->tissue_box));
        assert_true(box_inside(&r->detected, &r->tissue_box));
        if (r->row == 0 && r->col == 0) {
            assert_int_equal(r->x, r->tissue_box.x);
            assert_int_equal(r->y, r->tissue_box.y);
            n_cut += r->rows * r->cols > 1;
        }
        if (r->row == r->rows - 1 && r->col == r->cols - 1) {
            assert_int_equal(r->x + r->w, r->tissue_box.x + r->tissue_box.w);
            assert_int_equal(r->y + r->h, r->tissue_box.y + r->tissue_box.h);
        }
        /* The tile to the left, of the same region, shares the overlap. */
        int64_t shared = (int64_t)ceil(r->overlap * r->tissue_downsample);
        for (size_t k = 0; k < m->n_regions; k++) {
            const sf_manifest_region *left = &m->regions[k];
            if (left->tissue == r->tissue && left->row == r->row && left->col == r->col - 1 &&
                left->x + left->w - r->x < shared - 1)
                fail_msg("%s and %s share less than %" G_GINT64_FORMAT " px", left->fragment_name,
                         r->fragment_name, shared);
        }
    }
    return n_cut;
}

/* ---- Resolution -------------------------------------------------------------- */

/* By default fragments are 1 µm/px where the slide records its µm/px, and
 * the finest resolution whose longest side fits 4096 px where it does not;
 * --fragment-mpp still sets it. */
static void test_default_resolution_physical(void **state)
{
    (void)state;
    g_autofree char *out = new_dir("resolution");
    g_autofree char *cmu = test_fixture(CMU ".svs");
    g_autofree char *boxes = test_fixture("boxes.tiff");
    g_free(run_expect(0, "run", cmu, boxes, "-o", out, "--max-size", "512", NULL));
    g_autofree char *cmu_dir = g_build_filename(out, CMU, NULL);
    g_autoptr(sf_manifest) m = load_manifest(cmu_dir);
    assert_true(m->n_regions > 0);
    assert_float_equal(m->regions[0].tissue_downsample, 1 / 0.499, 1e-9);
    JsonObject *params = json_node_get_object(m->params);
    assert_float_equal(json_object_get_double_member(params, "fragment-mpp"), 1.0, 0);
    g_autofree char *boxes_dir = g_build_filename(out, "boxes", NULL);
    g_autoptr(sf_manifest) b = load_manifest(boxes_dir);
    assert_int_equal(
        json_object_get_int_member(json_node_get_object(b->params), "fragment-max-size"), 4096);

    g_free(run_expect(0, "run", cmu, "-o", out, "--max-size", "512", "--fragment-mpp", "2", NULL));
    g_autoptr(sf_manifest) two = load_manifest(cmu_dir);
    assert_float_equal(two->regions[0].tissue_downsample, 2 / 0.499, 1e-9);
}

/* ---- Tiles --------------------------------------------------------------------- */

/* Regions larger than a tile are cut into a grid of overlapping tiles:
 * cmu-1-small-region at level 0 in 512 px tiles sharing 32 px. */
static void test_tiles_cut_and_grouped(void **state)
{
    (void)state;
    g_autofree char *out = new_dir("tiles");
    g_autofree char *cmu = test_fixture(CMU ".svs");
    g_free(run_expect(0, "run", cmu, "-o", out, "--max-size", "512", "--fragment-downsample", "1",
                      "--tile", "512", "--overlap", "32", NULL));
    g_autofree char *dir = g_build_filename(out, CMU, NULL);
    assert_true(check_tiles(dir, 512) > 0);
    /* The file lists each region once, with its tiles. */
    g_autofree char *path = g_build_filename(dir, "manifest.json", NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    assert_true(json_parser_load_from_file(parser, path, NULL));
    JsonObject *root = json_node_get_object(json_parser_get_root(parser));
    JsonArray *tissue = json_object_get_array_member(root, "tissue");
    JsonArray *regions = json_object_get_array_member(root, "regions");
    guint listed = 0;
    for (guint i = 0; i < json_array_get_length(tissue); i++) {
        JsonObject *t = json_array_get_object_element(tissue, i);
        JsonArray *fragments = json_object_get_array_member(t, "fragments");
        assert_int_equal(json_array_get_length(fragments),
                         json_object_get_int_member(t, "rows") *
                             json_object_get_int_member(t, "cols"));
        listed += json_array_get_length(fragments);
    }
    assert_int_equal(listed, json_array_get_length(regions));
    /* And matches the schema of docs/manifest.md. */
    g_autofree char *checker =
        g_build_filename(SLIDEFRAG_SOURCE_DIR, "scripts", "check-manifest", NULL);
    const char *argv[] = {checker, path, NULL};
    int status = 0;
    g_autofree char *err = NULL;
    assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                             NULL, &err, &status, NULL));
    if (!g_spawn_check_wait_status(status, NULL))
        fail_msg("%s", err);
    /* µm overlap on a slide with µm/px. */
    g_free(run_expect(0, "run", cmu, "-o", out, "--max-size", "512", "--tile", "700", "--overlap",
                      "40um", NULL));
    assert_true(check_tiles(dir, 700) > 0);
}

/* No option makes a fragment the annotation tool cannot show: tiles are
 * at most 12000 px a side (144 MP), and option values that would need more
 * are refused before anything is written. */
static void test_fragments_within_tool_limits(void **state)
{
    (void)state;
    g_autofree char *out = new_dir("limits");
    g_autofree char *cmu = test_fixture(CMU ".svs");
    /* The largest fragment asked for, at level 0, still comes in tiles. */
    g_free(run_expect(0, "run", cmu, "-o", out, "--max-size", "512", "--fragment-max-size", "65535",
                      "--tile", "1024", NULL));
    g_autofree char *dir = g_build_filename(out, CMU, NULL);
    assert_true(check_tiles(dir, 1024) > 0);
    static const char *const refused[][2] = {
        {"--tile", "12001"}, {"--tile", "63"}, {"--tile", "0"}, {"--overlap", "-1"}};
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_autofree char *bad = new_dir("limits-refused");
        g_autofree char *err =
            run_expect(SF_EXIT_USAGE, "run", cmu, "-o", bad, refused[i][0], refused[i][1], NULL);
        test_assert_contains(err, refused[i][0]);
    }
    /* An overlap of half a tile or more. */
    g_autofree char *bad = new_dir("limits-overlap");
    g_autofree char *err = run_expect(SF_EXIT_USAGE, "run", cmu, "-o", bad, "--max-size", "512",
                                      "--tile", "512", "--overlap", "256", NULL);
    test_assert_contains(err, "--overlap");
    g_autofree char *entries = test_dir_entries(bad);
    assert_string_equal(entries, "");
}

/* ---- Padding and what eval scores ----------------------------------------------- */

/* By default each region's fragments have a 20 µm margin around the
 * detected tissue; the manifest keeps both boxes, and eval scores the
 * detected one, whatever the padding. */
static void test_padding_and_eval(void **state)
{
    (void)state;
    g_autofree char *out = new_dir("padding");
    g_autofree char *cmu = test_fixture(CMU ".svs");
    g_free(run_expect(0, "run", cmu, "-o", out, "--max-size", "512", NULL));
    g_autofree char *dir = g_build_filename(out, CMU, NULL);
    g_autoptr(sf_manifest) m = load_manifest(dir);
    assert_true(m->n_regions > 0);
    GString *truth = g_string_new("[");
    for (size_t i = 0; i < m->n_regions; i++) {
        const sf_manifest_region *r = &m->regions[i];
        /* 20 µm is 40 level-0 px here, less where the slide's edge clamps. */
        const sf_box *d = &r->detected, *p = &r->tissue_box;
        assert_true(box_inside(d, p));
        assert_true(d->x - p->x == MIN(d->x, 40) || d->x - p->x == MIN(d->x, 41));
        if (r->row == 0 && r->col == 0)
            g_string_append_printf(truth,
                                   "%s[%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                                   ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
                                   truth->len > 1 ? ", " : "", d->x, d->y, d->w, d->h);
    }
    g_string_append(truth, "]");
    g_autofree char *truth_dir = new_dir("padding-truth");
    g_autofree char *truth_path = g_build_filename(truth_dir, CMU ".json", NULL);
    test_write_text(truth_path, truth->str);
    g_string_free(truth, TRUE);
    g_autofree char *report = NULL;
    const char *eval[] = {"eval", "--truth", truth_dir, "--pred", out, "--json", NULL};
    g_autofree char *err = NULL;
    assert_int_equal(test_run_slidefrag(eval, &report, &err), 0);
    g_autoptr(JsonNode) root = json_from_string(report, NULL);
    assert_non_null(root);
    JsonObject *overall = json_object_get_object_member(json_node_get_object(root), "overall");
    assert_float_equal(json_object_get_double_member(overall, "mean_iou"), 1.0, 1e-12);
    assert_int_equal(json_object_get_int_member(overall, "false_positives"), 0);
}

/* ---- Names ---------------------------------------------------------------------- */

/* Two slides of one stem from different folders, with the same tissue at
 * the same place: their fragments are named apart (after their folders),
 * and map without a manifest brings each back to its own slide. */
static void test_same_stem_names_apart(void **state)
{
    (void)state;
    g_autofree char *in = new_dir("same-stem-in");
    g_autofree char *a = g_build_filename(in, "a", NULL);
    g_autofree char *b = g_build_filename(in, "b", NULL);
    assert_int_equal(g_mkdir_with_parents(a, 0755), 0);
    assert_int_equal(g_mkdir_with_parents(b, 0755), 0);
    test_copy_fixture("small.svs", a, "x.svs");
    test_copy_fixture("small.svs", b, "x.svs");
    g_autofree char *sa = g_build_filename(a, "x.svs", NULL);
    g_autofree char *sb = g_build_filename(b, "x.svs", NULL);
    g_autofree char *out = new_dir("same-stem");
    g_free(run_expect(0, "run", sa, sb, "-o", out, "--min-area", "0", NULL));

    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) slide_names = g_ptr_array_new_with_free_func(g_free);
    GString *csv = g_string_new(NULL);
    g_autoptr(GDir) listing = g_dir_open(out, 0, NULL);
    for (const char *folder; (folder = g_dir_read_name(listing));) {
        g_autofree char *dir = g_build_filename(out, folder, NULL);
        if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
            continue; /* OUTDIR's report.html */
        g_autoptr(sf_manifest) m = load_manifest(dir);
        assert_string_equal(m->slide_name, folder);
        g_ptr_array_add(slide_names, g_strdup(folder));
        for (size_t i = 0; i < m->n_regions; i++) {
            const char *name = m->regions[i].fragment_name;
            if (g_hash_table_contains(names, name))
                fail_msg("%s is the name of two fragments", name);
            g_hash_table_add(names, g_strdup(name));
            g_string_append_printf(csv, "tumour,1,1,%s,%d,%d\n", name, m->regions[i].fragment_width,
                                   m->regions[i].fragment_height);
        }
    }
    assert_int_equal(slide_names->len, 2);
    g_autofree char *csv_path = g_build_filename(tmp_root, "same-stem.csv", NULL);
    test_write_text(csv_path, csv->str);
    g_string_free(csv, TRUE);
    g_autofree char *mapped = g_build_filename(tmp_root, "same-stem-mapped", NULL);
    g_free(run_expect(0, "map", csv_path, "-o", mapped, NULL));
    for (guint i = 0; i < slide_names->len; i++) {
        g_autofree char *file = g_strconcat(g_ptr_array_index(slide_names, i), ".geojson", NULL);
        g_autofree char *path = g_build_filename(mapped, file, NULL);
        assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
    }
}

/* The round trip through real tiles: a tumour outline drawn across the
 * seam of two neighbouring tiles of one region, as a pathologist draws it
 * in Makesense (one polygon on each tile, each cut at its image's edge),
 * comes back from `map` as one shape with the outline's level-0 extent;
 * drawn without the seam the union would be two features. */
static void test_shape_across_a_real_seam_maps_to_one(void **state)
{
    (void)state;
    g_autofree char *out = new_dir("seam");
    g_autofree char *cmu = test_fixture(CMU ".svs");
    g_free(run_expect(0, "run", cmu, "-o", out, "--max-size", "512", "--fragment-downsample", "2",
                      "--tile", "400", "--overlap", "40", NULL));
    g_autofree char *dir = g_build_filename(out, CMU, NULL);
    g_autoptr(sf_manifest) m = load_manifest(dir);
    /* Two tiles side by side in one region's grid. */
    const sf_manifest_region *a = NULL, *b = NULL;
    for (size_t i = 0; i < m->n_regions && !b; i++)
        for (size_t k = 0; k < m->n_regions && !b; k++)
            if (m->regions[i].has_tissue && m->regions[i].tissue == m->regions[k].tissue &&
                m->regions[i].row == m->regions[k].row &&
                m->regions[k].col == m->regions[i].col + 1) {
                a = &m->regions[i];
                b = &m->regions[k];
            }
    assert_non_null(b);
    double ds = a->fragment_downsample;
    assert_true(ds > 1.5 && ds < 2.5);
    /* A rectangle in level-0 pixels from the middle of a to the middle of
     * b, 60 level-0 px high, in the top third of the row. */
    double x0 = (double)a->x + a->w / 2.0, x1 = (double)b->x + b->w / 2.0;
    double y0 = (double)a->y + a->h / 3.0, y1 = y0 + 60;
    /* Each tile gets the part inside its own image, in its own pixels. */
    GString *coco = g_string_new("{\"images\":[");
    const sf_manifest_region *tiles[2] = {a, b};
    for (int t = 0; t < 2; t++)
        g_string_append_printf(
            coco, "%s{\"id\":%d,\"file_name\":\"%s\",\"width\":%d,\"height\":%d}", t ? "," : "",
            t + 1, tiles[t]->fragment_name, tiles[t]->fragment_width, tiles[t]->fragment_height);
    g_string_append(coco, "],\"categories\":[{\"id\":1,\"name\":\"tumour\"}],\"annotations\":[");
    for (int t = 0; t < 2; t++) {
        const sf_manifest_region *r = tiles[t];
        double left = MAX(x0, (double)r->x), right = MIN(x1, (double)(r->x + r->w));
        double px0 = (left - r->x) / ds, px1 = (right - r->x) / ds;
        double py0 = (y0 - r->y) / ds, py1 = (y1 - r->y) / ds;
        g_string_append_printf(coco,
                               "%s{\"id\":%d,\"image_id\":%d,\"category_id\":1,\"iscrowd\":0,"
                               "\"segmentation\":[[%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f]],"
                               "\"bbox\":[%.3f,%.3f,%.3f,%.3f],\"area\":1}",
                               t ? "," : "", t, t + 1, px0, py0, px1, py0, px1, py1, px0, py1, px0,
                               py0, px1 - px0, py1 - py0);
    }
    g_string_append(coco, "]}");
    g_autofree char *export_path = g_build_filename(tmp_root, "seam.json", NULL);
    test_write_text(export_path, coco->str);
    g_string_free(coco, TRUE);
    g_autofree char *manifest = g_build_filename(dir, "manifest.json", NULL);
    g_autofree char *mapped = g_build_filename(tmp_root, "seam-mapped", NULL);
    g_free(run_expect(0, "map", export_path, "--manifest", manifest, "-o", mapped, NULL));

    g_autofree char *geojson = g_build_filename(mapped, CMU ".geojson", NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    assert_true(json_parser_load_from_file(parser, geojson, NULL));
    JsonArray *features = json_object_get_array_member(
        json_node_get_object(json_parser_get_root(parser)), "features");
    assert_int_equal(json_array_get_length(features), 1);
    JsonObject *geometry =
        json_object_get_object_member(json_array_get_object_element(features, 0), "geometry");
    assert_string_equal(json_object_get_string_member(geometry, "type"), "Polygon");
    JsonArray *ring =
        json_array_get_array_element(json_object_get_array_member(geometry, "coordinates"), 0);
    double min_x = G_MAXDOUBLE, max_x = -G_MAXDOUBLE, min_y = G_MAXDOUBLE, max_y = -G_MAXDOUBLE;
    for (guint i = 0; i < json_array_get_length(ring); i++) {
        JsonArray *point = json_array_get_array_element(ring, i);
        double x = json_array_get_double_element(point, 0);
        double y = json_array_get_double_element(point, 1);
        min_x = MIN(min_x, x);
        max_x = MAX(max_x, x);
        min_y = MIN(min_y, y);
        max_y = MAX(max_y, y);
    }
    /* Within half a level-0 pixel of the outline that was drawn. */
    assert_true(fabs(min_x - x0) <= 0.5 && fabs(max_x - x1) <= 0.5);
    assert_true(fabs(min_y - y0) <= 0.5 && fabs(max_y - y1) <= 0.5);
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
        cmocka_unit_test(test_default_resolution_physical),
        cmocka_unit_test(test_tiles_cut_and_grouped),
        cmocka_unit_test(test_fragments_within_tool_limits),
        cmocka_unit_test(test_padding_and_eval),
        cmocka_unit_test(test_same_stem_names_apart),
        cmocka_unit_test(test_shape_across_a_real_seam_maps_to_one),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
