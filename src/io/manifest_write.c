/*
 * Writing a slidefrag manifest (docs/manifest.md). The member order is the
 * file format's: a rerun with the same command must give the same bytes,
 * timings aside (scripts/compare-manifests).
 */
#include <string.h>
#include <sys/stat.h>

#include "io/json_safe.h"
#include "io/slide_json.h"
#include "slidefrag/image_io.h"
#include "slidefrag/manifest.h"

sf_manifest *sf_manifest_new(void)
{
    sf_manifest *m = g_new0(sf_manifest, 1);
    m->threshold = -1;
    return m;
}

static void add_box(JsonBuilder *b, const char *name, int64_t x, int64_t y, int64_t w, int64_t h)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_object(b);
    sf_json_add_int(b, "x", x);
    sf_json_add_int(b, "y", y);
    sf_json_add_int(b, "w", w);
    sf_json_add_int(b, "h", h);
    json_builder_end_object(b);
}

static void add_slide(JsonBuilder *b, const sf_manifest *m)
{
    json_builder_set_member_name(b, "slide");
    json_builder_begin_object(b);
    sf_json_add_string(b, "path", m->slide_path);
    sf_json_add_string(b, "name", m->slide_name);
    /* Size and modification time let a resumed batch tell whether the file
     * it finished earlier is still the same. */
    if (m->has_file_stamp) {
        sf_json_add_int(b, "file_size", m->file_size);
        sf_json_add_int(b, "file_mtime", m->file_mtime);
    }
    sf_slide_json_members(b, m);
    json_builder_end_object(b);
}

static void add_overview(JsonBuilder *b, const sf_manifest_overview *o)
{
    json_builder_set_member_name(b, "overview");
    json_builder_begin_object(b);
    sf_json_add_string(b, "file", o->file);
    sf_json_add_string(b, "mask", "mask.png");
    sf_json_add_string(b, "boxes", "boxes.jpg");
    sf_json_add_int(b, "level", o->level);
    sf_json_add_double(b, "level_downsample", o->level_downsample);
    sf_json_add_int(b, "width", o->width);
    sf_json_add_int(b, "height", o->height);
    sf_json_add_double(b, "scale_x", o->scale_x);
    sf_json_add_double(b, "scale_y", o->scale_y);
    json_builder_end_object(b);
}

static void add_sf_box(JsonBuilder *b, const char *name, const sf_box *box)
{
    add_box(b, name, box->x, box->y, box->w, box->h);
}

/* One entry per region of tissue, from the first of its fragments (which
 * all carry it), and the ids of its fragments in their order. */
static void add_tissue(JsonBuilder *b, const sf_manifest *m)
{
    /* tissue id -> the ids of its fragments; `first` in order of appearance. */
    g_autoptr(GHashTable) members =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)g_array_unref);
    g_autoptr(GArray) first = g_array_new(FALSE, FALSE, sizeof(size_t));
    for (size_t i = 0; i < m->n_regions; i++) {
        const sf_manifest_region *r = &m->regions[i];
        if (!r->has_tissue)
            continue;
        GArray *ids = g_hash_table_lookup(members, GINT_TO_POINTER(r->tissue));
        if (!ids) {
            ids = g_array_new(FALSE, FALSE, sizeof(int));
            g_hash_table_insert(members, GINT_TO_POINTER(r->tissue), ids);
            g_array_append_val(first, i);
        }
        g_array_append_val(ids, r->id);
    }
    json_builder_set_member_name(b, "tissue");
    json_builder_begin_array(b);
    for (guint k = 0; k < first->len; k++) {
        const sf_manifest_region *r = &m->regions[g_array_index(first, size_t, k)];
        json_builder_begin_object(b);
        sf_json_add_int(b, "id", r->tissue);
        if (r->has_overview)
            add_sf_box(b, "overview", &r->overview);
        add_sf_box(b, "detected", &r->detected);
        add_sf_box(b, "level0", &r->tissue_box);
        sf_json_add_double(b, "tissue_fraction", r->tissue_fraction);
        sf_json_add_double(b, "downsample", r->tissue_downsample);
        sf_json_add_int(b, "level", r->fragment_level);
        sf_json_add_int(b, "rows", r->rows);
        sf_json_add_int(b, "cols", r->cols);
        sf_json_add_int(b, "overlap", r->overlap);
        json_builder_set_member_name(b, "fragments");
        json_builder_begin_array(b);
        GArray *ids = g_hash_table_lookup(members, GINT_TO_POINTER(r->tissue));
        for (guint j = 0; j < ids->len; j++)
            json_builder_add_int_value(b, g_array_index(ids, int, j));
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static gboolean has_tissue(const sf_manifest *m)
{
    for (size_t i = 0; i < m->n_regions; i++)
        if (m->regions[i].has_tissue)
            return TRUE;
    return FALSE;
}

static void add_region(JsonBuilder *b, const sf_manifest_region *r)
{
    json_builder_begin_object(b);
    sf_json_add_int(b, "id", r->id);
    if (r->has_tissue) {
        sf_json_add_int(b, "tissue", r->tissue);
        sf_json_add_int(b, "row", r->row);
        sf_json_add_int(b, "col", r->col);
    }
    add_box(b, "level0", r->x, r->y, r->w, r->h);
    if (r->has_overview)
        add_box(b, "overview", r->overview.x, r->overview.y, r->overview.w, r->overview.h);
    sf_json_add_double(b, "tissue_fraction", r->tissue_fraction);
    json_builder_set_member_name(b, "fragment");
    json_builder_begin_object(b);
    sf_json_add_string(b, "file", r->fragment_file);
    sf_json_add_int(b, "width", r->fragment_width);
    sf_json_add_int(b, "height", r->fragment_height);
    sf_json_add_double(b, "downsample", r->fragment_downsample);
    sf_json_add_int(b, "level", r->fragment_level);
    json_builder_end_object(b);
    json_builder_end_object(b);
}

static void add_timings(JsonBuilder *b, const sf_manifest_timings *t)
{
    json_builder_set_member_name(b, "timings");
    json_builder_begin_object(b);
    sf_json_add_double(b, "open", t->open);
    sf_json_add_double(b, "overview", t->overview);
    sf_json_add_double(b, "detect", t->detect);
    sf_json_add_double(b, "write", t->write);
    sf_json_add_double(b, "fragments", t->fragments);
    sf_json_add_double(b, "total", t->total);
    json_builder_end_object(b);
}

/* What the report shows besides, each when the run or detector recorded it. */
static void add_report_fields(JsonBuilder *b, const sf_manifest *m)
{
    if (m->n_components > 0) {
        json_builder_set_member_name(b, "components");
        json_builder_begin_array(b);
        for (size_t i = 0; i < m->n_components; i++) {
            const sf_box *c = &m->components[i];
            json_builder_begin_object(b);
            sf_json_add_int(b, "x", c->x);
            sf_json_add_int(b, "y", c->y);
            sf_json_add_int(b, "w", c->w);
            sf_json_add_int(b, "h", c->h);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
    }
    if (m->detection) {
        json_builder_set_member_name(b, "detection");
        json_builder_add_value(b, json_node_copy(m->detection));
    }
    if (m->warnings) {
        json_builder_set_member_name(b, "warnings");
        json_builder_begin_array(b);
        for (char **w = m->warnings; *w; w++)
            json_builder_add_string_value(b, *w);
        json_builder_end_array(b);
    }
    if (m->n_rejected > 0) {
        json_builder_set_member_name(b, "rejected");
        json_builder_begin_array(b);
        for (size_t i = 0; i < m->n_rejected; i++) {
            const sf_manifest_rejected *r = &m->rejected[i];
            json_builder_begin_object(b);
            if (r->box.w > 0)
                add_box(b, "overview", r->box.x, r->box.y, r->box.w, r->box.h);
            sf_json_add_string(b, "reason", r->reason);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
    }
}

char *sf_manifest_text(const sf_manifest *m)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    sf_json_add_string(b, "schema", SF_MANIFEST_SCHEMA);
    json_builder_set_member_name(b, "tool");
    json_builder_begin_object(b);
    sf_json_add_string(b, "name", "slidefrag");
    sf_json_add_string(b, "version", m->tool_version);
    json_builder_end_object(b);
    add_slide(b, m);
    /* What a run always writes and a reader may go without: written when
     * known, so that any manifest read writes back as it was read. */
    if (m->has_overview)
        add_overview(b, &m->overview);
    if (m->params) {
        json_builder_set_member_name(b, "params");
        json_builder_add_value(b, json_node_copy(m->params));
    }
    if (m->threshold >= 0)
        sf_json_add_int(b, "threshold", m->threshold);
    if (has_tissue(m))
        add_tissue(b, m);
    json_builder_set_member_name(b, "regions");
    json_builder_begin_array(b);
    for (size_t i = 0; i < m->n_regions; i++)
        add_region(b, &m->regions[i]);
    json_builder_end_array(b);
    add_timings(b, &m->timings);
    add_report_fields(b, m);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return sf_json_file_text(root);
}

gboolean sf_manifest_write(const sf_manifest *m, const char *path, GError **error)
{
    g_autofree char *text = sf_manifest_text(m);
    return sf_write_file_atomic(path, text, strlen(text), error);
}

char *sf_manifest_path_text(const char *slide_path)
{
    g_autofree char *abs_path = g_canonicalize_filename(slide_path, NULL);
    return g_utf8_make_valid(abs_path, -1);
}

gboolean sf_manifest_is_of_slide(const sf_manifest *m, const char *slide_path)
{
    g_autofree char *text = sf_manifest_path_text(slide_path);
    return m->slide_path && !strcmp(m->slide_path, text);
}

gboolean sf_manifest_file_unchanged(const sf_manifest *m, const char *path)
{
    struct stat st;
    return m->has_file_stamp && stat(path, &st) == 0 && (int64_t)st.st_size == m->file_size &&
           (int64_t)st.st_mtime == m->file_mtime;
}

GArray *sf_manifest_tissue_boxes(const sf_manifest *m)
{
    GArray *boxes = g_array_new(FALSE, FALSE, sizeof(sf_box));
    g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (size_t i = 0; i < m->n_regions; i++) {
        const sf_manifest_region *r = &m->regions[i];
        sf_box box = {r->x, r->y, r->w, r->h};
        if (r->has_tissue) {
            if (g_hash_table_contains(seen, GINT_TO_POINTER(r->tissue)))
                continue;
            g_hash_table_add(seen, GINT_TO_POINTER(r->tissue));
            box = r->detected;
        }
        g_array_append_val(boxes, box);
    }
    return boxes;
}
