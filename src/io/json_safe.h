/*
 * JSON written one way. json-glib (1.6) prints a double with "%.17g", so
 * 935.6 comes out as 935.60000000000002, and appends ".0" when that has no
 * '.', even after an exponent, so 1e-08 comes out as "1e-08.0", which no
 * JSON reader (json-glib included) accepts. Every JSON text slidefrag
 * writes comes from sf_json_text, which rewrites each number json-glib
 * printed as the shortest text that reads back as the same double, valid
 * JSON; CSV and XML print their numbers with the same sf_number_text (both
 * public, in slidefrag/json.h).
 *
 * (Reading is json_read.h's.)
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>

#include "slidefrag/json.h"

/* A member of the open object, the one way slidefrag writes members: a
 * NULL string as null, a string that is not UTF-8 made valid (U+FFFD). */
void sf_json_add_int(JsonBuilder *b, const char *name, int64_t value);
void sf_json_add_double(JsonBuilder *b, const char *name, double value);
void sf_json_add_string(JsonBuilder *b, const char *name, const char *value);
void sf_json_add_bool(JsonBuilder *b, const char *name, gboolean value);

/* `root` as the files slidefrag writes hold JSON: sf_json_text, indented,
 * ending in a newline. g_free it. */
char *sf_json_file_text(JsonNode *root);
