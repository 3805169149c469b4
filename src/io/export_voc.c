/*
 * Pascal VOC exports: one <stem>.xml per image (docs/formats.md), read as a
 * stream so that a file's size never turns into a tree in memory.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <string.h>

#include "io/export_internal.h"
#include "slidefrag/error.h"

static xmlNode *xml_child(xmlNode *node, const char *name)
{
    for (xmlNode *c = node ? node->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
            return c;
    return NULL;
}

/* Direct text only: entity references are never followed. */
static char *xml_text(xmlNode *node)
{
    GString *s = g_string_new(NULL);
    for (xmlNode *c = node ? node->children : NULL; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            g_string_append(s, (const char *)c->content);
    return g_strstrip(g_string_free(s, FALSE));
}

static char *xml_child_text(xmlNode *node, const char *name)
{
    xmlNode *c = xml_child(node, name);
    return c ? xml_text(c) : NULL;
}

/* One <object> as read, kept until the whole file is known to be good. */
typedef struct {
    int line;
    char *label;
    double v[4];           /* xmin, ymin, xmax, ymax */
    sf_skip_reason reason; /* when cause is set */
    char *cause;           /* why it is skipped, or NULL */
} voc_object;

static void voc_object_clear(gpointer data)
{
    voc_object *o = data;
    g_free(o->label);
    g_free(o->cause);
}

static void read_voc_object(xmlNode *object, voc_object *o)
{
    o->line = (int)xmlGetLineNo(object);
    o->label = xml_child_text(object, "name");
    if (!o->label || !*o->label) {
        o->reason = SF_SKIP_MALFORMED;
        o->cause = g_strdup("object without a <name>");
        return;
    }
    xmlNode *box = xml_child(object, "bndbox");
    static const char *const tags[] = {"xmin", "ymin", "xmax", "ymax"};
    for (int k = 0; k < 4; k++) {
        g_autofree char *text = xml_child_text(box, tags[k]);
        if (!box || !text || !sf_export_parse_double(text, &o->v[k])) {
            o->reason = SF_SKIP_MALFORMED;
            o->cause = g_strdup_printf("object '%s': <bndbox>/<%s> %s", o->label, tags[k],
                                       text ? "is not a number" : "is missing");
            return;
        }
    }
    const double *v = o->v;
    if (v[2] <= v[0] || v[3] <= v[1]) {
        o->reason = SF_SKIP_BAD_SIZE;
        o->cause = g_strdup_printf("object '%s': %s box (xmin %g, ymin %g, xmax %g, ymax %g)",
                                   o->label, v[2] < v[0] || v[3] < v[1] ? "negative" : "empty",
                                   v[0], v[1], v[2], v[3]);
    }
}

/* The first error libxml2 reports, with its line. */
typedef struct {
    int line;
    char *message;
    gboolean no_memory;
} xml_failure;

static void on_xml_error(void *data, xmlErrorPtr error)
{
    xml_failure *failure = data;
    if (error->code == XML_ERR_NO_MEMORY)
        failure->no_memory = TRUE;
    if (failure->message || error->level < XML_ERR_ERROR)
        return;
    failure->line = error->line;
    failure->message = g_strstrip(g_strdup(error->message ? error->message : "?"));
}

/* What a VOC file says about its image, read before its objects are kept. */
typedef struct {
    gboolean is_voc; /* the root is <annotation> */
    char *root;      /* the root element's name */
    int root_line;
    char *image;           /* <filename>, the first one */
    char *w_text, *h_text; /* <size>/<width|height> */
    GArray *objects;       /* voc_object */
    gboolean doctype;
    xml_failure failure;
} voc_file;

static void voc_file_clear(voc_file *f)
{
    g_free(f->root);
    g_free(f->image);
    g_free(f->w_text);
    g_free(f->h_text);
    g_array_unref(f->objects);
    g_free(f->failure.message);
}

/*
 * Reads untrusted XML as a stream (libxml2's xmlTextReader): one <object>
 * is in memory at a time, so a 156 MB file no longer costs gigabytes of
 * tree. No network, no DTD loading, no entity substitution, and a document
 * that declares a DTD at all is refused where the declaration is met,
 * before anything could use it: neither external entities nor entity
 * expansion bombs take effect.
 */
static void scan_voc(sf_annotation_set *set, const char *name, const char *data, size_t length,
                     voc_file *f)
{
    xmlTextReader *reader = xmlReaderForMemory(
        data, (int)length, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!reader) {
        sf_export_fatal(set, SF_EXIT_FAILURE, name, "out of memory reading XML");
        return;
    }
    xmlTextReaderSetStructuredErrorHandler(reader, on_xml_error, &f->failure);
    int status = xmlTextReaderRead(reader);
    while (status == 1 && !sf_export_stopped(set)) {
        int type = xmlTextReaderNodeType(reader);
        int depth = xmlTextReaderDepth(reader);
        if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
            f->doctype = TRUE;
            break;
        }
        if (type != XML_READER_TYPE_ELEMENT || depth > 1) {
            status = xmlTextReaderRead(reader);
            continue;
        }
        const char *element = (const char *)xmlTextReaderConstName(reader);
        if (depth == 0) {
            f->root = g_strdup(element);
            f->root_line = (int)xmlGetLineNo(xmlTextReaderCurrentNode(reader));
            f->is_voc = !strcmp(element, "annotation");
            if (!f->is_voc)
                break;
            status = xmlTextReaderRead(reader);
            continue;
        }
        gboolean wanted = !strcmp(element, "object") ||
                          (!strcmp(element, "filename") && !f->image) ||
                          (!strcmp(element, "size") && !f->w_text && !f->h_text);
        xmlNode *node = wanted ? xmlTextReaderExpand(reader) : NULL;
        if (wanted && !node) {
            status = -1;
            break;
        }
        if (node && !strcmp(element, "object")) {
            g_autofree char *where = sf_export_line_location(name, (int)xmlGetLineNo(node));
            if (!sf_export_room_for(set, where, 4))
                break;
            voc_object o = {0};
            read_voc_object(node, &o);
            g_array_append_val(f->objects, o);
            set->priv->n_pending++;
        } else if (node && !strcmp(element, "filename")) {
            f->image = xml_text(node);
        } else if (node) {
            f->w_text = xml_child_text(node, "width");
            f->h_text = xml_child_text(node, "height");
        }
        /* Past the element: the reader frees what it leaves behind. */
        status = xmlTextReaderNext(reader);
    }
    if (status < 0 && !f->failure.message)
        f->failure.message = g_strdup("?");
    if (f->failure.no_memory)
        sf_export_fatal(set, SF_EXIT_FAILURE, name, "out of memory reading XML");
    xmlFreeTextReader(reader);
}

/* "<object>" or "<object " in the raw text. */
static guint count_objects(const char *data, size_t length)
{
    guint n = 0;
    const char *end = data + length;
    for (const char *p = data; p + 8 < end; p++) {
        p = memchr(p, '<', (size_t)(end - p));
        if (!p || p + 8 >= end)
            break;
        n += !memcmp(p, "<object", 7) && (p[7] == '>' || g_ascii_isspace(p[7]));
    }
    return n;
}

gboolean sf_export_read_voc(sf_annotation_set *set, const char *name, const char *data,
                            size_t length, gboolean in_container)
{
    if (length > G_MAXINT) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, name, "XML file too large");
        return TRUE;
    }
    voc_file f = {.objects = g_array_new(FALSE, TRUE, sizeof(voc_object))};
    g_array_set_clear_func(f.objects, voc_object_clear);
    scan_voc(set, name, data, length, &f);
    set->priv->n_pending -= f.objects->len;
    guint n_objects = f.objects->len;
    int width = 0, height = 0;
    sf_export_dimension w_ok =
        f.w_text ? sf_export_parse_dimension(f.w_text, &width) : SF_DIMENSION_OK;
    sf_export_dimension h_ok =
        f.h_text ? sf_export_parse_dimension(f.h_text, &height) : SF_DIMENSION_OK;
    const char *first = NULL;
    g_autofree char *where = sf_export_line_location(name, f.root_line);
    gboolean an_export = f.is_voc || f.failure.message || f.doctype;

    if (sf_export_stopped(set)) {
        /* A limit was passed: nothing more to say about this file. */
    } else if (f.failure.message) {
        /* The objects after the error were never parsed: count them in the
         * text, so a file Makesense wrote with a bare '&' in a label costs
         * what it held, not one. */
        g_autofree char *at = sf_export_line_location(name, f.failure.line);
        guint n_lost = MAX(n_objects, count_objects(data, length));
        sf_export_problem(set, SF_SKIP_MALFORMED, MAX(n_lost, 1), at, "not well-formed XML: %s%s",
                          f.failure.message, n_lost > 1 ? "; its objects skipped" : "");
    } else if (f.doctype) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, name,
                          "XML with a DOCTYPE is refused (entities are never expanded)");
    } else if (!f.is_voc) {
        if (in_container)
            sf_export_note(set, name, "ignored: XML but not a VOC <annotation>");
        else
            sf_export_problem(set, SF_SKIP_NOT_EXPORT, 1, name,
                              "XML root is <%s>, not a VOC <annotation>", f.root ? f.root : "");
    } else if (!f.image || !*f.image) {
        sf_export_problem(set, SF_SKIP_MALFORMED, MAX(n_objects, 1), where, "no <filename>");
    } else if (!sf_export_image_name_ok(f.image)) {
        sf_export_problem(set, SF_SKIP_PATH, MAX(n_objects, 1), where,
                          "<filename> '%s' is a path, not a file name", f.image);
    } else if (w_ok == SF_DIMENSION_MALFORMED || h_ok == SF_DIMENSION_MALFORMED ||
               !f.w_text != !f.h_text) {
        sf_export_problem(set, SF_SKIP_MALFORMED, MAX(n_objects, 1), where,
                          "<size> width/height are not integers");
    } else if (w_ok == SF_DIMENSION_NOT_POSITIVE || h_ok == SF_DIMENSION_NOT_POSITIVE) {
        sf_export_problem(set, SF_SKIP_BAD_SIZE, MAX(n_objects, 1), where,
                          "image size %s x %s is not positive", f.w_text, f.h_text);
    } else if (!sf_export_register_image(set, SF_EXPORT_VOC, f.image, sf_export_new_group(set),
                                         name, &first)) {
        sf_export_problem(set, SF_SKIP_DUPLICATE, MAX(n_objects, 1), where,
                          "image '%s' is already listed by %s in this export; file skipped",
                          f.image, first);
    } else {
        if (width > 0)
            sf_export_remember_size(set, f.image, width, height);
        for (guint i = 0; i < n_objects && !sf_export_stopped(set); i++) {
            const voc_object *o = &g_array_index(f.objects, voc_object, i);
            g_autofree char *at = sf_export_line_location(name, o->line);
            if (o->cause) {
                sf_export_problem(set, o->reason, 1, at, "%s", o->cause);
                continue;
            }
            sf_annotation *a = sf_export_rectangle_new(o->label, o->v[0], o->v[1], o->v[2], o->v[3],
                                                       f.image, name, o->line, NULL);
            a->image_width = width;
            a->image_height = height;
            sf_export_keep(set, a);
        }
    }
    voc_file_clear(&f);
    return an_export;
}
