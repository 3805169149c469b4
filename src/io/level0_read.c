/*
 * Annotations already on the slide, in level-0 pixels: QuPath GeoJSON,
 * ASAP XML and Aperio ImageScope XML (docs/formats.md, "Whole-slide
 * files"), the formats map writes and the ones a lab has from an earlier
 * round or a model. pre-annotate takes them out to the fragments.
 *
 * Read the way exports are: bounded by the set's limits, GeoJSON one
 * feature at a time through the pull reader, XML as a stream with one
 * shape in memory, every problem against its file and line.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <string.h>

#include "io/export_internal.h"
#include "io/input.h"
#include "slidefrag/error.h"
#include "slidefrag/slide.h"

char *sf_annotation_file_stem(const char *path)
{
    char *name = g_path_get_basename(path);
    static const char *const suffixes[] = {".geojson", ".json", ".xml"};
    for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        size_t n = strlen(name), k = strlen(suffixes[i]);
        if (n > k && !g_ascii_strcasecmp(name + n - k, suffixes[i])) {
            name[n - k] = '\0';
            name[strlen(name) - sf_slide_extension_length(name)] = '\0';
            break;
        }
    }
    return name;
}

/* Keeps a shape of `n` vertices (a closing vertex repeating the first
 * already dropped); `v` is taken. */
static void keep_shape(sf_annotation_set *set, const char *label, gboolean area, sf_vertex *v,
                       size_t n, const char *stem, const char *source, int line, const char *where)
{
    sf_shape shape = SF_SHAPE_POLYGON;
    if (!area)
        shape = n == 1 ? SF_SHAPE_POINT : SF_SHAPE_LINE;
    else if (sf_export_rectangle_corners(v, n))
        shape = SF_SHAPE_RECTANGLE;
    g_autofree char *location =
        line ? sf_export_line_location(source, line) : g_strdup_printf("%s: %s", source, where);
    if ((area && n < 3) || (!area && n != 1 && n != 2)) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, location,
                          area ? "an area of fewer than 3 vertices"
                               : "a line of other than 2 vertices (not supported)");
        g_free(v);
        return;
    }
    sf_annotation *a = sf_export_annotation_new(label, shape, 0, stem, source, line, where);
    g_free(a->vertices);
    a->vertices = v;
    a->n_vertices = n;
    sf_export_keep(set, a);
}

/* ---- QuPath GeoJSON ------------------------------------------------------- */

typedef struct {
    const char *stem;
} geojson_context;

/* [[x, y], ...] as vertices, the closing one dropped for rings. */
static sf_vertex *positions(JsonArray *list, gboolean ring, size_t *n)
{
    guint count = list ? json_array_get_length(list) : 0;
    sf_vertex *v = g_new(sf_vertex, MAX(count, 1));
    for (guint i = 0; i < count; i++) {
        JsonArray *p = sf_json_array(json_array_get_element(list, i));
        if (!p || json_array_get_length(p) < 2 ||
            !sf_json_number(json_array_get_element(p, 0), &v[i].x) ||
            !sf_json_number(json_array_get_element(p, 1), &v[i].y)) {
            g_free(v);
            return NULL;
        }
    }
    if (ring && count > 1 && v[0].x == v[count - 1].x && v[0].y == v[count - 1].y)
        count--;
    *n = count;
    return v;
}

static void read_feature(sf_annotation_set *set, const char *name, const char *key, guint index,
                         JsonNode *node, gpointer data)
{
    (void)key;
    const geojson_context *context = data;
    g_autofree char *where = g_strdup_printf("features[%u]", index);
    g_autofree char *location = g_strdup_printf("%s: %s", name, where);
    JsonObject *feature = sf_json_object(node);
    JsonObject *geometry = sf_json_object_member(feature, "geometry");
    JsonObject *properties = sf_json_object_member(feature, "properties");
    const char *type = sf_json_string_member(geometry, "type");
    const char *label =
        sf_json_string_member(sf_json_object_member(properties, "classification"), "name");
    if (!label)
        label = sf_json_string_member(properties, "name");
    if (!label || !*label)
        label = "annotation";
    if (!type) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, location, "a feature without a geometry");
        return;
    }
    JsonArray *coordinates = sf_json_array_member(geometry, "coordinates");
    size_t n = 0;
    if (!strcmp(type, "Point") || !strcmp(type, "LineString")) {
        gboolean point = !strcmp(type, "Point");
        sf_vertex *v = NULL;
        if (point && coordinates && json_array_get_length(coordinates) >= 2) {
            v = g_new(sf_vertex, 1);
            n = 1;
            if (!sf_json_number(json_array_get_element(coordinates, 0), &v->x) ||
                !sf_json_number(json_array_get_element(coordinates, 1), &v->y))
                g_clear_pointer(&v, g_free);
        } else if (!point) {
            v = positions(coordinates, FALSE, &n);
        }
        if (!v) {
            sf_export_problem(set, SF_SKIP_MALFORMED, 1, location, "%s coordinates are not numbers",
                              type);
            return;
        }
        keep_shape(set, label, FALSE, v, n, context->stem, name, 0, where);
        return;
    }
    /* A Polygon's outer ring; each polygon of a MultiPolygon. Holes cannot
     * be drawn in Makesense: they are left out, and said so. */
    gboolean multi = !strcmp(type, "MultiPolygon");
    if (!multi && strcmp(type, "Polygon") != 0) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, location,
                          "geometry %s is not supported (Polygon, MultiPolygon, Point, LineString)",
                          type);
        return;
    }
    guint n_polygons = multi && coordinates ? json_array_get_length(coordinates) : 1;
    for (guint p = 0; p < n_polygons && !sf_export_stopped(set); p++) {
        JsonArray *rings =
            multi ? sf_json_array(json_array_get_element(coordinates, p)) : coordinates;
        JsonArray *shell = rings && json_array_get_length(rings)
                               ? sf_json_array(json_array_get_element(rings, 0))
                               : NULL;
        sf_vertex *v = positions(shell, TRUE, &n);
        if (!v) {
            sf_export_problem(set, SF_SKIP_MALFORMED, 1, location,
                              "%s coordinates are not rings of numbers", type);
            continue;
        }
        if (json_array_get_length(rings) > 1)
            sf_export_note(set, location, "holes of a polygon left out (Makesense draws none)");
        keep_shape(set, label, TRUE, v, n, context->stem, name, 0, where);
    }
}

static void read_geojson(sf_annotation_set *set, const char *name, const char *stem,
                         const char *data, size_t length)
{
    static const char *const features[] = {"features", NULL};
    sf_json_outline outline = {0};
    if (sf_json_outline_read(set, name, data, length, &outline)) {
        if (sf_json_outline_kind(&outline, "features") != SF_JSON_ARRAY_BEGIN)
            sf_export_problem(set, SF_SKIP_NOT_EXPORT, 1, name,
                              "JSON but not a GeoJSON FeatureCollection");
        else {
            geojson_context context = {stem};
            sf_json_entries(set, name, data, length, features, read_feature, &context);
        }
    }
    sf_json_outline_clear(&outline);
}

/* ---- ASAP and ImageScope XML ------------------------------------------------ */

static char *attribute(xmlTextReader *reader, const char *name)
{
    xmlChar *value = xmlTextReaderGetAttribute(reader, BAD_CAST name);
    char *text = value ? g_strdup((const char *)value) : NULL;
    xmlFree(value);
    return text;
}

static char *node_attribute(xmlNode *node, const char *name)
{
    xmlChar *value = xmlGetProp(node, BAD_CAST name);
    char *text = value ? g_strdup((const char *)value) : NULL;
    xmlFree(value);
    return text;
}

/* The vertices of the elements named `tag` below `node`, in order. */
static sf_vertex *element_vertices(xmlNode *node, const char *tag, size_t *n)
{
    GArray *v = g_array_new(FALSE, FALSE, sizeof(sf_vertex));
    for (xmlNode *c = node; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!strcmp((const char *)c->name, tag)) {
            g_autofree char *x = node_attribute(c, "X");
            g_autofree char *y = node_attribute(c, "Y");
            sf_vertex p;
            if (!x || !y || !sf_export_parse_double(x, &p.x) || !sf_export_parse_double(y, &p.y)) {
                g_array_unref(v);
                return NULL;
            }
            g_array_append_val(v, p);
        } else if (c->children) {
            size_t k = 0;
            sf_vertex *inner = element_vertices(c->children, tag, &k);
            if (!inner) {
                g_array_unref(v);
                return NULL;
            }
            g_array_append_vals(v, inner, (guint)k);
            g_free(inner);
        }
    }
    *n = v->len;
    return (sf_vertex *)(void *)g_array_free(v, FALSE);
}

typedef struct {
    int line;
    char *message;
} xml_error;

static void on_error(void *data, xmlErrorPtr error)
{
    xml_error *e = data;
    if (!e->message && error->level >= XML_ERR_ERROR) {
        e->line = error->line;
        e->message = g_strstrip(g_strdup(error->message ? error->message : "?"));
    }
}

/*
 * ASAP: ASAP_Annotations/Annotations/Annotation[@Type, @PartOfGroup]/
 * Coordinates/Coordinate[@X, @Y]; ImageScope: Annotations/Annotation
 * [@Name]/Regions/Region[@Type]/Vertices/Vertex[@X, @Y]. One Annotation
 * (ASAP) or Region (ImageScope) is expanded at a time.
 */
static void read_xml(sf_annotation_set *set, const char *name, const char *stem, const char *data,
                     size_t length)
{
    if (length > G_MAXINT) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, name, "XML file too large");
        return;
    }
    xmlTextReader *reader = xmlReaderForMemory(
        data, (int)length, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!reader) {
        sf_export_fatal(set, SF_EXIT_FAILURE, name, "out of memory reading XML");
        return;
    }
    xml_error failure = {0};
    xmlTextReaderSetStructuredErrorHandler(reader, on_error, &failure);
    gboolean asap = FALSE, imagescope = FALSE, refused = FALSE;
    g_autofree char *layer = NULL; /* ImageScope: the current Annotation's name */
    int status = xmlTextReaderRead(reader);
    while (status == 1 && !sf_export_stopped(set)) {
        int type = xmlTextReaderNodeType(reader);
        int depth = xmlTextReaderDepth(reader);
        if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
            sf_export_problem(set, SF_SKIP_MALFORMED, 1, name,
                              "XML with a DOCTYPE is refused (entities are never expanded)");
            refused = TRUE;
            break;
        }
        if (type != XML_READER_TYPE_ELEMENT) {
            status = xmlTextReaderRead(reader);
            continue;
        }
        const char *element = (const char *)xmlTextReaderConstName(reader);
        if (depth == 0) {
            asap = !strcmp(element, "ASAP_Annotations");
            imagescope = !strcmp(element, "Annotations");
            if (!asap && !imagescope) {
                sf_export_problem(set, SF_SKIP_NOT_EXPORT, 1, name,
                                  "XML root is <%s>, neither ASAP nor ImageScope", element);
                refused = TRUE;
                break;
            }
        } else if (imagescope && depth == 1 && !strcmp(element, "Annotation")) {
            g_free(layer);
            layer = attribute(reader, "Name");
        }
        gboolean shape = (asap && depth == 2 && !strcmp(element, "Annotation")) ||
                         (imagescope && depth == 3 && !strcmp(element, "Region"));
        if (!shape) {
            status = xmlTextReaderRead(reader);
            continue;
        }
        xmlNode *node = xmlTextReaderExpand(reader);
        if (!node) {
            status = -1;
            break;
        }
        int line = (int)xmlGetLineNo(node);
        g_autofree char *kind = node_attribute(node, "Type");
        g_autofree char *group = asap ? node_attribute(node, "PartOfGroup") : NULL;
        const char *label = asap ? group : layer;
        if (!label || !*label || (asap && !strcmp(label, "None")))
            label = "annotation";
        size_t n = 0;
        sf_vertex *v = element_vertices(node->children, asap ? "Coordinate" : "Vertex", &n);
        /* ASAP: Dot and PointSet are points, Spline an open path. ImageScope:
         * types 0 and 1 (outlines, rectangles) are areas, 3 and 4 (arrow,
         * ruler) lines, 5 a pin; one or two vertices make a point or a line
         * whatever the type (map writes every shape as type 0). */
        gboolean area = asap ? kind && (!strcmp(kind, "Polygon") || !strcmp(kind, "Rectangle"))
                             : !kind || !strcmp(kind, "0") || !strcmp(kind, "1");
        if (imagescope && v && n <= 2)
            area = FALSE;
        if (!v) {
            g_autofree char *at = sf_export_line_location(name, line);
            sf_export_problem(set, SF_SKIP_MALFORMED, 1, at, "a vertex without numbers X and Y");
        } else if (area && n > 1 && v[0].x == v[n - 1].x && v[0].y == v[n - 1].y) {
            keep_shape(set, label, TRUE, v, n - 1, stem, name, line, NULL);
        } else if (!area && n > 2) {
            /* A point set: each its own point. */
            for (size_t i = 0; i < n; i++) {
                sf_vertex *one = g_new(sf_vertex, 1);
                *one = v[i];
                keep_shape(set, label, FALSE, one, 1, stem, name, line, NULL);
            }
            g_free(v);
        } else {
            keep_shape(set, label, area, v, n, stem, name, line, NULL);
        }
        status = xmlTextReaderNext(reader);
    }
    if (status < 0 && !refused && !sf_export_stopped(set)) {
        g_autofree char *at = sf_export_line_location(name, failure.line);
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, at, "not well-formed XML: %s",
                          failure.message ? failure.message : "?");
    }
    g_free(failure.message);
    xmlFreeTextReader(reader);
}

gboolean sf_level0_read_path(sf_annotation_set *set, const char *path, const char *stem,
                             GError **error)
{
    sf_annotation_set_begin_named_export(set, path);
    if (sf_export_stopped(set)) {
        g_propagate_error(error, g_error_copy(set->priv->fatal));
        return FALSE;
    }
    g_autofree char *data = NULL;
    size_t length = 0;
    if (!sf_input_read(path, "annotations", SF_INPUT_FILE, set->priv->limits.max_bytes, &data,
                       &length, error))
        return FALSE;
    g_autofree char *own_stem = stem ? g_strdup(stem) : sf_annotation_file_stem(path);
    size_t rest = 0;
    const char *text = sf_export_skip_bom_and_space(data, length, &rest);
    if (rest && (*text == '{' || *text == '['))
        read_geojson(set, path, own_stem, data, length);
    else if (rest && *text == '<')
        read_xml(set, path, own_stem, data, length);
    else
        sf_export_problem(set, SF_SKIP_NOT_EXPORT, 1, path,
                          "not QuPath GeoJSON, ASAP XML or ImageScope XML");
    set->priv->n_exports++;
    if (set->priv->fatal) {
        g_propagate_error(error, g_error_copy(set->priv->fatal));
        return FALSE;
    }
    return TRUE;
}
