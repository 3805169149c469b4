/*
 * pre-annotate and back: level-0 shapes in each file a lab has (QuPath
 * GeoJSON, ASAP, ImageScope) go out to the fragments as a Makesense.AI
 * import (COCO, VOC); the test then does what the app does (import, then
 * export in each format, with Makesense's own rounding) and maps every
 * export home. Each shape comes back where it was: within 0.5 level-0 px
 * wherever the format keeps fractions of a pixel (YOLO, COCO, VGG), and
 * within what Makesense's rounding to whole fragment pixels leaves (half
 * a pixel for VOC's corners, one for the far corner of CSV, which rounds
 * origin and size apart): 0.5 and 1 level-0 px for a fragment at level-0
 * resolution, 2 and 4 for one at a quarter of it.
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

#include "slidefrag/annotations.h"
#include "slidefrag/error.h"

/* Two fragments of slide "gamma": one at a quarter of level-0 resolution,
 * one at level 0. */
typedef struct {
    int64_t x, y, w, h;
    int width, height;
} fragment;

static const fragment fragments[] = {
    {1000, 2000, 4000, 3000, 1000, 750},
    {6000, 500, 800, 600, 800, 600},
};

static char *fragment_name(const fragment *f)
{
    return g_strdup_printf("gamma__x%" G_GINT64_FORMAT "_y%" G_GINT64_FORMAT "_w%" G_GINT64_FORMAT
                           "_h%" G_GINT64_FORMAT ".jpg",
                           f->x, f->y, f->w, f->h);
}

/* The shapes on the slide, level-0 pixels. */
typedef struct {
    const char *label;
    sf_shape shape;
    int n;
    double xy[10];
    int fragment;   /* which it lands on */
    double clip_x1; /* a rectangle crossing the fragment's right edge: cut there */
} level0_shape;

static const level0_shape shapes[] = {
    {"tumour",
     SF_SHAPE_RECTANGLE,
     4,
     {1500.3, 2600.7, 2700.1, 2600.7, 2700.1, 3300.9, 1500.3, 3300.9},
     0,
     0},
    {"stroma",
     SF_SHAPE_POLYGON,
     5,
     {3000.25, 2500.5, 3900.75, 2600, 4100.5, 3900.25, 3300, 4200.75, 2900.5, 3500},
     0,
     0},
    {"tumour",
     SF_SHAPE_RECTANGLE,
     4,
     {6100.2, 650.4, 6500.8, 650.4, 6500.8, 900.6, 6100.2, 900.6},
     1,
     0},
    {"necrosis",
     SF_SHAPE_POLYGON,
     4,
     {6200.5, 700.25, 6700.75, 750.5, 6600.25, 1050.75, 6250, 1000.5},
     1,
     0},
    {"stroma",
     SF_SHAPE_RECTANGLE,
     4,
     {4800.5, 4000.5, 5300.5, 4000.5, 5300.5, 4500.5, 4800.5, 4500.5},
     0,
     5000},
};

static const char *const labels[] = {"necrosis", "stroma", "tumour"};

static char *tmp;

static char *path_in(const char *name)
{
    return g_build_filename(tmp, name, NULL);
}

static void write_manifest(const char *path)
{
    test_region regions[G_N_ELEMENTS(fragments)];
    for (size_t i = 0; i < G_N_ELEMENTS(fragments); i++)
        regions[i] = (test_region){fragments[i].x, fragments[i].y,     fragments[i].w,
                                   fragments[i].h, fragments[i].width, fragments[i].height};
    test_write_manifest(path, "gamma", 9000, 7000, "0.25", "null", regions,
                        G_N_ELEMENTS(fragments));
}

/* The shapes (and a point, which Makesense cannot import) as `format`. */
static void write_level0(const char *path, sf_annotation_format format)
{
    sf_slide_annotations slide = {
        .stem = (char *)"gamma",
        .annotations = g_ptr_array_new_with_free_func((GDestroyNotify)sf_annotation_free),
    };
    for (size_t i = 0; i <= G_N_ELEMENTS(shapes); i++) {
        sf_annotation *a = g_new0(sf_annotation, 1);
        if (i < G_N_ELEMENTS(shapes)) {
            a->label = g_strdup(shapes[i].label);
            a->shape = shapes[i].shape;
            a->n_vertices = (size_t)shapes[i].n;
            a->vertices = g_new(sf_vertex, a->n_vertices);
            for (int k = 0; k < shapes[i].n; k++)
                a->vertices[k] = (sf_vertex){shapes[i].xy[2 * k], shapes[i].xy[2 * k + 1]};
        } else {
            a->label = g_strdup("cell");
            a->shape = SF_SHAPE_POINT;
            a->n_vertices = 1;
            a->vertices = g_new(sf_vertex, 1);
            a->vertices[0] = (sf_vertex){1600, 2700};
        }
        a->image = g_strdup("level0");
        a->source = g_strdup("test");
        g_ptr_array_add(slide.annotations, a);
    }
    size_t length = 0;
    g_autofree char *text = sf_annotations_serialise(&slide, format, &length);
    assert_true(g_file_set_contents(path, text, (gssize)length, NULL));
    g_ptr_array_unref(slide.annotations);
}

/* ---- What the app does --------------------------------------------------------- */

/* A shape on a fragment as the app holds it after the import. */
typedef struct {
    char *image;
    int width, height;
    char *label;
    gboolean box;
    double x, y, w, h; /* a box */
    int n;
    double xy[40]; /* a polygon */
} app_shape;

static void app_shape_free(gpointer data)
{
    app_shape *s = data;
    g_free(s->image);
    g_free(s->label);
    g_free(s);
}

static int image_width(const char *image)
{
    for (size_t i = 0; i < G_N_ELEMENTS(fragments); i++) {
        g_autofree char *name = fragment_name(&fragments[i]);
        if (!strcmp(name, image))
            return fragments[i].width;
    }
    fail_msg("no fragment %s", image);
    return 0;
}

static int image_height(const char *image)
{
    for (size_t i = 0; i < G_N_ELEMENTS(fragments); i++) {
        g_autofree char *name = fragment_name(&fragments[i]);
        if (!strcmp(name, image))
            return fragments[i].height;
    }
    return 0;
}

/* COCOImporter: boxes from bbox, polygons from segmentation; a shape that
 * is its own bbox is taken as a box. */
static GPtrArray *app_import_coco(const char *path)
{
    GPtrArray *all = g_ptr_array_new_with_free_func(app_shape_free);
    g_autoptr(JsonParser) parser = json_parser_new();
    assert_true(json_parser_load_from_file(parser, path, NULL));
    JsonObject *root = json_node_get_object(json_parser_get_root(parser));
    JsonArray *images = json_object_get_array_member(root, "images");
    JsonArray *annotations = json_object_get_array_member(root, "annotations");
    JsonArray *categories = json_object_get_array_member(root, "categories");
    for (guint i = 0; i < json_array_get_length(annotations); i++) {
        JsonObject *a = json_array_get_object_element(annotations, i);
        JsonObject *image = json_array_get_object_element(
            images, (guint)json_object_get_int_member(a, "image_id") - 1);
        JsonObject *category = json_array_get_object_element(
            categories, (guint)json_object_get_int_member(a, "category_id") - 1);
        JsonArray *bbox = json_object_get_array_member(a, "bbox");
        JsonArray *flat =
            json_array_get_array_element(json_object_get_array_member(a, "segmentation"), 0);
        app_shape *s = g_new0(app_shape, 1);
        s->image = g_strdup(json_object_get_string_member(image, "file_name"));
        s->width = (int)json_object_get_int_member(image, "width");
        s->height = (int)json_object_get_int_member(image, "height");
        s->label = g_strdup(json_object_get_string_member(category, "name"));
        s->x = json_array_get_double_element(bbox, 0);
        s->y = json_array_get_double_element(bbox, 1);
        s->w = json_array_get_double_element(bbox, 2);
        s->h = json_array_get_double_element(bbox, 3);
        s->n = (int)json_array_get_length(flat) / 2;
        for (int k = 0; k < 2 * s->n; k++)
            s->xy[k] = json_array_get_double_element(flat, (guint)k);
        s->box = s->n == 4 && s->xy[0] == s->x && s->xy[1] == s->y && s->xy[4] == s->x + s->w &&
                 s->xy[5] == s->y + s->h;
        g_ptr_array_add(all, s);
    }
    return all;
}

/* VOCImporter: parseInt of each bndbox value. */
static GPtrArray *app_import_voc(const char *dir)
{
    GPtrArray *all = g_ptr_array_new_with_free_func(app_shape_free);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) listing = g_dir_open(dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(listing)))
        if (g_str_has_suffix(name, ".xml"))
            g_ptr_array_add(names, g_build_filename(dir, name, NULL));
    assert_int_equal(names->len, 2);
    for (guint f = 0; f < names->len; f++) {
        xmlDoc *doc = xmlReadFile(names->pdata[f], NULL, XML_PARSE_NONET);
        assert_non_null(doc);
        xmlNode *root = xmlDocGetRootElement(doc);
        g_autofree char *image = NULL;
        for (xmlNode *c = root->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE)
                continue;
            if (!strcmp((const char *)c->name, "filename")) {
                xmlChar *t = xmlNodeGetContent(c);
                image = g_strdup((const char *)t);
                xmlFree(t);
            }
            if (strcmp((const char *)c->name, "object") != 0)
                continue;
            app_shape *s = g_new0(app_shape, 1);
            s->image = g_strdup(image);
            s->width = image_width(image);
            s->height = image_height(image);
            s->box = TRUE;
            double v[4] = {0};
            for (xmlNode *o = c->children; o; o = o->next) {
                if (o->type != XML_ELEMENT_NODE)
                    continue;
                xmlChar *t = xmlNodeGetContent(o);
                if (!strcmp((const char *)o->name, "name"))
                    s->label = g_strdup((const char *)t);
                xmlFree(t);
                if (strcmp((const char *)o->name, "bndbox") != 0)
                    continue;
                static const char *const tags[] = {"xmin", "ymin", "xmax", "ymax"};
                for (xmlNode *b = o->children; b; b = b->next)
                    for (int k = 0; k < 4; k++)
                        if (b->type == XML_ELEMENT_NODE &&
                            !strcmp((const char *)b->name, tags[k])) {
                            xmlChar *n = xmlNodeGetContent(b);
                            v[k] = (double)atoi((const char *)n);
                            xmlFree(n);
                        }
            }
            s->x = v[0];
            s->y = v[1];
            s->w = v[2] - v[0];
            s->h = v[3] - v[1];
            g_ptr_array_add(all, s);
        }
        xmlFreeDoc(doc);
    }
    return all;
}

/* Math.round. */
static double js_round(double v)
{
    return floor(v + 0.5);
}

static int label_index(const char *label)
{
    for (size_t i = 0; i < G_N_ELEMENTS(labels); i++)
        if (!strcmp(labels[i], label))
            return (int)i;
    fail_msg("label %s", label);
    return -1;
}

typedef enum { YOLO, VOC, RECT_CSV, COCO, VGG, N_EXPORTS } app_export;
static const char *const export_names[] = {"YOLO", "VOC", "rectangle CSV", "COCO", "VGG"};

static gboolean is_fragment(const char *image, size_t f)
{
    g_autofree char *name = fragment_name(&fragments[f]);
    return !strcmp(name, image);
}

/* Writes the app's export of `format` into `dir`, rounding as Makesense
 * does; FALSE when it holds nothing (the format carries other shapes). */
static gboolean app_export_to(GPtrArray *all, app_export format, const char *dir)
{
    assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
    gboolean for_boxes = format == YOLO || format == VOC || format == RECT_CSV;
    GString *csv = g_string_new("label_name,bbox_x,bbox_y,bbox_width,bbox_height,image_name,"
                                "image_width,image_height\n");
    GString *coco = g_string_new("{\"info\":{\"description\":\"x\"},\"images\":[");
    for (size_t f = 0; f < G_N_ELEMENTS(fragments); f++) {
        g_autofree char *name = fragment_name(&fragments[f]);
        g_string_append_printf(coco,
                               "%s{\"id\":%zu,\"width\":%d,\"height\":%d,\"file_name\":\"%s\"}",
                               f ? "," : "", f + 1, fragments[f].width, fragments[f].height, name);
    }
    g_string_append(coco, "],\"annotations\":[");
    GString *vgg = g_string_new("{");
    guint n = 0;
    for (guint i = 0; i < all->len; i++) {
        const app_shape *s = all->pdata[i];
        if (s->box != for_boxes)
            continue;
        g_autofree char *stem = g_strndup(s->image, strlen(s->image) - 4);
        if (format == YOLO) {
            g_autofree char *file = g_strdup_printf("%s/%s.txt", dir, stem);
            g_autofree char *old = NULL;
            g_file_get_contents(file, &old, NULL, NULL);
            g_autofree char *text =
                g_strdup_printf("%s%s%d %.6f %.6f %.6f %.6f", old ? old : "", old ? "\n" : "",
                                label_index(s->label), (s->x + s->w / 2) / s->width,
                                (s->y + s->h / 2) / s->height, s->w / s->width, s->h / s->height);
            test_write_text(file, text);
        } else if (format == VOC) {
            g_autofree char *file = g_strdup_printf("%s/%s.xml", dir, stem);
            g_autofree char *old = NULL;
            if (!g_file_get_contents(file, &old, NULL, NULL))
                old = g_strdup_printf("<annotation>\n\t<filename>%s</filename>\n\t<size>\n"
                                      "\t\t<width>%d</width>\n\t\t<height>%d</height>\n"
                                      "\t\t<depth>3</depth>\n\t</size>\n</annotation>",
                                      s->image, s->width, s->height);
            old[strlen(old) - strlen("</annotation>")] = '\0';
            g_autofree char *text = g_strdup_printf(
                "%s\t<object>\n\t\t<name>%s</name>\n\t\t<bndbox>\n\t\t\t<xmin>%.0f</xmin>\n"
                "\t\t\t<ymin>%.0f</ymin>\n\t\t\t<xmax>%.0f</xmax>\n\t\t\t<ymax>%.0f</ymax>\n"
                "\t\t</bndbox>\n\t</object>\n</annotation>",
                old, s->label, js_round(s->x), js_round(s->y), js_round(s->x + s->w),
                js_round(s->y + s->h));
            test_write_text(file, text);
        } else if (format == RECT_CSV) {
            g_string_append_printf(csv, "%s,%.0f,%.0f,%.0f,%.0f,%s,%d,%d\n", s->label,
                                   js_round(s->x), js_round(s->y), js_round(s->w), js_round(s->h),
                                   s->image, s->width, s->height);
        } else if (format == COCO) {
            g_string_append_printf(coco,
                                   "%s{\"id\":%u,\"iscrowd\":0,\"image_id\":%d,\"category_id\":%d,"
                                   "\"segmentation\":[[",
                                   n ? "," : "", n, is_fragment(s->image, 0) ? 1 : 2,
                                   label_index(s->label) + 1);
            for (int k = 0; k < 2 * s->n; k++)
                g_string_append_printf(coco, "%s%.17g", k ? "," : "", s->xy[k]);
            g_string_append(coco, "]],\"bbox\":[0,0,1,1],\"area\":1}");
        } else {
            /* VGG: closed rings, keyed by file name and byte count. */
            GString *xs = g_string_new(NULL), *ys = g_string_new(NULL);
            for (int k = 0; k <= s->n; k++) {
                g_string_append_printf(xs, "%s%.17g", k ? "," : "", s->xy[2 * (k % s->n)]);
                g_string_append_printf(ys, "%s%.17g", k ? "," : "", s->xy[2 * (k % s->n) + 1]);
            }
            g_string_append_printf(vgg,
                                   "%s\"%s%u\":{\"filename\":\"%s\",\"regions\":{\"0\":{"
                                   "\"shape_attributes\":{\"name\":\"polygon\",\"all_points_x\":"
                                   "[%s],\"all_points_y\":[%s]},\"region_attributes\":{\"label\":"
                                   "\"%s\"}}}}",
                                   n ? "," : "", s->image, n, s->image, xs->str, ys->str, s->label);
            g_string_free(xs, TRUE);
            g_string_free(ys, TRUE);
        }
        n++;
    }
    g_string_append(coco, "],\"categories\":[");
    for (size_t l = 0; l < G_N_ELEMENTS(labels); l++)
        g_string_append_printf(coco, "%s{\"id\":%zu,\"name\":\"%s\"}", l ? "," : "", l + 1,
                               labels[l]);
    g_string_append(coco, "]}");
    g_string_append(vgg, "}");
    g_autofree char *csv_file = g_build_filename(dir, "labels.csv", NULL);
    g_autofree char *json_file = g_build_filename(dir, "labels.json", NULL);
    if (format == RECT_CSV && n)
        test_write_text(csv_file, csv->str);
    if (format == COCO && n)
        test_write_text(json_file, coco->str);
    if (format == VGG && n)
        test_write_text(json_file, vgg->str);
    g_string_free(csv, TRUE);
    g_string_free(coco, TRUE);
    g_string_free(vgg, TRUE);
    return n > 0;
}

/* ---- Back home ------------------------------------------------------------------- */

/* Checks the mapped GeoJSON holds each expected shape of the export's kind
 * within `tolerance` level-0 px (a fragment at level-0 resolution) or
 * `coarse` (the quarter-resolution fragment). */
static void check_home(const char *geojson, gboolean boxes, double tolerance, double coarse,
                       const char *what)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    GError *error = NULL;
    if (!json_parser_load_from_file(parser, geojson, &error))
        fail_msg("%s: %s", what, error->message);
    JsonArray *features = json_object_get_array_member(
        json_node_get_object(json_parser_get_root(parser)), "features");
    guint expected = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++) {
        const level0_shape *e = &shapes[i];
        if ((e->shape == SF_SHAPE_RECTANGLE) != boxes)
            continue;
        expected++;
        double limit = e->fragment == 0 ? coarse : tolerance;
        gboolean found = FALSE;
        for (guint f = 0; f < json_array_get_length(features) && !found; f++) {
            JsonObject *feature = json_array_get_object_element(features, f);
            const char *label = json_object_get_string_member(
                json_object_get_object_member(json_object_get_object_member(feature, "properties"),
                                              "classification"),
                "name");
            if (strcmp(label, e->label) != 0)
                continue;
            JsonArray *ring = json_array_get_array_element(
                json_object_get_array_member(json_object_get_object_member(feature, "geometry"),
                                             "coordinates"),
                0);
            if ((int)json_array_get_length(ring) != e->n + 1)
                continue;
            double worst = 0;
            for (int k = 0; k < e->n; k++) {
                JsonArray *p = json_array_get_array_element(ring, (guint)k);
                double x = e->xy[2 * k], y = e->xy[2 * k + 1];
                if (e->clip_x1 > 0)
                    x = MIN(x, e->clip_x1);
                worst = MAX(worst, fabs(json_array_get_double_element(p, 0) - x));
                worst = MAX(worst, fabs(json_array_get_double_element(p, 1) - y));
            }
            if (worst <= limit)
                found = TRUE;
            else if (worst < 50)
                fail_msg("%s: %s on fragment %d came back %g level-0 px off (limit %g)", what,
                         e->label, e->fragment, worst, limit);
        }
        if (!found)
            fail_msg("%s: %s on fragment %d did not come back", what, e->label, e->fragment);
    }
    assert_int_equal(json_array_get_length(features), expected);
}

static void round_trip(const char *level0, const char *manifest, const char *name)
{
    const char *const imports[] = {"coco", "voc"};
    g_autofree char *labels_file = path_in("labels.txt");
    test_write_text(labels_file, "necrosis\nstroma\ntumour\n");
    for (size_t im = 0; im < G_N_ELEMENTS(imports); im++) {
        g_autofree char *pre = g_strdup_printf("%s/pre-%s-%s", tmp, name, imports[im]);
        const char *args[] = {"pre-annotate", level0,      "--manifest", manifest, "-o", pre,
                              "--to",         imports[im], NULL};
        g_autofree char *err = NULL;
        int status = test_run_slidefrag(args, NULL, &err);
        if (status != SF_EXIT_OK)
            fail_msg("pre-annotate %s --to %s: exit %d: %s", name, imports[im], status, err);
        test_assert_contains(err, "points and lines left out");
        g_autofree char *coco = g_build_filename(pre, "pre-annotations.json", NULL);
        g_autoptr(GPtrArray) app = im == 0 ? app_import_coco(coco) : app_import_voc(pre);
        for (int format = 0; format < N_EXPORTS; format++) {
            g_autofree char *what =
                g_strdup_printf("%s -> %s -> %s", name, imports[im], export_names[format]);
            g_autofree char *exported =
                g_strdup_printf("%s/export-%s-%s-%d", tmp, name, imports[im], format);
            if (!app_export_to(app, (app_export)format, exported))
                continue; /* VOC import carries no polygons */
            g_autofree char *home =
                g_strdup_printf("%s/home-%s-%s-%d", tmp, name, imports[im], format);
            const char *map_args[] = {"map",       exported, "--manifest", manifest, "--labels",
                                      labels_file, "-o",     home,         NULL};
            g_autofree char *map_out = NULL, *map_err = NULL;
            status = test_run_slidefrag(map_args, &map_out, &map_err);
            if (status != SF_EXIT_OK)
                fail_msg("%s: map exit %d: %s", what, status, map_err);
            g_autofree char *geojson = g_build_filename(home, "gamma.geojson", NULL);
            /* Where pixels are whole: half a fragment pixel for a rounded
             * corner (VOC, or the VOC import), one for CSV's far corner,
             * its origin and size rounded apart. */
            double pixels = format == RECT_CSV ? 1.0 : format == VOC || im == 1 ? 0.5 : 0;
            double fine = MAX(0.5, pixels), coarse = MAX(0.5, 4 * pixels);
            check_home(geojson, format <= RECT_CSV, fine, coarse, what);
        }
    }
}

static void test_round_trip_from_every_slide_format(void **state)
{
    (void)state;
    g_autofree char *manifest = path_in("gamma.manifest.json");
    write_manifest(manifest);
    static const struct {
        sf_annotation_format format;
        const char *dir, *file;
    } inputs[] = {
        {SF_ANNOTATIONS_GEOJSON, "qupath", "gamma.svs.geojson"},
        {SF_ANNOTATIONS_ASAP, "asap", "gamma.xml"},
        {SF_ANNOTATIONS_IMAGESCOPE, "imagescope", "gamma.xml"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++) {
        g_autofree char *dir = path_in(inputs[i].dir);
        assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
        g_autofree char *file = g_build_filename(dir, inputs[i].file, NULL);
        write_level0(file, inputs[i].format);
        round_trip(file, manifest, inputs[i].dir);
    }
}

/* A shape on no fragment, a slide no manifest names: said, not written. */
static void test_what_lands_nowhere(void **state)
{
    (void)state;
    g_autofree char *manifest = path_in("gamma.manifest.json");
    write_manifest(manifest);
    g_autofree char *geojson = path_in("other.geojson");
    test_write_text(geojson,
                    "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", "
                    "\"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[[10, 10], "
                    "[20, 10], [20, 20], [10, 10]]]}, \"properties\": {}}]}");
    g_autofree char *out = path_in("pre-nowhere");
    const char *args[] = {"pre-annotate", geojson, "--manifest", manifest, "-o", out, NULL};
    g_autofree char *err = NULL;
    int status = test_run_slidefrag(args, NULL, &err);
    if (status != SF_EXIT_OK)
        fail_msg("exit %d: %s", status, err);
    test_assert_contains(err, "polygon 'annotation' lies on no fragment of gamma");
    test_assert_contains(err, "1 shapes read, 0 written on fragments: nothing written");
    assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
}

static int setup(void **state)
{
    (void)state;
    tmp = test_make_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_remove_tree(tmp);
    g_clear_pointer(&tmp, g_free);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_from_every_slide_format),
        cmocka_unit_test(test_what_lands_nowhere),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
