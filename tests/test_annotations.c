/* Makesense.AI exports read, mapped onto level 0 and written for viewers. */
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

#include "slidefrag/annotations.h"
#include "slidefrag/error.h"

/* ---- Helpers ------------------------------------------------------------ */

static sf_annotation_set *read_text(const char *name, const char *text)
{
    sf_annotation_set *set = sf_annotation_set_new();
    assert_true(sf_annotations_read_data(set, name, text, strlen(text), NULL));
    return set;
}

static const sf_annotation *annotation(const sf_annotation_set *set, guint i)
{
    assert_true(i < set->annotations->len);
    return set->annotations->pdata[i];
}

/* The problem of `reason` whose message holds both texts, or NULL. */
static const sf_annotation_problem *find_problem(const sf_annotation_set *set,
                                                 sf_skip_reason reason, const char *text1,
                                                 const char *text2)
{
    for (guint i = 0; i < set->problems->len; i++) {
        const sf_annotation_problem *p = set->problems->pdata[i];
        if (p->reason == reason && strstr(p->message, text1) &&
            (!text2 || strstr(p->message, text2)))
            return p;
    }
    return NULL;
}

static void dump_problems(const sf_annotation_set *set)
{
    for (guint i = 0; i < set->problems->len; i++) {
        const sf_annotation_problem *p = set->problems->pdata[i];
        print_message("  problem %d: %s\n", (int)p->reason, p->message);
    }
}

static void expect_problem(const sf_annotation_set *set, sf_skip_reason reason, const char *text1,
                           const char *text2)
{
    if (!find_problem(set, reason, text1, text2)) {
        dump_problems(set);
        fail_msg("no problem %d with '%s' / '%s'", (int)reason, text1, text2 ? text2 : "");
    }
}

static void assert_vertex(const sf_annotation *a, size_t i, double x, double y)
{
    assert_true(i < a->n_vertices);
    if (fabs(a->vertices[i].x - x) > 1e-9 || fabs(a->vertices[i].y - y) > 1e-9)
        fail_msg("vertex %zu is (%.9g, %.9g), expected (%.9g, %.9g)", i, a->vertices[i].x,
                 a->vertices[i].y, x, y);
}

/* ---- Detection --------------------------------------------------------- */

static void test_detect_from_content(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        sf_export_format format;
    } cases[] = {
        {"0 0.500000 0.500000 0.100000 0.200000", SF_EXPORT_YOLO},
        {"<annotation>\n\t<filename>a.jpg</filename>\n</annotation>", SF_EXPORT_VOC},
        {"label_name,bbox_x,bbox_y,bbox_width,bbox_height,image_name,image_width,image_height\n"
         "t,1,2,3,4,a.jpg,10,10",
         SF_EXPORT_RECT_CSV},
        {"t,1,2,a.jpg,10,10\nt,3,4,a.jpg,10,10", SF_EXPORT_POINT_CSV},
        {"t,1,2,3,4,a.jpg,10,10", SF_EXPORT_LINE_CSV},
        {"{\"info\":{},\"images\":[],\"annotations\":[],\"categories\":[]}", SF_EXPORT_COCO},
        {"{\"a.jpg\":{\"filename\":\"a.jpg\",\"regions\":{}}}", SF_EXPORT_VGG},
        {"\xEF\xBB\xBF  \n<annotation/>", SF_EXPORT_VOC},
        /* One malformed first line does not change the verdict. */
        {"t,1,2,a.jpg\nt,1,2,a.jpg,10,10\nt,3,4,a.jpg,10,10", SF_EXPORT_POINT_CSV},
        {"hello world", SF_EXPORT_UNKNOWN},
        {"", SF_EXPORT_UNKNOWN},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        sf_export_format got = sf_export_detect(cases[i].text, strlen(cases[i].text));
        if (got != cases[i].format)
            fail_msg("case %zu: detected %s, expected %s", i, sf_export_format_name(got),
                     sf_export_format_name(cases[i].format));
    }
    static const char zip_magic[] = "PK\x03\x04rest";
    assert_int_equal(sf_export_detect(zip_magic, sizeof zip_magic - 1), SF_EXPORT_ZIP);
    static const char binary[] = "\xFF\xD8\xFF\xE0\0\0JFIF";
    assert_int_equal(sf_export_detect(binary, sizeof binary - 1), SF_EXPORT_UNKNOWN);
}

/* ---- YOLO ------------------------------------------------------------- */

static void test_yolo(void **state)
{
    (void)state;
    const char *text = "0 0.500000 0.250000 0.200000 0.100000\n1 0.100000 0.900000 0.050000 "
                       "0.040000";
    g_autoptr(sf_annotation_set) set = read_text("exp/s__x0_y0_w100_h100.txt", text);
    assert_int_equal(set->annotations->len, 2);
    assert_int_equal(set->problems->len, 0);
    const sf_annotation *a = annotation(set, 0);
    assert_string_equal(a->label, "class_0");
    assert_int_equal(a->shape, SF_SHAPE_RECTANGLE);
    assert_true(a->normalised);
    assert_string_equal(a->image, "s__x0_y0_w100_h100");
    assert_int_equal(a->line, 1);
    assert_vertex(a, 0, 0.4, 0.2);
    assert_vertex(a, 1, 0.6, 0.2);
    assert_vertex(a, 2, 0.6, 0.3);
    assert_vertex(a, 3, 0.4, 0.3);
    assert_string_equal(annotation(set, 1)->label, "class_1");
    assert_int_equal(annotation(set, 1)->line, 2);

    g_autoptr(sf_annotation_set) named = sf_annotation_set_new();
    const char *labels[] = {"tumour", "stroma", NULL};
    sf_annotation_set_set_labels(named, labels);
    assert_true(sf_annotations_read_data(named, "s.txt", text, strlen(text), NULL));
    assert_string_equal(annotation(named, 0)->label, "tumour");
    assert_string_equal(annotation(named, 1)->label, "stroma");
}

static void test_yolo_bad_lines_keep_the_good(void **state)
{
    (void)state;
    const char *text = "0 0.5 0.5 0.1 0.1\n"   /* 1 ok */
                       "0 0.5 0.5 0.1\n"       /* 2 four fields */
                       "1 0.5 0.5 -0.1 0.2\n"  /* 3 negative size */
                       "7 0.5 0.5 0.1 0.1\n"   /* 4 unknown class */
                       "x 0.5 0.5 0.1 0.1\n"   /* 5 class not a number */
                       "1 0.5 0.5 0.1 0.1 9\n" /* 6 six fields */
                       "1 0.2 0.2 0.1 0.1";    /* 7 ok */
    g_autoptr(sf_annotation_set) set = sf_annotation_set_new();
    const char *labels[] = {"tumour", "stroma", NULL};
    sf_annotation_set_set_labels(set, labels);
    assert_true(sf_annotations_read_data(set, "dir/f.txt", text, strlen(text), NULL));
    assert_int_equal(set->annotations->len, 2);
    assert_int_equal(annotation(set, 0)->line, 1);
    assert_int_equal(annotation(set, 1)->line, 7);
    expect_problem(set, SF_SKIP_MALFORMED, "dir/f.txt:2: ", "expected 5 fields");
    expect_problem(set, SF_SKIP_BAD_SIZE, "dir/f.txt:3: ", "negative");
    expect_problem(set, SF_SKIP_UNKNOWN_CLASS, "dir/f.txt:4: ", "unknown class index 7");
    expect_problem(set, SF_SKIP_MALFORMED, "dir/f.txt:5: ", "class 'x'");
    expect_problem(set, SF_SKIP_MALFORMED, "dir/f.txt:6: ", "found 6");
    assert_int_equal(sf_annotation_set_n_skipped(set), 5);
}

/* ---- VOC ---------------------------------------------------------------- */

/* Exactly Makesense's VOC layout: tabs, no XML declaration. */
static char *voc_text(const char *image, const char *objects)
{
    return g_strdup_printf("<annotation>\n"
                           "\t<folder>project</folder>\n"
                           "\t<filename>%s</filename>\n"
                           "\t<path>/project/%s</path>\n"
                           "\t<source>\n"
                           "\t\t<database>Unspecified</database>\n"
                           "\t</source>\n"
                           "\t<size>\n"
                           "\t\t<width>200</width>\n"
                           "\t\t<height>150</height>\n"
                           "\t\t<depth>3</depth>\n"
                           "\t</size>\n"
                           "%s\n"
                           "</annotation>",
                           image, image, objects);
}

static char *voc_object(const char *label, const char *xmin, const char *ymin, const char *xmax,
                        const char *ymax)
{
    return g_strdup_printf("\t<object>\n"
                           "\t\t<name>%s</name>\n"
                           "\t\t<pose>Unspecified</pose>\n"
                           "\t\t<truncated>0</truncated>\n"
                           "\t\t<difficult>0</difficult>\n"
                           "\t\t<bndbox>\n"
                           "\t\t\t<xmin>%s</xmin>\n"
                           "\t\t\t<ymin>%s</ymin>\n"
                           "\t\t\t<xmax>%s</xmax>\n"
                           "\t\t\t<ymax>%s</ymax>\n"
                           "\t\t</bndbox>\n"
                           "\t</object>",
                           label, xmin, ymin, xmax, ymax);
}

static void test_voc(void **state)
{
    (void)state;
    g_autofree char *o1 = voc_object("tumour", "10", "20", "40", "60");
    g_autofree char *o2 = voc_object("stroma", "0", "0", "200", "150");
    g_autofree char *objects = g_strjoin("\n", o1, o2, NULL);
    g_autofree char *text = voc_text("s__x0_y0_w400_h300.jpg", objects);
    g_autoptr(sf_annotation_set) set = read_text("s.xml", text);
    assert_int_equal(set->problems->len, 0);
    assert_int_equal(set->annotations->len, 2);
    const sf_annotation *a = annotation(set, 0);
    assert_string_equal(a->label, "tumour");
    assert_string_equal(a->image, "s__x0_y0_w400_h300.jpg");
    assert_false(a->normalised);
    assert_int_equal(a->image_width, 200);
    assert_int_equal(a->image_height, 150);
    assert_int_equal(a->line, 13); /* the <object> line */
    assert_vertex(a, 0, 10, 20);
    assert_vertex(a, 2, 40, 60);
    assert_int_equal(annotation(set, 1)->line, 25);
    int w = 0, h = 0;
    assert_true(sf_annotation_set_image_size(set, "s__x0_y0_w400_h300.png", &w, &h));
    assert_int_equal(w, 200);
    assert_int_equal(h, 150);
}

static void test_voc_bad_input(void **state)
{
    (void)state;
    /* Not well-formed: the message gives the line libxml2 stopped at. */
    g_autoptr(sf_annotation_set) broken =
        read_text("b.xml", "<annotation>\n\t<filename>a.jpg</filename>\n\t<object>\n</annotation>");
    assert_int_equal(broken->annotations->len, 0);
    expect_problem(broken, SF_SKIP_MALFORMED, "b.xml:4: ", "not well-formed XML");

    g_autofree char *good = voc_object("ok", "1", "1", "5", "5");
    g_autofree char *negative = voc_object("neg", "50", "1", "10", "5");
    g_autofree char *missing = g_strdup("\t<object>\n\t\t<name>m</name>\n\t\t<bndbox>\n"
                                        "\t\t\t<xmin>1</xmin>\n\t\t</bndbox>\n\t</object>");
    g_autofree char *objects = g_strjoin("\n", good, negative, missing, NULL);
    g_autofree char *text = voc_text("a.jpg", objects);
    g_autoptr(sf_annotation_set) set = read_text("v.xml", text);
    assert_int_equal(set->annotations->len, 1);
    assert_string_equal(annotation(set, 0)->label, "ok");
    expect_problem(set, SF_SKIP_BAD_SIZE, "v.xml:25: ", "negative");
    expect_problem(set, SF_SKIP_MALFORMED, "v.xml:37: ", "<ymin> is missing");

    g_autofree char *path_text = voc_text("../evil.jpg", good);
    g_autoptr(sf_annotation_set) path = read_text("p.xml", path_text);
    assert_int_equal(path->annotations->len, 0);
    expect_problem(path, SF_SKIP_PATH, "p.xml:1: ", "'../evil.jpg'");

    g_autoptr(sf_annotation_set) asap = read_text("o.xml", "<ASAP_Annotations/>");
    expect_problem(asap, SF_SKIP_NOT_EXPORT, "o.xml", "not a VOC");
}

static void test_xml_entities_never_expand(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *secret = g_build_filename(dir, "secret.txt", NULL);
    assert_true(g_file_set_contents(secret, "SECRET-4242", -1, NULL));

    GString *bomb = g_string_new("<?xml version=\"1.0\"?>\n<!DOCTYPE annotation [\n"
                                 "<!ENTITY lol0 \"lol\">\n");
    for (int i = 1; i < 10; i++)
        g_string_append_printf(bomb,
                               "<!ENTITY lol%d \"&lol%d;&lol%d;&lol%d;&lol%d;&lol%d;&lol%d;&lol%d;"
                               "&lol%d;&lol%d;&lol%d;\">\n",
                               i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
                               i - 1);
    g_string_append(bomb, "]>\n<annotation><filename>a.jpg</filename><object><name>&lol9;"
                          "</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax>"
                          "<ymax>2</ymax></bndbox></object></annotation>");
    g_autofree char *xxe = g_strdup_printf(
        "<!DOCTYPE annotation [<!ENTITY xxe SYSTEM \"file://%s\">]>\n"
        "<annotation><filename>&xxe;</filename><object><name>&xxe;</name><bndbox><xmin>1</xmin>"
        "<ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>",
        secret);
    g_autofree char *passwd = g_strdup(
        "<!DOCTYPE annotation [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
        "<annotation><filename>a.jpg</filename><object><name>&xxe;</name><bndbox><xmin>1</xmin>"
        "<ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>");
    g_autofree char *parameter =
        g_strdup_printf("<!DOCTYPE annotation [<!ENTITY %% p SYSTEM \"file://%s\"> %%p;]>\n"
                        "<annotation><filename>a.jpg</filename></annotation>",
                        secret);
    const char *docs[] = {bomb->str, xxe, passwd, parameter};
    for (size_t i = 0; i < G_N_ELEMENTS(docs); i++) {
        gint64 start = g_get_monotonic_time();
        g_autoptr(sf_annotation_set) set = read_text("evil.xml", docs[i]);
        double seconds = (g_get_monotonic_time() - start) / 1e6;
        assert_true(seconds < 2.0);
        assert_int_equal(set->annotations->len, 0);
        assert_true(sf_annotation_set_has_errors(set));
        for (guint k = 0; k < set->problems->len; k++) {
            const sf_annotation_problem *p = set->problems->pdata[k];
            assert_true(g_str_has_prefix(p->message, "evil.xml"));
            assert_null(strstr(p->message, "SECRET-4242"));
            assert_null(strstr(p->message, "root:"));
            assert_null(strstr(p->message, "lollollol"));
        }
    }
    g_string_free(bomb, TRUE);
    test_remove_tree(dir);
}

/* ---- CSV ----------------------------------------------------------------- */

static void test_rect_csv(void **state)
{
    (void)state;
    const char *text =
        "label_name,bbox_x,bbox_y,bbox_width,bbox_height,image_name,image_width,image_height\n"
        "tumour,10,20,30,40,a.jpg,200,150\n"    /* 2 ok */
        "tumour,10,20,30,a.jpg,200,150\n"       /* 3 seven fields */
        "tumour,ten,20,30,40,a.jpg,200,150\n"   /* 4 not a number */
        "tumour,10,20,-30,40,a.jpg,200,150\n"   /* 5 negative */
        "tumour,10,20,30,40,../b.jpg,200,150\n" /* 6 path */
        "tumour,10,20,30,40,c.jpg,0,150\n"      /* 7 zero image size */
        "stroma,0,0,200,150,a.jpg,200,150";     /* 8 ok */
    g_autoptr(sf_annotation_set) set = read_text("r.csv", text);
    assert_int_equal(set->annotations->len, 2);
    const sf_annotation *a = annotation(set, 0);
    assert_int_equal(a->line, 2);
    assert_vertex(a, 0, 10, 20);
    assert_vertex(a, 2, 40, 60);
    assert_int_equal(a->image_width, 200);
    assert_int_equal(annotation(set, 1)->line, 8);
    expect_problem(set, SF_SKIP_MALFORMED, "r.csv:3: ", "expected 8 fields");
    expect_problem(set, SF_SKIP_MALFORMED, "r.csv:4: ", "'ten'");
    expect_problem(set, SF_SKIP_BAD_SIZE, "r.csv:5: ", "negative");
    expect_problem(set, SF_SKIP_PATH, "r.csv:6: ", "'../b.jpg'");
    expect_problem(set, SF_SKIP_BAD_SIZE, "r.csv:7: ", "not positive");
}

static void test_point_and_line_csv_and_duplicates(void **state)
{
    (void)state;
    const char *points = "p,5,6,a.jpg,200,150\r\n"
                         "p,7,8,a.jpg,200,150\r\n"
                         "q,1,2,b.jpg,100,100\r\n"
                         "p,9,9,a.jpg,200,150\r\n" /* a.jpg again after b.jpg */
                         "p,9,8,a.jpg,200,150";
    g_autoptr(sf_annotation_set) set = read_text("pts.csv", points);
    assert_int_equal(set->annotations->len, 3);
    assert_int_equal(annotation(set, 0)->shape, SF_SHAPE_POINT);
    assert_vertex(annotation(set, 1), 0, 7, 8);
    const sf_annotation_problem *dup =
        find_problem(set, SF_SKIP_DUPLICATE, "pts.csv:4: ", "first at pts.csv:1");
    assert_non_null(dup);
    assert_int_equal(dup->n_skipped, 2); /* both rows of the second run */

    g_autoptr(sf_annotation_set) lines = read_text("l.csv", "cut,1,2,30,40,a.jpg,200,150\n");
    assert_int_equal(lines->annotations->len, 1);
    const sf_annotation *l = annotation(lines, 0);
    assert_int_equal(l->shape, SF_SHAPE_LINE);
    assert_vertex(l, 0, 1, 2);
    assert_vertex(l, 1, 30, 40);
}

/* ---- COCO and VGG ------------------------------------------------------ */

static void test_coco(void **state)
{
    (void)state;
    const char *text =
        "{\"info\":{\"description\":\"p\"},\"images\":[{\"id\":1,\"width\":200,\"height\":150,"
        "\"file_name\":\"a.jpg\"},{\"id\":2,\"width\":50,\"height\":40,\"file_name\":\"b.jpg\"},"
        "{\"id\":3,\"width\":50,\"height\":40,\"file_name\":\"a.jpg\"}],"
        "\"annotations\":["
        "{\"id\":0,\"iscrowd\":0,\"image_id\":1,\"category_id\":1,\"segmentation\":[[10.5,20.25,"
        "30,20.25,30,40.125]],\"bbox\":[10.5,20.25,19.5,19.875],\"area\":193.78},"
        "{\"id\":1,\"iscrowd\":0,\"image_id\":2,\"category_id\":2,\"segmentation\":[[1,1,9,1,9,9,"
        "1,1]],\"bbox\":[1,1,8,8],\"area\":32},"
        "{\"id\":2,\"iscrowd\":0,\"image_id\":2,\"category_id\":9,\"segmentation\":[[1,1,2,2,3,1]]"
        ",\"bbox\":[1,1,2,1],\"area\":1},"
        "{\"id\":3,\"iscrowd\":0,\"image_id\":3,\"category_id\":1,\"segmentation\":[[1,1,2,2,3,1]]"
        ",\"bbox\":[1,1,2,1],\"area\":1},"
        "{\"id\":4,\"iscrowd\":0,\"image_id\":1,\"category_id\":1,\"segmentation\":{\"counts\":[1]"
        ",\"size\":[2,2]}},"
        "{\"id\":5,\"iscrowd\":0,\"image_id\":1,\"category_id\":1,\"segmentation\":[[1,1,2]]}"
        "],\"categories\":[{\"id\":1,\"name\":\"tumour\"},{\"id\":2,\"name\":\"stroma\"}]}";
    g_autoptr(sf_annotation_set) set = read_text("c.json", text);
    assert_int_equal(set->annotations->len, 2);
    const sf_annotation *a = annotation(set, 0);
    assert_int_equal(a->shape, SF_SHAPE_POLYGON);
    assert_string_equal(a->label, "tumour");
    assert_string_equal(a->image, "a.jpg");
    assert_string_equal(a->where, "annotations[0]");
    assert_int_equal(a->n_vertices, 3);
    assert_vertex(a, 0, 10.5, 20.25);
    assert_vertex(a, 2, 30, 40.125);
    assert_int_equal(a->image_width, 200);
    /* A closed ring loses its repeated vertex. */
    assert_int_equal(annotation(set, 1)->n_vertices, 3);
    expect_problem(set, SF_SKIP_UNKNOWN_CLASS, "c.json: annotations[2]: ", "category_id 9");
    const sf_annotation_problem *dup =
        find_problem(set, SF_SKIP_DUPLICATE, "c.json: images[2]: ", "'a.jpg'");
    assert_non_null(dup);
    assert_int_equal(dup->n_skipped, 1);
    expect_problem(set, SF_SKIP_MALFORMED, "c.json: annotations[4]: ", "RLE");
    expect_problem(set, SF_SKIP_MALFORMED, "c.json: annotations[5]: ", "odd number");

    g_autoptr(sf_annotation_set) bad = read_text("bad.json", "{\"images\":[],\"annotations\":[");
    expect_problem(bad, SF_SKIP_MALFORMED, "bad.json:1:", "not valid JSON");
}

static void test_vgg(void **state)
{
    (void)state;
    const char *text =
        "{\"a.jpg\":{\"fileref\":\"\",\"size\":12345,\"filename\":\"a.jpg\",\"base64_img_data\":"
        "\"\",\"file_attributes\":{},\"regions\":{\"0\":{\"shape_attributes\":{\"name\":"
        "\"polygon\",\"all_points_x\":[10,50.5,30,10],\"all_points_y\":[10,12,40.75,10]},"
        "\"region_attributes\":{\"label\":\"tumour\"}},\"1\":{\"shape_attributes\":{\"name\":"
        "\"polygon\",\"all_points_x\":[1,2,3,1],\"all_points_y\":[1,2,1,1]},"
        "\"region_attributes\":{}}}},"
        "\"b.jpg\":{\"filename\":\"b.jpg\",\"regions\":{}},"
        "\"b.jpg\":{\"filename\":\"b.jpg\",\"regions\":{\"0\":{\"shape_attributes\":{\"name\":"
        "\"polygon\",\"all_points_x\":[1,2,3,1],\"all_points_y\":[1,2,1,1]},"
        "\"region_attributes\":{\"label\":\"x\"}}}}}";
    g_autoptr(sf_annotation_set) set = read_text("v.json", text);
    assert_int_equal(set->annotations->len, 1);
    const sf_annotation *a = annotation(set, 0);
    assert_string_equal(a->label, "tumour");
    assert_string_equal(a->image, "a.jpg");
    assert_int_equal(a->n_vertices, 3);
    assert_vertex(a, 1, 50.5, 12);
    assert_vertex(a, 2, 30, 40.75);
    assert_int_equal(a->image_width, 0); /* VGG does not state it */
    expect_problem(set, SF_SKIP_MALFORMED, "v.json: \"a.jpg\" regions[1]", "label");
    expect_problem(set, SF_SKIP_DUPLICATE, "v.json: \"b.jpg\"", "listed twice");
}

/* ---- Zips and folders ----------------------------------------------------- */

static void add_member(zip_t *archive, const char *name, const char *text)
{
    zip_source_t *source = zip_source_buffer(archive, text, strlen(text), 0);
    assert_non_null(source);
    assert_true(zip_file_add(archive, name, source, ZIP_FL_ENC_UTF_8) >= 0);
}

static void test_zip_export(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "export.zip", NULL);
    int err = 0;
    zip_t *archive = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    assert_non_null(archive);
    g_autofree char *o1 = voc_object("tumour", "1", "2", "3", "4");
    g_autofree char *voc = voc_text("v__x0_y0_w10_h10.jpg", o1);
    add_member(archive, "y__x0_y0_w10_h10.txt", "0 0.500000 0.500000 0.200000 0.200000");
    add_member(archive, "v__x0_y0_w10_h10.xml", voc);
    add_member(archive, "../evil__x0_y0_w10_h10.txt", "0 0.5 0.5 0.1 0.1");
    add_member(archive, "sub/y__x0_y0_w10_h10.txt", "0 0.1 0.1 0.1 0.1");
    add_member(archive, "notes.md", "# nothing to see");
    add_member(archive, "__MACOSX/._y__x0_y0_w10_h10.txt", "junk");
    add_member(archive, "inner.zip", "PK\x03\x04nested");
    assert_int_equal(zip_close(archive), 0);

    g_autoptr(sf_annotation_set) set = sf_annotation_set_new();
    g_autoptr(GError) error = NULL;
    assert_true(sf_annotations_read_path(set, path, &error));
    assert_int_equal(set->annotations->len, 2);
    g_autofree char *yolo_source = g_strconcat(path, "/y__x0_y0_w10_h10.txt", NULL);
    assert_string_equal(annotation(set, 0)->source, yolo_source);
    assert_string_equal(annotation(set, 1)->label, "tumour");
    expect_problem(set, SF_SKIP_PATH, "export.zip/../evil__x0_y0_w10_h10.txt", "outside");
    expect_problem(set, SF_SKIP_DUPLICATE, "export.zip/sub/y__x0_y0_w10_h10.txt", "already");
    const sf_annotation_problem *readme =
        find_problem(set, SF_SKIP_NOT_EXPORT, "export.zip/notes.md", "ignored");
    assert_non_null(readme);
    assert_true(readme->note);
    assert_null(find_problem(set, SF_SKIP_NOT_EXPORT, "__MACOSX", NULL));
    const sf_annotation_problem *nested =
        find_problem(set, SF_SKIP_NOT_EXPORT, "export.zip/inner.zip", "zip inside a zip");
    assert_non_null(nested);
    assert_true(nested->note);

    /* A damaged zip is a problem of its own, not a crash. */
    g_autofree char *broken = g_build_filename(dir, "broken.zip", NULL);
    assert_true(g_file_set_contents(broken, "PK\x03\x04garbage", -1, NULL));
    g_autoptr(sf_annotation_set) bad = sf_annotation_set_new();
    assert_true(sf_annotations_read_path(bad, broken, &error));
    expect_problem(bad, SF_SKIP_MALFORMED, "broken.zip", "zip");
    test_remove_tree(dir);
}

static void test_folder_and_exports(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *sub = g_build_filename(dir, "labels", NULL);
    assert_int_equal(g_mkdir(sub, 0700), 0);
    g_autofree char *yolo = g_build_filename(sub, "a__x0_y0_w10_h10.txt", NULL);
    g_autofree char *image = g_build_filename(dir, "a__x0_y0_w10_h10.jpg", NULL);
    g_autofree char *readme = g_build_filename(dir, "README", NULL);
    assert_true(g_file_set_contents(yolo, "0 0.5 0.5 0.2 0.2", -1, NULL));
    assert_true(g_file_set_contents(image, "\xFF\xD8\xFF", 3, NULL));
    assert_true(g_file_set_contents(readme, "see the docs", -1, NULL));
    /* The zip Makesense downloads, kept in the folder: it is opened. */
    g_autofree char *zip_path = g_build_filename(dir, "download.zip", NULL);
    int err = 0;
    zip_t *archive = zip_open(zip_path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    assert_non_null(archive);
    add_member(archive, "z__x0_y0_w10_h10.txt", "1 0.5 0.5 0.2 0.2");
    assert_int_equal(zip_close(archive), 0);

    g_autoptr(sf_annotation_set) set = sf_annotation_set_new();
    g_autoptr(GError) error = NULL;
    assert_true(sf_annotations_read_path(set, dir, &error));
    /* The same export given twice is two exports: no duplicate within one. */
    assert_true(sf_annotations_read_path(set, dir, &error));
    assert_int_equal(set->annotations->len, 4);
    assert_string_equal(annotation(set, 0)->image, "z__x0_y0_w10_h10");
    assert_false(sf_annotation_set_has_errors(set));
    assert_non_null(find_problem(set, SF_SKIP_NOT_EXPORT, "README", "ignored"));

    /* Given by itself, a file that is no export is an error. */
    assert_true(sf_annotations_read_path(set, readme, &error));
    expect_problem(set, SF_SKIP_NOT_EXPORT, readme, "not a Makesense export");

    g_autofree char *missing = g_build_filename(dir, "missing.txt", NULL);
    assert_false(sf_annotations_read_path(set, missing, &error));
    assert_int_equal(error->code, SF_EXIT_MISSING);
    assert_non_null(strstr(error->message, missing));
    test_remove_tree(dir);
}

/* ---- Mapping -------------------------------------------------------------- */

static sf_slide_annotations *slide_named(GPtrArray *slides, const char *stem)
{
    for (guint i = 0; i < slides->len; i++) {
        sf_slide_annotations *s = slides->pdata[i];
        if (!strcmp(s->stem, stem))
            return s;
    }
    fail_msg("no slide '%s'", stem);
    return NULL;
}

static void test_map_from_names(void **state)
{
    (void)state;
    g_autoptr(sf_annotation_set) set = sf_annotation_set_new();
    /* Fragment s__x1000_y2000_w400_h300 exported at 200 x 150 px. */
    const char *yolo = "0 0.500000 0.500000 0.250000 0.500000";
    assert_true(
        sf_annotations_read_data(set, "s__x1000_y2000_w400_h300.txt", yolo, strlen(yolo), NULL));
    const char *csv =
        "label_name,bbox_x,bbox_y,bbox_width,bbox_height,image_name,image_width,image_height\n"
        "t,10,20,30,40,s__x1000_y2000_w400_h300.jpg,200,150\n"
        "t,190,20,30,40,s__x1000_y2000_w400_h300.jpg,200,150\n" /* 3: past the right edge */
        "t,1,1,1,1,photo.jpg,10,10\n"                           /* 4: not a fragment */
        "t,1,1,1,1,..__x0_y0_w10_h10.jpg,10,10";                /* 5: stem ".." */
    assert_true(sf_annotations_read_data(set, "r.csv", csv, strlen(csv), NULL));
    const char *vgg = "{\"t__x0_y0_w50_h50.jpg\":{\"filename\":\"t__x0_y0_w50_h50.jpg\","
                      "\"regions\":{\"0\":{\"shape_attributes\":{\"name\":\"polygon\","
                      "\"all_points_x\":[0,10,10,0],\"all_points_y\":[0,0,10,0]},"
                      "\"region_attributes\":{\"label\":\"v\"}}}}}";
    assert_true(sf_annotations_read_data(set, "v.json", vgg, strlen(vgg), NULL));

    guint n_mapped = 0;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) slides = sf_annotations_map(set, NULL, SF_OFFSET_NONE, &n_mapped, &error);
    assert_non_null(slides);
    assert_int_equal(n_mapped, 2);
    assert_int_equal(slides->len, 1);
    sf_slide_annotations *s = slide_named(slides, "s");
    assert_null(s->manifest);
    assert_int_equal(s->annotations->len, 2);
    /* YOLO: x = 1000 + (0.5 -+ 0.125) * 400, y = 2000 + (0.5 -+ 0.25) * 300. */
    const sf_annotation *y = s->annotations->pdata[0];
    assert_vertex(y, 0, 1150, 2075);
    assert_vertex(y, 2, 1250, 2225);
    assert_string_equal(y->image, "s__x1000_y2000_w400_h300.jpg");
    /* CSV: 200 px for 400 level-0 px, so twice the fragment coordinates. */
    const sf_annotation *r = s->annotations->pdata[1];
    assert_vertex(r, 0, 1020, 2040);
    assert_vertex(r, 2, 1080, 2120);
    expect_problem(set, SF_SKIP_OUTSIDE, "r.csv:3: ", "outside the 200 x 150 px image");
    expect_problem(set, SF_SKIP_NO_FRAGMENT, "r.csv:4: ", "'photo.jpg'");
    expect_problem(set, SF_SKIP_PATH, "r.csv:5: ", "'..'");
    expect_problem(set, SF_SKIP_SIZE_UNKNOWN, "v.json: ", "pass --manifest");

    /* Mapping takes the annotations out of the set. */
    assert_int_equal(set->annotations->len, 0);

    /* Once another file of the export states the size, VGG maps too. */
    g_autoptr(sf_annotation_set) sized = sf_annotation_set_new();
    const char *size = "x,1,1,t__x0_y0_w50_h50.jpg,25,25";
    assert_true(sf_annotations_read_data(sized, "v.json", vgg, strlen(vgg), NULL));
    assert_true(sf_annotations_read_data(sized, "p.csv", size, strlen(size), NULL));
    g_autoptr(GPtrArray) again = sf_annotations_map(sized, NULL, SF_OFFSET_NONE, &n_mapped, &error);
    sf_slide_annotations *t = slide_named(again, "t");
    assert_int_equal(t->annotations->len, 2);
    const sf_annotation *v = t->annotations->pdata[0];
    assert_string_equal(v->label, "v");
    assert_vertex(v, 1, 20, 0);
    assert_vertex(v, 2, 20, 20);

    g_autoptr(GPtrArray) none = sf_annotations_map(set, NULL, SF_OFFSET_BOUNDS, NULL, &error);
    assert_null(none);
    assert_int_equal(error->code, SF_EXIT_USAGE);
}

static sf_manifest *make_manifest(const char *name, gboolean bounds)
{
    sf_manifest *m = g_new0(sf_manifest, 1);
    m->path = g_strdup_printf("/m/%s/manifest.json", name);
    m->slide_path = g_strdup_printf("/slides/%s.mrxs", name);
    m->slide_name = g_strdup(name);
    m->width = 100000;
    m->height = 80000;
    m->mpp_x = m->mpp_y = 0.25;
    m->has_bounds = bounds;
    m->bounds_x = 100;
    m->bounds_y = 200;
    m->n_regions = 1;
    m->regions = g_new0(sf_manifest_region, 1);
    m->regions[0].x = 5000;
    m->regions[0].y = 6000;
    m->regions[0].w = 1200;
    m->regions[0].h = 800;
    /* A name that does not carry the box: only the manifest places it. */
    m->regions[0].fragment_file = g_strdup_printf("fragments/%s-frag.jpg", name);
    m->regions[0].fragment_name = g_strdup_printf("%s-frag.jpg", name);
    m->regions[0].fragment_width = 300;
    m->regions[0].fragment_height = 200;
    return m;
}

static void test_map_with_manifests(void **state)
{
    (void)state;
    g_autoptr(sf_fragment_index) index = sf_fragment_index_new();
    g_autoptr(GError) error = NULL;
    assert_true(sf_fragment_index_add(index, make_manifest("m1", TRUE), &error));
    assert_true(sf_fragment_index_add(index, make_manifest("m2", FALSE), &error));
    assert_false(sf_fragment_index_add(index, make_manifest("m1", FALSE), &error));
    assert_int_equal(error->code, SF_EXIT_BAD_INPUT);
    assert_non_null(strstr(error->message, "/m/m1/manifest.json"));
    g_clear_error(&error);

    g_autoptr(sf_annotation_set) set = sf_annotation_set_new();
    const char *points = "p,150,100,m1-frag.jpg,300,200\n"
                         "p,10,10,m1-frag.jpg,600,400\n" /* size differs from the manifest */
                         "p,150,100,m2-frag.png,300,200\n"
                         "p,10,10,m3-frag.jpg,300,200"; /* in no manifest */
    assert_true(sf_annotations_read_data(set, "pts.csv", points, strlen(points), NULL));
    guint n_mapped = 0;
    g_autoptr(GPtrArray) slides =
        sf_annotations_map(set, index, SF_OFFSET_BOUNDS, &n_mapped, &error);
    assert_non_null(slides);
    assert_int_equal(n_mapped, 2);
    /* 300 px cover 1200 level-0 px: x = 5000 + 150 * 4, y = 6000 + 100 * 4. */
    sf_slide_annotations *m1 = slide_named(slides, "m1");
    assert_non_null(m1->manifest);
    assert_int_equal(m1->offset_x, 100);
    assert_vertex(m1->annotations->pdata[0], 0, 5600 - 100, 6400 - 200);
    assert_string_equal(((sf_annotation *)m1->annotations->pdata[0])->image, "m1-frag.jpg");
    sf_slide_annotations *m2 = slide_named(slides, "m2");
    assert_int_equal(m2->offset_x, 0); /* no bounds: nothing to subtract */
    assert_vertex(m2->annotations->pdata[0], 0, 5600, 6400);
    expect_problem(set, SF_SKIP_SIZE_MISMATCH, "pts.csv:2: ", "600 x 400");
    expect_problem(set, SF_SKIP_NO_FRAGMENT, "pts.csv:4: ", "no fragment in the manifests");
}

/* ---- Writing ---------------------------------------------------------------- */

static sf_annotation *shape(const char *label, sf_shape kind, const double *xy, size_t n)
{
    sf_annotation *a = g_new0(sf_annotation, 1);
    a->label = g_strdup(label);
    a->shape = kind;
    a->n_vertices = n;
    a->vertices = g_new(sf_vertex, n);
    for (size_t i = 0; i < n; i++)
        a->vertices[i] = (sf_vertex){xy[2 * i], xy[2 * i + 1]};
    a->image = g_strdup("s__x0_y0_w10_h10.jpg");
    a->source = g_strdup("in.csv");
    a->line = 3;
    return a;
}

static const double rect_xy[] = {1000.25, 20.5, 1300.75, 20.5, 1300.75, 80.125, 1000.25, 80.125};
static const double poly_xy[] = {5000.5, 10, 5100, 12.25, 5050.125, 90};
static const double point_xy[] = {7777.333333, 42};
static const double line_xy[] = {10, 20, 30000.5, 40};

static sf_slide_annotations *sample_slide(const char *stem, sf_manifest *manifest)
{
    sf_slide_annotations *s = g_new0(sf_slide_annotations, 1);
    s->stem = g_strdup(stem);
    s->manifest = manifest;
    s->offset = SF_OFFSET_NONE;
    s->annotations = g_ptr_array_new_with_free_func((GDestroyNotify)sf_annotation_free);
    g_ptr_array_add(s->annotations, shape("tumour", SF_SHAPE_RECTANGLE, rect_xy, 4));
    g_ptr_array_add(s->annotations, shape("stroma", SF_SHAPE_POLYGON, poly_xy, 3));
    g_ptr_array_add(s->annotations, shape("tumour", SF_SHAPE_POINT, point_xy, 1));
    g_ptr_array_add(s->annotations, shape("a,b \"c\"", SF_SHAPE_LINE, line_xy, 2));
    return s;
}

static void assert_position(JsonArray *position, double x, double y)
{
    assert_int_equal(json_array_get_length(position), 2);
    assert_float_equal(json_array_get_double_element(position, 0), x, 1e-9);
    assert_float_equal(json_array_get_double_element(position, 1), y, 1e-9);
}

static void test_geojson(void **state)
{
    (void)state;
    sf_slide_annotations *s = sample_slide("s", NULL);
    size_t length = 0;
    g_autofree char *text = sf_annotations_serialise(s, SF_ANNOTATIONS_GEOJSON, &length);
    g_autoptr(JsonParser) parser = json_parser_new();
    assert_true(json_parser_load_from_data(parser, text, (gssize)length, NULL));
    JsonObject *root = json_node_get_object(json_parser_get_root(parser));
    assert_string_equal(json_object_get_string_member(root, "type"), "FeatureCollection");
    JsonObject *meta = json_object_get_object_member(root, "slidefrag");
    assert_string_equal(json_object_get_string_member(meta, "slide_offset"), "none");
    JsonArray *features = json_object_get_array_member(root, "features");
    assert_int_equal(json_array_get_length(features), 4);

    JsonObject *f0 = json_array_get_object_element(features, 0);
    JsonObject *g0 = json_object_get_object_member(f0, "geometry");
    assert_string_equal(json_object_get_string_member(g0, "type"), "Polygon");
    JsonArray *ring =
        json_array_get_array_element(json_object_get_array_member(g0, "coordinates"), 0);
    assert_int_equal(json_array_get_length(ring), 5);
    for (guint i = 0; i < 5; i++)
        assert_position(json_array_get_array_element(ring, i), rect_xy[2 * (i % 4)],
                        rect_xy[2 * (i % 4) + 1]);
    JsonObject *p0 = json_object_get_object_member(f0, "properties");
    assert_string_equal(json_object_get_string_member(p0, "objectType"), "annotation");
    assert_non_null(strstr(json_object_get_string_member(p0, "name"), "s__x0_y0_w10_h10.jpg"));
    JsonObject *c0 = json_object_get_object_member(p0, "classification");
    assert_string_equal(json_object_get_string_member(c0, "name"), "tumour");
    uint8_t rgb[3];
    sf_label_colour("tumour", rgb);
    JsonArray *colour = json_object_get_array_member(c0, "color");
    for (guint k = 0; k < 3; k++)
        assert_int_equal(json_array_get_int_element(colour, k), rgb[k]);

    JsonObject *g1 =
        json_object_get_object_member(json_array_get_object_element(features, 1), "geometry");
    JsonArray *ring1 =
        json_array_get_array_element(json_object_get_array_member(g1, "coordinates"), 0);
    assert_int_equal(json_array_get_length(ring1), 4);
    assert_position(json_array_get_array_element(ring1, 3), poly_xy[0], poly_xy[1]);

    JsonObject *f2 = json_array_get_object_element(features, 2);
    JsonObject *g2 = json_object_get_object_member(f2, "geometry");
    assert_string_equal(json_object_get_string_member(g2, "type"), "Point");
    assert_position(json_object_get_array_member(g2, "coordinates"), point_xy[0], point_xy[1]);
    /* The same label keeps its colour on another feature. */
    JsonArray *colour2 = json_object_get_array_member(
        json_object_get_object_member(json_object_get_object_member(f2, "properties"),
                                      "classification"),
        "color");
    assert_int_equal(json_array_get_int_element(colour2, 0), rgb[0]);

    JsonObject *g3 =
        json_object_get_object_member(json_array_get_object_element(features, 3), "geometry");
    assert_string_equal(json_object_get_string_member(g3, "type"), "LineString");
    JsonArray *line = json_object_get_array_member(g3, "coordinates");
    assert_position(json_array_get_array_element(line, 1), line_xy[2], line_xy[3]);
    sf_slide_annotations_free(s);
}

static double attribute_double(xmlNode *node, const char *name)
{
    xmlChar *value = xmlGetProp(node, BAD_CAST name);
    assert_non_null(value);
    double d = g_ascii_strtod((const char *)value, NULL);
    xmlFree(value);
    return d;
}

static gboolean attribute_is(xmlNode *node, const char *name, const char *expected)
{
    xmlChar *value = xmlGetProp(node, BAD_CAST name);
    gboolean same = value && !strcmp((const char *)value, expected);
    xmlFree(value);
    return same;
}

static xmlNode *element_child(xmlNode *node, const char *name)
{
    for (xmlNode *c = node->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
            return c;
    return NULL;
}

static void test_asap(void **state)
{
    (void)state;
    /* "--" in the name must not break the XML comment that states it. */
    sf_slide_annotations *s = sample_slide("slide--7-", NULL);
    size_t length = 0;
    g_autofree char *text = sf_annotations_serialise(s, SF_ANNOTATIONS_ASAP, &length);
    xmlDoc *doc = xmlReadMemory(text, (int)length, NULL, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    xmlNode *root = xmlDocGetRootElement(doc);
    assert_string_equal((const char *)root->name, "ASAP_Annotations");
    g_autoptr(GHashTable) groups = g_hash_table_new_full(g_str_hash, g_str_equal, xmlFree, NULL);
    for (xmlNode *g = element_child(root, "AnnotationGroups")->children; g; g = g->next)
        if (g->type == XML_ELEMENT_NODE) {
            assert_true(attribute_is(g, "PartOfGroup", "None"));
            g_hash_table_add(groups, xmlGetProp(g, BAD_CAST "Name"));
        }
    assert_int_equal(g_hash_table_size(groups), 3);
    static const char *const types[] = {"Rectangle", "Polygon", "Dot", "Spline"};
    static const double *const coords[] = {rect_xy, poly_xy, point_xy, line_xy};
    int i = 0;
    for (xmlNode *a = element_child(root, "Annotations")->children; a; a = a->next) {
        if (a->type != XML_ELEMENT_NODE)
            continue;
        xmlChar *group = xmlGetProp(a, BAD_CAST "PartOfGroup");
        assert_true(g_hash_table_contains(groups, group));
        xmlFree(group);
        assert_true(attribute_is(a, "Type", types[i]));
        int k = 0;
        for (xmlNode *c = element_child(a, "Coordinates")->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE)
                continue;
            assert_float_equal(attribute_double(c, "Order"), k, 0);
            assert_float_equal(attribute_double(c, "X"), coords[i][2 * k], 1e-6);
            assert_float_equal(attribute_double(c, "Y"), coords[i][2 * k + 1], 1e-6);
            k++;
        }
        assert_int_equal(k, ((const sf_annotation *)s->annotations->pdata[i])->n_vertices);
        i++;
    }
    assert_int_equal(i, 4);
    xmlFreeDoc(doc);
    sf_slide_annotations_free(s);
}

static void test_imagescope_coco_csv(void **state)
{
    (void)state;
    sf_manifest *manifest = make_manifest("s", FALSE);
    sf_slide_annotations *s = sample_slide("s", manifest);
    size_t length = 0;
    g_autofree char *xml = sf_annotations_serialise(s, SF_ANNOTATIONS_IMAGESCOPE, &length);
    xmlDoc *doc = xmlReadMemory(xml, (int)length, NULL, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    xmlNode *root = xmlDocGetRootElement(doc);
    assert_float_equal(attribute_double(root, "MicronsPerPixel"), 0.25, 1e-9);
    int layers = 0, regions = 0;
    for (xmlNode *a = root->children; a; a = a->next) {
        if (a->type != XML_ELEMENT_NODE)
            continue;
        layers++;
        xmlChar *name = xmlGetProp(a, BAD_CAST "Name");
        uint8_t rgb[3];
        sf_label_colour((const char *)name, rgb);
        xmlFree(name);
        assert_float_equal(attribute_double(a, "LineColor"),
                           rgb[0] + 256.0 * rgb[1] + 65536.0 * rgb[2], 0);
        for (xmlNode *r = element_child(a, "Regions")->children; r; r = r->next)
            if (r->type == XML_ELEMENT_NODE) {
                regions++;
                assert_non_null(element_child(element_child(r, "Vertices"), "Vertex"));
            }
    }
    assert_int_equal(layers, 3);
    assert_int_equal(regions, 4);
    xmlFreeDoc(doc);

    g_autofree char *coco = sf_annotations_serialise(s, SF_ANNOTATIONS_COCO, &length);
    g_autoptr(JsonParser) parser = json_parser_new();
    assert_true(json_parser_load_from_data(parser, coco, (gssize)length, NULL));
    JsonObject *root_json = json_node_get_object(json_parser_get_root(parser));
    JsonObject *image =
        json_array_get_object_element(json_object_get_array_member(root_json, "images"), 0);
    assert_string_equal(json_object_get_string_member(image, "file_name"), "s.mrxs");
    assert_int_equal(json_object_get_int_member(image, "width"), 100000);
    JsonArray *annotations = json_object_get_array_member(root_json, "annotations");
    assert_int_equal(json_array_get_length(annotations), 4);
    JsonObject *rect = json_array_get_object_element(annotations, 0);
    JsonArray *bbox = json_object_get_array_member(rect, "bbox");
    assert_float_equal(json_array_get_double_element(bbox, 0), 1000.25, 1e-9);
    assert_float_equal(json_array_get_double_element(bbox, 2), 300.5, 1e-9);
    assert_float_equal(json_object_get_double_member(rect, "area"), 300.5 * 59.625, 1e-6);

    g_autofree char *csv = sf_annotations_serialise(s, SF_ANNOTATIONS_CSV, &length);
    g_auto(GStrv) rows = g_strsplit(csv, "\n", -1);
    assert_int_equal(g_strv_length(rows), 1 + 4 + 3 + 1 + 2 + 1); /* header, vertices, "" */
    assert_true(g_str_has_prefix(rows[0], "slide,annotation,label,shape,vertex,x,y"));
    assert_string_equal(rows[1],
                        "s,1,tumour,rectangle,0,1000.25,20.5,0,0,s__x0_y0_w10_h10.jpg,in.csv:3");
    assert_true(g_str_has_prefix(rows[9], "s,4,\"a,b \"\"c\"\"\",line,0,10,20,"));
    sf_slide_annotations_free(s);
    sf_manifest_free(manifest);
}

static void test_write_stays_in_folder(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *out = g_build_filename(dir, "out", NULL);
    assert_int_equal(g_mkdir(out, 0700), 0);
    static const char *const unsafe[] = {"../evil", "..", "a/b", ".hidden", "", "a\\b"};
    for (size_t i = 0; i < G_N_ELEMENTS(unsafe); i++) {
        sf_slide_annotations *s = sample_slide(unsafe[i], NULL);
        g_autoptr(GError) error = NULL;
        assert_false(sf_annotations_write(s, SF_ANNOTATIONS_GEOJSON, out, NULL, &error));
        assert_int_equal(error->code, SF_EXIT_BAD_INPUT);
        sf_slide_annotations_free(s);
    }
    sf_slide_annotations *s = sample_slide("fine", NULL);
    g_autofree char *path = NULL;
    g_autoptr(GError) error = NULL;
    assert_true(sf_annotations_write(s, SF_ANNOTATIONS_CSV, out, &path, &error));
    g_autofree char *expected = g_build_filename(out, "fine.csv", NULL);
    assert_string_equal(path, expected);
    assert_true(g_file_test(expected, G_FILE_TEST_IS_REGULAR));
    sf_slide_annotations_free(s);
    /* Only out/ and its one file exist. */
    g_autoptr(GDir) listing = g_dir_open(dir, 0, NULL);
    assert_string_equal(g_dir_read_name(listing), "out");
    assert_null(g_dir_read_name(listing));
    test_remove_tree(dir);
}

static void test_label_colours(void **state)
{
    (void)state;
    static const char *const labels[] = {"tumour", "stroma", "necrosis", "lymphocytes", "fat"};
    g_autoptr(GHashTable) distinct = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (size_t i = 0; i < G_N_ELEMENTS(labels); i++) {
        uint8_t a[3], b[3];
        sf_label_colour(labels[i], a);
        g_autofree char *copy = g_strdup(labels[i]);
        sf_label_colour(copy, b);
        assert_memory_equal(a, b, 3);
        g_hash_table_add(distinct, GUINT_TO_POINTER(a[0] << 16 | a[1] << 8 | a[2]));
    }
    assert_true(g_hash_table_size(distinct) >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect_from_content),
        cmocka_unit_test(test_yolo),
        cmocka_unit_test(test_yolo_bad_lines_keep_the_good),
        cmocka_unit_test(test_voc),
        cmocka_unit_test(test_voc_bad_input),
        cmocka_unit_test(test_xml_entities_never_expand),
        cmocka_unit_test(test_rect_csv),
        cmocka_unit_test(test_point_and_line_csv_and_duplicates),
        cmocka_unit_test(test_coco),
        cmocka_unit_test(test_vgg),
        cmocka_unit_test(test_zip_export),
        cmocka_unit_test(test_folder_and_exports),
        cmocka_unit_test(test_map_from_names),
        cmocka_unit_test(test_map_with_manifests),
        cmocka_unit_test(test_geojson),
        cmocka_unit_test(test_asap),
        cmocka_unit_test(test_imagescope_coco_csv),
        cmocka_unit_test(test_write_stays_in_folder),
        cmocka_unit_test(test_label_colours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
