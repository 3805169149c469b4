/*
 * JSON written one way. json-glib (1.6) prints a double with "%.17g" and
 * appends ".0" when that has no '.', even after an exponent, so 1e-08
 * comes out as "1e-08.0", which no JSON reader (json-glib included)
 * accepts. Every double written goes through sf_json_double.
 *
 * (Reading is json_read.h's.)
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>

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
