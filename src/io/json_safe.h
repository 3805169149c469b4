/*
 * Around two limits of json-glib (1.6).
 *
 * Reading: it parses recursively, so "[[[[..." a few tens of thousands deep
 * overflows the stack and kills the process. Every reader of JSON from a
 * file checks the nesting with sf_json_check_depth first.
 *
 * Writing: it prints a double with "%.17g" and appends ".0" when that has
 * no '.', even after an exponent, so 1e-08 comes out as "1e-08.0", which
 * no JSON reader (json-glib included) accepts. Every double written goes
 * through sf_json_double.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>

/* Far beyond any file slidefrag reads (GeoJSON MultiPolygons nest 8 deep)
 * and far below what json-glib's recursion can take, also under ASan. */
#define SF_JSON_MAX_DEPTH 512

/*
 * FALSE, with SF_EXIT_BAD_INPUT "<name>:<line>: JSON nested deeper than
 * ...", when arrays and objects in `data` may nest deeper than
 * SF_JSON_MAX_DEPTH as json-glib would read them.
 */
gboolean sf_json_check_depth(const char *name, const char *data, size_t length, GError **error);

/* The depth json-glib would reach, or an upper bound of it (see the .c);
 * the scan stops once the bound passes `limit`. */
size_t sf_json_depth_bound(const char *data, size_t length, size_t limit, int *line);

/* `value`, or the double next to it toward zero when json-glib would write
 * it as invalid JSON (see above): a change in the 17th digit. */
double sf_json_double(double value);

/* A member of the open object, the one way slidefrag writes members: the
 * double through sf_json_double, a NULL string as null, a string that is
 * not UTF-8 made valid (U+FFFD). */
void sf_json_add_int(JsonBuilder *b, const char *name, int64_t value);
void sf_json_add_double(JsonBuilder *b, const char *name, double value);
void sf_json_add_string(JsonBuilder *b, const char *name, const char *value);
void sf_json_add_bool(JsonBuilder *b, const char *name, gboolean value);

/* `root` as the files slidefrag writes hold JSON: indented by two spaces,
 * ending in a newline. g_free it. */
char *sf_json_file_text(JsonNode *root);
