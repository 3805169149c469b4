/*
 * Every Makesense export parser, one harness each: the input is one export
 * file, skipped unless its content is detected as that harness's format.
 * What was read is then mapped onto slides from the fragment names and
 * written in every output format, and each JSON and XML output must parse
 * again: a label or an image name must never break the file it lands in.
 */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <math.h>

#include "fuzz.h"
#include "slidefrag/annotations.h"

void sf_fuzz_check_annotation(const sf_annotation *a)
{
    static const size_t vertices[] = {4, 0, 1, 2}; /* polygon: >= 3 */
    SF_FUZZ_CHECK(a->label && a->image && a->source);
    if (a->shape == SF_SHAPE_POLYGON)
        SF_FUZZ_CHECK(a->n_vertices >= 3);
    else
        SF_FUZZ_CHECK(a->n_vertices == vertices[a->shape]);
    for (size_t i = 0; i < a->n_vertices; i++)
        SF_FUZZ_CHECK(isfinite(a->vertices[i].x) && isfinite(a->vertices[i].y));
}

static void check_output(const char *text, size_t length, sf_annotation_format format)
{
    SF_FUZZ_CHECK(text != NULL);
    if (format == SF_ANNOTATIONS_GEOJSON || format == SF_ANNOTATIONS_COCO) {
        JsonParser *parser = json_parser_new();
        SF_FUZZ_CHECK(json_parser_load_from_data(parser, text, (gssize)length, NULL));
        g_object_unref(parser);
    } else if (format == SF_ANNOTATIONS_ASAP || format == SF_ANNOTATIONS_IMAGESCOPE) {
        xmlDoc *doc = xmlReadMemory(text, (int)length, NULL, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        SF_FUZZ_CHECK(doc != NULL);
        xmlFreeDoc(doc);
    }
}

void sf_fuzz_check_mapped(const GPtrArray *slides, guint n_mapped)
{
    guint total = 0;
    for (guint s = 0; s < slides->len; s++) {
        const sf_slide_annotations *slide = slides->pdata[s];
        total += slide->annotations->len;
        for (guint i = 0; i < slide->annotations->len; i++)
            sf_fuzz_check_annotation(slide->annotations->pdata[i]);
        for (int format = SF_ANNOTATIONS_GEOJSON; format <= SF_ANNOTATIONS_CSV; format++) {
            size_t length = 0;
            char *text = sf_annotations_serialise(slide, (sf_annotation_format)format, &length);
            check_output(text, length, (sf_annotation_format)format);
            g_free(text);
        }
    }
    SF_FUZZ_CHECK(total == n_mapped);
}

static int read_map_write(const uint8_t *data, size_t size, const char *name,
                          const sf_export_format *formats, size_t n_formats)
{
    sf_export_format detected = sf_export_detect((const char *)data, size);
    size_t f = 0;
    while (f < n_formats && formats[f] != detected)
        f++;
    if (f == n_formats)
        return 0;

    sf_annotation_set *set = sf_annotation_set_new();
    static const char *const labels[] = {"tumour", "stroma", "<&\"'>", NULL};
    sf_annotation_set_set_labels(set, labels);
    GError *error = NULL;
    if (!sf_annotations_read_data(set, name, (const char *)data, size, &error)) {
        /* Only a limit can stop a read: named, and nothing kept past it. */
        SF_FUZZ_CHECK(error->code == 8 && g_str_has_prefix(error->message, name));
        g_error_free(error);
        sf_annotation_set_free(set);
        return 0;
    }
    for (guint i = 0; i < set->annotations->len; i++)
        sf_fuzz_check_annotation(set->annotations->pdata[i]);
    for (guint i = 0; i < set->problems->len; i++) {
        const sf_annotation_problem *p = set->problems->pdata[i];
        SF_FUZZ_CHECK(p->message && g_str_has_prefix(p->message, name));
    }

    guint n_mapped = 0;
    GPtrArray *slides = sf_annotations_map(set, NULL, SF_OFFSET_NONE, &n_mapped, &error);
    SF_FUZZ_CHECK(slides != NULL);
    sf_fuzz_check_mapped(slides, n_mapped);
    g_ptr_array_unref(slides);
    sf_annotation_set_free(set);
    return 0;
}

int sf_fuzz_annotations_yolo(const uint8_t *data, size_t size)
{
    /* YOLO takes its image from the file name. */
    static const sf_export_format formats[] = {SF_EXPORT_YOLO};
    return read_map_write(data, size, "slide__x100_y200_w3000_h2000.txt", formats, 1);
}

int sf_fuzz_annotations_voc(const uint8_t *data, size_t size)
{
    static const sf_export_format formats[] = {SF_EXPORT_VOC};
    return read_map_write(data, size, "export.xml", formats, 1);
}

int sf_fuzz_annotations_csv(const uint8_t *data, size_t size)
{
    static const sf_export_format formats[] = {SF_EXPORT_RECT_CSV, SF_EXPORT_POINT_CSV,
                                               SF_EXPORT_LINE_CSV};
    return read_map_write(data, size, "export.csv", formats, 3);
}

int sf_fuzz_annotations_coco(const uint8_t *data, size_t size)
{
    static const sf_export_format formats[] = {SF_EXPORT_COCO};
    return read_map_write(data, size, "export.json", formats, 1);
}

int sf_fuzz_annotations_vgg(const uint8_t *data, size_t size)
{
    static const sf_export_format formats[] = {SF_EXPORT_VGG};
    return read_map_write(data, size, "export.json", formats, 1);
}

int sf_fuzz_annotations_zip(const uint8_t *data, size_t size)
{
    static const sf_export_format formats[] = {SF_EXPORT_ZIP};
    return read_map_write(data, size, "export.zip", formats, 1);
}
