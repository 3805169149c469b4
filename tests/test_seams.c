/*
 * Shapes shared by neighbouring tiles come home as one (GEOS union):
 * pieces cut by a seam, a shape drawn twice in an overlap; what tiles do
 * not share stays as drawn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <math.h>
#include <string.h>

#include "slidefrag/annotations.h"
#include "slidefrag/error.h"

/* A COCO export of polygons, in fragment pixels. */
typedef struct {
    const char *image;
    int width, height;
    const char *label;
    int n;
    double xy[12];
} drawn;

static char *coco_of(const drawn *shapes, size_t n)
{
    GString *s = g_string_new("{\"images\": [");
    GPtrArray *images = g_ptr_array_new();
    for (size_t i = 0; i < n; i++) {
        guint k;
        if (g_ptr_array_find_with_equal_func(images, shapes[i].image, g_str_equal, &k))
            continue;
        g_string_append_printf(
            s, "%s{\"id\": %u, \"width\": %d, \"height\": %d, \"file_name\": \"%s\"}",
            images->len ? ", " : "", images->len + 1, shapes[i].width, shapes[i].height,
            shapes[i].image);
        g_ptr_array_add(images, (gpointer)shapes[i].image);
    }
    g_string_append(s, "], \"annotations\": [");
    for (size_t i = 0; i < n; i++) {
        guint k = 0;
        g_ptr_array_find_with_equal_func(images, shapes[i].image, g_str_equal, &k);
        g_string_append_printf(s, "%s{\"image_id\": %u, \"category_id\": %d, \"segmentation\": [[",
                               i ? ", " : "", k + 1, !strcmp(shapes[i].label, "tumour") ? 1 : 2);
        for (int v = 0; v < 2 * shapes[i].n; v++)
            g_string_append_printf(s, "%s%.17g", v ? ", " : "", shapes[i].xy[v]);
        g_string_append(s, "]]}");
    }
    g_string_append(s, "], \"categories\": [{\"id\": 1, \"name\": \"tumour\"}, {\"id\": 2, "
                       "\"name\": \"stroma\"}]}");
    g_ptr_array_free(images, TRUE);
    return g_string_free(s, FALSE);
}

/* Maps `shapes` by their fragment names; the one slide "s". */
static GPtrArray *map_shapes(const drawn *shapes, size_t n, sf_annotation_set **set_out)
{
    g_autofree char *coco = coco_of(shapes, n);
    sf_annotation_set *set = sf_annotation_set_new();
    assert_true(sf_annotations_read_data(set, "tiles.json", coco, strlen(coco), NULL));
    guint n_mapped = 0;
    GPtrArray *slides = sf_annotations_map(set, NULL, SF_OFFSET_NONE, &n_mapped, NULL);
    assert_non_null(slides);
    assert_int_equal(slides->len, 1);
    *set_out = set;
    return slides;
}

static void extent_of(const sf_annotation *a, double e[4])
{
    e[0] = e[2] = a->vertices[0].x;
    e[1] = e[3] = a->vertices[0].y;
    for (size_t i = 1; i < a->n_vertices; i++) {
        e[0] = MIN(e[0], a->vertices[i].x);
        e[1] = MIN(e[1], a->vertices[i].y);
        e[2] = MAX(e[2], a->vertices[i].x);
        e[3] = MAX(e[3], a->vertices[i].y);
    }
}

static void assert_extent(const sf_annotation *a, double x0, double y0, double x1, double y1,
                          double tolerance)
{
    double e[4];
    extent_of(a, e);
    if (fabs(e[0] - x0) > tolerance || fabs(e[1] - y0) > tolerance || fabs(e[2] - x1) > tolerance ||
        fabs(e[3] - y1) > tolerance)
        fail_msg("extent (%g, %g)-(%g, %g), expected (%g, %g)-(%g, %g)", e[0], e[1], e[2], e[3], x0,
                 y0, x1, y1);
}

static const sf_annotation *find_label(GPtrArray *annotations, const char *label, double x,
                                       double y)
{
    for (guint i = 0; i < annotations->len; i++) {
        const sf_annotation *a = annotations->pdata[i];
        double e[4];
        extent_of(a, e);
        if (!strcmp(a->label, label) && e[0] <= x && x <= e[2] && e[1] <= y && y <= e[3])
            return a;
    }
    fail_msg("no %s at (%g, %g)", label, x, y);
    return NULL;
}

/* Two tiles overlapping by 100 px (x 900..1000), at level-0 resolution. */
#define T1 "s__x0_y0_w1000_h1000.jpg", 1000, 1000
#define T2 "s__x900_y0_w1000_h1000.jpg", 1000, 1000
/* Two tiles that touch at x = 1000 without overlapping, at half resolution. */
#define T3 "s__x0_y2000_w1000_h1000.jpg", 500, 500
#define T4 "s__x1000_y2000_w1000_h1000.jpg", 500, 500

static void test_pieces_across_seams_become_one(void **state)
{
    (void)state;
    const drawn shapes[] = {
        /* A tumour from x 500 to 1400 cut by each tile's edge. */
        {T1, "tumour", 5, {500, 100, 1000, 100, 1000, 300, 700, 320, 500, 300}},
        {T2, "tumour", 5, {0, 100, 500, 100, 500, 300, 100, 310, 0, 300}},
        /* A rectangle across the touching tiles, drawn in half-size pixels,
         * the right piece half a fragment pixel short of the seam. */
        {T3, "tumour", 4, {400, 50, 500, 50, 500, 150, 400, 150}},
        {T4, "tumour", 4, {0.5, 50, 100, 50, 100, 150, 0.5, 150}},
        /* Stroma touching the tumour across the seam: another label. */
        {T2, "stroma", 4, {500, 100, 600, 100, 600, 300, 500, 300}},
    };
    sf_annotation_set *set = NULL;
    g_autoptr(GPtrArray) slides = map_shapes(shapes, G_N_ELEMENTS(shapes), &set);
    sf_slide_annotations *slide = slides->pdata[0];
    assert_int_equal(slide->annotations->len, 3);
    const sf_annotation *across = find_label(slide->annotations, "tumour", 950, 200);
    assert_int_equal(across->shape, SF_SHAPE_POLYGON);
    assert_extent(across, 500, 100, 1400, 320, 1e-6);
    /* The seam left no vertex on the straight top edge. */
    for (size_t i = 0; i < across->n_vertices; i++)
        assert_false(across->vertices[i].y == 100 && across->vertices[i].x > 500 &&
                     across->vertices[i].x < 1400);
    const sf_annotation *square = find_label(slide->annotations, "tumour", 1000, 2200);
    assert_int_equal(square->shape, SF_SHAPE_RECTANGLE);
    assert_extent(square, 800, 2100, 1200, 2300, 1e-6);
    const sf_annotation *stroma = find_label(slide->annotations, "stroma", 1450, 200);
    assert_extent(stroma, 1400, 100, 1500, 300, 1e-9);
    gboolean said = FALSE;
    for (guint i = 0; i < set->problems->len; i++) {
        const sf_annotation_problem *p = set->problems->pdata[i];
        said = said || (p->note && strstr(p->message, "s: 4 pieces of shapes cut by tile seams"));
    }
    assert_true(said);
    assert_false(sf_annotation_set_has_errors(set));
    sf_annotation_set_free(set);
}

/* A nucleus in the overlap drawn on both tiles, a little differently:
 * kept once. One drawn twice on the same tile stays twice. */
static void test_shape_drawn_twice_in_an_overlap(void **state)
{
    (void)state;
    const drawn shapes[] = {
        {T1, "tumour", 4, {920, 500, 980, 500, 980, 560, 920, 560}},
        {T2, "tumour", 4, {20.3, 500.2, 80.1, 500, 80, 560.4, 20, 559.8}},
        {T1, "stroma", 3, {100, 100, 150, 100, 120, 140}},
        {T1, "stroma", 3, {100, 100, 150, 100, 120, 140}},
    };
    sf_annotation_set *set = NULL;
    g_autoptr(GPtrArray) slides = map_shapes(shapes, G_N_ELEMENTS(shapes), &set);
    sf_slide_annotations *slide = slides->pdata[0];
    assert_int_equal(slide->annotations->len, 3);
    const sf_annotation *nucleus = find_label(slide->annotations, "tumour", 950, 530);
    assert_extent(nucleus, 920, 500, 980.3, 560.4, 0.5);
    sf_annotation_set_free(set);
}

/* Separate regions (fragments that do not meet) share nothing: their
 * shapes stay as drawn, even when one touches the other. */
static void test_separate_fragments_untouched(void **state)
{
    (void)state;
    const drawn shapes[] = {
        {"s__x0_y0_w1000_h1000.jpg", 1000, 1000, "tumour", 4, {900, 0, 1000, 0, 1000, 50, 900, 50}},
        {"s__x1001_y0_w1000_h1000.jpg", 1000, 1000, "tumour", 4, {0, 0, 50, 0, 50, 50, 0, 50}},
    };
    sf_annotation_set *set = NULL;
    g_autoptr(GPtrArray) slides = map_shapes(shapes, G_N_ELEMENTS(shapes), &set);
    sf_slide_annotations *slide = slides->pdata[0];
    assert_int_equal(slide->annotations->len, 2);
    for (guint i = 0; i < 2; i++) {
        const sf_annotation *a = slide->annotations->pdata[i];
        assert_int_equal(a->shape, SF_SHAPE_POLYGON);
        assert_int_equal(a->n_vertices, 4);
    }
    sf_annotation_set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces_across_seams_become_one),
        cmocka_unit_test(test_shape_drawn_twice_in_an_overlap),
        cmocka_unit_test(test_separate_fragments_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
