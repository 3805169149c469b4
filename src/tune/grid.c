/* tune's grid: per parameter, the values to try; every combination is a
 * candidate. */
#include <math.h>
#include <string.h>

#include "io/input.h"
#include "io/json_read.h"
#include "io/json_safe.h"
#include "slidefrag/error.h"
#include "tune/tune_internal.h"

/* Searched when no grid is given: every mask and region step of the
 * method, at values that bracket the defaults (1297 sets with the base). */
static const char default_grid[] = "{"
                                   "\"channel\": [\"red\", \"green\", \"grey\"],"
                                   "\"threshold\": [\"otsu\"],"
                                   "\"remove-ink\": [false, true],"
                                   "\"open\": [0, 3, 5],"
                                   "\"close\": [0, 7, 15, 31],"
                                   "\"gap\": [0, 8, 24],"
                                   "\"min-area\": [\"1000um2\", \"5000um2\", \"20000um2\"],"
                                   "\"padding\": [0, 4]"
                                   "}";

static char *scalar_text(JsonNode *node)
{
    if (!JSON_NODE_HOLDS_VALUE(node))
        return NULL;
    GType type = json_node_get_value_type(node);
    if (type == G_TYPE_STRING)
        return g_strdup(json_node_get_string(node));
    if (type == G_TYPE_BOOLEAN)
        return g_strdup(json_node_get_boolean(node) ? "true" : "false");
    if (type == G_TYPE_INT64)
        return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(node));
    if (type == G_TYPE_DOUBLE) {
        char buffer[G_ASCII_DTOSTR_BUF_SIZE];
        return g_strdup(g_ascii_dtostr(buffer, sizeof buffer, json_node_get_double(node)));
    }
    return NULL;
}

void sf_tune_grid_free(sf_tune_grid *grid)
{
    if (!grid)
        return;
    for (guint i = 0; i < grid->axes->len; i++)
        g_ptr_array_free(g_array_index(grid->axes, sf_tune_axis, i).values, TRUE);
    g_array_free(grid->axes, TRUE);
    g_free(grid);
}

/* The values of one member, each checked as the parameter's own. */
static gboolean read_axis(const char *name, const char *key, JsonNode *node, sf_tune_axis *axis,
                          GError **error)
{
    const sf_param_info *info = sf_run_param_lookup(key);
    if (!info) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s: %s: unknown parameter '%s'", name, key,
                    key);
        return FALSE;
    }
    /* Each overview is read once, at the base's resolution. */
    if (info->stage == SF_PARAM_STAGE_OVERVIEW) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT,
                    "%s: %s cannot vary in a grid: tune reads each overview once; give it as "
                    "--%s instead",
                    name, key, key);
        return FALSE;
    }
    axis->key = info->key;
    if (JSON_NODE_HOLDS_ARRAY(node)) {
        JsonArray *array = json_node_get_array(node);
        for (guint i = 0; i < json_array_get_length(array); i++)
            g_ptr_array_add(axis->values, scalar_text(json_array_get_element(array, i)));
    } else {
        g_ptr_array_add(axis->values, scalar_text(node));
    }
    if (axis->values->len == 0) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s: %s has no values", name, key);
        return FALSE;
    }
    sf_run_params probe;
    sf_run_params_default(&probe);
    for (guint i = 0; i < axis->values->len; i++) {
        g_autoptr(GError) local = NULL;
        const char *value = axis->values->pdata[i];
        if (!value || !sf_run_params_set(&probe, key, value, &local)) {
            g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s: %s: %s", name, key,
                        local ? local->message : "values must be numbers, strings or booleans");
            return FALSE;
        }
    }
    return TRUE;
}

/* Refuses a grid whose combinations exceed SF_TUNE_MAX_SETS, naming each
 * axis's count: "channel 3 x open 1000 x ...". */
static gboolean check_size(const char *name, const sf_tune_grid *grid, GError **error)
{
    double sets = 1;
    for (guint a = 0; a < grid->axes->len; a++)
        sets *= g_array_index(grid->axes, sf_tune_axis, a).values->len;
    if (sets <= SF_TUNE_MAX_SETS)
        return TRUE;
    GString *product = g_string_new(NULL);
    for (guint a = 0; a < grid->axes->len; a++) {
        const sf_tune_axis *axis = &g_array_index(grid->axes, sf_tune_axis, a);
        g_string_append_printf(product, "%s%s %u", a ? " x " : "", axis->key, axis->values->len);
    }
    g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT,
                "%s: %.4g parameter sets (%s) is more than the %d tune tries; narrow the grid",
                name, sets, product->str, SF_TUNE_MAX_SETS);
    g_string_free(product, TRUE);
    return FALSE;
}

sf_tune_grid *sf_tune_grid_load(const char *path, GError **error)
{
    g_autofree char *text = NULL;
    size_t length = 0;
    if (!sf_input_read(path, "grid", SF_INPUT_FILE, SF_JSON_MAX_FILE_BYTES, &text, &length, error))
        return NULL;
    return sf_tune_grid_parse(path, text, length, error);
}

sf_tune_grid *sf_tune_grid_parse(const char *name, const char *text, size_t length, GError **error)
{
    g_autoptr(JsonNode) root = sf_json_parse(name, text, length, SF_JSON_MAX_FILE_VALUES, error);
    g_autoptr(GError) local = NULL;
    if (!root)
        return NULL;
    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT,
                    "%s: a grid is a JSON object of parameter names to lists of values", name);
        return NULL;
    }
    g_autoptr(sf_tune_grid) grid = g_new0(sf_tune_grid, 1);
    grid->axes = g_array_new(FALSE, TRUE, sizeof(sf_tune_axis));
    JsonObject *object = json_node_get_object(root);
    g_autoptr(GList) members = json_object_get_members(object);
    for (GList *m = members; m; m = m->next) {
        sf_tune_axis axis = {.values = g_ptr_array_new_with_free_func(g_free)};
        g_array_append_val(grid->axes, axis);
        sf_tune_axis *added = &g_array_index(grid->axes, sf_tune_axis, grid->axes->len - 1);
        if (!read_axis(name, m->data, json_object_get_member(object, m->data), added, error))
            return NULL;
    }
    if (!check_size(name, grid, error))
        return NULL;
    return g_steal_pointer(&grid);
}

sf_tune_grid *sf_tune_grid_default(void)
{
    sf_tune_grid *grid =
        sf_tune_grid_parse("default grid", default_grid, strlen(default_grid), NULL);
    g_assert(grid);
    return grid;
}
