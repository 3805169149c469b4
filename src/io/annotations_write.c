/*
 * Whole-slide annotation files for viewers and pipelines (docs/formats.md,
 * "Writing whole-slide annotations"): QuPath GeoJSON, ASAP XML, Aperio
 * ImageScope XML, COCO JSON and a flat CSV. Coordinates are level-0 pixels
 * with the origin at the top-left; each file states which offset, if any,
 * was subtracted.
 */
#include <json-glib/json-glib.h>
#include <libxml/xmlwriter.h>
#include <math.h>
#include <string.h>

#include "io/folder.h"
#include "io/json_safe.h"
#include "slidefrag/annotations.h"
#include "slidefrag/error.h"
#include "slidefrag/image_io.h"

gboolean sf_annotation_format_parse(const char *name, sf_annotation_format *format)
{
    static const struct {
        const char *name;
        sf_annotation_format format;
    } names[] = {
        {"geojson", SF_ANNOTATIONS_GEOJSON}, {"qupath", SF_ANNOTATIONS_GEOJSON},
        {"asap", SF_ANNOTATIONS_ASAP},       {"imagescope", SF_ANNOTATIONS_IMAGESCOPE},
        {"coco", SF_ANNOTATIONS_COCO},       {"csv", SF_ANNOTATIONS_CSV},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (!g_ascii_strcasecmp(name, names[i].name)) {
            *format = names[i].format;
            return TRUE;
        }
    return FALSE;
}

const char *sf_annotation_format_extension(sf_annotation_format format)
{
    switch (format) {
    case SF_ANNOTATIONS_GEOJSON:
        return "geojson";
    case SF_ANNOTATIONS_ASAP:
    case SF_ANNOTATIONS_IMAGESCOPE:
        return "xml";
    case SF_ANNOTATIONS_COCO:
        return "json";
    case SF_ANNOTATIONS_CSV:
        return "csv";
    }
    return "txt";
}

void sf_label_colour(const char *label, uint8_t rgb[3])
{
    /* Well-separated hues; a label keeps its colour in every file because
     * the index depends on its name alone (FNV-1a). */
    static const uint8_t palette[][3] = {
        {230, 25, 75},  {60, 180, 75},  {0, 130, 200},  {245, 130, 48},
        {145, 30, 180}, {70, 200, 200}, {240, 50, 230}, {160, 190, 40},
        {0, 128, 128},  {170, 110, 40}, {128, 0, 0},    {0, 0, 128},
    };
    guint32 hash = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)label; *p; p++)
        hash = (hash ^ *p) * 16777619u;
    memcpy(rgb, palette[hash % G_N_ELEMENTS(palette)], 3);
}

/* ---- Shared pieces ----------------------------------------------------- */

/*
 * Where a file's text goes: a string (sf_annotations_serialise) or the
 * output file. Files are written a piece at a time, one annotation's tree
 * at most: the whole GeoJSON document as one json-glib tree took about 6 KB
 * per annotation, 6 GB for the million annotations a map may hold.
 */
typedef struct {
    GString *string;
    FILE *file;
} sink;

static void put_length(sink *out, const char *text, size_t length)
{
    if (out->string)
        g_string_append_len(out->string, text, (gssize)length);
    else
        fwrite(text, 1, length, out->file); /* errors: sf_output_commit */
}

static void put(sink *out, const char *text)
{
    put_length(out, text, strlen(text));
}

/* A node as slidefrag writes JSON (compact, sf_json_text), then freed. */
static void put_node(sink *out, JsonNode *node)
{
    g_autofree char *text = sf_json_text(node, FALSE);
    put(out, text);
    json_node_unref(node);
}

/* What the builder built, as a node. */
static JsonNode *built(JsonBuilder *b)
{
    JsonNode *node = json_builder_get_root(b);
    g_object_unref(b);
    return node;
}

static char *display_name(const sf_annotation *a)
{
    return g_strdup_printf("%s @ %s", a->label, a->image);
}

static const char *offset_name(const sf_slide_annotations *slide)
{
    return slide->offset == SF_OFFSET_BOUNDS ? "bounds" : "none";
}

/* One sentence stating the coordinate convention of the file. */
static char *convention(const sf_slide_annotations *slide)
{
    if (slide->offset == SF_OFFSET_NONE)
        return g_strdup("level-0 pixels, origin at the top-left corner of level 0 "
                        "(slide offset none)");
    if (slide->manifest && slide->manifest->has_bounds)
        return g_strdup_printf("level-0 pixels minus openslide.bounds-x/y = (%" G_GINT64_FORMAT
                               ", %" G_GINT64_FORMAT
                               "), as QuPath shows slides cropped to their bounds "
                               "(slide offset bounds)",
                               slide->offset_x, slide->offset_y);
    return g_strdup("level-0 pixels; slide offset bounds requested but the slide has no "
                    "openslide.bounds, so nothing was subtracted");
}

/* Labels in sorted order, each once. */
static GPtrArray *sorted_labels(const sf_slide_annotations *slide)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    GPtrArray *labels = g_ptr_array_new();
    for (guint i = 0; i < slide->annotations->len; i++) {
        const sf_annotation *a = slide->annotations->pdata[i];
        if (g_hash_table_add(seen, a->label))
            g_ptr_array_add(labels, a->label);
    }
    g_ptr_array_sort(labels, sf_compare_string_ptrs);
    return labels;
}

/* ---- QuPath GeoJSON ------------------------------------------------------ */

static void add_position(JsonBuilder *b, const sf_vertex *v)
{
    json_builder_begin_array(b);
    json_builder_add_double_value(b, v->x);
    json_builder_add_double_value(b, v->y);
    json_builder_end_array(b);
}

static void add_geometry(JsonBuilder *b, const sf_annotation *a)
{
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "type");
    switch (a->shape) {
    case SF_SHAPE_POINT:
        json_builder_add_string_value(b, "Point");
        json_builder_set_member_name(b, "coordinates");
        add_position(b, &a->vertices[0]);
        break;
    case SF_SHAPE_LINE:
        json_builder_add_string_value(b, "LineString");
        json_builder_set_member_name(b, "coordinates");
        json_builder_begin_array(b);
        for (size_t i = 0; i < a->n_vertices; i++)
            add_position(b, &a->vertices[i]);
        json_builder_end_array(b);
        break;
    case SF_SHAPE_RECTANGLE:
    case SF_SHAPE_POLYGON:
        /* GeoJSON rings are closed: the first position is repeated. */
        json_builder_add_string_value(b, "Polygon");
        json_builder_set_member_name(b, "coordinates");
        json_builder_begin_array(b);
        json_builder_begin_array(b);
        for (size_t i = 0; i < a->n_vertices; i++)
            add_position(b, &a->vertices[i]);
        add_position(b, &a->vertices[0]);
        json_builder_end_array(b);
        json_builder_end_array(b);
        break;
    }
    json_builder_end_object(b);
}

static void add_feature(JsonBuilder *b, const sf_slide_annotations *slide, const sf_annotation *a)
{
    uint8_t rgb[3];
    sf_label_colour(a->label, rgb);
    g_autofree char *name = display_name(a);
    g_autofree char *location = sf_annotation_location(a);

    json_builder_begin_object(b);
    sf_json_add_string(b, "type", "Feature");
    json_builder_set_member_name(b, "geometry");
    add_geometry(b, a);
    json_builder_set_member_name(b, "properties");
    json_builder_begin_object(b);
    sf_json_add_string(b, "objectType", "annotation");
    sf_json_add_string(b, "name", name);
    json_builder_set_member_name(b, "classification");
    json_builder_begin_object(b);
    sf_json_add_string(b, "name", a->label);
    json_builder_set_member_name(b, "color");
    json_builder_begin_array(b);
    for (int k = 0; k < 3; k++)
        json_builder_add_int_value(b, rgb[k]);
    json_builder_end_array(b);
    json_builder_end_object(b);
    /* QuPath keeps string "metadata" with the object. */
    json_builder_set_member_name(b, "metadata");
    json_builder_begin_object(b);
    sf_json_add_string(b, "fragment", a->image);
    sf_json_add_string(b, "label", a->label);
    sf_json_add_string(b, "shape", sf_shape_name(a->shape));
    sf_json_add_string(b, "source", location);
    sf_json_add_string(b, "slide_offset", offset_name(slide));
    json_builder_end_object(b);
    json_builder_end_object(b);
    json_builder_end_object(b);
}

static JsonNode *convention_node(const sf_slide_annotations *slide)
{
    g_autofree char *text = convention(slide);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    sf_json_add_string(b, "slide", slide->stem);
    sf_json_add_string(b, "coordinates", text);
    sf_json_add_string(b, "slide_offset", offset_name(slide));
    json_builder_set_member_name(b, "offset");
    json_builder_begin_array(b);
    json_builder_add_int_value(b, slide->offset_x);
    json_builder_add_int_value(b, slide->offset_y);
    json_builder_end_array(b);
    json_builder_end_object(b);
    return built(b);
}

static void geojson(const sf_slide_annotations *slide, sink *out)
{
    /* A foreign member (RFC 7946 section 6.1) that readers ignore. */
    put(out, "{\"type\":\"FeatureCollection\",\"slidefrag\":");
    put_node(out, convention_node(slide));
    put(out, ",\"features\":[");
    for (guint i = 0; i < slide->annotations->len; i++) {
        if (i)
            put(out, ",");
        JsonBuilder *b = json_builder_new();
        add_feature(b, slide, slide->annotations->pdata[i]);
        put_node(out, built(b));
    }
    put(out, "]}");
}

/* ---- COCO ------------------------------------------------------------------ */

static void bounding_box(const sf_annotation *a, double box[4])
{
    double x0 = a->vertices[0].x, y0 = a->vertices[0].y, x1 = x0, y1 = y0;
    for (size_t i = 1; i < a->n_vertices; i++) {
        x0 = MIN(x0, a->vertices[i].x);
        y0 = MIN(y0, a->vertices[i].y);
        x1 = MAX(x1, a->vertices[i].x);
        y1 = MAX(y1, a->vertices[i].y);
    }
    box[0] = x0;
    box[1] = y0;
    box[2] = x1 - x0;
    box[3] = y1 - y0;
}

static double polygon_area(const sf_annotation *a)
{
    double sum = 0;
    for (size_t i = 0, j = a->n_vertices - 1; i < a->n_vertices; j = i++)
        sum += (a->vertices[j].x + a->vertices[i].x) * (a->vertices[j].y - a->vertices[i].y);
    return fabs(sum / 2);
}

static void add_coco_annotation(JsonBuilder *b, const sf_annotation *a, int id, int category)
{
    gboolean area_shape = a->shape == SF_SHAPE_RECTANGLE || a->shape == SF_SHAPE_POLYGON;
    double box[4];
    bounding_box(a, box);
    g_autofree char *location = sf_annotation_location(a);
    json_builder_begin_object(b);
    sf_json_add_int(b, "id", id);
    sf_json_add_int(b, "image_id", 1);
    sf_json_add_int(b, "category_id", category);
    sf_json_add_int(b, "iscrowd", 0);
    json_builder_set_member_name(b, "segmentation");
    json_builder_begin_array(b);
    if (area_shape) {
        json_builder_begin_array(b);
        for (size_t i = 0; i < a->n_vertices; i++) {
            json_builder_add_double_value(b, a->vertices[i].x);
            json_builder_add_double_value(b, a->vertices[i].y);
        }
        json_builder_end_array(b);
    }
    json_builder_end_array(b);
    if (!area_shape) {
        /* Points and lines have no area: COCO's keypoints carry them. */
        json_builder_set_member_name(b, "keypoints");
        json_builder_begin_array(b);
        for (size_t i = 0; i < a->n_vertices; i++) {
            json_builder_add_double_value(b, a->vertices[i].x);
            json_builder_add_double_value(b, a->vertices[i].y);
            json_builder_add_int_value(b, 2);
        }
        json_builder_end_array(b);
        sf_json_add_int(b, "num_keypoints", (gint64)a->n_vertices);
    }
    json_builder_set_member_name(b, "bbox");
    json_builder_begin_array(b);
    for (int k = 0; k < 4; k++)
        json_builder_add_double_value(b, box[k]);
    json_builder_end_array(b);
    sf_json_add_double(b, "area", area_shape ? polygon_area(a) : 0.0);
    json_builder_set_member_name(b, "attributes");
    json_builder_begin_object(b);
    sf_json_add_string(b, "shape", sf_shape_name(a->shape));
    sf_json_add_string(b, "fragment", a->image);
    sf_json_add_string(b, "source", location);
    json_builder_end_object(b);
    json_builder_end_object(b);
}

static void coco(const sf_slide_annotations *slide, sink *out)
{
    g_autoptr(GPtrArray) labels = sorted_labels(slide);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    g_autofree char *description = g_strdup_printf("slidefrag map: %s", slide->stem);
    sf_json_add_string(b, "description", description);
    json_builder_set_member_name(b, "slidefrag");
    json_builder_add_value(b, convention_node(slide));
    json_builder_end_object(b);
    put(out, "{\"info\":");
    put_node(out, built(b));

    b = json_builder_new();
    json_builder_begin_array(b);
    json_builder_begin_object(b);
    sf_json_add_int(b, "id", 1);
    g_autofree char *file_name =
        slide->manifest ? g_path_get_basename(slide->manifest->slide_path) : g_strdup(slide->stem);
    sf_json_add_string(b, "file_name", file_name);
    if (slide->manifest) {
        sf_json_add_int(b, "width", slide->manifest->width);
        sf_json_add_int(b, "height", slide->manifest->height);
    }
    json_builder_end_object(b);
    json_builder_end_array(b);
    put(out, ",\"images\":");
    put_node(out, built(b));

    b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0; i < labels->len; i++) {
        json_builder_begin_object(b);
        sf_json_add_int(b, "id", i + 1);
        sf_json_add_string(b, "name", labels->pdata[i]);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    put(out, ",\"categories\":");
    put_node(out, built(b));

    /* Category ids by label: a search per annotation was quadratic. */
    g_autoptr(GHashTable) category_ids = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < labels->len; i++)
        g_hash_table_insert(category_ids, labels->pdata[i], GUINT_TO_POINTER(i + 1));
    put(out, ",\"annotations\":[");
    for (guint i = 0; i < slide->annotations->len; i++) {
        const sf_annotation *a = slide->annotations->pdata[i];
        guint category = GPOINTER_TO_UINT(g_hash_table_lookup(category_ids, a->label));
        if (i)
            put(out, ",");
        b = json_builder_new();
        add_coco_annotation(b, a, (int)i + 1, (int)category);
        put_node(out, built(b));
    }
    put(out, "]}");
}

/* ---- XML (ASAP, ImageScope) ------------------------------------------------ */

/* XML comments may not contain "--" nor end in '-'. */
static char *comment_safe(const char *text)
{
    GString *s = g_string_new(NULL);
    for (const char *p = text; *p; p++) {
        g_string_append_c(s, *p);
        if (*p == '-' && (p[1] == '-' || p[1] == '\0'))
            g_string_append_c(s, ' ');
    }
    return g_string_free(s, FALSE);
}

/* XML 1.0 forbids most control characters even as references, and a
 * reader refuses the whole file for one: labels and names from exports
 * may hold them, so each becomes U+FFFD (as does invalid UTF-8). */
static char *xml_safe(const char *text)
{
    g_autofree char *valid = g_utf8_make_valid(text, -1);
    GString *s = g_string_sized_new(strlen(valid));
    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
            (c >= 0xE000 && c <= 0xFFFD) || c >= 0x10000)
            g_string_append_len(s, p, g_utf8_next_char(p) - p);
        else
            g_string_append_unichar(s, 0xFFFD);
    }
    return g_string_free(s, FALSE);
}

static void xml_attribute(xmlTextWriter *w, const char *name, const char *value)
{
    g_autofree char *safe = xml_safe(value);
    xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST safe);
}

static void xml_number_attribute(xmlTextWriter *w, const char *name, double value)
{
    char buf[SF_NUMBER_TEXT_SIZE];
    xml_attribute(w, name, sf_number_text(buf, value));
}

static void xml_int_attribute(xmlTextWriter *w, const char *name, int64_t value)
{
    char buf[32];
    g_snprintf(buf, sizeof buf, "%" G_GINT64_FORMAT, value);
    xml_attribute(w, name, buf);
}

static void xml_comment(xmlTextWriter *w, const sf_slide_annotations *slide)
{
    g_autofree char *text = convention(slide);
    g_autofree char *full =
        g_strdup_printf(" slidefrag map: slide %s; coordinates are %s ", slide->stem, text);
    g_autofree char *valid = xml_safe(full);
    g_autofree char *safe = comment_safe(valid);
    xmlTextWriterWriteComment(w, BAD_CAST safe);
}

static const char *asap_type(sf_shape shape)
{
    switch (shape) {
    case SF_SHAPE_RECTANGLE:
        return "Rectangle";
    case SF_SHAPE_POLYGON:
        return "Polygon";
    case SF_SHAPE_POINT:
        return "Dot";
    case SF_SHAPE_LINE:
        return "Spline"; /* an open path; two points make a straight line */
    }
    return "Polygon";
}

static void colour_hex(const char *label, char out[8])
{
    uint8_t rgb[3];
    sf_label_colour(label, rgb);
    g_snprintf(out, 8, "#%02X%02X%02X", rgb[0], rgb[1], rgb[2]);
}

static void asap_body(xmlTextWriter *w, const sf_slide_annotations *slide)
{
    g_autoptr(GPtrArray) labels = sorted_labels(slide);
    xmlTextWriterStartElement(w, BAD_CAST "ASAP_Annotations");
    xml_comment(w, slide);
    xmlTextWriterStartElement(w, BAD_CAST "Annotations");
    for (guint i = 0; i < slide->annotations->len; i++) {
        const sf_annotation *a = slide->annotations->pdata[i];
        g_autofree char *name = display_name(a);
        char colour[8];
        colour_hex(a->label, colour);
        xmlTextWriterStartElement(w, BAD_CAST "Annotation");
        xml_attribute(w, "Name", name);
        xml_attribute(w, "Type", asap_type(a->shape));
        /* Always a group defined below: ASAP rejects unknown groups. */
        xml_attribute(w, "PartOfGroup", a->label);
        xml_attribute(w, "Color", colour);
        xmlTextWriterStartElement(w, BAD_CAST "Coordinates");
        for (size_t k = 0; k < a->n_vertices; k++) {
            xmlTextWriterStartElement(w, BAD_CAST "Coordinate");
            xml_int_attribute(w, "Order", (int64_t)k);
            xml_number_attribute(w, "X", a->vertices[k].x);
            xml_number_attribute(w, "Y", a->vertices[k].y);
            xmlTextWriterEndElement(w);
        }
        xmlTextWriterEndElement(w); /* Coordinates */
        xmlTextWriterEndElement(w); /* Annotation */
    }
    xmlTextWriterEndElement(w); /* Annotations */
    xmlTextWriterStartElement(w, BAD_CAST "AnnotationGroups");
    for (guint i = 0; i < labels->len; i++) {
        char colour[8];
        colour_hex(labels->pdata[i], colour);
        xmlTextWriterStartElement(w, BAD_CAST "Group");
        xml_attribute(w, "Name", labels->pdata[i]);
        xml_attribute(w, "PartOfGroup", "None");
        xml_attribute(w, "Color", colour);
        xmlTextWriterStartElement(w, BAD_CAST "Attributes");
        xmlTextWriterEndElement(w);
        xmlTextWriterEndElement(w);
    }
    xmlTextWriterEndElement(w); /* AnnotationGroups */
    xmlTextWriterEndElement(w); /* ASAP_Annotations */
}

/*
 * ImageScope has no public schema. One Annotation (layer) per label, one
 * Region per shape. Region Type 0 (polygon) is the only type third-party
 * readers agree on, so every shape is written as its vertex list under it.
 */
static void imagescope_body(xmlTextWriter *w, const sf_slide_annotations *slide)
{
    g_autoptr(GPtrArray) labels = sorted_labels(slide);
    xmlTextWriterStartElement(w, BAD_CAST "Annotations");
    if (slide->manifest && slide->manifest->mpp_x > 0)
        xml_number_attribute(w, "MicronsPerPixel", slide->manifest->mpp_x);
    xml_comment(w, slide);
    int region_id = 1;
    for (guint l = 0; l < labels->len; l++) {
        const char *label = labels->pdata[l];
        uint8_t rgb[3];
        sf_label_colour(label, rgb);
        xmlTextWriterStartElement(w, BAD_CAST "Annotation");
        xml_int_attribute(w, "Id", l + 1);
        xml_attribute(w, "Name", label);
        /* Decimal BBGGRR, so 255 is red. */
        xml_int_attribute(w, "LineColor", rgb[0] | rgb[1] << 8 | rgb[2] << 16);
        xml_attribute(w, "Type", "4");
        xml_attribute(w, "Visible", "1");
        xmlTextWriterStartElement(w, BAD_CAST "Regions");
        for (guint i = 0; i < slide->annotations->len; i++) {
            const sf_annotation *a = slide->annotations->pdata[i];
            if (strcmp(a->label, label) != 0)
                continue;
            g_autofree char *text =
                g_strdup_printf("%s %s @ %s", sf_shape_name(a->shape), a->label, a->image);
            xmlTextWriterStartElement(w, BAD_CAST "Region");
            xml_int_attribute(w, "Id", region_id++);
            xml_attribute(w, "Type", "0");
            xml_attribute(w, "Text", text);
            xmlTextWriterStartElement(w, BAD_CAST "Vertices");
            for (size_t k = 0; k < a->n_vertices; k++) {
                xmlTextWriterStartElement(w, BAD_CAST "Vertex");
                xml_number_attribute(w, "X", a->vertices[k].x);
                xml_number_attribute(w, "Y", a->vertices[k].y);
                xml_attribute(w, "Z", "0");
                xmlTextWriterEndElement(w);
            }
            xmlTextWriterEndElement(w); /* Vertices */
            xmlTextWriterEndElement(w); /* Region */
        }
        xmlTextWriterEndElement(w); /* Regions */
        xmlTextWriterEndElement(w); /* Annotation */
    }
    xmlTextWriterEndElement(w); /* Annotations */
}

static int xml_write(void *context, const char *buffer, int length)
{
    put_length(context, buffer, (size_t)length);
    return length;
}

static void xml_document(const sf_slide_annotations *slide, sf_annotation_format format, sink *out)
{
    xmlOutputBuffer *buffer = xmlOutputBufferCreateIO(xml_write, NULL, out, NULL);
    xmlTextWriter *w = xmlNewTextWriter(buffer); /* owns the buffer */
    xmlTextWriterSetIndent(w, 1);
    xmlTextWriterSetIndentString(w, BAD_CAST "  ");
    xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL);
    if (format == SF_ANNOTATIONS_ASAP)
        asap_body(w, slide);
    else
        imagescope_body(w, slide);
    xmlTextWriterEndDocument(w);
    xmlFreeTextWriter(w); /* flushes into the sink */
}

/* ---- Flat CSV -------------------------------------------------------------- */

/*
 * A text field. Spreadsheets open a cell that starts with = + - @, a tab
 * or a carriage return as a formula, so a label like =cmd|"/c calc"!A1
 * would run on opening (CSV injection). As OWASP advises, such a field
 * gets a leading single quote, which makes it text, and is quoted.
 * Numbers are written apart and keep their minus sign.
 */
static void csv_field(GString *s, const char *value)
{
    gboolean formula = value[0] && strchr("=+-@\t\r", value[0]);
    if (!formula && !strpbrk(value, ",\"\r\n")) {
        g_string_append(s, value);
        return;
    }
    g_string_append_c(s, '"');
    if (formula)
        g_string_append_c(s, '\'');
    for (const char *p = value; *p; p++) {
        if (*p == '"')
            g_string_append_c(s, '"');
        g_string_append_c(s, *p);
    }
    g_string_append_c(s, '"');
}

static void csv(const sf_slide_annotations *slide, sink *out)
{
    g_autoptr(GString) s = g_string_new("slide,annotation,label,shape,vertex,x,y,offset_x,"
                                        "offset_y,fragment,source\n");
    for (guint i = 0; i < slide->annotations->len; i++) {
        const sf_annotation *a = slide->annotations->pdata[i];
        g_autofree char *location = sf_annotation_location(a);
        for (size_t k = 0; k < a->n_vertices; k++) {
            char x[SF_NUMBER_TEXT_SIZE], y[SF_NUMBER_TEXT_SIZE];
            csv_field(s, slide->stem);
            g_string_append_printf(s, ",%u,", i + 1);
            csv_field(s, a->label);
            g_string_append_printf(s, ",%s,%zu,%s,%s,%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",",
                                   sf_shape_name(a->shape), k, sf_number_text(x, a->vertices[k].x),
                                   sf_number_text(y, a->vertices[k].y), slide->offset_x,
                                   slide->offset_y);
            csv_field(s, a->image);
            g_string_append_c(s, ',');
            csv_field(s, location);
            g_string_append_c(s, '\n');
        }
        put_length(out, s->str, s->len);
        g_string_truncate(s, 0);
    }
    put_length(out, s->str, s->len);
}

/* ---- Entry points ------------------------------------------------------------ */

static void serialise(const sf_slide_annotations *slide, sf_annotation_format format, sink *out)
{
    switch (format) {
    case SF_ANNOTATIONS_GEOJSON:
        geojson(slide, out);
        break;
    case SF_ANNOTATIONS_ASAP:
    case SF_ANNOTATIONS_IMAGESCOPE:
        xml_document(slide, format, out);
        break;
    case SF_ANNOTATIONS_COCO:
        coco(slide, out);
        break;
    case SF_ANNOTATIONS_CSV:
        csv(slide, out);
        break;
    }
}

char *sf_annotations_serialise(const sf_slide_annotations *slide, sf_annotation_format format,
                               size_t *length)
{
    sink out = {.string = g_string_new(NULL)};
    serialise(slide, format, &out);
    if (length)
        *length = out.string->len;
    return g_string_free(out.string, FALSE);
}

gboolean sf_annotations_write(const sf_slide_annotations *slide, sf_annotation_format format,
                              const char *out_dir, char **path_out, GError **error)
{
    if (!sf_slide_stem_is_safe(slide->stem)) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT,
                    "slide name '%s' cannot name a file inside %s", slide->stem, out_dir);
        return FALSE;
    }
    g_autofree char *name =
        g_strdup_printf("%s.%s", slide->stem, sf_annotation_format_extension(format));
    g_autofree char *path = g_build_filename(out_dir, name, NULL);
    sf_output *output = sf_output_create(path, error);
    if (!output)
        return FALSE;
    sink out = {.file = sf_output_stream(output)};
    serialise(slide, format, &out);
    if (!sf_output_commit(output, error))
        return FALSE;
    if (path_out)
        *path_out = g_steal_pointer(&path);
    return TRUE;
}
