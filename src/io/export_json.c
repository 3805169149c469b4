/*
 * COCO and VGG JSON exports, read in passes of the pull reader
 * (json_read.h), never as one tree: first the outline (the top-level
 * names, which say COCO or VGG, and which repeat), then one entry at a
 * time as a small json-glib tree freed before the next. export_coco.c and
 * export_vgg.c read the entries.
 */
#include <string.h>

#include "io/export_internal.h"
#include "slidefrag/error.h"

/*
 * A JSON export is read in passes over its text with the pull reader
 * (json_read.h), never as one tree: first its outline (the top-level
 * names, which say COCO or VGG, and which names repeat), then one entry at
 * a time as a small json-glib tree, freed before the next. COCO needs its
 * images and categories before its annotations, and Makesense writes the
 * categories last, so COCO takes one more pass.
 */

static guint polygon_length(const sf_json_polygon *p)
{
    if (p->flat)
        return json_array_get_length(p->flat);
    return 2 * json_array_get_length(p->xs);
}

static JsonNode *polygon_coordinate(const sf_json_polygon *p, guint i)
{
    if (p->flat)
        return json_array_get_element(p->flat, i);
    return json_array_get_element(i % 2 ? p->ys : p->xs, i / 2);
}

/* [x0, y0, x1, y1, ...] -> polygon vertices, dropping a closing vertex
 * that repeats the first. NULL when it is not a polygon. */
sf_vertex *sf_json_polygon_vertices(const sf_json_polygon *p, size_t *n_out, const char **why)
{
    guint n = polygon_length(p);
    if (n % 2) {
        *why = "an odd number of coordinates";
        return NULL;
    }
    sf_vertex *v = g_new(sf_vertex, MAX(n / 2, 1));
    for (guint i = 0; i < n; i++) {
        double d;
        if (!sf_json_number(polygon_coordinate(p, i), &d)) {
            *why = "a coordinate that is not a number";
            g_free(v);
            return NULL;
        }
        if (i % 2)
            v[i / 2].y = d;
        else
            v[i / 2].x = d;
    }
    size_t count = n / 2;
    if (count > 1 && v[0].x == v[count - 1].x && v[0].y == v[count - 1].y)
        count--;
    if (count < 3) {
        *why = "fewer than 3 vertices";
        g_free(v);
        return NULL;
    }
    *n_out = count;
    return v;
}

sf_annotation *sf_export_polygon_new(const char *label, sf_vertex *vertices, size_t n,
                                     const char *image, const char *source, const char *where)
{
    sf_annotation *a =
        sf_export_annotation_new(label, SF_SHAPE_POLYGON, 0, image, source, 0, where);
    g_free(a->vertices);
    a->vertices = vertices;
    a->n_vertices = n;
    return a;
}

/* A problem for a reader that failed: "<name>:<line>: <cause>". A limit
 * passed inside an entry is fatal; malformed text skips the file. */
void sf_export_json_failed(sf_annotation_set *set, const char *name, const sf_json_reader *reader,
                           guint n_skipped)
{
    g_autofree char *where = sf_export_line_location(name, sf_json_reader_error_line(reader));
    const char *cause = sf_json_reader_error_cause(reader);
    if (g_str_has_prefix(cause, "more than "))
        sf_export_fatal(set, SF_EXIT_BAD_INPUT, where, "%s", cause);
    else
        sf_export_problem(set, SF_SKIP_MALFORMED, n_skipped, where, "%s", cause);
}

void sf_json_outline_clear(sf_json_outline *o)
{
    g_clear_pointer(&o->names, g_hash_table_unref);
    g_clear_pointer(&o->duplicated, g_hash_table_unref);
    g_clear_pointer(&o->kinds, g_hash_table_unref);
}

/* Reads the whole text once, checking it is JSON; FALSE (with a problem)
 * when it is not. */
gboolean sf_json_outline_read(sf_annotation_set *set, const char *name, const char *data,
                              size_t length, sf_json_outline *o)
{
    o->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    o->duplicated = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    o->kinds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(sf_json_reader) r = sf_json_reader_new(name, data, length);
    gboolean ok = sf_json_reader_next(r, NULL);
    o->object = ok && r->token == SF_JSON_OBJECT_BEGIN;
    while (ok && o->object) {
        ok = sf_json_reader_next(r, NULL);
        if (!ok || r->token == SF_JSON_OBJECT_END)
            break;
        if (!g_hash_table_add(o->names, g_strdup(r->key)))
            g_hash_table_add(o->duplicated, g_strdup(r->key));
        else
            g_hash_table_insert(o->kinds, g_strdup(r->key), GINT_TO_POINTER(r->token));
        ok = sf_json_reader_skip(r, NULL);
    }
    if (ok && !o->object)
        ok = sf_json_reader_skip(r, NULL);
    if (ok)
        ok = sf_json_reader_next(r, NULL); /* nothing after the root */
    if (!ok)
        sf_export_json_failed(set, name, r, 1);
    return ok;
}

sf_json_token sf_json_outline_kind(const sf_json_outline *o, const char *name)
{
    gpointer kind;
    if (!g_hash_table_lookup_extended(o->kinds, name, NULL, &kind))
        return SF_JSON_END;
    return (sf_json_token)GPOINTER_TO_INT(kind);
}

/*
 * One pass over a text already outlined: each element of the top-level
 * arrays named in `arrays` (NULL-terminated), or with `arrays` NULL each
 * top-level member, goes to `fn` as a tree of its own.
 */
void sf_json_entries(sf_annotation_set *set, const char *name, const char *data, size_t length,
                     const char *const *arrays, sf_json_entry_fn fn, gpointer fn_data)
{
    g_autoptr(sf_json_reader) r = sf_json_reader_new(name, data, length);
    size_t max_values = set->priv->limits.max_entry_values;
    if (!sf_json_reader_next(r, NULL))
        return;
    while (!sf_export_stopped(set) && sf_json_reader_next(r, NULL) &&
           r->token != SF_JSON_OBJECT_END) {
        g_autofree char *key = g_strdup(r->key);
        gboolean wanted = arrays && r->token == SF_JSON_ARRAY_BEGIN && g_strv_contains(arrays, key);
        if (!arrays) {
            g_autoptr(JsonNode) entry = sf_json_reader_build(r, max_values, NULL);
            if (!entry) {
                sf_export_json_failed(set, name, r, 1);
                return;
            }
            fn(set, name, key, 0, entry, fn_data);
            continue;
        }
        if (!wanted) {
            if (!sf_json_reader_skip(r, NULL))
                return;
            continue;
        }
        for (guint index = 0; !sf_export_stopped(set); index++) {
            if (!sf_json_reader_next(r, NULL))
                return;
            if (r->token == SF_JSON_ARRAY_END)
                break;
            g_autoptr(JsonNode) entry = sf_json_reader_build(r, max_values, NULL);
            if (!entry) {
                sf_export_json_failed(set, name, r, 1);
                return;
            }
            fn(set, name, key, index, entry, fn_data);
        }
    }
}

gboolean sf_export_read_json(sf_annotation_set *set, const char *name, const char *data,
                             size_t length, gboolean in_container)
{
    sf_json_outline outline = {0};
    gboolean an_export = TRUE;
    if (sf_json_outline_read(set, name, data, length, &outline)) {
        if (!outline.object) {
            an_export = FALSE;
            if (in_container)
                sf_export_note(set, name, "ignored: JSON but neither COCO nor VGG");
            else
                sf_export_problem(set, SF_SKIP_NOT_EXPORT, 1, name,
                                  "JSON but neither COCO nor VGG");
        } else if (sf_json_outline_kind(&outline, "annotations") != SF_JSON_END &&
                   sf_json_outline_kind(&outline, "images") != SF_JSON_END &&
                   sf_json_outline_kind(&outline, "annotations") != SF_JSON_NULL &&
                   sf_json_outline_kind(&outline, "images") != SF_JSON_NULL) {
            sf_export_read_coco(set, name, data, length, &outline);
        } else {
            sf_export_read_vgg(set, name, data, length, &outline);
        }
    }
    sf_json_outline_clear(&outline);
    return an_export;
}
