/*
 * How slidefrag writes JSON and numbers (manifests, summaries, GeoJSON,
 * COCO, CSV, XML): for programs that write what slidefrag reads, or read
 * what it writes, the same way.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Enough for any double sf_number_text writes, with its NUL. */
#define SF_NUMBER_TEXT_SIZE 32

/*
 * The shortest decimal text that reads back (strtod) as exactly `value`:
 * "935.6", "0.1", "1e-08", "6e+18", "2", at most 17 significant digits,
 * with '.' whatever the locale; -0 is written "0". Non-finite values have
 * no text in JSON or CSV and are written "null". Returns buf.
 */
const char *sf_number_text(char buf[SF_NUMBER_TEXT_SIZE], double value);

/* `root` as JSON text: json-glib's layout (indented by two spaces when
 * `pretty`, else on one line), every double as sf_number_text writes it and
 * kept a double ("2.0", not "2"). The one JSON writer. g_free it. */
char *sf_json_text(JsonNode *root, gboolean pretty);

G_END_DECLS
