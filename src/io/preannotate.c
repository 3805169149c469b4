/*
 * Level-0 annotations taken out to the fragments as a Makesense.AI import
 * (annotations.h, sf_preannotate_write; docs/formats.md): pathologists
 * correct what a model or an earlier round drew instead of starting from
 * nothing, and map brings the corrected set home.
 *
 * Makesense imports onto the images of a project, matched by file name:
 * COCO JSON (boxes from `bbox`, polygons from `segmentation`) and Pascal
 * VOC (boxes, read as integers). A shape is clipped to each fragment it
 * reaches (GEOS for polygons) and put in that fragment's pixels, the exact
 * inverse of map's X + px * W / width.
 */
#define GEOS_USE_ONLY_R_API
#include <errno.h>
#include <geos_c.h>
#include <json-glib/json-glib.h>
#include <libxml/xmlwriter.h>
#include <math.h>
#include <string.h>

#include "io/export_internal.h"
#include "io/json_safe.h"
#include "slidefrag/error.h"
#include "slidefrag/image_io.h"

/* The shapes that land on one fragment, in its pixels. */
typedef struct {
    const sf_manifest_region *region;
    GPtrArray *shapes; /* sf_annotation*, fragment pixels */
} fragment_shapes;

static void fragment_shapes_free(gpointer data)
{
    fragment_shapes *f = data;
    g_ptr_array_unref(f->shapes);
    g_free(f);
}

typedef struct {
    sf_annotation_set *set;
    GEOSContextHandle_t geos;
    GHashTable *by_fragment; /* fragment name -> fragment_shapes* */
    GPtrArray *order;        /* fragment_shapes*, in manifest order */
    guint n_written;
} writer;

static void on_geos_message(const char *message, void *data)
{
    (void)message;
    (void)data;
}

/* Level-0 (as the file has it, offset included) to fragment pixels. */
static sf_vertex to_fragment(const sf_manifest_region *r, int64_t dx, int64_t dy, sf_vertex v)
{
    return (sf_vertex){(v.x + (double)dx - (double)r->x) * r->fragment_width / (double)r->w,
                       (v.y + (double)dy - (double)r->y) * r->fragment_height / (double)r->h};
}

static fragment_shapes *shapes_of(writer *w, const sf_manifest_region *region)
{
    fragment_shapes *f = g_hash_table_lookup(w->by_fragment, region->fragment_name);
    if (!f) {
        f = g_new0(fragment_shapes, 1);
        f->region = region;
        f->shapes = g_ptr_array_new_with_free_func((GDestroyNotify)sf_annotation_free);
        g_hash_table_insert(w->by_fragment, region->fragment_name, f);
        g_ptr_array_add(w->order, f);
    }
    return f;
}

static void add_shape(writer *w, const sf_manifest_region *region, const sf_annotation *a,
                      sf_shape shape, sf_vertex *v, size_t n)
{
    sf_annotation *out = sf_export_annotation_new(a->label, shape, 0, region->fragment_name,
                                                  a->source, a->line, a->where);
    g_free(out->vertices);
    out->vertices = v;
    out->n_vertices = n;
    out->image_width = region->fragment_width;
    out->image_height = region->fragment_height;
    g_ptr_array_add(shapes_of(w, region)->shapes, out);
    w->n_written++;
}

/* A rectangle clipped to the fragment's box: an extent test. */
static void clip_rectangle(writer *w, const sf_manifest_region *r, const sf_annotation *a,
                           int64_t dx, int64_t dy)
{
    sf_vertex lo = to_fragment(r, dx, dy, a->vertices[0]);
    sf_vertex hi = to_fragment(r, dx, dy, a->vertices[2]);
    double x0 = MAX(MIN(lo.x, hi.x), 0), y0 = MAX(MIN(lo.y, hi.y), 0);
    double x1 = MIN(MAX(lo.x, hi.x), r->fragment_width);
    double y1 = MIN(MAX(lo.y, hi.y), r->fragment_height);
    if (!(x1 > x0 && y1 > y0))
        return;
    sf_vertex *v = g_new(sf_vertex, 4);
    v[0] = (sf_vertex){x0, y0};
    v[1] = (sf_vertex){x1, y0};
    v[2] = (sf_vertex){x1, y1};
    v[3] = (sf_vertex){x0, y1};
    add_shape(w, r, a, SF_SHAPE_RECTANGLE, v, 4);
}

/* Each polygon of `g` (a Polygon or a collection of them) as a shape. */
static void add_polygons(writer *w, const sf_manifest_region *r, const sf_annotation *a,
                         const GEOSGeometry *g)
{
    GEOSContextHandle_t h = w->geos;
    int type = GEOSGeomTypeId_r(h, g);
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++)
            add_polygons(w, r, a, GEOSGetGeometryN_r(h, g, i));
        return;
    }
    if (type != GEOS_POLYGON || GEOSisEmpty_r(h, g))
        return;
    const GEOSGeometry *shell = GEOSGetExteriorRing_r(h, g);
    const GEOSCoordSequence *ring = shell ? GEOSGeom_getCoordSeq_r(h, shell) : NULL;
    unsigned size = 0;
    if (!ring || !GEOSCoordSeq_getSize_r(h, ring, &size) || size < 4)
        return;
    sf_vertex *v = g_new(sf_vertex, size - 1);
    for (unsigned i = 0; i + 1 < size; i++)
        GEOSCoordSeq_getXY_r(h, ring, i, &v[i].x, &v[i].y);
    add_shape(w, r, a, SF_SHAPE_POLYGON, v, size - 1);
}

/* A polygon in fragment pixels clipped to the fragment (GEOS). */
static void clip_polygon(writer *w, const sf_manifest_region *r, const sf_annotation *a, int64_t dx,
                         int64_t dy)
{
    GEOSContextHandle_t h = w->geos;
    GEOSCoordSequence *seq = GEOSCoordSeq_create_r(h, (unsigned)a->n_vertices + 1, 2);
    for (size_t i = 0; i <= a->n_vertices; i++) {
        sf_vertex v = to_fragment(r, dx, dy, a->vertices[i % a->n_vertices]);
        GEOSCoordSeq_setXY_r(h, seq, (unsigned)i, v.x, v.y);
    }
    GEOSGeometry *shell = GEOSGeom_createLinearRing_r(h, seq);
    GEOSGeometry *polygon = shell ? GEOSGeom_createPolygon_r(h, shell, NULL, 0) : NULL;
    if (!polygon)
        return;
    GEOSGeometry *box = GEOSGeom_createRectangle_r(h, 0, 0, r->fragment_width, r->fragment_height);
    if (GEOSCovers_r(h, box, polygon) == 1) {
        /* Wholly inside: the vertices as they are, in their order. */
        sf_vertex *v = g_new(sf_vertex, a->n_vertices);
        for (size_t i = 0; i < a->n_vertices; i++)
            v[i] = to_fragment(r, dx, dy, a->vertices[i]);
        add_shape(w, r, a, SF_SHAPE_POLYGON, v, a->n_vertices);
    } else if (GEOSIntersects_r(h, box, polygon) == 1) {
        GEOSGeometry *valid = GEOSisValid_r(h, polygon) ? NULL : GEOSMakeValid_r(h, polygon);
        GEOSGeometry *part = GEOSIntersection_r(h, valid ? valid : polygon, box);
        if (part) {
            add_polygons(w, r, a, part);
            GEOSGeom_destroy_r(h, part);
        }
        if (valid)
            GEOSGeom_destroy_r(h, valid);
    }
    GEOSGeom_destroy_r(h, box);
    GEOSGeom_destroy_r(h, polygon);
}

static void place(writer *w, const sf_manifest *m, const sf_annotation *a, int64_t dx, int64_t dy)
{
    double x0 = a->vertices[0].x + (double)dx, x1 = x0, y0 = a->vertices[0].y + (double)dy, y1 = y0;
    for (size_t i = 1; i < a->n_vertices; i++) {
        x0 = MIN(x0, a->vertices[i].x + (double)dx);
        x1 = MAX(x1, a->vertices[i].x + (double)dx);
        y0 = MIN(y0, a->vertices[i].y + (double)dy);
        y1 = MAX(y1, a->vertices[i].y + (double)dy);
    }
    gboolean placed = FALSE;
    for (size_t k = 0; k < m->n_regions; k++) {
        const sf_manifest_region *r = &m->regions[k];
        if (x1 <= (double)r->x || x0 >= (double)(r->x + r->w) || y1 <= (double)r->y ||
            y0 >= (double)(r->y + r->h))
            continue;
        guint before = w->n_written;
        if (a->shape == SF_SHAPE_RECTANGLE)
            clip_rectangle(w, r, a, dx, dy);
        else
            clip_polygon(w, r, a, dx, dy);
        placed = placed || w->n_written > before;
    }
    if (!placed) {
        g_autofree char *location = sf_annotation_location(a);
        sf_annotation_set_add_note(w->set, SF_SKIP_NO_FRAGMENT, location,
                                   "%s '%s' lies on no fragment of %s", sf_shape_name(a->shape),
                                   a->label, m->slide_name);
    }
}

/* ---- COCO ----------------------------------------------------------------- */

static void put(FILE *out, const char *text)
{
    fputs(text, out); /* errors: sf_output_commit */
}

static void put_node(FILE *out, JsonBuilder *b)
{
    g_autoptr(JsonNode) node = json_builder_get_root(b);
    g_autofree char *text = sf_json_text(node, FALSE);
    put(out, text);
    g_object_unref(b);
}

static gint compare_labels(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static gboolean write_coco(writer *w, const char *out_dir, GError **error)
{
    g_autofree char *path = g_build_filename(out_dir, "pre-annotations.json", NULL);
    g_autoptr(sf_output) output = sf_output_create(path, error);
    if (!output)
        return FALSE;
    FILE *out = sf_output_stream(output);
    g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) labels = g_ptr_array_new();
    for (guint f = 0; f < w->order->len; f++) {
        const fragment_shapes *fs = w->order->pdata[f];
        for (guint i = 0; i < fs->shapes->len; i++) {
            const sf_annotation *a = fs->shapes->pdata[i];
            if (g_hash_table_add(ids, a->label))
                g_ptr_array_add(labels, a->label);
        }
    }
    g_ptr_array_sort(labels, compare_labels);
    for (guint i = 0; i < labels->len; i++)
        g_hash_table_insert(ids, labels->pdata[i], GUINT_TO_POINTER(i + 1));

    /* As Makesense's own COCO export lays it out, which its importer reads. */
    put(out, "{\"info\":{\"description\":\"slidefrag pre-annotate\"},\"images\":[");
    for (guint f = 0; f < w->order->len; f++) {
        const fragment_shapes *fs = w->order->pdata[f];
        JsonBuilder *b = json_builder_new();
        json_builder_begin_object(b);
        sf_json_add_int(b, "id", f + 1);
        sf_json_add_int(b, "width", fs->region->fragment_width);
        sf_json_add_int(b, "height", fs->region->fragment_height);
        sf_json_add_string(b, "file_name", fs->region->fragment_name);
        json_builder_end_object(b);
        if (f)
            put(out, ",");
        put_node(out, b);
    }
    put(out, "],\"annotations\":[");
    guint id = 0;
    for (guint f = 0; f < w->order->len; f++) {
        const fragment_shapes *fs = w->order->pdata[f];
        for (guint i = 0; i < fs->shapes->len; i++) {
            const sf_annotation *a = fs->shapes->pdata[i];
            double x0 = a->vertices[0].x, y0 = a->vertices[0].y, x1 = x0, y1 = y0, area = 0;
            for (size_t k = 0, j = a->n_vertices - 1; k < a->n_vertices; j = k++) {
                x0 = MIN(x0, a->vertices[k].x);
                y0 = MIN(y0, a->vertices[k].y);
                x1 = MAX(x1, a->vertices[k].x);
                y1 = MAX(y1, a->vertices[k].y);
                area +=
                    (a->vertices[j].x + a->vertices[k].x) * (a->vertices[j].y - a->vertices[k].y);
            }
            JsonBuilder *b = json_builder_new();
            json_builder_begin_object(b);
            sf_json_add_int(b, "id", id);
            sf_json_add_int(b, "iscrowd", 0);
            sf_json_add_int(b, "image_id", f + 1);
            sf_json_add_int(b, "category_id", GPOINTER_TO_UINT(g_hash_table_lookup(ids, a->label)));
            json_builder_set_member_name(b, "segmentation");
            json_builder_begin_array(b);
            json_builder_begin_array(b);
            for (size_t k = 0; k < a->n_vertices; k++) {
                json_builder_add_double_value(b, a->vertices[k].x);
                json_builder_add_double_value(b, a->vertices[k].y);
            }
            json_builder_end_array(b);
            json_builder_end_array(b);
            json_builder_set_member_name(b, "bbox");
            json_builder_begin_array(b);
            json_builder_add_double_value(b, x0);
            json_builder_add_double_value(b, y0);
            json_builder_add_double_value(b, x1 - x0);
            json_builder_add_double_value(b, y1 - y0);
            json_builder_end_array(b);
            sf_json_add_double(b, "area", fabs(area / 2));
            json_builder_end_object(b);
            if (id++)
                put(out, ",");
            put_node(out, b);
        }
    }
    put(out, "],\"categories\":[");
    for (guint i = 0; i < labels->len; i++) {
        JsonBuilder *b = json_builder_new();
        json_builder_begin_object(b);
        sf_json_add_int(b, "id", i + 1);
        sf_json_add_string(b, "name", labels->pdata[i]);
        json_builder_end_object(b);
        if (i)
            put(out, ",");
        put_node(out, b);
    }
    put(out, "]}\n");
    return sf_output_commit(g_steal_pointer(&output), error);
}

/* ---- Pascal VOC ------------------------------------------------------------- */

/* JavaScript's Math.round, as Makesense rounds. */
static long js_round(double v)
{
    return (long)floor(v + 0.5);
}

static void voc_element(xmlTextWriter *x, const char *name, const char *text)
{
    xmlTextWriterWriteElement(x, BAD_CAST name, BAD_CAST text);
}

static void voc_number(xmlTextWriter *x, const char *name, long value)
{
    char text[32];
    g_snprintf(text, sizeof text, "%ld", value);
    voc_element(x, name, text);
}

static int write_to_file(void *context, const char *buffer, int length)
{
    return fwrite(buffer, 1, (size_t)length, context) == (size_t)length ? length : -1;
}

static gboolean write_voc_file(const fragment_shapes *fs, const char *out_dir, guint *n_boxes,
                               GError **error)
{
    g_autofree char *stem = sf_image_key(fs->region->fragment_name);
    g_autofree char *file = g_strconcat(stem, ".xml", NULL);
    g_autofree char *path = g_build_filename(out_dir, file, NULL);
    g_autoptr(sf_output) output = sf_output_create(path, error);
    if (!output)
        return FALSE;
    xmlOutputBuffer *buffer =
        xmlOutputBufferCreateIO(write_to_file, NULL, sf_output_stream(output), NULL);
    xmlTextWriter *x = xmlNewTextWriter(buffer);
    xmlTextWriterSetIndent(x, 1);
    xmlTextWriterSetIndentString(x, BAD_CAST "\t");
    /* Makesense's own layout: no XML declaration, tabs. */
    xmlTextWriterStartElement(x, BAD_CAST "annotation");
    voc_element(x, "folder", "slidefrag");
    voc_element(x, "filename", fs->region->fragment_name);
    xmlTextWriterStartElement(x, BAD_CAST "size");
    voc_number(x, "width", fs->region->fragment_width);
    voc_number(x, "height", fs->region->fragment_height);
    voc_number(x, "depth", 3);
    xmlTextWriterEndElement(x);
    for (guint i = 0; i < fs->shapes->len; i++) {
        const sf_annotation *a = fs->shapes->pdata[i];
        if (a->shape != SF_SHAPE_RECTANGLE)
            continue;
        g_autofree char *label = g_utf8_make_valid(a->label, -1);
        xmlTextWriterStartElement(x, BAD_CAST "object");
        voc_element(x, "name", label);
        voc_element(x, "pose", "Unspecified");
        voc_element(x, "truncated", "Unspecified");
        voc_element(x, "difficult", "Unspecified");
        xmlTextWriterStartElement(x, BAD_CAST "bndbox");
        voc_number(x, "xmin", js_round(a->vertices[0].x));
        voc_number(x, "ymin", js_round(a->vertices[0].y));
        voc_number(x, "xmax", js_round(a->vertices[2].x));
        voc_number(x, "ymax", js_round(a->vertices[2].y));
        xmlTextWriterEndElement(x);
        xmlTextWriterEndElement(x);
        (*n_boxes)++;
    }
    xmlTextWriterEndElement(x);
    xmlTextWriterEndDocument(x);
    xmlFreeTextWriter(x);
    fputc('\n', sf_output_stream(output));
    return sf_output_commit(g_steal_pointer(&output), error);
}

static gboolean write_voc(writer *w, const char *out_dir, GError **error)
{
    guint n_boxes = 0, n_other = 0;
    for (guint f = 0; f < w->order->len; f++) {
        const fragment_shapes *fs = w->order->pdata[f];
        guint before = n_boxes;
        if (!write_voc_file(fs, out_dir, &n_boxes, error))
            return FALSE;
        n_other += fs->shapes->len - (n_boxes - before);
    }
    if (n_other)
        sf_annotation_set_add_note(w->set, SF_SKIP_MALFORMED, out_dir,
                                   "%u polygons left out: VOC holds boxes only (use COCO)",
                                   n_other);
    w->n_written = n_boxes;
    return TRUE;
}

gboolean sf_preannotate_write(sf_annotation_set *set, GPtrArray *manifests,
                              sf_preannotate_format format, sf_slide_offset offset,
                              const char *out_dir, guint *n_written, GError **error)
{
    writer w = {
        .set = set,
        .by_fragment = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, NULL),
        .order = g_ptr_array_new_with_free_func(fragment_shapes_free),
    };
    w.geos = GEOS_init_r();
    GEOSContext_setErrorMessageHandler_r(w.geos, on_geos_message, NULL);
    GEOSContext_setNoticeMessageHandler_r(w.geos, on_geos_message, NULL);
    g_autoptr(GHashTable) slides = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < manifests->len; i++) {
        const sf_manifest *m = manifests->pdata[i];
        g_hash_table_insert(slides, m->slide_name, (gpointer)m);
    }
    g_autoptr(GHashTable) told = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < set->annotations->len; i++) {
        const sf_annotation *a = set->annotations->pdata[i];
        const sf_manifest *m = g_hash_table_lookup(slides, a->image);
        g_autofree char *location = sf_annotation_location(a);
        if (!m) {
            if (g_hash_table_add(told, g_strdup_printf("slide\n%s", a->image)))
                sf_annotation_set_add_problem(set, SF_SKIP_NO_FRAGMENT, 1, location,
                                              "slide '%s' is in no manifest given", a->image);
            continue;
        }
        if (a->shape == SF_SHAPE_POINT || a->shape == SF_SHAPE_LINE) {
            if (g_hash_table_add(told, g_strdup_printf("kind\n%s", a->source)))
                sf_annotation_set_add_note(set, SF_SKIP_MALFORMED, a->source,
                                           "points and lines left out: Makesense imports "
                                           "boxes and polygons only");
            continue;
        }
        int64_t dx = offset == SF_OFFSET_BOUNDS && m->has_bounds ? m->bounds_x : 0;
        int64_t dy = offset == SF_OFFSET_BOUNDS && m->has_bounds ? m->bounds_y : 0;
        place(&w, m, a, dx, dy);
    }
    GEOS_finish_r(w.geos);
    gboolean ok = TRUE;
    if (w.order->len > 0) {
        if (g_mkdir_with_parents(out_dir, 0777) != 0) {
            int err = errno;
            g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "%s: cannot create folder: %s", out_dir,
                        g_strerror(err));
            ok = FALSE;
        } else {
            ok = format == SF_PREANNOTATE_COCO ? write_coco(&w, out_dir, error)
                                               : write_voc(&w, out_dir, error);
        }
    }
    *n_written = w.n_written;
    g_ptr_array_unref(w.order);
    g_hash_table_unref(w.by_fragment);
    return ok;
}
