/*
 * The nesting guard in front of json-glib (src/io/json_safe.c) against
 * json-glib itself: whenever the guard lets a text through, json-glib must
 * not nest deeper than the guard's bound. The parser's own signals measure
 * the depth it reaches.
 */
#include <json-glib/json-glib.h>

#include "fuzz.h"
#include "io/json_safe.h"

typedef struct {
    size_t depth, deepest;
} depth_watch;

static void on_start(JsonParser *parser, gpointer data)
{
    (void)parser;
    depth_watch *w = data;
    if (++w->depth > w->deepest)
        w->deepest = w->depth;
}

static void on_object_end(JsonParser *parser, JsonObject *object, gpointer data)
{
    (void)parser;
    (void)object;
    ((depth_watch *)data)->depth--;
}

static void on_array_end(JsonParser *parser, JsonArray *array, gpointer data)
{
    (void)parser;
    (void)array;
    ((depth_watch *)data)->depth--;
}

int sf_fuzz_json_depth(const uint8_t *data, size_t size)
{
    size_t bound = sf_json_depth_bound((const char *)data, size, SF_JSON_MAX_DEPTH, NULL);
    if (bound > SF_JSON_MAX_DEPTH)
        return 0; /* refused: json-glib never sees it */
    depth_watch watch = {0, 0};
    JsonParser *parser = json_parser_new();
    g_signal_connect(parser, "object-start", G_CALLBACK(on_start), &watch);
    g_signal_connect(parser, "array-start", G_CALLBACK(on_start), &watch);
    g_signal_connect(parser, "object-end", G_CALLBACK(on_object_end), &watch);
    g_signal_connect(parser, "array-end", G_CALLBACK(on_array_end), &watch);
    json_parser_load_from_data(parser, (const char *)data, (gssize)size, NULL);
    g_object_unref(parser);
    SF_FUZZ_CHECK(watch.deepest <= bound);
    return 0;
}
