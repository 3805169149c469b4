/* slidefrag run end to end on the real fixtures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "slidefrag/run.h"
#include "support.h"
#include "slidefrag/error.h"
#include "slidefrag/image_io.h"
#include "slidefrag/manifest.h"
#include "slidefrag/slide.h"

#include <openslide.h>

static JsonObject *load_json(JsonParser *parser, const char *path)
{
    GError *error = NULL;
    if (!json_parser_load_from_file(parser, path, &error))
        fail_msg("%s: %s", path, error->message);
    return json_node_get_object(json_parser_get_root(parser));
}

static char *run_to_tmp(const char *fixture, const char *const *extra, int expect_code,
                        char **err_out)
{
    char *dir = test_make_tmpdir();
    g_autofree char *slide = test_fixture(fixture);
    const char *argv[32] = {"run", slide, "-o", dir};
    int n = 4;
    for (const char *const *e = extra; e && *e; e++)
        argv[n++] = *e;
    argv[n] = NULL;
    g_autofree char *out = NULL;
    char *err = NULL;
    int code = test_run_slidefrag(argv, &out, &err);
    if (code != expect_code)
        fail_msg("exit %d, expected %d; stderr: %s", code, expect_code, err);
    if (err_out)
        *err_out = err;
    else
        g_free(err);
    return dir;
}

static void test_cmu_outputs_and_manifest(void **state)
{
    (void)state;
    const char *extra[] = {"--max-size", "512", NULL};
    g_autofree char *dir = run_to_tmp("cmu-1-small-region.svs", extra, 0, NULL);
    g_autofree char *slide_dir = g_build_filename(dir, "cmu-1-small-region", NULL);
    const char *files[] = {"overview.jpg", "mask.png", "boxes.jpg", "manifest.json"};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = g_build_filename(slide_dir, files[i], NULL);
        assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
    }
    test_assert_no_partial_files(dir);

    g_autofree char *manifest_path = g_build_filename(slide_dir, "manifest.json", NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *root = load_json(parser, manifest_path);
    assert_string_equal(json_object_get_string_member(root, "schema"), "slidefrag.manifest/1");
    JsonObject *slide = json_object_get_object_member(root, "slide");
    assert_int_equal(json_object_get_int_member(slide, "width"), 2220);
    assert_int_equal(json_object_get_int_member(slide, "height"), 2967);
    assert_string_equal(json_object_get_string_member(slide, "vendor"), "aperio");
    JsonObject *overview = json_object_get_object_member(root, "overview");
    /* Longest side exactly the target; the other rounded from the aspect. */
    assert_int_equal(json_object_get_int_member(overview, "height"), 512);
    assert_int_equal(json_object_get_int_member(overview, "width"),
                     (int)lround(2220 * 512.0 / 2967));

    /* The mask is the overview's size and binary. */
    g_autofree char *mask_path = g_build_filename(slide_dir, "mask.png", NULL);
    sf_image mask = test_image_load_png(mask_path, 1);
    assert_int_equal(mask.height, 512);
    int64_t tissue = 0;
    for (int i = 0; i < mask.width * mask.height; i++) {
        assert_true(mask.data[i] == 0 || mask.data[i] == 255);
        tissue += mask.data[i] == 255;
    }
    /* The red channel's Otsu threshold keeps the haematoxylin-rich tissue
     * of cmu-1-small-region (about a sixth of it) and none of the glass. */
    assert_true(tissue > mask.width * mask.height / 10);
    assert_true(tissue < mask.width * mask.height / 2);
    assert_int_equal(mask.data[0], 0);
    assert_int_equal(mask.data[mask.width * mask.height - 1], 0);
    test_image_free(&mask);

    JsonArray *regions = json_object_get_array_member(root, "regions");
    assert_true(json_array_get_length(regions) >= 1);
    for (guint i = 0; i < json_array_get_length(regions); i++) {
        JsonObject *region = json_array_get_object_element(regions, i);
        JsonObject *l0 = json_object_get_object_member(region, "level0");
        JsonObject *frag = json_object_get_object_member(region, "fragment");
        int64_t x = json_object_get_int_member(l0, "x"), y = json_object_get_int_member(l0, "y");
        int64_t w = json_object_get_int_member(l0, "w"), h = json_object_get_int_member(l0, "h");
        assert_true(x >= 0 && y >= 0 && x + w <= 2220 && y + h <= 2967);
        /* The name alone gives back the level-0 box. */
        const char *file = json_object_get_string_member(frag, "file");
        g_autofree char *stem = NULL;
        int64_t nx, ny, nw, nh;
        assert_true(sf_fragment_name_parse(file, &stem, &nx, &ny, &nw, &nh));
        assert_string_equal(stem, "cmu-1-small-region");
        assert_int_equal(nx, x);
        assert_int_equal(ny, y);
        assert_int_equal(nw, w);
        assert_int_equal(nh, h);
        /* Default fragments: 1 µm/px, on this 0.499 µm/px slide half the
         * level-0 pixels a side. */
        g_autofree char *frag_path = g_build_filename(slide_dir, file, NULL);
        GError *error = NULL;
        int fw, fh;
        g_autofree uint8_t *pixels = sf_jpeg_load(frag_path, &fw, &fh, &error);
        assert_non_null(pixels);
        assert_int_equal(fw, json_object_get_int_member(frag, "width"));
        assert_int_equal(fh, json_object_get_int_member(frag, "height"));
        assert_true(labs(fw - lround(w * 0.499)) <= 1);
        assert_true(labs(fh - lround(h * 0.499)) <= 1);
    }
    test_remove_tree(dir);
}

/* Strips "timings", which alone may differ between two identical runs. */
static char *manifest_without_timings(const char *path)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *root = load_json(parser, path);
    json_object_remove_member(root, "timings");
    return json_to_string(json_parser_get_root(parser), FALSE);
}

static void test_same_command_same_manifest(void **state)
{
    (void)state;
    const char *extra[] = {"--max-size", "300", "--fragment-downsample", "3", NULL};
    g_autofree char *a = run_to_tmp("cmu-1-small-region.svs", extra, 0, NULL);
    g_autofree char *b = run_to_tmp("cmu-1-small-region.svs", extra, 0, NULL);
    g_autofree char *pa = g_build_filename(a, "cmu-1-small-region", "manifest.json", NULL);
    g_autofree char *pb = g_build_filename(b, "cmu-1-small-region", "manifest.json", NULL);
    g_autofree char *ja = manifest_without_timings(pa);
    g_autofree char *jb = manifest_without_timings(pb);
    assert_string_equal(ja, jb);
    test_remove_tree(a);
    test_remove_tree(b);
}

/* The overview level for several targets on a 4-level generic TIFF whose
 * downsamples are 1, 2, 4.016 and 8.086: the largest not above the
 * requested downsample, with a tolerance of 0.1%. */
static void test_level_choice(void **state)
{
    (void)state;
    static const struct {
        const char *option, *value;
        int level, width;
    } cases[] = {
        {"--max-size", "300", 0, 300}, {"--max-size", "150", 1, 150},  {"--max-size", "75", 1, 75},
        {"--max-size", "74", 2, 74},   {"--max-size", "37", 3, 37},    {"--downsample", "8", 2, 38},
        {"--downsample", "9", 3, 33},  {"--max-size", "1000", 0, 300},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *extra[] = {cases[i].option, cases[i].value, NULL};
        g_autofree char *dir = run_to_tmp("boxes.tiff", extra, 0, NULL);
        g_autofree char *path = g_build_filename(dir, "boxes", "manifest.json", NULL);
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonObject *overview = json_object_get_object_member(load_json(parser, path), "overview");
        if (json_object_get_int_member(overview, "level") != cases[i].level ||
            json_object_get_int_member(overview, "width") != cases[i].width)
            fail_msg("%s %s: level %d width %d, expected level %d width %d", cases[i].option,
                     cases[i].value, (int)json_object_get_int_member(overview, "level"),
                     (int)json_object_get_int_member(overview, "width"), cases[i].level,
                     cases[i].width);
        test_remove_tree(dir);
    }
}

/* A direct OpenSlide read of a level-0 box, composited on white and
 * area-averaged to out_w x out_h in double precision: written here without
 * slidefrag's resampler, as the independent truth for a fragment. */
static uint8_t *direct_read(const char *path, const sf_manifest_region *r, int out_w, int out_h)
{
    openslide_t *osr = openslide_open(path);
    assert_non_null(osr);
    uint32_t *argb = g_new(uint32_t, (size_t)r->w * r->h);
    openslide_read_region(osr, argb, r->x, r->y, 0, r->w, r->h);
    assert_null(openslide_get_error(osr));
    openslide_close(osr);
    double sx = (double)r->w / out_w, sy = (double)r->h / out_h;
    uint8_t *out = g_malloc((size_t)out_w * out_h * 3);
    for (int oy = 0; oy < out_h; oy++) {
        for (int ox = 0; ox < out_w; ox++) {
            double x0 = ox * sx, x1 = (ox + 1) * sx, y0 = oy * sy, y1 = (oy + 1) * sy;
            double sum[3] = {0, 0, 0}, area = 0;
            for (int y = (int)floor(y0); y < (int)ceil(y1); y++) {
                double wy = fmin(y + 1, y1) - fmax(y, y0);
                for (int x = (int)floor(x0); x < (int)ceil(x1); x++) {
                    double wx = fmin(x + 1, x1) - fmax(x, x0);
                    uint32_t p = argb[(size_t)y * r->w + x];
                    double a = p >> 24;
                    for (int c = 0; c < 3; c++) {
                        double v = (p >> (16 - 8 * c)) & 0xff;
                        sum[c] += wx * wy * (v + 255.0 * (255.0 - a) / 255.0);
                    }
                    area += wx * wy;
                }
            }
            for (int c = 0; c < 3; c++)
                out[((size_t)oy * out_w + ox) * 3 + c] = (uint8_t)lround(sum[c] / area);
        }
    }
    g_free(argb);
    return out;
}

static double mean_abs_difference(const uint8_t *a, const uint8_t *b, size_t n)
{
    double total = 0;
    for (size_t k = 0; k < n; k++)
        total += fabs((double)a[k] - b[k]);
    return total / n;
}

/* A fragment differs from a direct read of its box by JPEG's loss alone. */
static void test_fragment_pixels_match_slide(void **state)
{
    (void)state;
    const char *extra[] = {"--max-size", "400", "--fragment-downsample", "2.5", "--jpeg-quality",
                           "95",         NULL};
    g_autofree char *dir = run_to_tmp("cmu-1-small-region.svs", extra, 0, NULL);
    g_autofree char *manifest_path =
        g_build_filename(dir, "cmu-1-small-region", "manifest.json", NULL);
    GError *error = NULL;
    g_autoptr(sf_manifest) manifest = sf_manifest_load(manifest_path, &error);
    assert_non_null(manifest);
    assert_true(manifest->n_regions >= 1);
    g_autofree char *slide_path = test_fixture("cmu-1-small-region.svs");
    for (size_t i = 0; i < manifest->n_regions; i++) {
        const sf_manifest_region *r = &manifest->regions[i];
        assert_int_equal(r->fragment_width, (int)lround(r->w / 2.5));
        assert_int_equal(r->fragment_height, (int)lround(r->h / 2.5));
        g_autofree char *frag_path =
            g_build_filename(dir, "cmu-1-small-region", r->fragment_file, NULL);
        int fw, fh;
        g_autofree uint8_t *got = sf_jpeg_load(frag_path, &fw, &fh, &error);
        assert_non_null(got);
        g_autofree uint8_t *want = direct_read(slide_path, r, fw, fh);
        size_t n = (size_t)fw * fh * 3;

        /* What JPEG alone loses on these pixels at this quality. */
        g_autofree char *jpeg_path = g_build_filename(dir, "direct.jpg", NULL);
        assert_true(sf_jpeg_save(jpeg_path, want, fw, fh, 3, (size_t)fw * 3, 95, &error));
        int jw, jh;
        g_autofree uint8_t *coded = sf_jpeg_load(jpeg_path, &jw, &jh, &error);
        assert_non_null(coded);
        double jpeg_loss = mean_abs_difference(coded, want, n);
        double difference = mean_abs_difference(got, want, n);
        /* A box off by one level-0 pixel or a blurrier resampling would add
         * far more than this margin. */
        if (difference > jpeg_loss + 0.25)
            fail_msg("fragment %s: mean abs difference %.3f, JPEG alone %.3f", r->fragment_name,
                     difference, jpeg_loss);
    }
    test_remove_tree(dir);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *fixture;
        int code;
        const char *message;
    } cases[] = {
        {"no-such-slide.svs", SF_EXIT_MISSING, "no-such-slide.svs"},
        {"broken.svs", SF_EXIT_SLIDE_OPEN, "broken.svs"},
        {"unopenable.tiff", SF_EXIT_SLIDE_OPEN, "unopenable.tiff"},
        {"unreadable.svs", SF_EXIT_SLIDE_READ, "unreadable.svs"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *err = NULL;
        g_autofree char *dir = run_to_tmp(cases[i].fixture, NULL, cases[i].code, &err);
        if (!strstr(err, cases[i].message))
            fail_msg("stderr does not name %s: %s", cases[i].message, err);
        test_assert_no_partial_files(dir);
        g_autofree char *stem = g_strndup(cases[i].fixture, strcspn(cases[i].fixture, "."));
        g_autofree char *manifest = g_build_filename(dir, stem, "manifest.json", NULL);
        assert_false(g_file_test(manifest, G_FILE_TEST_EXISTS));
        g_free(err);
        test_remove_tree(dir);
    }
}

static void test_bad_options(void **state)
{
    (void)state;
    static const char *const bad[][3] = {
        {"--max-size", "-5"},
        {"--max-size", "abc"},
        {"--max-size", "0"},
        {"--downsample", "0.5"},
        {"--open", "-1"},
        {"--threshold", "300"},
        {"--threshold", "otsuu"},
        {"--channel", "purple"},
        {"--jpeg-quality", "101"},
        {"--gap", "5parsecs"},
        {"--min-area-fraction", "2"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *err = NULL;
        g_autofree char *dir = run_to_tmp("small.svs", bad[i], SF_EXIT_USAGE, &err);
        if (!strstr(err, bad[i][0]))
            fail_msg("stderr does not name %s: %s", bad[i][0], err);
        g_free(err);
        test_remove_tree(dir);
    }
    /* boxes.tiff records no µm/px. */
    const char *mpp[] = {"--mpp", "8", NULL};
    char *err = NULL;
    g_autofree char *dir = run_to_tmp("boxes.tiff", mpp, SF_EXIT_USAGE, &err);
    assert_non_null(strstr(err, "mpp"));
    g_free(err);
    test_remove_tree(dir);
}

static void test_several_slides_one_failing(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *good = test_fixture("small.svs");
    g_autofree char *bad = test_fixture("unreadable.svs");
    g_autofree char *other = test_fixture("boxes.tiff");
    /* The same stem from another folder must get a folder of its own. */
    g_autofree char *copy_dir = g_build_filename(dir, "copy", NULL);
    g_mkdir(copy_dir, 0755);
    g_autofree char *copy = g_build_filename(copy_dir, "small.svs", NULL);
    g_autofree char *contents = NULL;
    gsize length;
    assert_true(g_file_get_contents(good, &contents, &length, NULL));
    assert_true(g_file_set_contents(copy, contents, length, NULL));
    g_autofree char *out = g_build_filename(dir, "out", NULL);
    const char *argv[] = {"run", good, bad, other, copy, "-o", out, "--max-size", "64", NULL};
    g_autofree char *err = NULL;
    assert_int_equal(test_run_slidefrag(argv, NULL, &err), SF_EXIT_SOME_FAILED);
    assert_non_null(strstr(err, "unreadable.svs"));
    g_autofree char *boxes = g_build_filename(out, "boxes", "manifest.json", NULL);
    assert_true(g_file_test(boxes, G_FILE_TEST_EXISTS));
    /* Two folders for the two small.svs, each with its own manifest. */
    int small_dirs = 0;
    g_autoptr(GDir) listing = g_dir_open(out, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(listing))) {
        if (g_str_has_prefix(name, "small")) {
            g_autofree char *m = g_build_filename(out, name, "manifest.json", NULL);
            assert_true(g_file_test(m, G_FILE_TEST_EXISTS));
            small_dirs++;
        }
    }
    assert_int_equal(small_dirs, 2);
    test_remove_tree(dir);
}

static void test_info(void **state)
{
    (void)state;
    g_autofree char *slide = test_fixture("test3-DAPI-2-387.ndpi");
    const char *argv[] = {"info", slide, "--json", NULL};
    g_autofree char *out = NULL;
    assert_int_equal(test_run_slidefrag(argv, &out, NULL), 0);
    g_autoptr(JsonParser) parser = json_parser_new();
    assert_true(json_parser_load_from_data(parser, out, -1, NULL));
    JsonObject *root = json_node_get_object(json_parser_get_root(parser));
    assert_string_equal(json_object_get_string_member(root, "vendor"), "hamamatsu");
    assert_int_equal(json_object_get_int_member(root, "width"), 3968);
    assert_int_equal(json_array_get_length(json_object_get_array_member(root, "levels")), 7);
    assert_true(fabs(json_object_get_double_member(root, "mpp_x") - 0.228175) < 1e-5);
    assert_true(
        json_object_has_member(json_object_get_object_member(root, "associated_images"), "macro"));
}

/* Manifests of several slides validate against the schema in
 * docs/manifest.md, and a broken one does not. */
static void test_manifest_matches_schema(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *cmu = test_fixture("cmu-1-small-region.svs");
    g_autofree char *boxes = test_fixture("boxes.tiff");
    g_autofree char *ndpi = test_fixture("test3-DAPI-2-387.ndpi");
    const char *run[] = {"run", cmu, boxes, ndpi, "-o", dir, "--max-size", "300", NULL};
    assert_int_equal(test_run_slidefrag(run, NULL, NULL), 0);
    g_autofree char *checker =
        g_build_filename(SLIDEFRAG_SOURCE_DIR, "scripts", "check-manifest", NULL);
    const char *stems[] = {"cmu-1-small-region", "boxes", "test3-DAPI-2-387"};
    for (size_t i = 0; i < G_N_ELEMENTS(stems); i++) {
        g_autofree char *manifest = g_build_filename(dir, stems[i], "manifest.json", NULL);
        const char *argv[] = {checker, manifest, NULL};
        int status = 0;
        g_autofree char *err = NULL;
        assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                 NULL, &err, &status, NULL));
        if (!g_spawn_check_wait_status(status, NULL))
            fail_msg("%s", err);
    }
    g_autofree char *good = g_build_filename(dir, "boxes", "manifest.json", NULL);
    g_autofree char *text = NULL;
    assert_true(g_file_get_contents(good, &text, NULL, NULL));
    g_autofree char *broken = g_strdup(text);
    char *schema = strstr(broken, "slidefrag.manifest/1");
    assert_non_null(schema);
    schema[strlen("slidefrag.manifest/")] = '9';
    g_autofree char *bad = g_build_filename(dir, "bad.json", NULL);
    assert_true(g_file_set_contents(bad, broken, -1, NULL));
    const char *argv[] = {checker, bad, NULL};
    int status = 0;
    assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                             G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                             NULL, NULL, &status, NULL));
    assert_false(g_spawn_check_wait_status(status, NULL));
    test_remove_tree(dir);
}

/* `run --help` lists every parameter of the table with its default, and
 * `help run` prints the same; a flag takes =false to turn it off. */
static void test_help_lists_every_option(void **state)
{
    (void)state;
    const char *help_argv[] = {"run", "--help", NULL};
    const char *help_run[] = {"help", "run", NULL};
    g_autofree char *out = NULL, *out2 = NULL;
    assert_int_equal(test_run_slidefrag(help_argv, &out, NULL), 0);
    assert_int_equal(test_run_slidefrag(help_run, &out2, NULL), 0);
    assert_string_equal(out, out2);
    for (size_t i = 0; i < sf_run_params_count(); i++) {
        g_autofree char *option = g_strdup_printf("--%s", sf_run_param_info_at(i)->key);
        if (!strstr(out, option))
            fail_msg("run --help does not list %s:\n%s", option, out);
    }
    assert_non_null(strstr(out, "--close=K"));
    assert_non_null(strstr(out, "(default 7)"));
    assert_non_null(strstr(out, "--params=FILE"));

    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *slide = test_fixture("small.svs");
    g_autofree char *params = g_build_filename(dir, "ink.json", NULL);
    g_file_set_contents(params, "{\"remove-ink\": true, \"min-area\": 1}", -1, NULL);
    const char *off[] = {"run", slide, "-o", dir, "--params", params, "--remove-ink=false", NULL};
    assert_int_equal(test_run_slidefrag(off, NULL, NULL), 0);
    g_autofree char *manifest = g_build_filename(dir, "small", "manifest.json", NULL);
    g_autofree char *text = NULL;
    assert_true(g_file_get_contents(manifest, &text, NULL, NULL));
    assert_non_null(strstr(text, "\"remove-ink\" : false"));
    test_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmu_outputs_and_manifest),
        cmocka_unit_test(test_same_command_same_manifest),
        cmocka_unit_test(test_level_choice),
        cmocka_unit_test(test_fragment_pixels_match_slide),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_several_slides_one_failing),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_manifest_matches_schema),
        cmocka_unit_test(test_help_lists_every_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
