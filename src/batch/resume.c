/* --resume: which slides a previous batch already finished. */
#include <glib/gstdio.h>
#include <string.h>

#include "batch/batch.h"
#include "io/json_safe.h"
#include "slidefrag/run.h"

static JsonNode *member_of_type(JsonObject *object, const char *name, JsonNodeType type)
{
    JsonNode *node = object ? json_object_get_member(object, name) : NULL;
    return node && JSON_NODE_TYPE(node) == type ? node : NULL;
}

static gboolean member_int(JsonObject *object, const char *name, gint64 *value)
{
    JsonNode *node = member_of_type(object, name, JSON_NODE_VALUE);
    if (!node || json_node_get_value_type(node) != G_TYPE_INT64)
        return FALSE;
    *value = json_node_get_int(node);
    return TRUE;
}

gboolean sf_batch_is_done(const char *output_dir, const char *slide_path, JsonNode *params,
                          int *n_regions, int *n_fragments)
{
    /* run writes the manifest last and removes it first, so its presence
     * means the folder is complete for the slide and parameters it names. */
    g_autofree char *manifest_path = g_build_filename(output_dir, "manifest.json", NULL);
    g_autofree char *text = NULL;
    gsize length = 0;
    if (!g_file_get_contents(manifest_path, &text, &length, NULL))
        return FALSE;
    /* Whatever the folder holds is read: bound the nesting before json-glib
     * recurses into it. A manifest that fails is not done: the slide reruns. */
    if (!sf_json_check_depth(manifest_path, text, length, NULL))
        return FALSE;
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, text, (gssize)length, NULL))
        return FALSE;
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return FALSE;
    JsonObject *manifest = json_node_get_object(root);
    JsonNode *slide_node = member_of_type(manifest, "slide", JSON_NODE_OBJECT);
    JsonNode *done_params = member_of_type(manifest, "params", JSON_NODE_OBJECT);
    JsonNode *regions_node = member_of_type(manifest, "regions", JSON_NODE_ARRAY);
    if (!slide_node || !done_params || !regions_node)
        return FALSE;
    JsonObject *slide = json_node_get_object(slide_node);
    JsonArray *regions = json_node_get_array(regions_node);

    JsonNode *path_node = member_of_type(slide, "path", JSON_NODE_VALUE);
    const char *done_path = path_node ? json_node_get_string(path_node) : NULL;
    g_autofree char *abs_path = g_canonicalize_filename(slide_path, NULL);
    if (!done_path || strcmp(done_path, abs_path) != 0)
        return FALSE;
    GStatBuf st;
    gint64 size, mtime;
    if (g_stat(abs_path, &st) != 0 || !member_int(slide, "file_size", &size) ||
        !member_int(slide, "file_mtime", &mtime) || size != (gint64)st.st_size ||
        mtime != (gint64)st.st_mtime)
        return FALSE;
    /* The manifest holds the parameters as resolved for its slide (a
     * default min-area depends on the µm/px); resolve ours the same way.
     * json_node_equal compares numbers by value and objects by member, so
     * 2048 and 2048.0 or a different key order still match. */
    sf_run_params wanted, resolved;
    sf_run_params_default(&wanted);
    if (!JSON_NODE_HOLDS_OBJECT(params) ||
        !sf_run_params_apply_json(&wanted, json_node_get_object(params), "parameters", NULL))
        return FALSE;
    JsonNode *mpp_node = member_of_type(slide, "mpp_x", JSON_NODE_VALUE);
    sf_run_params_for_mpp(&wanted, mpp_node ? json_node_get_double(mpp_node) : 0, &resolved);
    g_autoptr(JsonNode) resolved_json = sf_run_params_to_json(&resolved);
    if (!json_node_equal(done_params, resolved_json))
        return FALSE;

    int fragments = 0;
    for (guint i = 0; i < json_array_get_length(regions); i++) {
        JsonNode *region = json_array_get_element(regions, i);
        if (JSON_NODE_HOLDS_OBJECT(region) &&
            member_of_type(json_node_get_object(region), "fragment", JSON_NODE_OBJECT))
            fragments++;
    }
    *n_regions = (int)json_array_get_length(regions);
    *n_fragments = fragments;
    return TRUE;
}
