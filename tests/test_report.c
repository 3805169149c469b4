/*
 * report.html, the per-slide page and the index, as files and as a real
 * browser shows them: headless Chromium (tests/browser.py) loads each page
 * with no console error and no request beyond the output folder, the
 * elements the manifest calls for are there, the layers toggle, and a
 * screenshot shows the region outlines where the manifest puts them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "support.h"
#include "slidefrag/error.h"
#include "slidefrag/image_io.h"
#include "slidefrag/manifest.h"
#include "slidefrag/report.h"

static char *root; /* outputs of slidefrag run, shared by the tests */

static char *path_in(const char *dir, const char *name)
{
    return g_build_filename(dir, name, NULL);
}

static char *read_text(const char *path)
{
    g_autofree char *text = NULL;
    GError *error = NULL;
    if (!g_file_get_contents(path, &text, NULL, &error))
        fail_msg("%s", error->message);
    return g_steal_pointer(&text);
}

/* cmu-1 (one region, many components), boxes.tiff, and a file that is not
 * a slide, through `slidefrag run` as a user runs it. */
static int setup(void **state)
{
    (void)state;
    root = test_make_tmpdir();
    g_autofree char *cmu = test_fixture("cmu-1-small-region.svs");
    g_autofree char *boxes = test_fixture("boxes.tiff");
    g_autofree char *broken = test_fixture("broken.svs");
    g_autofree char *out = path_in(root, "out");
    const char *argv[] = {"run", cmu, boxes, broken, "-o", out, "--max-size", "1024", NULL};
    g_autofree char *err = NULL;
    int code = test_run_slidefrag(argv, NULL, &err);
    if (code != SF_EXIT_SOME_FAILED)
        fail_msg("slidefrag run: exit %d: %s", code, err);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_remove_tree(root);
    g_free(root);
    return 0;
}

/* Every src and href of a page is relative to it (a file beside it, below
 * it, or its index above) or a data URI. */
static void assert_self_contained(const char *html, const char *page)
{
    g_autoptr(GRegex) attribute = g_regex_new("\\b(src|href)=\"([^\"]*)\"", 0, 0, NULL);
    g_autoptr(GMatchInfo) match = NULL;
    g_regex_match(attribute, html, 0, &match);
    int n = 0;
    while (g_match_info_matches(match)) {
        g_autofree char *value = g_match_info_fetch(match, 2);
        if (!g_str_has_prefix(value, "data:image/jpeg;base64,") &&
            (strstr(value, "://") || value[0] == '/' || strchr(value, ':')))
            fail_msg("%s refers to '%s'", page, value);
        n++;
        g_match_info_next(match, NULL);
    }
    assert_true(n > 0);
}

static void test_pages_written_and_self_contained(void **state)
{
    (void)state;
    g_autofree char *out = path_in(root, "out");
    g_autofree char *index_path = path_in(out, "report.html");
    g_autofree char *slide_dir = path_in(out, "cmu-1-small-region");
    g_autofree char *page_path = path_in(slide_dir, "report.html");
    g_autofree char *index = read_text(index_path);
    g_autofree char *page = read_text(page_path);
    assert_self_contained(index, "report.html");
    assert_self_contained(page, "cmu-1-small-region/report.html");
    test_assert_no_partial_files(out);

    /* Small: thumbnails, not fragments. cmu-1's fragment is a 1.4 MB JPEG;
     * its page, thumbnail included, stays under 100 kB. */
    GStatBuf st;
    assert_int_equal(g_stat(page_path, &st), 0);
    if (st.st_size > 100 * 1024)
        fail_msg("the page is %ld bytes", (long)st.st_size);
    g_autoptr(sf_manifest) m = NULL;
    g_autofree char *manifest_path = path_in(slide_dir, "manifest.json");
    m = sf_manifest_load(manifest_path, NULL);
    assert_non_null(m);
    g_autofree char *fragment = path_in(slide_dir, m->regions[0].fragment_file);
    assert_int_equal(g_stat(fragment, &st), 0);
    assert_true(st.st_size > 300 * 1024);

    /* The slide that failed has no folder and no link. */
    assert_non_null(strstr(index, "not a slide OpenSlide recognises"));
    assert_null(strstr(index, "broken/report.html"));
}

/* A page that cannot be written fails the run, and the manifest (the mark
 * of a finished folder) is not written either. */
static void test_report_before_manifest(void **state)
{
    (void)state;
    g_autofree char *out = path_in(root, "unwritable");
    g_autofree char *dir = path_in(out, "boxes");
    g_autofree char *blocker = path_in(dir, "report.html");
    assert_int_equal(g_mkdir_with_parents(blocker, 0755), 0);
    g_autofree char *in_blocker = path_in(blocker, "keep");
    assert_true(g_file_set_contents(in_blocker, "", 0, NULL));
    g_autofree char *slide = test_fixture("boxes.tiff");
    const char *argv[] = {"run", slide, "-o", out, NULL};
    g_autofree char *err = NULL;
    assert_int_equal(test_run_slidefrag(argv, NULL, &err), SF_EXIT_OUTPUT);
    assert_non_null(strstr(err, "report.html"));
    g_autofree char *manifest = path_in(dir, "manifest.json");
    assert_false(g_file_test(manifest, G_FILE_TEST_EXISTS));
    test_assert_no_partial_files(out);
}

/* ---- In the browser ------------------------------------------------------- */

/* Runs tests/browser.py on `url` with `steps` (a JSON array); returns its
 * report, with no console error and no request outside `folder`. */
static JsonNode *browse(const char *url, const char *steps, const char *folder)
{
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *spec_path = path_in(dir, "spec.json");
    g_autofree char *out_path = path_in(dir, "out.json");
    g_autofree char *spec = g_strdup_printf(
        "{\"url\": \"%s\", \"width\": 1280, \"height\": 900, \"steps\": %s}", url, steps);
    assert_true(g_file_set_contents(spec_path, spec, -1, NULL));
    g_autofree char *script = g_build_filename(SLIDEFRAG_SOURCE_DIR, "tests", "browser.py", NULL);
    const char *argv[] = {"python3", script, spec_path, out_path, NULL};
    g_autofree char *py_out = NULL, *py_err = NULL;
    int code = test_run(argv, NULL, NULL, &py_out, &py_err);
    if (code != 0)
        fail_msg("browser.py: exit %d\n%s%s", code, py_out, py_err);
    g_autoptr(JsonParser) parser = json_parser_new();
    assert_true(json_parser_load_from_file(parser, out_path, NULL));
    JsonNode *result = json_node_copy(json_parser_get_root(parser));
    JsonObject *o = json_node_get_object(result);

    JsonArray *console = json_object_get_array_member(o, "console");
    for (guint i = 0; i < json_array_get_length(console); i++)
        fail_msg("%s: the browser says: %s", url, json_array_get_string_element(console, i));
    g_autofree char *allowed = g_strconcat("file://", folder, "/", NULL);
    JsonArray *requests = json_object_get_array_member(o, "requests");
    assert_true(json_array_get_length(requests) > 0);
    for (guint i = 0; i < json_array_get_length(requests); i++) {
        const char *r = json_array_get_string_element(requests, i);
        if (!g_str_has_prefix(r, "data:image/jpeg;base64,") && !g_str_has_prefix(r, allowed))
            fail_msg("%s asked for %.200s", url, r);
    }
    test_remove_tree(dir);
    return result;
}

static JsonObject *result(JsonNode *browsed, const char *name)
{
    JsonObject *results = json_object_get_object_member(json_node_get_object(browsed), "results");
    return json_object_get_object_member(results, name);
}

/* Whether the screenshot has a region-green pixel within `reach` pixels of
 * (x, y): the outline's colour (#00d000), whatever anti-aliasing does to it. */
static gboolean green_near(const sf_image *shot, double x, double y, int reach)
{
    for (int dy = -reach; dy <= reach; dy++)
        for (int dx = -reach; dx <= reach; dx++) {
            int px = (int)x + dx, py = (int)y + dy;
            if (px < 0 || py < 0 || px >= shot->width || py >= shot->height)
                continue;
            const uint8_t *p = shot->data + (size_t)py * shot->stride + (size_t)px * 3;
            if (p[1] > 150 && p[1] > p[0] + 90 && p[1] > p[2] + 90)
                return TRUE;
        }
    return FALSE;
}

/* Samples along the four edges of each region, mapped from the manifest's
 * overview pixels onto the screenshot through the overview image's place
 * in it; returns how many samples found the outline, of *n_samples. */
static int outline_hits(const sf_image *shot, const sf_manifest *m, JsonObject *image,
                        JsonObject *clip, int *n_samples)
{
    double scale = json_object_get_double_member(image, "width") / m->overview.width;
    double left =
        json_object_get_double_member(image, "x") - json_object_get_double_member(clip, "x");
    double top =
        json_object_get_double_member(image, "y") - json_object_get_double_member(clip, "y");
    int hits = 0;
    *n_samples = 0;
    for (size_t i = 0; i < m->n_regions; i++) {
        const sf_box *b = &m->regions[i].overview;
        double x0 = left + b->x * scale, y0 = top + b->y * scale;
        double x1 = left + (b->x + b->w) * scale, y1 = top + (b->y + b->h) * scale;
        for (int k = 1; k <= 9; k++) {
            double t = k / 10.0;
            double points[4][2] = {{x0 + t * (x1 - x0), y0},
                                   {x0 + t * (x1 - x0), y1},
                                   {x0, y0 + t * (y1 - y0)},
                                   {x1, y0 + t * (y1 - y0)}};
            for (int e = 0; e < 4; e++) {
                hits += green_near(shot, points[e][0], points[e][1], 3);
                (*n_samples)++;
            }
        }
    }
    return hits;
}

static void test_slide_page_in_chromium(void **state)
{
    (void)state;
    g_autofree char *dir = g_build_filename(root, "out", "cmu-1-small-region", NULL);
    g_autofree char *manifest_path = path_in(dir, "manifest.json");
    g_autoptr(sf_manifest) m = sf_manifest_load(manifest_path, NULL);
    assert_non_null(m);
    assert_int_equal(m->n_regions, 1);
    assert_true(m->n_components > 1);

    g_autofree char *shots = test_make_tmpdir();
    g_autofree char *with = path_in(shots, "with-regions.png");
    g_autofree char *without = path_in(shots, "without-regions.png");
    g_autofree char *url = g_strconcat("file://", dir, "/report.html", NULL);
    const char *dom =
        "(() => { const shown = id => getComputedStyle(document.getElementById(id)).display "
        "!== 'none'; const r = document.getElementById('overview-image')"
        ".getBoundingClientRect(); return {regions: document.querySelectorAll("
        "'#layer-regions .region').length, components: document.querySelectorAll("
        "'#layer-components rect').length, cards: document.querySelectorAll("
        "'figure.fragment').length, card: document.querySelector('figure.fragment')"
        ".innerText, thumbs: Array.from(document.querySelectorAll('figure.fragment img'))"
        ".filter(i => i.complete && i.naturalWidth > 0 && i.naturalWidth <= 192 && "
        "i.naturalHeight <= 192).length, regionsShown: shown('layer-regions'), "
        "componentsShown: shown('layer-components'), maskShown: shown('layer-mask'), "
        "params: document.querySelectorAll('#parameter-table tr').length, "
        "timings: document.querySelectorAll('#timing-table tr').length, "
        "warnings: document.querySelectorAll('#warnings li').length, "
        "image: {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}}; "
        "})()";
    const char *click = "(() => { document.querySelector('input[data-layer=regions]').click(); "
                        "document.querySelector('input[data-layer=components]').click(); "
                        "document.querySelector('input[data-layer=mask]').click(); "
                        "return {}; })()";
    g_autofree char *steps =
        g_strdup_printf("[{\"eval\": \"%s\", \"name\": \"before\"},"
                        " {\"screenshot\": \"%s\", \"selector\": \"figure.overview\"},"
                        " {\"eval\": \"%s\", \"name\": \"click\"},"
                        " {\"eval\": \"%s\", \"name\": \"after\"},"
                        " {\"screenshot\": \"%s\", \"selector\": \"figure.overview\"}]",
                        dom, with, click, dom, without);
    g_autoptr(JsonNode) browsed = browse(url, steps, dir);

    JsonObject *before = result(browsed, "before");
    assert_int_equal(json_object_get_int_member(before, "regions"), m->n_regions);
    assert_int_equal(json_object_get_int_member(before, "components"), m->n_components);
    assert_int_equal(json_object_get_int_member(before, "cards"), m->n_regions);
    assert_int_equal(json_object_get_int_member(before, "thumbs"), m->n_regions);
    assert_int_equal(json_object_get_int_member(before, "params"),
                     json_object_get_size(json_node_get_object(m->params)));
    assert_int_equal(json_object_get_int_member(before, "timings"), 6);
    assert_int_equal(json_object_get_int_member(before, "warnings"), 0);
    const char *card = json_object_get_string_member(before, "card");
    g_autofree char *size =
        g_strdup_printf("%d × %d px", m->regions[0].fragment_width, m->regions[0].fragment_height);
    if (!strstr(card, m->regions[0].fragment_name) || !strstr(card, size) ||
        !strstr(card, "µm/px") || !strstr(card, "tissue"))
        fail_msg("the fragment's card says: %s", card);
    /* Regions shown, component boxes and mask hidden at first; each box
     * toggles its layer. */
    assert_true(json_object_get_boolean_member(before, "regionsShown"));
    assert_false(json_object_get_boolean_member(before, "componentsShown"));
    assert_false(json_object_get_boolean_member(before, "maskShown"));
    JsonObject *after = result(browsed, "after");
    assert_false(json_object_get_boolean_member(after, "regionsShown"));
    assert_true(json_object_get_boolean_member(after, "componentsShown"));
    assert_true(json_object_get_boolean_member(after, "maskShown"));

    /* The screenshot: green outlines where the manifest puts the region,
     * gone once the regions are toggled off. */
    JsonObject *shots_taken = json_object_get_object_member(json_node_get_object(browsed), "shots");
    sf_image with_shot = test_image_load_png(with, 3);
    sf_image without_shot = test_image_load_png(without, 3);
    int n = 0;
    int hits = outline_hits(&with_shot, m, json_object_get_object_member(before, "image"),
                            json_object_get_object_member(shots_taken, with), &n);
    if (hits < n * 9 / 10)
        fail_msg("the outline is at %d of %d places the manifest says (%s)", hits, n, with);
    int off = outline_hits(&without_shot, m, json_object_get_object_member(after, "image"),
                           json_object_get_object_member(shots_taken, without), &n);
    if (off > 0)
        fail_msg("%d of %d places still green with the regions off (%s)", off, n, without);
    /* And nowhere else: moved by a fifth of the box, no outline. */
    sf_manifest shifted = *m;
    sf_manifest_region region = m->regions[0];
    region.overview.x += region.overview.w / 5;
    region.overview.y += region.overview.h / 5;
    region.overview.w = region.overview.w * 3 / 5;
    region.overview.h = region.overview.h * 3 / 5;
    shifted.regions = &region;
    int elsewhere =
        outline_hits(&with_shot, &shifted, json_object_get_object_member(before, "image"),
                     json_object_get_object_member(shots_taken, with), &n);
    if (elsewhere > n / 10)
        fail_msg("green at %d of %d places inside the region (%s)", elsewhere, n, with);
    test_image_free(&with_shot);
    test_image_free(&without_shot);
    test_remove_tree(shots);
}

/* What a detector records besides (docs/manifest.md): decisions, warnings
 * and rejected objects, shown and drawn. */
static void test_decisions_and_warnings(void **state)
{
    (void)state;
    g_autofree char *dir = g_build_filename(root, "out", "cmu-1-small-region", NULL);
    g_autofree char *manifest_path = path_in(dir, "manifest.json");
    g_autofree char *text = read_text(manifest_path);
    g_autoptr(JsonNode) node = json_from_string(text, NULL);
    JsonObject *o = json_node_get_object(node);
    JsonArray *warnings = json_array_new();
    json_array_add_string_element(warnings, "one region covers 95 % of the slide");
    JsonObject *coded = json_object_new();
    json_object_set_string_member(coded, "code", "threshold-at-end");
    json_object_set_string_member(coded, "message", "Otsu's threshold <255> is at the end");
    json_array_add_object_element(warnings, coded);
    json_object_set_array_member(o, "warnings", warnings);
    JsonObject *detection = json_object_new();
    json_object_set_string_member(detection, "mode", "brightfield");
    json_object_set_double_member(detection, "otsu", 179.5);
    json_object_set_object_member(o, "detection", detection);
    JsonArray *rejected = json_array_new();
    for (int i = 0; i < 2; i++) {
        JsonObject *r = json_object_new();
        JsonObject *box = json_object_new();
        json_object_set_int_member(box, "x", 10 + 50 * i);
        json_object_set_int_member(box, "y", 20);
        json_object_set_int_member(box, "w", 30);
        json_object_set_int_member(box, "h", 40);
        json_object_set_object_member(r, "overview", box);
        json_object_set_string_member(r, "reason", i ? "pen ink" : "unstained debris");
        json_array_add_object_element(rejected, r);
    }
    json_object_set_array_member(o, "rejected", rejected);
    g_autofree char *rich = json_to_string(node, TRUE);
    g_autoptr(GError) error = NULL;
    g_autoptr(sf_manifest) m = sf_manifest_parse(manifest_path, rich, strlen(rich), &error);
    assert_non_null(m);

    /* Written beside the real one, so the page finds the same images. */
    g_autofree char *html = sf_report_slide_html(m, dir);
    g_autofree char *page = path_in(dir, "rich.html");
    assert_true(g_file_set_contents(page, html, -1, NULL));
    assert_non_null(strstr(html, "Otsu&apos;s threshold &lt;255&gt; is at the end"));

    g_autofree char *url = g_strconcat("file://", page, NULL);
    const char *dom = "(() => ({warnings: Array.from(document.querySelectorAll('#warnings li'))"
                      ".map(li => li.textContent), rejected: document.querySelectorAll("
                      "'#layer-rejected rect').length, rows: document.querySelectorAll("
                      "'#rejected-table tr').length, decisions: document.getElementById("
                      "'decision-table').innerText, toggle: document.querySelector("
                      "'input[data-layer=rejected]').checked}))()";
    g_autofree char *steps = g_strdup_printf("[{\"eval\": \"%s\", \"name\": \"dom\"}]", dom);
    g_autoptr(JsonNode) browsed = browse(url, steps, dir);
    JsonObject *got = result(browsed, "dom");
    JsonArray *shown = json_object_get_array_member(got, "warnings");
    assert_int_equal(json_array_get_length(shown), 2);
    assert_string_equal(json_array_get_string_element(shown, 0),
                        "one region covers 95 % of the slide");
    assert_string_equal(json_array_get_string_element(shown, 1),
                        "Otsu's threshold <255> is at the end");
    assert_int_equal(json_object_get_int_member(got, "rejected"), 2);
    assert_int_equal(json_object_get_int_member(got, "rows"), 3); /* a header and two */
    assert_true(json_object_get_boolean_member(got, "toggle"));
    const char *decisions = json_object_get_string_member(got, "decisions");
    g_autofree char *threshold = g_strdup_printf("threshold\t%d", m->threshold);
    if (!strstr(decisions, "brightfield") || !strstr(decisions, "179.5") ||
        !strstr(decisions, threshold))
        fail_msg("decisions: %s", decisions);
    assert_int_equal(g_unlink(page), 0);
}

static void test_index_in_chromium(void **state)
{
    (void)state;
    g_autofree char *out = path_in(root, "out");
    g_autofree char *url = g_strconcat("file://", out, "/report.html", NULL);
    const char *rows = "(() => Array.from(document.querySelectorAll('#slides tbody tr'))"
                       ".filter(r => r.style.display !== 'none').map(r => ({status: "
                       "r.dataset.status, cells: Array.from(r.cells).map(c => c.innerText), "
                       "link: r.querySelector('a') ? r.querySelector('a').getAttribute('href') "
                       ": null})))()";
    const char *hide_failed = "document.querySelector('input[data-status=failed]').click()";
    g_autofree char *steps = g_strdup_printf("[{\"eval\": \"%s\", \"name\": \"rows\"},"
                                             " {\"eval\": \"%s\"},"
                                             " {\"eval\": \"%s\", \"name\": \"shown\"}]",
                                             rows, hide_failed, rows);
    g_autoptr(JsonNode) browsed = browse(url, steps, out);
    JsonObject *results = json_object_get_object_member(json_node_get_object(browsed), "results");
    JsonArray *all = json_object_get_array_member(results, "rows");
    assert_int_equal(json_array_get_length(all), 3);
    const char *expected[][3] = {{"ok", "cmu-1-small-region.svs", "cmu-1-small-region"},
                                 {"ok", "boxes.tiff", "boxes"},
                                 {"failed", "broken.svs", NULL}};
    for (guint i = 0; i < 3; i++) {
        JsonObject *row = json_array_get_object_element(all, i);
        assert_string_equal(json_object_get_string_member(row, "status"), expected[i][0]);
        JsonArray *cells = json_object_get_array_member(row, "cells");
        assert_non_null(strstr(json_array_get_string_element(cells, 0), expected[i][1]));
        const char *link = json_object_get_string_member(row, "link");
        if (!expected[i][2]) {
            assert_null(link);
            assert_non_null(strstr(json_array_get_string_element(cells, 5), "not a slide"));
            continue;
        }
        /* The link leads to the slide's page; its regions are the manifest's. */
        g_autofree char *page = g_strconcat(expected[i][2], "/report.html", NULL);
        assert_string_equal(link, page);
        g_autofree char *manifest_path =
            g_build_filename(out, expected[i][2], "manifest.json", NULL);
        g_autoptr(sf_manifest) m = sf_manifest_load(manifest_path, NULL);
        g_autofree char *regions = g_strdup_printf("%zu", m->n_regions);
        assert_string_equal(json_array_get_string_element(cells, 2), regions);
        assert_string_equal(json_array_get_string_element(cells, 3), "0");
    }
    assert_int_equal(json_array_get_length(json_object_get_array_member(results, "shown")), 2);
}

/* The checks above can fail: a page whose overview is missing makes the
 * browser complain, and browse() would fail the test. */
static void test_browser_sees_a_missing_image(void **state)
{
    (void)state;
    g_autofree char *dir = g_build_filename(root, "out", "boxes", NULL);
    g_autofree char *manifest_path = path_in(dir, "manifest.json");
    g_autoptr(sf_manifest) m = sf_manifest_load(manifest_path, NULL);
    assert_non_null(m);
    g_free(m->overview.file);
    m->overview.file = g_strdup("no-such-overview.jpg");
    g_autofree char *html = sf_report_slide_html(m, dir);
    g_autofree char *page = path_in(dir, "broken-page.html");
    assert_true(g_file_set_contents(page, html, -1, NULL));
    g_autofree char *spec_dir = test_make_tmpdir();
    g_autofree char *spec_path = path_in(spec_dir, "spec.json");
    g_autofree char *out_path = path_in(spec_dir, "out.json");
    g_autofree char *spec = g_strdup_printf("{\"url\": \"file://%s\"}", page);
    assert_true(g_file_set_contents(spec_path, spec, -1, NULL));
    g_autofree char *script = g_build_filename(SLIDEFRAG_SOURCE_DIR, "tests", "browser.py", NULL);
    const char *argv[] = {"python3", script, spec_path, out_path, NULL};
    assert_int_equal(test_run(argv, NULL, NULL, NULL, NULL), 0);
    g_autofree char *got = read_text(out_path);
    assert_non_null(strstr(got, "no-such-overview.jpg"));
    g_autoptr(JsonNode) node = json_from_string(got, NULL);
    JsonArray *console = json_object_get_array_member(json_node_get_object(node), "console");
    assert_true(json_array_get_length(console) >= 1);
    test_remove_tree(spec_dir);
    assert_int_equal(g_unlink(page), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_written_and_self_contained),
        cmocka_unit_test(test_report_before_manifest),
        cmocka_unit_test(test_slide_page_in_chromium),
        cmocka_unit_test(test_decisions_and_warnings),
        cmocka_unit_test(test_index_in_chromium),
        cmocka_unit_test(test_browser_sees_a_missing_image),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
