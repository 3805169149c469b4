/*
 * slidefrag map end to end: exports written exactly as Makesense.AI writes
 * them, mapped by the built binary, and the outputs read back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <string.h>
#include <zip.h>

#include "slidefrag/error.h"

/* ---- The synthetic world ------------------------------------------------ */

/* Two slides; fragments finer (2, 1) and coarser (4, 3.12) than the
 * manifests' overview scale of 3, one with unequal x and y scales. */
typedef struct {
    const char *slide;
    int64_t x, y, w, h;
    int width, height;
} fragment;

static const fragment world[] = {
    {"alpha", 1000, 2000, 2000, 1600, 1000, 800},
    {"alpha", 5000, 300, 1200, 800, 300, 200},
    {"beta", 0, 0, 777, 555, 777, 555},
    {"beta", 3001, 4003, 2000, 1429, 641, 459},
};

static const char *const labels[] = {"tumour", "stroma", "necrosis", "lymphocytes"};

/* A shape drawn on a fragment, in its pixels (what the annotator meant). */
typedef struct {
    const char *label;
    double x, y, w, h; /* rectangles */
} drawn_rect;

static void rects_of(const fragment *f, drawn_rect out[2])
{
    out[0] = (drawn_rect){"tumour", 0.1 * f->width + 0.37, 0.2 * f->height + 0.61,
                          0.3 * f->width + 0.13, 0.25 * f->height + 0.29};
    out[1] = (drawn_rect){"stroma", 0.55 * f->width + 0.5, 0.5 * f->height + 0.25,
                          0.2 * f->width + 0.1, 0.3 * f->height + 0.2};
}

static void polygon_of(const fragment *f, double v[5][2])
{
    const double fx[5] = {0.5, 0.8, 0.9, 0.6, 0.45}, fy[5] = {0.1, 0.15, 0.6, 0.9, 0.5};
    const double dx[5] = {0.123, 0.789, 0, 0.5, 0}, dy[5] = {0.456, 0, 0.333, 0, 0.25};
    for (int i = 0; i < 5; i++) {
        v[i][0] = fx[i] * f->width + dx[i];
        v[i][1] = fy[i] * f->height + dy[i];
    }
}

static void point_of(const fragment *f, double p[2])
{
    p[0] = 0.33 * f->width + 0.4;
    p[1] = 0.66 * f->height + 0.6;
}

static void line_of(const fragment *f, double l[2][2])
{
    l[0][0] = 0.05 * f->width + 0.2;
    l[0][1] = 0.95 * f->height - 0.3;
    l[1][0] = 0.95 * f->width - 0.7;
    l[1][1] = 0.05 * f->height + 0.8;
}

static char *fragment_name(const fragment *f)
{
    return g_strdup_printf("%s__x%" G_GINT64_FORMAT "_y%" G_GINT64_FORMAT "_w%" G_GINT64_FORMAT
                           "_h%" G_GINT64_FORMAT ".jpg",
                           f->slide, f->x, f->y, f->w, f->h);
}

static char *fragment_stem(const fragment *f)
{
    g_autofree char *name = fragment_name(f);
    return g_strndup(name, strlen(name) - 4);
}

/* JavaScript's Math.round, which Makesense uses. */
static double js_round(double v)
{
    return floor(v + 0.5);
}

/* What a mapped vertex must be, given the coordinate as the export wrote it
 * (`written`) and as drawn; both in fragment pixels. */
typedef struct {
    char *slide;
    char *fragment;
    const char *label;
    const char *type; /* GeoJSON geometry type */
    int n;
    double want[5][2];  /* level 0, from the written (quantised) coordinates */
    double drawn[5][2]; /* level 0, from the drawn coordinates */
    gboolean found;
} expected;

static void expected_free(gpointer data)
{
    expected *e = data;
    g_free(e->slide);
    g_free(e->fragment);
    g_free(e);
}

/* The documented mapping: X + px * W / width. */
static double to_level0(int64_t origin, int64_t extent, int pixels, double px)
{
    return (double)origin + px * (double)extent / pixels;
}

static expected *expect(GPtrArray *all, const fragment *f, const char *label, const char *type)
{
    expected *e = g_new0(expected, 1);
    e->slide = g_strdup(f->slide);
    e->fragment = fragment_name(f);
    e->label = label;
    e->type = type;
    g_ptr_array_add(all, e);
    return e;
}

static void expect_vertex(expected *e, const fragment *f, double wx, double wy, double dx,
                          double dy)
{
    e->want[e->n][0] = to_level0(f->x, f->w, f->width, wx);
    e->want[e->n][1] = to_level0(f->y, f->h, f->height, wy);
    e->drawn[e->n][0] = to_level0(f->x, f->w, f->width, dx);
    e->drawn[e->n][1] = to_level0(f->y, f->h, f->height, dy);
    e->n++;
}

static void expect_rect(GPtrArray *all, const fragment *f, const char *label, double x0, double y0,
                        double x1, double y1, const drawn_rect *d)
{
    expected *e = expect(all, f, label, "Polygon");
    expect_vertex(e, f, x0, y0, d->x, d->y);
    expect_vertex(e, f, x1, y0, d->x + d->w, d->y);
    expect_vertex(e, f, x1, y1, d->x + d->w, d->y + d->h);
    expect_vertex(e, f, x0, y1, d->x, d->y + d->h);
}

static void write_file(const char *path, const char *text)
{
    assert_true(g_file_set_contents(path, text, -1, NULL));
}

/* ---- Exports, byte for byte as Makesense writes them ---------------------- */

/* YOLO: one <stem>.txt per image, 6 decimals, no trailing newline. The
 * written values are read back to know exactly what the file says. */
static void write_yolo(const char *dir, GPtrArray *all)
{
    for (size_t i = 0; i < G_N_ELEMENTS(world); i++) {
        const fragment *f = &world[i];
        drawn_rect r[2];
        rects_of(f, r);
        GString *text = g_string_new(NULL);
        for (int k = 0; k < 2; k++) {
            char fields[4][32];
            double raw[4] = {(r[k].x + r[k].w / 2) / f->width, (r[k].y + r[k].h / 2) / f->height,
                             r[k].w / f->width, r[k].h / f->height};
            double q[4];
            for (int j = 0; j < 4; j++) {
                g_snprintf(fields[j], sizeof fields[j], "%.6f", raw[j]);
                q[j] = g_ascii_strtod(fields[j], NULL);
            }
            g_string_append_printf(text, "%s%d %s %s %s %s", k ? "\n" : "", k, fields[0], fields[1],
                                   fields[2], fields[3]);
            /* In pixels of the fragment: fractions times its size. */
            expect_rect(all, f, r[k].label, (q[0] - q[2] / 2) * f->width,
                        (q[1] - q[3] / 2) * f->height, (q[0] + q[2] / 2) * f->width,
                        (q[1] + q[3] / 2) * f->height, &r[k]);
        }
        g_autofree char *stem = fragment_stem(f);
        g_autofree char *name = g_strconcat(stem, ".txt", NULL);
        g_autofree char *path = g_build_filename(dir, name, NULL);
        write_file(path, text->str);
        g_string_free(text, TRUE);
    }
}

static void write_voc(const char *dir, GPtrArray *all)
{
    for (size_t i = 0; i < G_N_ELEMENTS(world); i++) {
        const fragment *f = &world[i];
        drawn_rect r[2];
        rects_of(f, r);
        g_autofree char *name = fragment_name(f);
        GString *text = g_string_new(NULL);
        g_string_append_printf(text,
                               "<annotation>\n\t<folder>project</folder>\n"
                               "\t<filename>%s</filename>\n\t<path>/project/%s</path>\n"
                               "\t<source>\n\t\t<database>Unspecified</database>\n\t</source>\n"
                               "\t<size>\n\t\t<width>%d</width>\n\t\t<height>%d</height>\n"
                               "\t\t<depth>3</depth>\n\t</size>\n",
                               name, name, f->width, f->height);
        for (int k = 0; k < 2; k++) {
            double x0 = js_round(r[k].x), y0 = js_round(r[k].y);
            double x1 = js_round(r[k].x + r[k].w), y1 = js_round(r[k].y + r[k].h);
            g_string_append_printf(text,
                                   "\t<object>\n\t\t<name>%s</name>\n"
                                   "\t\t<pose>Unspecified</pose>\n\t\t<truncated>0</truncated>\n"
                                   "\t\t<difficult>0</difficult>\n\t\t<bndbox>\n"
                                   "\t\t\t<xmin>%.0f</xmin>\n\t\t\t<ymin>%.0f</ymin>\n"
                                   "\t\t\t<xmax>%.0f</xmax>\n\t\t\t<ymax>%.0f</ymax>\n"
                                   "\t\t</bndbox>\n\t</object>%s",
                                   r[k].label, x0, y0, x1, y1, k ? "" : "\n");
            expect_rect(all, f, r[k].label, x0, y0, x1, y1, &r[k]);
        }
        g_string_append(text, "\n</annotation>");
        g_autofree char *stem = fragment_stem(f);
        g_autofree char *file = g_strconcat(stem, ".xml", NULL);
        g_autofree char *path = g_build_filename(dir, file, NULL);
        write_file(path, text->str);
        g_string_free(text, TRUE);
    }
}

static void write_rect_csv(const char *path, GPtrArray *all)
{
    GString *text = g_string_new("label_name,bbox_x,bbox_y,bbox_width,bbox_height,image_name,"
                                 "image_width,image_height");
    for (size_t i = 0; i < G_N_ELEMENTS(world); i++) {
        const fragment *f = &world[i];
        drawn_rect r[2];
        rects_of(f, r);
        g_autofree char *name = fragment_name(f);
        for (int k = 0; k < 2; k++) {
            double x = js_round(r[k].x), y = js_round(r[k].y);
            double w = js_round(r[k].w), h = js_round(r[k].h);
            g_string_append_printf(text, "\n%s,%.0f,%.0f,%.0f,%.0f,%s,%d,%d", r[k].label, x, y, w,
                                   h, name, f->width, f->height);
            expect_rect(all, f, r[k].label, x, y, x + w, y + h, &r[k]);
        }
    }
    write_file(path, text->str);
    g_string_free(text, TRUE);
}

static void write_point_csv(const char *path, GPtrArray *all)
{
    GString *text = g_string_new(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(world); i++) {
        const fragment *f = &world[i];
        double p[2];
        point_of(f, p);
        g_autofree char *name = fragment_name(f);
        g_string_append_printf(text, "%slymphocytes,%.0f,%.0f,%s,%d,%d", i ? "\n" : "",
                               js_round(p[0]), js_round(p[1]), name, f->width, f->height);
        expected *e = expect(all, f, "lymphocytes", "Point");
        expect_vertex(e, f, js_round(p[0]), js_round(p[1]), p[0], p[1]);
    }
    write_file(path, text->str);
    g_string_free(text, TRUE);
}

static void write_line_csv(const char *path, GPtrArray *all)
{
    GString *text = g_string_new(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(world); i++) {
        const fragment *f = &world[i];
        double l[2][2];
        line_of(f, l);
        g_autofree char *name = fragment_name(f);
        g_string_append_printf(text, "%stumour,%.0f,%.0f,%.0f,%.0f,%s,%d,%d", i ? "\n" : "",
                               js_round(l[0][0]), js_round(l[0][1]), js_round(l[1][0]),
                               js_round(l[1][1]), name, f->width, f->height);
        expected *e = expect(all, f, "tumour", "LineString");
        for (int k = 0; k < 2; k++)
            expect_vertex(e, f, js_round(l[k][0]), js_round(l[k][1]), l[k][0], l[k][1]);
    }
    write_file(path, text->str);
    g_string_free(text, TRUE);
}

static void append_number(GString *s, double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append(s, g_ascii_dtostr(buf, sizeof buf, v));
}

/* Compact COCO: image ids from 1, annotation ids from 0, category ids the
 * 1-based label positions, unclosed unrounded polygons. */
static void write_coco(const char *path, GPtrArray *all)
{
    GString *s = g_string_new("{\"info\":{\"description\":\"project\"},\"images\":[");
    for (size_t i = 0; i < G_N_ELEMENTS(world); i++) {
        g_autofree char *name = fragment_name(&world[i]);
        g_string_append_printf(s, "%s{\"id\":%zu,\"width\":%d,\"height\":%d,\"file_name\":\"%s\"}",
                               i ? "," : "", i + 1, world[i].width, world[i].height, name);
    }
    g_string_append(s, "],\"annotations\":[");
    for (size_t i = 0; i < G_N_ELEMENTS(world); i++) {
        const fragment *f = &world[i];
        double v[5][2];
        polygon_of(f, v);
        g_string_append_printf(s,
                               "%s{\"id\":%zu,\"iscrowd\":0,\"image_id\":%zu,"
                               "\"category_id\":3,\"segmentation\":[[",
                               i ? "," : "", i, i + 1);
        expected *e = expect(all, f, "necrosis", "Polygon");
        double x0 = v[0][0], x1 = v[0][0], y0 = v[0][1], y1 = v[0][1];
        for (int k = 0; k < 5; k++) {
            if (k)
                g_string_append_c(s, ',');
            append_number(s, v[k][0]);
            g_string_append_c(s, ',');
            append_number(s, v[k][1]);
            expect_vertex(e, f, v[k][0], v[k][1], v[k][0], v[k][1]);
            x0 = MIN(x0, v[k][0]);
            x1 = MAX(x1, v[k][0]);
            y0 = MIN(y0, v[k][1]);
            y1 = MAX(y1, v[k][1]);
        }
        g_string_append(s, "]],\"bbox\":[");
        append_number(s, x0);
        g_string_append_c(s, ',');
        append_number(s, y0);
        g_string_append_c(s, ',');
        append_number(s, x1 - x0);
        g_string_append_c(s, ',');
        append_number(s, y1 - y0);
        g_string_append(s, "],\"area\":1234.5}");
    }
    g_string_append(s, "],\"categories\":[");
    for (size_t i = 0; i < G_N_ELEMENTS(labels); i++)
        g_string_append_printf(s, "%s{\"id\":%zu,\"name\":\"%s\"}", i ? "," : "", i + 1, labels[i]);
    g_string_append(s, "]}");
    write_file(path, s->str);
    g_string_free(s, TRUE);
}

/* VGG: keyed by file name, closed polygons, no image size. */
static void write_vgg(const char *path, GPtrArray *all)
{
    GString *s = g_string_new("{");
    for (size_t i = 0; i < G_N_ELEMENTS(world); i++) {
        const fragment *f = &world[i];
        double v[5][2];
        polygon_of(f, v);
        g_autofree char *name = fragment_name(f);
        g_string_append_printf(s,
                               "%s\"%s\":{\"fileref\":\"\",\"size\":%zu,\"filename\":\"%s\","
                               "\"base64_img_data\":\"\",\"file_attributes\":{},\"regions\":{"
                               "\"0\":{\"shape_attributes\":{\"name\":\"polygon\","
                               "\"all_points_x\":[",
                               i ? "," : "", name, 40000 + i, name);
        expected *e = expect(all, f, "stroma", "Polygon");
        for (int k = 0; k <= 5; k++) {
            if (k)
                g_string_append_c(s, ',');
            append_number(s, v[k % 5][0]);
        }
        g_string_append(s, "],\"all_points_y\":[");
        for (int k = 0; k <= 5; k++) {
            if (k)
                g_string_append_c(s, ',');
            append_number(s, v[k % 5][1]);
        }
        g_string_append(s, "]},\"region_attributes\":{\"label\":\"stroma\"}}}}");
        for (int k = 0; k < 5; k++)
            expect_vertex(e, f, v[k][0], v[k][1], v[k][0], v[k][1]);
    }
    g_string_append(s, "}");
    write_file(path, s->str);
    g_string_free(s, TRUE);
}

static char *write_manifest(const char *dir, const char *slide, const char *bounds, const char *mpp)
{
    test_region regions[G_N_ELEMENTS(world)];
    size_t n = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(world); i++)
        if (!strcmp(world[i].slide, slide))
            regions[n++] = (test_region){world[i].x, world[i].y,     world[i].w,
                                         world[i].h, world[i].width, world[i].height};
    g_autofree char *file = g_strconcat(slide, ".manifest.json", NULL);
    char *path = g_build_filename(dir, file, NULL);
    test_write_manifest(path, slide, !strcmp(slide, "alpha") ? 9000 : 9500,
                        !strcmp(slide, "alpha") ? 6000 : 7000, mpp, bounds, regions, n);
    return path;
}

/* ---- Running and reading back ---------------------------------------------- */

typedef struct {
    char *dir;
    char *alpha, *beta; /* manifests */
    char *labels;
} fixture;

static int setup(void **state)
{
    fixture *fx = g_new0(fixture, 1);
    fx->dir = test_make_tmpdir();
    fx->alpha = write_manifest(fx->dir, "alpha", "null", "0.25");
    fx->beta = write_manifest(
        fx->dir, "beta", "{\"x\": 100, \"y\": 200, \"width\": 9000, \"height\": 6500}", "null");
    fx->labels = g_build_filename(fx->dir, "labels.txt", NULL);
    write_file(fx->labels, "tumour\nstroma\nnecrosis\nlymphocytes\n");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    test_remove_tree(fx->dir);
    g_free(fx->dir);
    g_free(fx->alpha);
    g_free(fx->beta);
    g_free(fx->labels);
    g_free(fx);
    return 0;
}

static char *path_in(const fixture *fx, const char *name)
{
    return g_build_filename(fx->dir, name, NULL);
}

/* Runs `slidefrag map` with the NULL-terminated arguments. */
static int map_run(char **out, char **err, ...)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    g_ptr_array_add(args, (gpointer) "map");
    va_list ap;
    va_start(ap, err);
    for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *))
        g_ptr_array_add(args, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(args, NULL);
    /* Output not asked for is still captured, to keep the test log clean. */
    g_autofree char *ignored_out = NULL, *ignored_err = NULL;
    return test_run_slidefrag((const char *const *)args->pdata, out ? out : &ignored_out,
                              err ? err : &ignored_err);
}

static JsonParser *load_json(const char *path)
{
    JsonParser *parser = json_parser_new();
    GError *error = NULL;
    if (!json_parser_load_from_file(parser, path, &error))
        fail_msg("%s: %s", path, error->message);
    return parser;
}

/* A GeoJSON position: exactly [x, y], inside the slide. */
static void read_position(JsonNode *node, int64_t width, int64_t height, double out[2])
{
    assert_true(JSON_NODE_HOLDS_ARRAY(node));
    JsonArray *p = json_node_get_array(node);
    assert_int_equal(json_array_get_length(p), 2);
    out[0] = json_array_get_double_element(p, 0);
    out[1] = json_array_get_double_element(p, 1);
    assert_true(out[0] >= -200 && out[0] <= width);
    assert_true(out[1] >= -200 && out[1] <= height);
}

static expected *match(GPtrArray *all, const char *slide, const char *frag_name, const char *label,
                       const char *type)
{
    for (guint i = 0; i < all->len; i++) {
        expected *e = all->pdata[i];
        if (!e->found && !strcmp(e->slide, slide) && !strcmp(e->fragment, frag_name) &&
            !strcmp(e->label, label) && !strcmp(e->type, type))
            return e;
    }
    fail_msg("unexpected %s '%s' on %s", type, label, frag_name);
    return NULL;
}

/* Compares a vertex with what the export said (exact up to float noise) and
 * with what was drawn (within 0.5 level-0 px when the export kept it). */
static void check_vertex(const expected *e, int k, const double got[2], double dx, double dy,
                         double drawn_tolerance)
{
    for (int c = 0; c < 2; c++) {
        double want = e->want[k][c] - (c ? dy : dx);
        double drawn = e->drawn[k][c] - (c ? dy : dx);
        if (fabs(got[c] - want) > 1e-6)
            fail_msg("%s %s on %s vertex %d[%d]: %.9f, expected %.9f", e->type, e->label,
                     e->fragment, k, c, got[c], want);
        if (fabs(got[c] - drawn) > drawn_tolerance)
            fail_msg("%s %s on %s vertex %d[%d]: %.9f, drawn at %.9f", e->type, e->label,
                     e->fragment, k, c, got[c], drawn);
    }
}

/* Reads OUT/<slide>.geojson and checks it against every expected shape of
 * the slide. dx, dy: the offset subtracted. */
static void verify_geojson(const char *out, const char *slide, GPtrArray *all,
                           double drawn_tolerance, double dx, double dy)
{
    g_autofree char *name = g_strconcat(slide, ".geojson", NULL);
    g_autofree char *path = g_build_filename(out, name, NULL);
    g_autoptr(JsonParser) parser = load_json(path);
    JsonObject *root = json_node_get_object(json_parser_get_root(parser));
    assert_string_equal(json_object_get_string_member(root, "type"), "FeatureCollection");
    JsonArray *features = json_object_get_array_member(root, "features");
    int64_t width = !strcmp(slide, "alpha") ? 9000 : 9500;
    int64_t height = !strcmp(slide, "alpha") ? 6000 : 7000;
    guint n_expected = 0;
    for (guint i = 0; i < all->len; i++)
        n_expected += !strcmp(((expected *)all->pdata[i])->slide, slide);
    assert_int_equal(json_array_get_length(features), n_expected);

    for (guint i = 0; i < json_array_get_length(features); i++) {
        JsonObject *f = json_array_get_object_element(features, i);
        assert_string_equal(json_object_get_string_member(f, "type"), "Feature");
        JsonObject *props = json_object_get_object_member(f, "properties");
        assert_string_equal(json_object_get_string_member(props, "objectType"), "annotation");
        const char *label = json_object_get_string_member(
            json_object_get_object_member(props, "classification"), "name");
        const char *frag_name = json_object_get_string_member(
            json_object_get_object_member(props, "metadata"), "fragment");
        test_assert_contains(json_object_get_string_member(props, "name"), frag_name);
        JsonObject *geometry = json_object_get_object_member(f, "geometry");
        const char *type = json_object_get_string_member(geometry, "type");
        expected *e = match(all, slide, frag_name, label, type);
        e->found = TRUE;
        JsonNode *coordinates = json_object_get_member(geometry, "coordinates");
        double got[2];
        if (!strcmp(type, "Point")) {
            read_position(coordinates, width, height, got);
            check_vertex(e, 0, got, dx, dy, drawn_tolerance);
            continue;
        }
        JsonArray *list = json_node_get_array(coordinates);
        if (!strcmp(type, "Polygon")) {
            assert_int_equal(json_array_get_length(list), 1);
            list = json_array_get_array_element(list, 0);
            /* A closed ring: n + 1 positions, the last equal to the first. */
            assert_int_equal(json_array_get_length(list), e->n + 1);
            double first[2], last[2];
            read_position(json_array_get_element(list, 0), width, height, first);
            read_position(json_array_get_element(list, e->n), width, height, last);
            assert_true(first[0] == last[0] && first[1] == last[1]);
        } else {
            assert_int_equal(json_array_get_length(list), e->n);
        }
        for (int k = 0; k < e->n; k++) {
            read_position(json_array_get_element(list, k), width, height, got);
            check_vertex(e, k, got, dx, dy, drawn_tolerance);
        }
    }
}

static void reset_found(GPtrArray *all)
{
    for (guint i = 0; i < all->len; i++)
        ((expected *)all->pdata[i])->found = FALSE;
}

/* Maps `export_path` (with manifests unless told not to) and checks both
 * slides' GeoJSON. */
static void round_trip(const fixture *fx, const char *export_path, const char *out_name,
                       GPtrArray *all, double drawn_tolerance, gboolean manifests)
{
    g_autofree char *out = path_in(fx, out_name);
    g_autofree char *stdout_text = NULL, *stderr_text = NULL;
    int status = manifests
                     ? map_run(&stdout_text, &stderr_text, export_path, "-o", out, "--manifest",
                               fx->alpha, "--manifest", fx->beta, "--labels", fx->labels, NULL)
                     : map_run(&stdout_text, &stderr_text, export_path, "-o", out, "--labels",
                               fx->labels, NULL);
    if (status != 0)
        fail_msg("map %s exited %d:\n%s", export_path, status, stderr_text);
    g_autofree char *summary = g_strdup_printf("mapped %u, skipped 0", all->len);
    test_assert_contains(stderr_text, summary);
    reset_found(all);
    verify_geojson(out, "alpha", all, drawn_tolerance, 0, 0);
    verify_geojson(out, "beta", all, drawn_tolerance, 0, 0);
}

/* Rounded exports move a vertex by up to one fragment pixel from where it
 * was drawn (the rectangle CSV rounds x and width apart), which is 4
 * level-0 px on the coarsest fragment. */
#define ROUNDED_TOLERANCE (1.0 * 4 + 1e-6)

static void test_round_trip_every_format(void **state)
{
    fixture *fx = *state;
    /* YOLO, VOC: a folder of per-image files, and the zip Makesense downloads. */
    g_autoptr(GPtrArray) yolo = g_ptr_array_new_with_free_func(expected_free);
    g_autofree char *yolo_dir = path_in(fx, "yolo");
    assert_int_equal(g_mkdir(yolo_dir, 0700), 0);
    write_yolo(yolo_dir, yolo);
    round_trip(fx, yolo_dir, "out-yolo", yolo, 0.5, TRUE);

    g_autofree char *zip_path = path_in(fx, "yolo.zip");
    g_autofree char *command =
        g_strdup_printf("cd '%s' && zip -q -j '%s' *.txt", yolo_dir, zip_path);
    assert_int_equal(system(command), 0);
    round_trip(fx, zip_path, "out-yolo-zip", yolo, 0.5, FALSE);

    g_autoptr(GPtrArray) voc = g_ptr_array_new_with_free_func(expected_free);
    g_autofree char *voc_dir = path_in(fx, "voc");
    assert_int_equal(g_mkdir(voc_dir, 0700), 0);
    write_voc(voc_dir, voc);
    round_trip(fx, voc_dir, "out-voc", voc, ROUNDED_TOLERANCE, TRUE);
    g_autofree char *voc_zip = path_in(fx, "voc.zip");
    g_autofree char *zip_voc = g_strdup_printf("cd '%s' && zip -q -j '%s' *.xml", voc_dir, voc_zip);
    assert_int_equal(system(zip_voc), 0);
    round_trip(fx, voc_zip, "out-voc-zip", voc, ROUNDED_TOLERANCE, FALSE);

    g_autoptr(GPtrArray) rects = g_ptr_array_new_with_free_func(expected_free);
    g_autofree char *rect_csv = path_in(fx, "rects.csv");
    write_rect_csv(rect_csv, rects);
    round_trip(fx, rect_csv, "out-rects", rects, ROUNDED_TOLERANCE, TRUE);
    round_trip(fx, rect_csv, "out-rects-names", rects, ROUNDED_TOLERANCE, FALSE);

    g_autoptr(GPtrArray) points = g_ptr_array_new_with_free_func(expected_free);
    g_autofree char *point_csv = path_in(fx, "points.csv");
    write_point_csv(point_csv, points);
    round_trip(fx, point_csv, "out-points", points, ROUNDED_TOLERANCE, TRUE);

    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(expected_free);
    g_autofree char *line_csv = path_in(fx, "lines.csv");
    write_line_csv(line_csv, lines);
    round_trip(fx, line_csv, "out-lines", lines, ROUNDED_TOLERANCE, TRUE);

    g_autoptr(GPtrArray) coco = g_ptr_array_new_with_free_func(expected_free);
    g_autofree char *coco_json = path_in(fx, "coco.json");
    write_coco(coco_json, coco);
    round_trip(fx, coco_json, "out-coco", coco, 0.5, FALSE);

    g_autoptr(GPtrArray) vgg = g_ptr_array_new_with_free_func(expected_free);
    g_autofree char *vgg_json = path_in(fx, "vgg.json");
    write_vgg(vgg_json, vgg);
    round_trip(fx, vgg_json, "out-vgg", vgg, 0.5, TRUE);
}

/* ASAP: every PartOfGroup names a group, coordinates as in GeoJSON. */
static void test_asap_output(void **state)
{
    fixture *fx = *state;
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(expected_free);
    g_autofree char *coco_json = path_in(fx, "coco.json");
    g_autofree char *rect_csv = path_in(fx, "rects.csv");
    write_coco(coco_json, all);
    write_rect_csv(rect_csv, all);
    g_autofree char *out = path_in(fx, "out-asap");
    g_autofree char *err = NULL;
    int status = map_run(NULL, &err, coco_json, rect_csv, "-o", out, "--to", "asap", "--manifest",
                         fx->alpha, "--manifest", fx->beta, NULL);
    assert_int_equal(status, 0);
    int n_annotations = 0;
    for (int s = 0; s < 2; s++) {
        const char *slide = s ? "beta" : "alpha";
        g_autofree char *file = g_strconcat(slide, ".xml", NULL);
        g_autofree char *path = g_build_filename(out, file, NULL);
        xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
        assert_non_null(doc);
        xmlNode *root = xmlDocGetRootElement(doc);
        assert_string_equal((const char *)root->name, "ASAP_Annotations");
        g_autoptr(GHashTable) groups =
            g_hash_table_new_full(g_str_hash, g_str_equal, xmlFree, NULL);
        xmlNode *annotations = NULL;
        for (xmlNode *c = root->children; c; c = c->next) {
            if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, "AnnotationGroups"))
                for (xmlNode *g = c->children; g; g = g->next)
                    if (g->type == XML_ELEMENT_NODE)
                        g_hash_table_add(groups, xmlGetProp(g, BAD_CAST "Name"));
            if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, "Annotations"))
                annotations = c;
        }
        assert_non_null(annotations);
        for (xmlNode *a = annotations->children; a; a = a->next) {
            if (a->type != XML_ELEMENT_NODE)
                continue;
            n_annotations++;
            xmlChar *group = xmlGetProp(a, BAD_CAST "PartOfGroup");
            xmlChar *name = xmlGetProp(a, BAD_CAST "Name");
            if (!g_hash_table_contains(groups, group))
                fail_msg("PartOfGroup '%s' is not a defined group", group);
            /* Name: "<label> @ <fragment>". */
            const char *at = strstr((const char *)name, " @ ");
            assert_non_null(at);
            g_autofree char *label = g_strndup((const char *)name, at - (const char *)name);
            assert_string_equal(label, (const char *)group);
            expected *e = match(all, slide, at + 3, label, "Polygon");
            e->found = TRUE;
            int k = 0;
            for (xmlNode *list = a->children; list; list = list->next)
                for (xmlNode *c = list->children; c; c = c->next) {
                    if (c->type != XML_ELEMENT_NODE)
                        continue;
                    xmlChar *x = xmlGetProp(c, BAD_CAST "X"), *y = xmlGetProp(c, BAD_CAST "Y");
                    double got[2] = {g_ascii_strtod((char *)x, NULL),
                                     g_ascii_strtod((char *)y, NULL)};
                    xmlFree(x);
                    xmlFree(y);
                    for (int d = 0; d < 2; d++)
                        assert_true(fabs(got[d] - e->want[k][d]) < 1e-5);
                    k++;
                }
            assert_int_equal(k, e->n);
            xmlFree(group);
            xmlFree(name);
        }
        xmlFreeDoc(doc);
    }
    assert_int_equal(n_annotations, (int)all->len);
}

static void test_other_outputs_and_offset(void **state)
{
    fixture *fx = *state;
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(expected_free);
    g_autofree char *rect_csv = path_in(fx, "rects.csv");
    write_rect_csv(rect_csv, all);

    /* Bounds: beta's (100, 200) is subtracted; alpha has none. */
    g_autofree char *out = path_in(fx, "out-bounds");
    int status = map_run(NULL, NULL, rect_csv, "-o", out, "--slide-offset", "bounds", "--manifest",
                         fx->alpha, "--manifest", fx->beta, NULL);
    assert_int_equal(status, 0);
    verify_geojson(out, "alpha", all, ROUNDED_TOLERANCE, 0, 0);
    verify_geojson(out, "beta", all, ROUNDED_TOLERANCE, 100, 200);
    g_autofree char *beta = g_build_filename(out, "beta.geojson", NULL);
    g_autoptr(JsonParser) parser = load_json(beta);
    JsonObject *meta = json_object_get_object_member(
        json_node_get_object(json_parser_get_root(parser)), "slidefrag");
    assert_string_equal(json_object_get_string_member(meta, "slide_offset"), "bounds");
    test_assert_contains(json_object_get_string_member(meta, "coordinates"), "(100, 200)");

    /* ImageScope gives the resolution when the manifest knows it. */
    g_autofree char *scope = path_in(fx, "out-scope");
    assert_int_equal(map_run(NULL, NULL, rect_csv, "-o", scope, "--to", "imagescope", "--manifest",
                             fx->alpha, "--manifest", fx->beta, NULL),
                     0);
    g_autofree char *alpha_xml = g_build_filename(scope, "alpha.xml", NULL);
    g_autofree char *beta_xml = g_build_filename(scope, "beta.xml", NULL);
    g_autofree char *alpha_text = NULL, *beta_text = NULL;
    assert_true(g_file_get_contents(alpha_xml, &alpha_text, NULL, NULL));
    assert_true(g_file_get_contents(beta_xml, &beta_text, NULL, NULL));
    test_assert_contains(alpha_text, "<Annotations MicronsPerPixel=\"0.25\">");
    assert_null(strstr(beta_text, "MicronsPerPixel"));

    /* COCO and CSV: one file per slide, all annotations present. */
    g_autofree char *coco_out = path_in(fx, "out-cocowrite");
    assert_int_equal(map_run(NULL, NULL, rect_csv, "-o", coco_out, "--to", "coco", "--manifest",
                             fx->alpha, "--manifest", fx->beta, NULL),
                     0);
    g_autofree char *alpha_json = g_build_filename(coco_out, "alpha.json", NULL);
    g_autoptr(JsonParser) coco = load_json(alpha_json);
    JsonObject *coco_root = json_node_get_object(json_parser_get_root(coco));
    assert_int_equal(json_array_get_length(json_object_get_array_member(coco_root, "annotations")),
                     4);
    JsonObject *image =
        json_array_get_object_element(json_object_get_array_member(coco_root, "images"), 0);
    assert_int_equal(json_object_get_int_member(image, "width"), 9000);

    g_autofree char *csv_out = path_in(fx, "out-csv");
    assert_int_equal(map_run(NULL, NULL, rect_csv, "-o", csv_out, "--to", "csv", NULL), 0);
    g_autofree char *beta_csv = g_build_filename(csv_out, "beta.csv", NULL);
    g_autofree char *csv_text = NULL;
    assert_true(g_file_get_contents(beta_csv, &csv_text, NULL, NULL));
    g_auto(GStrv) rows = g_strsplit(csv_text, "\n", -1);
    assert_int_equal(g_strv_length(rows), 1 + 4 * 4 + 1);
}

/* ---- A real slide through `slidefrag run` ------------------------------------- */

static void real_slide_round_trip(const fixture *fx, const char *downsample, gboolean finer)
{
    g_autofree char *slide = test_fixture("boxes.tiff");
    g_autofree char *run_out = g_strdup_printf("%s/run-%s", fx->dir, downsample);
    const char *run_args[] = {
        "run", slide, "-o", run_out, "--max-size", "64", "--fragment-downsample", downsample, NULL};
    g_autofree char *run_stdout = NULL, *run_err = NULL;
    int status = test_run_slidefrag(run_args, &run_stdout, &run_err);
    if (status != 0)
        fail_msg("slidefrag run exited %d: %s", status, run_err);
    g_autofree char *manifest = g_build_filename(run_out, "boxes", "manifest.json", NULL);
    g_autoptr(JsonParser) parser = load_json(manifest);
    JsonObject *root = json_node_get_object(json_parser_get_root(parser));
    double overview_scale =
        json_object_get_double_member(json_object_get_object_member(root, "overview"), "scale_x");
    JsonArray *regions = json_object_get_array_member(root, "regions");
    assert_true(json_array_get_length(regions) >= 1);
    JsonObject *region = json_array_get_object_element(regions, 0);
    JsonObject *box = json_object_get_object_member(region, "level0");
    JsonObject *frag = json_object_get_object_member(region, "fragment");
    fragment f = {"boxes",
                  json_object_get_int_member(box, "x"),
                  json_object_get_int_member(box, "y"),
                  json_object_get_int_member(box, "w"),
                  json_object_get_int_member(box, "h"),
                  (int)json_object_get_int_member(frag, "width"),
                  (int)json_object_get_int_member(frag, "height")};
    double fragment_scale = (double)f.w / f.width;
    assert_true(finer ? fragment_scale < overview_scale : fragment_scale > overview_scale);
    g_autofree char *name = g_path_get_basename(json_object_get_string_member(frag, "file"));
    g_autofree char *expected_name = fragment_name(&f);
    assert_string_equal(name, expected_name);

    /* A polygon as COCO (floats kept) and a point as CSV (rounded). */
    double v[5][2], p[2];
    polygon_of(&f, v);
    point_of(&f, p);
    GString *coco = g_string_new(NULL);
    g_string_append_printf(coco,
                           "{\"info\":{\"description\":\"p\"},\"images\":[{\"id\":1,\"width\":%d,"
                           "\"height\":%d,\"file_name\":\"%s\"}],\"annotations\":[{\"id\":0,"
                           "\"iscrowd\":0,\"image_id\":1,\"category_id\":1,\"segmentation\":[[",
                           f.width, f.height, name);
    for (int k = 0; k < 5; k++) {
        append_number(coco, v[k][0]);
        g_string_append_c(coco, ',');
        append_number(coco, v[k][1]);
        if (k < 4)
            g_string_append_c(coco, ',');
    }
    g_string_append(coco, "]],\"bbox\":[0,0,1,1],\"area\":1}],\"categories\":[{\"id\":1,"
                          "\"name\":\"necrosis\"}]}");
    g_autofree char *coco_path = g_strdup_printf("%s/real-%s.json", fx->dir, downsample);
    write_file(coco_path, coco->str);
    g_string_free(coco, TRUE);
    g_autofree char *csv = g_strdup_printf("lymphocytes,%.0f,%.0f,%s,%d,%d", js_round(p[0]),
                                           js_round(p[1]), name, f.width, f.height);
    g_autofree char *csv_path = g_strdup_printf("%s/real-%s.csv", fx->dir, downsample);
    write_file(csv_path, csv);

    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(expected_free);
    expected *e = expect(all, &f, "necrosis", "Polygon");
    for (int k = 0; k < 5; k++)
        expect_vertex(e, &f, v[k][0], v[k][1], v[k][0], v[k][1]);
    expected *pt = expect(all, &f, "lymphocytes", "Point");
    expect_vertex(pt, &f, js_round(p[0]), js_round(p[1]), p[0], p[1]);

    g_autofree char *out = g_strdup_printf("%s/real-out-%s", fx->dir, downsample);
    g_autofree char *err = NULL;
    status = map_run(NULL, &err, coco_path, csv_path, "-o", out, "--manifest", manifest, NULL);
    if (status != 0)
        fail_msg("map exited %d: %s", status, err);
    g_autofree char *geojson = g_build_filename(out, "boxes.geojson", NULL);
    g_autoptr(JsonParser) result = load_json(geojson);
    JsonArray *features = json_object_get_array_member(
        json_node_get_object(json_parser_get_root(result)), "features");
    assert_int_equal(json_array_get_length(features), 2);
    for (guint i = 0; i < 2; i++) {
        JsonObject *geometry =
            json_object_get_object_member(json_array_get_object_element(features, i), "geometry");
        const char *type = json_object_get_string_member(geometry, "type");
        const expected *want = !strcmp(type, "Point") ? pt : e;
        JsonArray *coords = json_object_get_array_member(geometry, "coordinates");
        if (!strcmp(type, "Polygon"))
            coords = json_array_get_array_element(coords, 0);
        for (int k = 0; k < want->n; k++) {
            JsonArray *pos =
                !strcmp(type, "Point") ? coords : json_array_get_array_element(coords, k);
            double got[2] = {json_array_get_double_element(pos, 0),
                             json_array_get_double_element(pos, 1)};
            /* Rounded to whole fragment pixels, the point may move by half
             * a fragment pixel; the polygon kept its floats. */
            check_vertex(want, k, got, 0, 0, want == pt ? 0.5 * fragment_scale + 1e-6 : 0.5);
        }
    }
}

static void test_real_slide_finer_and_coarser(void **state)
{
    fixture *fx = *state;
    real_slide_round_trip(fx, "2", TRUE);
    real_slide_round_trip(fx, "8", FALSE);
}

/* ---- Bad input ------------------------------------------------------------ */

static void test_bad_input_reported_and_rest_mapped(void **state)
{
    fixture *fx = *state;
    g_autofree char *dir = path_in(fx, "bad");
    assert_int_equal(g_mkdir(dir, 0700), 0);
    g_autofree char *yolo = g_build_filename(dir, "alpha__x1000_y2000_w2000_h1600.txt", NULL);
    write_file(yolo, "0 0.500000 0.500000 0.100000 0.100000\n" /* 1 ok */
                     "0 0.5 0.5 0.1\n"                         /* 2 four fields */
                     "9 0.5 0.5 0.1 0.1\n"                     /* 3 unknown class */
                     "1 0.5 0.5 -0.1 0.1");                    /* 4 negative size */
    g_autofree char *broken = g_build_filename(dir, "broken.xml", NULL);
    write_file(broken, "<annotation>\n\t<filename>a.jpg</filename>\n\t<object>\n</annotation>");
    g_autofree char *rows = g_build_filename(dir, "rows.csv", NULL);
    write_file(rows,
               "label_name,bbox_x,bbox_y,bbox_width,bbox_height,image_name,image_width,"
               "image_height\n"
               "tumour,10,10,20,20,alpha__x5000_y300_w1200_h800.jpg,300,200\n"    /* 2 ok */
               "tumour,290,10,20,20,alpha__x5000_y300_w1200_h800.jpg,300,200\n"   /* 3 outside */
               "tumour,10,10,-20,20,alpha__x5000_y300_w1200_h800.jpg,300,200\n"   /* 4 negative */
               "tumour,10,10,20,20,../alpha__x5000_y300_w1200_h800.jpg,300,200\n" /* 5 path */
               "tumour,10,10,20,alpha__x5000_y300_w1200_h800.jpg,300,200\n"       /* 6 fields */
               "tumour,10,10,20,20,nothing.jpg,300,200"); /* 7 no fragment */
    g_autofree char *dup = g_build_filename(dir, "dup.json", NULL);
    write_file(dup,
               "{\"info\":{},\"images\":[{\"id\":1,\"width\":777,\"height\":555,\"file_name\":"
               "\"beta__x0_y0_w777_h555.jpg\"},{\"id\":2,\"width\":777,\"height\":555,"
               "\"file_name\":\"beta__x0_y0_w777_h555.jpg\"}],\"annotations\":["
               "{\"id\":0,\"image_id\":1,\"category_id\":1,\"segmentation\":[[1,1,50,1,50,50]]},"
               "{\"id\":1,\"image_id\":2,\"category_id\":1,\"segmentation\":[[1,1,60,1,60,60]]}],"
               "\"categories\":[{\"id\":1,\"name\":\"tumour\"}]}");

    g_autofree char *out = path_in(fx, "out-bad");
    g_autofree char *err = NULL;
    int status = map_run(NULL, &err, dir, "-o", out, "--manifest", fx->alpha, "--manifest",
                         fx->beta, "--labels", fx->labels, NULL);
    assert_int_equal(status, SF_EXIT_SOME_FAILED);
    g_autofree char *m_fields = g_strdup_printf("slidefrag map: %s:2: expected 5 fields", yolo);
    g_autofree char *m_class = g_strdup_printf("slidefrag map: %s:3: unknown class index 9", yolo);
    g_autofree char *m_negative = g_strdup_printf("slidefrag map: %s:4: negative", yolo);
    g_autofree char *m_xml = g_strdup_printf("slidefrag map: %s:4: not well-formed XML", broken);
    g_autofree char *m_nothing =
        g_strdup_printf("slidefrag map: %s:7: image 'nothing.jpg' matches no fragment", rows);
    g_autofree char *m_outside = g_strdup_printf("slidefrag map: %s:3: rectangle 'tumour'", rows);
    g_autofree char *m_rect_negative = g_strdup_printf("slidefrag map: %s:4: negative", rows);
    g_autofree char *m_path =
        g_strdup_printf("slidefrag map: %s:5: image name '../alpha__x5000", rows);
    g_autofree char *m_rect_fields =
        g_strdup_printf("slidefrag map: %s:6: expected 8 fields", rows);
    g_autofree char *m_dup = g_strdup_printf("slidefrag map: %s: images[1]: image 'beta__x0", dup);
    const char *messages[] = {m_fields,  m_class, m_negative,      m_xml,         m_nothing,
                              m_outside, m_path,  m_rect_negative, m_rect_fields, m_dup};
    for (size_t i = 0; i < G_N_ELEMENTS(messages); i++)
        test_assert_contains(err, messages[i]);
    test_assert_contains(err, "lies outside");
    test_assert_contains(err, "slidefrag map: mapped 3, skipped 10 (");
    test_assert_contains(err, "1 image listed twice");

    /* The valid ones: YOLO line 1 and CSV row 2 on alpha, COCO image 1 on beta. */
    g_autofree char *alpha = g_build_filename(out, "alpha.geojson", NULL);
    g_autoptr(JsonParser) a = load_json(alpha);
    assert_int_equal(json_array_get_length(json_object_get_array_member(
                         json_node_get_object(json_parser_get_root(a)), "features")),
                     2);
    g_autofree char *beta = g_build_filename(out, "beta.geojson", NULL);
    g_autoptr(JsonParser) b = load_json(beta);
    JsonArray *beta_features =
        json_object_get_array_member(json_node_get_object(json_parser_get_root(b)), "features");
    assert_int_equal(json_array_get_length(beta_features), 1);

    /* --strict: the same input writes nothing at all. */
    g_autofree char *strict_out = path_in(fx, "out-strict");
    g_autofree char *strict_err = NULL;
    status = map_run(NULL, &strict_err, dir, "-o", strict_out, "--strict", "--manifest", fx->alpha,
                     "--manifest", fx->beta, "--labels", fx->labels, NULL);
    assert_int_equal(status, SF_EXIT_BAD_INPUT);
    test_assert_contains(strict_err, "--strict: nothing written");
    assert_false(g_file_test(strict_out, G_FILE_TEST_EXISTS));
}

/* Lists every path under `dir`, relative, sorted. */
static void list_tree(const char *root, const char *rel, GPtrArray *out)
{
    g_autofree char *dir = rel ? g_build_filename(root, rel, NULL) : g_strdup(root);
    g_autoptr(GDir) listing = g_dir_open(dir, 0, NULL);
    if (!listing)
        return;
    const char *name;
    while ((name = g_dir_read_name(listing))) {
        char *child = rel ? g_build_filename(rel, name, NULL) : g_strdup(name);
        g_ptr_array_add(out, child);
        g_autofree char *full = g_build_filename(root, child, NULL);
        if (g_file_test(full, G_FILE_TEST_IS_DIR))
            list_tree(root, child, out);
    }
}

static void test_nothing_written_outside_out(void **state)
{
    (void)state;
    g_autofree char *top = test_make_tmpdir();
    g_autofree char *work = g_build_filename(top, "work", NULL);
    g_autofree char *out = g_build_filename(work, "out", NULL);
    assert_int_equal(g_mkdir(work, 0700), 0);

    /* Names that would climb out of OUT if they were used as paths. */
    g_autofree char *csv = g_build_filename(work, "evil.csv", NULL);
    write_file(csv, "t,1,1,../evil__x0_y0_w10_h10.jpg,10,10\n"
                    "t,1,1,..__x0_y0_w10_h10.jpg,10,10\n"
                    "t,1,1,/tmp/evil__x0_y0_w10_h10.jpg,10,10\n"
                    "t,1,1,good__x0_y0_w10_h10.jpg,10,10");
    g_autofree char *zip_path = g_build_filename(work, "evil.zip", NULL);
    int zerr = 0;
    zip_t *archive = zip_open(zip_path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(archive);
    static const char member[] = "0 0.5 0.5 0.1 0.1";
    zip_source_t *source = zip_source_buffer(archive, member, strlen(member), 0);
    assert_true(zip_file_add(archive, "../../evil__x0_y0_w10_h10.txt", source, 0) >= 0);
    assert_int_equal(zip_close(archive), 0);
    /* A manifest whose slide name is a path. */
    g_autofree char *manifest = g_build_filename(work, "evil.json", NULL);
    write_file(manifest, "{\"schema\": \"slidefrag.manifest/1\", \"slide\": {\"path\": "
                         "\"/x.svs\", \"name\": \"../../evil\", \"width\": 100, \"height\": 100, "
                         "\"bounds\": null}, \"regions\": [{\"id\": 0, \"level0\": {\"x\": 0, "
                         "\"y\": 0, \"w\": 10, \"h\": 10}, \"fragment\": {\"file\": "
                         "\"fragments/evil-frag.jpg\", \"width\": 10, \"height\": 10}}]}");
    g_autofree char *manifest_csv = g_build_filename(work, "frag.csv", NULL);
    write_file(manifest_csv, "t,1,1,evil-frag.jpg,10,10");

    g_autoptr(GPtrArray) before = g_ptr_array_new_with_free_func(g_free);
    list_tree(top, NULL, before);

    g_autofree char *err = NULL;
    int status = map_run(NULL, &err, csv, zip_path, "-o", out, NULL);
    assert_int_equal(status, SF_EXIT_SOME_FAILED);
    test_assert_contains(err, "'../evil__x0_y0_w10_h10.jpg' is not a file name");
    test_assert_contains(err, "slide name '..'");
    test_assert_contains(err, "'/tmp/evil__x0_y0_w10_h10.jpg' is not a file name");
    test_assert_contains(err, "evil.zip/../../evil__x0_y0_w10_h10.txt: zip member name");
    g_autofree char *err2 = NULL;
    status = map_run(NULL, &err2, manifest_csv, "-o", out, "--manifest", manifest, NULL);
    assert_int_equal(status, SF_EXIT_BAD_INPUT);
    test_assert_contains(err2, "slide name '../../evil' cannot name an output file");

    /* Only OUT and its one legitimate file are new. */
    g_autoptr(GPtrArray) after = g_ptr_array_new_with_free_func(g_free);
    list_tree(top, NULL, after);
    g_autoptr(GHashTable) old = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < before->len; i++)
        g_hash_table_add(old, before->pdata[i]);
    GString *added = g_string_new(NULL);
    for (guint i = 0; i < after->len; i++)
        if (!g_hash_table_contains(old, after->pdata[i]))
            g_string_append_printf(added, "%s;", (char *)after->pdata[i]);
    assert_string_equal(added->str, "work/out;work/out/good.geojson;");
    g_string_free(added, TRUE);
    g_autofree char *cwd = g_get_current_dir();
    g_autofree char *above = g_build_filename(cwd, "..", "evil.geojson", NULL);
    assert_false(g_file_test(above, G_FILE_TEST_EXISTS));
    assert_false(g_file_test("/tmp/evil.geojson", G_FILE_TEST_EXISTS));
    test_remove_tree(top);
}

static void test_xml_attacks_through_the_cli(void **state)
{
    fixture *fx = *state;
    g_autofree char *secret = path_in(fx, "secret.txt");
    write_file(secret, "SECRET-4242");
    g_autofree char *xxe = path_in(fx, "xxe.xml");
    g_autofree char *xxe_text = g_strdup_printf(
        "<!DOCTYPE annotation [<!ENTITY xxe SYSTEM \"file://%s\">]>\n<annotation><filename>"
        "alpha__x1000_y2000_w2000_h1600.jpg</filename><object><name>&xxe;</name><bndbox><xmin>1"
        "</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object></annotation>",
        secret);
    write_file(xxe, xxe_text);
    g_autofree char *bomb = path_in(fx, "bomb.xml");
    GString *b = g_string_new("<!DOCTYPE annotation [<!ENTITY a0 \"dos\">");
    for (int i = 1; i < 12; i++)
        g_string_append_printf(b, "<!ENTITY a%d \"&a%d;&a%d;&a%d;&a%d;&a%d;&a%d;&a%d;&a%d;\">", i,
                               i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    g_string_append(b, "]><annotation><filename>alpha__x1000_y2000_w2000_h1600.jpg</filename>"
                       "<object><name>&a11;</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9"
                       "</xmax><ymax>9</ymax></bndbox></object></annotation>");
    write_file(bomb, b->str);
    g_string_free(b, TRUE);

    g_autofree char *out = path_in(fx, "out-xml");
    g_autofree char *std_out = NULL, *err = NULL;
    gint64 start = g_get_monotonic_time();
    int status = map_run(&std_out, &err, xxe, bomb, "-o", out, NULL);
    assert_true(g_get_monotonic_time() - start < 5 * G_USEC_PER_SEC);
    assert_int_equal(status, SF_EXIT_BAD_INPUT);
    g_autofree char *m_xxe = g_strdup_printf("slidefrag map: %s", xxe);
    g_autofree char *m_bomb = g_strdup_printf("slidefrag map: %s", bomb);
    test_assert_contains(err, m_xxe);
    test_assert_contains(err, m_bomb);
    test_assert_contains(err, "mapped 0, skipped 2 (2 malformed)");
    assert_null(strstr(err, "SECRET-4242"));
    assert_null(strstr(std_out, "SECRET-4242"));
    assert_null(strstr(err, "dosdos"));
}

/* Windows editors start a text file with a UTF-8 byte order mark; the
 * first YOLO line was then "\xEF\xBB\xBF0 ..." and its box was lost. */
static void test_yolo_with_byte_order_mark(void **state)
{
    fixture *fx = *state;
    g_autofree char *txt = path_in(fx, "s__x0_y0_w100_h100.txt");
    write_file(txt, "\xEF\xBB\xBF"
                    "0 0.5 0.5 0.2 0.2\n1 0.1 0.1 0.1 0.1\n");
    g_autofree char *out = path_in(fx, "out-bom");
    g_autofree char *err = NULL;
    int status = map_run(NULL, &err, txt, "-o", out, NULL);
    if (status != SF_EXIT_OK)
        fail_msg("exit %d: %s", status, err);
    test_assert_contains(err, "mapped 2, skipped 0");
}

/* A folder of a readme, a zip of pictures: nothing there is an export,
 * which README says is exit 8 (it was exit 0, "mapped 0"). */
static void test_nothing_recognised_is_exit_8(void **state)
{
    fixture *fx = *state;
    g_autofree char *folder = path_in(fx, "not-an-export");
    assert_int_equal(g_mkdir(folder, 0755), 0);
    g_autofree char *readme = g_build_filename(folder, "README.txt", NULL);
    write_file(readme, "Annotations for the March round; see the lab book.\n");
    g_autofree char *zip = path_in(fx, "pictures.zip");
    int zerr = 0;
    zip_t *archive = zip_open(zip, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(archive);
    g_autofree char *png = test_fixture("pen_green_mask.png");
    assert_true(zip_file_add(archive, "mask.png", zip_source_file(archive, png, 0, -1), 0) >= 0);
    const char *note = "not annotations";
    assert_true(zip_file_add(archive, "notes.txt",
                             zip_source_buffer(archive, note, strlen(note), 0), 0) >= 0);
    assert_int_equal(zip_close(archive), 0);
    const char *const inputs[] = {folder, zip};
    for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++) {
        g_autofree char *out = path_in(fx, "out-nothing");
        g_autofree char *err = NULL;
        int status = map_run(NULL, &err, inputs[i], "-o", out, NULL);
        if (status != SF_EXIT_BAD_INPUT)
            fail_msg("%s: exit %d: %s", inputs[i], status, err);
        test_assert_contains(err, "ignored: not a Makesense export");
        test_assert_contains(err,
                             "no Makesense export (YOLO, VOC, CSV, COCO or VGG) in what was given");
        assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
    }
}

/* What Makesense downloads when nothing of a kind was drawn: a YOLO or VOC
 * zip with no file in it (it was "not a Makesense export", exit 8), a CSV
 * with no line. A valid export holding nothing: exit 0, said so. */
static void test_empty_export_is_exit_0(void **state)
{
    fixture *fx = *state;
    /* JSZip's empty archive: the end-of-central-directory record alone. */
    static const char empty_zip[22] = "PK\x05\x06";
    g_autofree char *zip = path_in(fx, "labels_project_empty.zip");
    assert_true(g_file_set_contents(zip, empty_zip, sizeof empty_zip, NULL));
    g_autofree char *csv = path_in(fx, "labels_project_empty.csv");
    write_file(csv, "");
    const char *const inputs[] = {zip, csv};
    const char *const said[] = {"an empty export (the zip holds no file): nothing to map",
                                "empty file, nothing to map"};
    for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++) {
        g_autofree char *out = path_in(fx, "out-empty");
        g_autofree char *err = NULL;
        int status = map_run(NULL, &err, inputs[i], "-o", out, NULL);
        if (status != SF_EXIT_OK)
            fail_msg("%s: exit %d: %s", inputs[i], status, err);
        test_assert_contains(err, said[i]);
        test_assert_contains(err, "mapped 0, skipped 0");
    }
}

/* json-glib wrapped integers past 64 bits: -18446744073709551606 was read
 * as 10 and mapped there, exit 0. */
static void test_integer_beyond_64_bits(void **state)
{
    fixture *fx = *state;
    g_autofree char *json = path_in(fx, "wrapped.json");
    write_file(json,
               "{\"images\": [{\"id\": 1, \"width\": 777, \"height\": 555, \"file_name\": "
               "\"beta__x0_y0_w777_h555.jpg\"}],\n\"annotations\": [{\"image_id\": 1, "
               "\"category_id\": 1, \"segmentation\": [[-18446744073709551606, 10, 50, 10, 50, "
               "50]]}], \"categories\": [{\"id\": 1, \"name\": \"t\"}]}");
    g_autofree char *out = path_in(fx, "out-wrapped");
    g_autofree char *err = NULL;
    int status = map_run(NULL, &err, json, "-o", out, NULL);
    if (status != SF_EXIT_BAD_INPUT)
        fail_msg("exit %d: %s", status, err);
    g_autofree char *message = g_strdup_printf(
        "%s:2: integer -18446744073709551606 does not fit in 64 bits; refused", json);
    test_assert_contains(err, message);
    assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
}

/* Messages quote what the export says (a label here) as text, never as
 * terminal commands, and a megabyte label does not make a megabyte line
 * (it did, with the escapes printed raw). */
static void test_messages_bounded_and_escaped(void **state)
{
    fixture *fx = *state;
    GString *label = g_string_new("\x1b[31mred\x1b[0m\rforged: line\xe2\x80\xae");
    for (int i = 0; i < 1 << 20; i++)
        g_string_append_c(label, 'x');
    g_autofree char *csv = path_in(fx, "loud.csv");
    g_autofree char *text = g_strdup_printf(
        "t,1,1,a__x0_y0_w10_h10.jpg,10,10\n%s,50,50,a__x0_y0_w10_h10.jpg,10,10\n", label->str);
    g_string_free(label, TRUE);
    write_file(csv, text);
    g_autofree char *out = path_in(fx, "out-loud");
    g_autofree char *err = NULL;
    int status = map_run(NULL, &err, csv, "-o", out, NULL);
    if (status != SF_EXIT_SOME_FAILED)
        fail_msg("exit %d", status);
    assert_null(strchr(err, '\x1b'));
    assert_null(strchr(err, '\r'));
    assert_null(strstr(err, "\xe2\x80\xae"));
    test_assert_contains(err, "point '\\x1b[31mred\\x1b[0m\\rforged: line\\u202exxx");
    test_assert_contains(err, " ... ");
    g_auto(GStrv) lines = g_strsplit(err, "\n", -1);
    for (char **l = lines; *l; l++)
        if (g_utf8_strlen(*l, -1) > 2 * SF_MESSAGE_MAX_CHARS)
            fail_msg("a line of %ld characters", (long)g_utf8_strlen(*l, -1));
}

/* map --to csv: text a spreadsheet would take for a formula (it ran
 * =cmd|"/c calc"!A1 on opening) starts with a single quote, quoted. */
static void test_csv_formula_injection(void **state)
{
    fixture *fx = *state;
    g_autofree char *csv = path_in(fx, "formulas.csv");
    write_file(csv, "=cmd|\"/c calc\"!A1,1,1,f__x0_y0_w10_h10.jpg,10,10\n"
                    "@SUM(A1:A9),2,2,f__x0_y0_w10_h10.jpg,10,10\n"
                    "+1,3,3,f__x0_y0_w10_h10.jpg,10,10\n"
                    "-2+3,4,4,f__x0_y0_w10_h10.jpg,10,10\n"
                    "\tx,5,5,f__x0_y0_w10_h10.jpg,10,10\n"
                    "tumour,6,6,f__x0_y0_w10_h10.jpg,10,10\n");
    g_autofree char *out = path_in(fx, "out-formulas");
    g_autofree char *err = NULL;
    int status = map_run(NULL, &err, csv, "-o", out, "--to", "csv", NULL);
    if (status != SF_EXIT_OK)
        fail_msg("exit %d: %s", status, err);
    g_autofree char *written = path_in(fx, "out-formulas/f.csv");
    g_autofree char *text = NULL;
    assert_true(g_file_get_contents(written, &text, NULL, NULL));
    static const char *const fields[] = {",\"'=cmd|\"\"/c calc\"\"!A1\",",
                                         ",\"'@SUM(A1:A9)\",",
                                         ",\"'+1\",",
                                         ",\"'-2+3\",",
                                         ",\"'\tx\",",
                                         ",tumour,"};
    for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
        test_assert_contains(text, fields[i]);
    /* Numbers keep their sign: the offsets and coordinates are numbers. */
    assert_null(strstr(text, ",'-"));
    assert_null(strstr(text, "\n="));
}

/* Writes `bytes` bytes as fragments/<name> beside the manifests. */
static void write_fragment_file(const fixture *fx, const char *name, size_t bytes)
{
    g_autofree char *dir = path_in(fx, "fragments");
    assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
    g_autofree char *file = g_build_filename(dir, name, NULL);
    g_autofree char *data = g_malloc0(bytes);
    assert_true(g_file_set_contents(file, data, (gssize)bytes, NULL));
}

/*
 * VGG states no pixel size. Mapped with the manifest of a run at another
 * fragment resolution (same names, other pixels) it was placed at the
 * wrong scale with exit 0, up to 988 level-0 px off. Its `size` is the
 * annotated file's byte count: the fragment file beside the manifest
 * confirms it or shows the mismatch.
 */
static void test_vgg_at_another_resolution(void **state)
{
    fixture *fx = *state;
    const fragment *f = &world[0];
    g_autofree char *name = fragment_name(f);
    g_autofree char *vgg = path_in(fx, "project.json");
    g_autofree char *text = g_strdup_printf(
        "{\"%s12345\":{\"filename\":\"%s\",\"size\":12345,\"regions\":{\"0\":{"
        "\"shape_attributes\":{\"name\":\"polygon\",\"all_points_x\":[10,200,200,10],"
        "\"all_points_y\":[10,10,300,10]},\"region_attributes\":{\"label\":\"tumour\"}}},"
        "\"file_attributes\":{}}}",
        name, name);
    write_file(vgg, text);
    g_autofree char *out = path_in(fx, "out-vgg-res");

    write_fragment_file(fx, name, 12345);
    g_autofree char *err = NULL;
    int status = map_run(NULL, &err, vgg, "--manifest", fx->alpha, "-o", out, NULL);
    if (status != SF_EXIT_OK)
        fail_msg("same file: exit %d: %s", status, err);
    test_assert_contains(err, "mapped 1, skipped 0");

    write_fragment_file(fx, name, 4321); /* the run that made it had other pixels */
    g_autofree char *err2 = NULL;
    status = map_run(NULL, &err2, vgg, "--manifest", fx->alpha, "-o", out, "--strict", NULL);
    if (status != SF_EXIT_BAD_INPUT)
        fail_msg("other file: exit %d: %s", status, err2);
    test_assert_contains(err2, "was 12345 bytes when annotated but the fragment file");
    test_assert_contains(err2, "is 4321 bytes: a fragment of another run");

    g_autofree char *file = g_build_filename(fx->dir, "fragments", name, NULL);
    assert_int_equal(g_unlink(file), 0);
    g_autofree char *err3 = NULL;
    status = map_run(NULL, &err3, vgg, "--manifest", fx->alpha, "-o", out, NULL);
    if (status != SF_EXIT_OK)
        fail_msg("no file: exit %d: %s", status, err3);
    test_assert_contains(err3,
                         "is not there to confirm it: placed as the manifest's 1000 x 800 px");
}

/* The same export given twice (a zip and its unpacked folder, or
 * `map exports/...`) doubled every annotation with exit 0. */
static void test_same_export_twice(void **state)
{
    fixture *fx = *state;
    g_autofree char *folder = path_in(fx, "unpacked");
    assert_int_equal(g_mkdir(folder, 0755), 0);
    g_autofree char *csv = g_build_filename(folder, "points.csv", NULL);
    const char *text = "t,1,1,a__x0_y0_w10_h10.jpg,10,10\nt,2,2,a__x0_y0_w10_h10.jpg,10,10\n"
                       "t,2,2,a__x0_y0_w10_h10.jpg,10,10\n";
    write_file(csv, text);
    g_autofree char *zip = path_in(fx, "points.zip");
    int zerr = 0;
    zip_t *archive = zip_open(zip, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(archive);
    assert_true(zip_file_add(archive, "points.csv",
                             zip_source_buffer(archive, text, strlen(text), 0), 0) >= 0);
    assert_int_equal(zip_close(archive), 0);
    g_autofree char *out = path_in(fx, "out-twice");
    g_autofree char *std_out = NULL, *err = NULL;
    int status = map_run(&std_out, &err, zip, folder, "-o", out, NULL);
    if (status != SF_EXIT_OK)
        fail_msg("exit %d: %s", status, err);
    /* A point drawn twice in one export was drawn twice: kept. */
    test_assert_contains(err, "mapped 3, skipped 0");
    g_autofree char *said = g_strdup_printf(
        "%s: 3 annotations repeat those of %s (the same export given twice?): kept once", folder,
        zip);
    test_assert_contains(err, said);
    test_assert_contains(std_out, "3 annotations");
}

/* A renamed fragment: "copy of <name>.jpg" became a slide "copy of ..."
 * without a word, and "<name> (1).jpg", a browser's second download, was
 * no fragment at all. Both are the fragment inside, said so. */
static void test_renamed_fragments(void **state)
{
    fixture *fx = *state;
    const fragment *f = &world[1];
    g_autofree char *stem = fragment_stem(f);
    g_autofree char *csv = path_in(fx, "renamed.csv");
    g_autofree char *text = g_strdup_printf("t,1,1,Copy of %s.jpg,300,200\n"
                                            "t,2,2,%s (1).jpg,300,200\n"
                                            "t,3,3,%s - Copy (2).jpg,300,200\n",
                                            stem, stem, stem);
    write_file(csv, text);
    for (int with_manifest = 0; with_manifest < 2; with_manifest++) {
        g_autofree char *out = path_in(fx, with_manifest ? "out-renamed-m" : "out-renamed");
        g_autofree char *std_out = NULL, *err = NULL;
        int status = with_manifest
                         ? map_run(&std_out, &err, csv, "--manifest", fx->alpha, "-o", out, NULL)
                         : map_run(&std_out, &err, csv, "-o", out, NULL);
        if (status != SF_EXIT_OK)
            fail_msg("exit %d: %s", status, err);
        test_assert_contains(err, "mapped 3, skipped 0");
        g_autofree char *taken =
            g_strdup_printf("image 'Copy of %s.jpg' taken for fragment '%s.jpg' "
                            "(a renamed copy)",
                            stem, stem);
        test_assert_contains(err, taken);
        test_assert_contains(err, "(1).jpg' taken for fragment");
        test_assert_contains(std_out, "alpha.geojson\t3 annotations");
        assert_null(strstr(std_out, "Copy of"));
    }
}

/* Makesense writes a label's '&' bare in VOC, which makes the file
 * malformed: it was one annotation skipped though it held three. */
static void test_voc_bare_ampersand_counts_its_objects(void **state)
{
    fixture *fx = *state;
    g_autofree char *xml = path_in(fx, "amp.xml");
    GString *s =
        g_string_new("<annotation>\n\t<filename>a__x0_y0_w10_h10.jpg</filename>\n"
                     "\t<size>\n\t\t<width>10</width>\n\t\t<height>10</height>\n\t</size>\n");
    const char *const names[] = {"tumour", "R&D", "stroma"};
    for (int i = 0; i < 3; i++)
        g_string_append_printf(
            s,
            "\t<object>\n\t\t<name>%s</name>\n\t\t<bndbox>\n\t\t\t<xmin>1</xmin>"
            "\n\t\t\t<ymin>1</ymin>\n\t\t\t<xmax>5</xmax>\n\t\t\t<ymax>5</ymax>\n"
            "\t\t</bndbox>\n\t</object>\n",
            names[i]);
    g_string_append(s, "</annotation>");
    write_file(xml, s->str);
    g_string_free(s, TRUE);
    g_autofree char *out = path_in(fx, "out-amp");
    g_autofree char *err = NULL;
    int status = map_run(NULL, &err, xml, "-o", out, NULL);
    if (status != SF_EXIT_BAD_INPUT)
        fail_msg("exit %d: %s", status, err);
    test_assert_contains(err, "not well-formed XML");
    test_assert_contains(err, "mapped 0, skipped 3 (3 malformed)");
}

static void test_usage(void **state)
{
    fixture *fx = *state;
    g_autofree char *help = NULL;
    assert_int_equal(map_run(&help, NULL, "--help", NULL), 0);
    static const char *const options[] = {"--output", "--manifest",     "--labels",
                                          "--to",     "--slide-offset", "--strict"};
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++)
        test_assert_contains(help, options[i]);

    g_autofree char *csv = path_in(fx, "u.csv");
    write_file(csv, "t,1,1,a__x0_y0_w10_h10.jpg,10,10");
    g_autofree char *out = path_in(fx, "out-usage");
    g_autofree char *missing = path_in(fx, "missing.zip");
    struct {
        int status;
        const char *message;
        const char *args[8];
    } cases[] = {
        {SF_EXIT_USAGE, "no EXPORT given", {"-o", out, NULL}},
        {SF_EXIT_USAGE, "-o OUT is required", {csv, NULL}},
        {SF_EXIT_USAGE, "--to must be", {csv, "-o", out, "--to", "svg", NULL}},
        {SF_EXIT_USAGE, "--slide-offset must be", {csv, "-o", out, "--slide-offset", "x", NULL}},
        {SF_EXIT_USAGE, "needs --manifest", {csv, "-o", out, "--slide-offset", "bounds", NULL}},
        {SF_EXIT_MISSING, missing, {missing, "-o", out, NULL}},
        {SF_EXIT_MISSING, "labels", {csv, "-o", out, "--labels", missing, NULL}},
        {SF_EXIT_MISSING, "manifest", {csv, "-o", out, "--manifest", missing, NULL}},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *argv[10] = {"map"};
        int n = 1;
        for (int k = 0; cases[i].args[k]; k++)
            argv[n++] = cases[i].args[k];
        argv[n] = NULL;
        g_autofree char *err = NULL;
        int status = test_run_slidefrag(argv, NULL, &err);
        if (status != cases[i].status)
            fail_msg("case %zu exited %d, expected %d: %s", i, status, cases[i].status, err);
        assert_true(g_str_has_prefix(err, "slidefrag map: "));
        test_assert_contains(err, cases[i].message);
        /* One line, ending in a newline. */
        assert_true(strchr(err, '\n') == err + strlen(err) - 1);
    }
    assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_every_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_asap_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_outputs_and_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_slide_finer_and_coarser, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_reported_and_rest_mapped, setup, teardown),
        cmocka_unit_test(test_nothing_written_outside_out),
        cmocka_unit_test_setup_teardown(test_xml_attacks_through_the_cli, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yolo_with_byte_order_mark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_recognised_is_exit_8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_export_is_exit_0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integer_beyond_64_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_messages_bounded_and_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_formula_injection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vgg_at_another_resolution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_export_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renamed_fragments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_voc_bare_ampersand_counts_its_objects, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
