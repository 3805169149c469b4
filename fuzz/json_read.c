/*
 * The JSON pull reader (src/io/json_read.c) against json-glib's own
 * parser: whatever the reader accepts, json-glib reads as the same tree
 * (the reader is stricter, never looser), and what it refuses is refused
 * with the file and a line inside the text. The value bound of
 * sf_json_reader_build holds exactly: a text of n values is built under a
 * bound of n and refused under n - 1.
 */
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "io/json_read.h"

static gboolean same_tree(JsonNode *a, JsonNode *b);

static gboolean same_value(JsonNode *a, JsonNode *b)
{
    GType type = json_node_get_value_type(a);
    if (type != json_node_get_value_type(b))
        return FALSE;
    if (type == G_TYPE_INT64)
        return json_node_get_int(a) == json_node_get_int(b);
    if (type == G_TYPE_DOUBLE) {
        /* Both convert the same decimal text; allow for their rounding. */
        double x = json_node_get_double(a), y = json_node_get_double(b);
        return x == y || fabs(x - y) <= 1e-12 * MAX(fabs(x), fabs(y));
    }
    if (type == G_TYPE_BOOLEAN)
        return json_node_get_boolean(a) == json_node_get_boolean(b);
    return !g_strcmp0(json_node_get_string(a), json_node_get_string(b));
}

static gboolean same_tree(JsonNode *a, JsonNode *b)
{
    if (JSON_NODE_TYPE(a) != JSON_NODE_TYPE(b))
        return FALSE;
    switch (JSON_NODE_TYPE(a)) {
    case JSON_NODE_NULL:
        return TRUE;
    case JSON_NODE_VALUE:
        return same_value(a, b);
    case JSON_NODE_ARRAY: {
        JsonArray *x = json_node_get_array(a), *y = json_node_get_array(b);
        guint n = json_array_get_length(x);
        if (n != json_array_get_length(y))
            return FALSE;
        for (guint i = 0; i < n; i++)
            if (!same_tree(json_array_get_element(x, i), json_array_get_element(y, i)))
                return FALSE;
        return TRUE;
    }
    case JSON_NODE_OBJECT: {
        JsonObject *x = json_node_get_object(a), *y = json_node_get_object(b);
        if (json_object_get_size(x) != json_object_get_size(y))
            return FALSE;
        g_autoptr(GList) members = json_object_get_members(x);
        for (GList *m = members; m; m = m->next)
            if (!json_object_has_member(y, m->data) ||
                !same_tree(json_object_get_member(x, m->data), json_object_get_member(y, m->data)))
                return FALSE;
        return TRUE;
    }
    }
    return FALSE;
}

/* Values in the text (every token but END and the ENDs of containers);
 * -1 when the reader refuses it. */
static long count_values(const char *text, size_t size)
{
    g_autoptr(sf_json_reader) r = sf_json_reader_new("t.json", text, size);
    long n = 0;
    for (;;) {
        if (!sf_json_reader_next(r, NULL))
            return -1;
        if (r->token == SF_JSON_END)
            return n;
        n += r->token != SF_JSON_OBJECT_END && r->token != SF_JSON_ARRAY_END;
    }
}

int sf_fuzz_json_read(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    GError *error = NULL;
    JsonNode *ours = sf_json_parse("t.json", text, size, G_MAXSIZE, &error);
    long n_values = count_values(text, size);
    /* The tokens alone and the tree agree on what is JSON. */
    SF_FUZZ_CHECK((ours != NULL) == (n_values >= 0));
    if (!ours) {
        int lines = 1;
        for (size_t i = 0; i < size; i++)
            lines += data[i] == '\n';
        int line = 0;
        SF_FUZZ_CHECK(g_str_has_prefix(error->message, "t.json:"));
        SF_FUZZ_CHECK(sscanf(error->message, "t.json:%d:", &line) == 1);
        SF_FUZZ_CHECK(line >= 1 && line <= lines);
        g_error_free(error);
        return 0;
    }
    /* The value bound is exact. */
    JsonNode *bounded = sf_json_parse("t.json", text, size, (size_t)n_values, NULL);
    SF_FUZZ_CHECK(bounded != NULL);
    json_node_unref(bounded);
    if (n_values > 1) {
        JsonNode *refused = sf_json_parse("t.json", text, size, (size_t)n_values - 1, NULL);
        SF_FUZZ_CHECK(refused == NULL);
    }
    /* json-glib reads the same. Escapes are left out: the reader makes a
     * lone surrogate and \u0000 U+FFFD where json-glib fails or cuts the
     * string. */
    if (!g_strstr_len(text, (gssize)size, "\\u")) {
        JsonParser *parser = json_parser_new();
        SF_FUZZ_CHECK(json_parser_load_from_data(parser, text, (gssize)size, NULL));
        SF_FUZZ_CHECK(same_tree(ours, json_parser_get_root(parser)));
        g_object_unref(parser);
    }
    json_node_unref(ours);
    return 0;
}
