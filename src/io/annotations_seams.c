/*
 * Shapes that tiles share, joined (annotations.h, sf_annotations_join_seams).
 *
 * A region larger than the annotation tool shows well is cut into tiles
 * that overlap; each tile is a fragment whose name carries its level-0 box.
 * A tumour outlined across a seam comes back as one piece per tile, and a
 * nucleus in an overlap may be drawn on both tiles. Once mapped to level 0
 * the pieces meet: in the overlap zone, or along the line where two tiles
 * that do not overlap touch. Pieces of one label from different fragments
 * that touch or overlap there (within one fragment pixel, the precision
 * they were drawn with) are unioned with GEOS, the geometry library QGIS
 * and PostGIS use, rather than by hand-written polygon clipping.
 *
 * Only fragments that touch another fragment can share shapes, and only
 * shapes reaching another fragment's box are looked at, so slides cut
 * into separate regions, the usual case, cost a pass over the fragments.
 */
#define GEOS_USE_ONLY_R_API
#include <geos_c.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "io/export_internal.h"
#include "slidefrag/annotations.h"

typedef struct {
    double x0, y0, x1, y1;
} extent;

static gboolean extents_meet(const extent *a, const extent *b, double tolerance)
{
    return a->x0 <= b->x1 + tolerance && b->x0 <= a->x1 + tolerance && a->y0 <= b->y1 + tolerance &&
           b->y0 <= a->y1 + tolerance;
}

static extent fragment_extent(const sf_annotation *a)
{
    return (extent){(double)a->fragment_x, (double)a->fragment_y,
                    (double)(a->fragment_x + a->fragment_w),
                    (double)(a->fragment_y + a->fragment_h)};
}

static extent vertex_extent(const sf_annotation *a)
{
    extent e = {a->vertices[0].x, a->vertices[0].y, a->vertices[0].x, a->vertices[0].y};
    for (size_t i = 1; i < a->n_vertices; i++) {
        e.x0 = MIN(e.x0, a->vertices[i].x);
        e.y0 = MIN(e.y0, a->vertices[i].y);
        e.x1 = MAX(e.x1, a->vertices[i].x);
        e.y1 = MAX(e.y1, a->vertices[i].y);
    }
    return e;
}

/* Level-0 pixels per fragment pixel: how precisely it was drawn. */
static double precision_of(const sf_annotation *a)
{
    double scale = a->image_width > 0 ? (double)a->fragment_w / a->image_width : 1.0;
    return MAX(1.0, scale);
}

static gboolean is_area(const sf_annotation *a)
{
    return a->shape == SF_SHAPE_RECTANGLE || a->shape == SF_SHAPE_POLYGON;
}

/* One shape being considered. */
typedef struct {
    guint index; /* in the slide's annotations */
    sf_annotation *a;
    extent fragment, shape;
    double tolerance;
    GEOSGeometry *geometry; /* made lazily */
    guint parent;           /* union-find over candidates */
} piece;

typedef struct {
    GEOSContextHandle_t geos;
    GArray *pieces; /* piece */
} joiner;

static void on_geos_message(const char *message, void *data)
{
    (void)message;
    (void)data; /* GEOS errors come back as NULL results, handled there */
}

static GEOSGeometry *ring_polygon(GEOSContextHandle_t h, const sf_annotation *a)
{
    GEOSCoordSequence *ring = GEOSCoordSeq_create_r(h, (unsigned)a->n_vertices + 1, 2);
    if (!ring)
        return NULL;
    for (size_t i = 0; i <= a->n_vertices; i++) {
        const sf_vertex *v = &a->vertices[i % a->n_vertices];
        GEOSCoordSeq_setXY_r(h, ring, (unsigned)i, v->x, v->y);
    }
    GEOSGeometry *shell = GEOSGeom_createLinearRing_r(h, ring);
    GEOSGeometry *polygon = shell ? GEOSGeom_createPolygon_r(h, shell, NULL, 0) : NULL;
    if (polygon && !GEOSisValid_r(h, polygon)) {
        /* A hand-drawn outline that crosses itself. */
        GEOSGeometry *valid = GEOSMakeValid_r(h, polygon);
        GEOSGeom_destroy_r(h, polygon);
        polygon = valid;
    }
    return polygon;
}

static GEOSGeometry *geometry_of(joiner *j, piece *p)
{
    if (p->geometry)
        return p->geometry;
    GEOSContextHandle_t h = j->geos;
    if (is_area(p->a))
        p->geometry = ring_polygon(h, p->a);
    else if (p->a->shape == SF_SHAPE_POINT)
        p->geometry = GEOSGeom_createPointFromXY_r(h, p->a->vertices[0].x, p->a->vertices[0].y);
    return p->geometry;
}

static guint find_root(GArray *pieces, guint i)
{
    while (g_array_index(pieces, piece, i).parent != i) {
        piece *p = &g_array_index(pieces, piece, i);
        p->parent = g_array_index(pieces, piece, p->parent).parent;
        i = p->parent;
    }
    return i;
}

static void unite(GArray *pieces, guint a, guint b)
{
    a = find_root(pieces, a);
    b = find_root(pieces, b);
    if (a < b)
        g_array_index(pieces, piece, b).parent = a;
    else if (b < a)
        g_array_index(pieces, piece, a).parent = b;
}

/* Whether `g` reaches the extent `zone`. */
static gboolean reaches(GEOSContextHandle_t h, const GEOSGeometry *g, const extent *zone)
{
    GEOSGeometry *box = GEOSGeom_createRectangle_r(h, zone->x0, zone->y0, zone->x1, zone->y1);
    char meets = box ? GEOSIntersects_r(h, g, box) : 0;
    if (box)
        GEOSGeom_destroy_r(h, box);
    return meets == 1;
}

/*
 * Whether two pieces are one shape: one label and kind, drawn on two
 * fragments that meet, within the tolerance of each other, and both
 * reaching the zone the fragments share (their overlap, or the line where
 * they touch). Pieces on one fragment are the annotator's own business.
 */
static gboolean same_shape(joiner *j, piece *p, piece *q)
{
    if (p->a->shape != q->a->shape && !(is_area(p->a) && is_area(q->a)))
        return FALSE;
    if (strcmp(p->a->label, q->a->label) != 0)
        return FALSE;
    if (!memcmp(&p->fragment, &q->fragment, sizeof p->fragment))
        return FALSE;
    double tolerance = MAX(p->tolerance, q->tolerance);
    if (!extents_meet(&p->fragment, &q->fragment, 0) ||
        !extents_meet(&p->shape, &q->shape, tolerance))
        return FALSE;
    extent zone = {MAX(p->fragment.x0, q->fragment.x0) - tolerance,
                   MAX(p->fragment.y0, q->fragment.y0) - tolerance,
                   MIN(p->fragment.x1, q->fragment.x1) + tolerance,
                   MIN(p->fragment.y1, q->fragment.y1) + tolerance};
    GEOSContextHandle_t h = j->geos;
    GEOSGeometry *a = geometry_of(j, p), *b = geometry_of(j, q);
    double distance = INFINITY;
    if (!a || !b || !GEOSDistance_r(h, a, b, &distance) || distance > tolerance)
        return FALSE;
    return reaches(h, a, &zone) && reaches(h, b, &zone);
}

/* The exterior ring of a polygon as vertices, without the closing one. */
static sf_vertex *ring_vertices(GEOSContextHandle_t h, const GEOSGeometry *polygon, size_t *n)
{
    const GEOSGeometry *shell = GEOSGetExteriorRing_r(h, polygon);
    const GEOSCoordSequence *ring = shell ? GEOSGeom_getCoordSeq_r(h, shell) : NULL;
    unsigned size = 0;
    if (!ring || !GEOSCoordSeq_getSize_r(h, ring, &size) || size < 4)
        return NULL;
    sf_vertex *v = g_new(sf_vertex, size - 1);
    for (unsigned i = 0; i + 1 < size; i++)
        GEOSCoordSeq_getXY_r(h, ring, i, &v[i].x, &v[i].y);
    *n = size - 1;
    return v;
}

/* The union of a group's area pieces, one polygon; NULL when they do not
 * make one (GEOS failed, or pieces within the tolerance stay apart). */
static GEOSGeometry *union_of(joiner *j, GPtrArray *group, double tolerance)
{
    GEOSContextHandle_t h = j->geos;
    GEOSGeometry **parts = g_new(GEOSGeometry *, group->len);
    for (guint i = 0; i < group->len; i++) {
        parts[i] = GEOSGeom_clone_r(h, geometry_of(j, group->pdata[i]));
        /* Closing the gap of a fragment pixel: grow, union, shrink, with
         * mitred corners so that a square stays a square. */
        GEOSGeometry *grown = parts[i]
                                  ? GEOSBufferWithStyle_r(h, parts[i], tolerance / 2, 8,
                                                          GEOSBUF_CAP_FLAT, GEOSBUF_JOIN_MITRE, 4.0)
                                  : NULL;
        if (parts[i])
            GEOSGeom_destroy_r(h, parts[i]);
        parts[i] = grown;
    }
    for (guint i = 0; i < group->len; i++)
        if (!parts[i]) {
            for (guint k = 0; k < group->len; k++)
                if (parts[k])
                    GEOSGeom_destroy_r(h, parts[k]);
            g_free(parts);
            return NULL;
        }
    GEOSGeometry *all = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, group->len);
    g_free(parts); /* the collection owns them */
    GEOSGeometry *merged = all ? GEOSUnaryUnion_r(h, all) : NULL;
    if (all)
        GEOSGeom_destroy_r(h, all);
    GEOSGeometry *shrunk = merged ? GEOSBufferWithStyle_r(h, merged, -tolerance / 2, 8,
                                                          GEOSBUF_CAP_FLAT, GEOSBUF_JOIN_MITRE, 4.0)
                                  : NULL;
    if (merged)
        GEOSGeom_destroy_r(h, merged);
    /* Vertices the seam left on straight edges go. */
    GEOSGeometry *simple = shrunk ? GEOSTopologyPreserveSimplify_r(h, shrunk, 1e-6) : NULL;
    if (shrunk)
        GEOSGeom_destroy_r(h, shrunk);
    if (simple && GEOSGeomTypeId_r(h, simple) != GEOS_POLYGON) {
        GEOSGeom_destroy_r(h, simple);
        simple = NULL;
    }
    return simple;
}

/* Joins one group into its first piece; the others are freed. */
static gboolean join_group(joiner *j, GPtrArray *group, GPtrArray *annotations)
{
    piece *first = group->pdata[0];
    double tolerance = 0;
    for (guint i = 0; i < group->len; i++)
        tolerance = MAX(tolerance, ((piece *)group->pdata[i])->tolerance);
    if (is_area(first->a)) {
        GEOSGeometry *polygon = union_of(j, group, tolerance);
        size_t n = 0;
        sf_vertex *v = polygon ? ring_vertices(j->geos, polygon, &n) : NULL;
        if (polygon)
            GEOSGeom_destroy_r(j->geos, polygon);
        if (!v)
            return FALSE;
        g_free(first->a->vertices);
        first->a->vertices = v;
        first->a->n_vertices = n;
        first->a->shape = sf_export_rectangle_corners(v, n) ? SF_SHAPE_RECTANGLE : SF_SHAPE_POLYGON;
    }
    /* A point drawn on two tiles: the first stays. */
    for (guint i = 1; i < group->len; i++) {
        piece *p = group->pdata[i];
        sf_annotation_free(annotations->pdata[p->index]);
        annotations->pdata[p->index] = NULL;
    }
    return TRUE;
}

static gint compare_left_edges(gconstpointer a, gconstpointer b, gpointer data)
{
    GArray *pieces = data;
    double x = g_array_index(pieces, piece, *(const guint *)a).shape.x0;
    double y = g_array_index(pieces, piece, *(const guint *)b).shape.x0;
    if (x != y)
        return x < y ? -1 : 1;
    return (*(const guint *)a > *(const guint *)b) - (*(const guint *)a < *(const guint *)b);
}

static void piece_clear(joiner *j, piece *p)
{
    if (p->geometry)
        GEOSGeom_destroy_r(j->geos, p->geometry);
}

guint sf_annotations_join_seams(sf_slide_annotations *slide, guint *n_joined)
{
    GPtrArray *annotations = slide->annotations;
    *n_joined = 0;
    /* The distinct fragments, and which of them touch another. */
    GArray *fragments = g_array_new(FALSE, FALSE, sizeof(extent));
    for (guint i = 0; i < annotations->len; i++) {
        const sf_annotation *a = annotations->pdata[i];
        if (a->fragment_w <= 0 || a->fragment_h <= 0)
            continue;
        extent e = fragment_extent(a);
        gboolean known = FALSE;
        for (guint k = 0; k < fragments->len && !known; k++)
            known = !memcmp(&g_array_index(fragments, extent, k), &e, sizeof e);
        if (!known)
            g_array_append_val(fragments, e);
    }
    joiner j = {.geos = NULL, .pieces = g_array_new(FALSE, FALSE, sizeof(piece))};
    for (guint i = 0; i < annotations->len && fragments->len > 1; i++) {
        sf_annotation *a = annotations->pdata[i];
        if (a->fragment_w <= 0 || a->n_vertices == 0 || !(is_area(a) || a->shape == SF_SHAPE_POINT))
            continue;
        piece p = {.index = i,
                   .a = a,
                   .fragment = fragment_extent(a),
                   .shape = vertex_extent(a),
                   .tolerance = precision_of(a)};
        /* Only a shape reaching another fragment can be shared. */
        gboolean shared = FALSE;
        for (guint k = 0; k < fragments->len && !shared; k++) {
            const extent *other = &g_array_index(fragments, extent, k);
            shared = memcmp(other, &p.fragment, sizeof p.fragment) != 0 &&
                     extents_meet(other, &p.fragment, 0) &&
                     extents_meet(other, &p.shape, p.tolerance);
        }
        if (shared) {
            p.parent = j.pieces->len;
            g_array_append_val(j.pieces, p);
        }
    }
    g_array_unref(fragments);
    guint n_groups = 0;
    if (j.pieces->len > 1) {
        j.geos = GEOS_init_r();
        GEOSContext_setErrorMessageHandler_r(j.geos, on_geos_message, NULL);
        GEOSContext_setNoticeMessageHandler_r(j.geos, on_geos_message, NULL);
        /* Pairs by a sweep over the pieces' left edges: a piece meets only
         * those starting before its right edge (plus the tolerance). */
        guint n = j.pieces->len;
        g_autofree guint *order = g_new(guint, n);
        double widest_tolerance = 0;
        for (guint k = 0; k < n; k++) {
            order[k] = k;
            widest_tolerance = MAX(widest_tolerance, g_array_index(j.pieces, piece, k).tolerance);
        }
        g_qsort_with_data(order, (gint)n, sizeof *order, compare_left_edges, j.pieces);
        for (guint s = 0; s < n; s++) {
            piece *p = &g_array_index(j.pieces, piece, order[s]);
            for (guint t = s + 1; t < n; t++) {
                piece *q = &g_array_index(j.pieces, piece, order[t]);
                if (q->shape.x0 > p->shape.x1 + widest_tolerance)
                    break;
                if (find_root(j.pieces, order[s]) != find_root(j.pieces, order[t]) &&
                    same_shape(&j, p, q))
                    unite(j.pieces, order[s], order[t]);
            }
        }
        /* Groups by root, members in their order in the slide. */
        g_autoptr(GHashTable) groups = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                                             (GDestroyNotify)g_ptr_array_unref);
        for (guint k = 0; k < n; k++) {
            gpointer root = GUINT_TO_POINTER(find_root(j.pieces, k));
            GPtrArray *group = g_hash_table_lookup(groups, root);
            if (!group) {
                group = g_ptr_array_new();
                g_hash_table_insert(groups, root, group);
            }
            g_ptr_array_add(group, &g_array_index(j.pieces, piece, k));
        }
        for (guint k = 0; k < n; k++) {
            GPtrArray *group = g_hash_table_lookup(groups, GUINT_TO_POINTER(k));
            if (group && group->len > 1 && join_group(&j, group, annotations)) {
                n_groups++;
                *n_joined += group->len;
            }
        }
        for (guint k = 0; k < j.pieces->len; k++)
            piece_clear(&j, &g_array_index(j.pieces, piece, k));
        GEOS_finish_r(j.geos);
    }
    g_array_unref(j.pieces);
    /* Drop the joined pieces, keeping the order of the others. */
    guint kept = 0;
    for (guint i = 0; i < annotations->len; i++)
        if (annotations->pdata[i])
            annotations->pdata[kept++] = annotations->pdata[i];
    g_ptr_array_set_free_func(annotations, NULL);
    g_ptr_array_set_size(annotations, kept);
    g_ptr_array_set_free_func(annotations, (GDestroyNotify)sf_annotation_free);
    return n_groups;
}
