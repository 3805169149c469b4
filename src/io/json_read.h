/*
 * JSON read one way: a pull reader that never recurses, for every JSON file
 * slidefrag reads (exports, manifests, parameters, grids, truth files).
 *
 * json-glib's own parser recurses per level (a few tens of thousands of
 * '[' overflow the stack), builds a node of about 100 bytes for every
 * value (a 200 MB COCO export took over 7 GB) and wraps integers beyond 64
 * bits silently (-18446744073709551606 read as 10). This reader keeps one
 * token at a time, bounds the nesting, refuses what does not fit, and
 * builds json-glib nodes only for what a caller asks for: a whole small
 * file (sf_json_parse), or one element of a large one at a time
 * (sf_json_reader_build), so an export is read in the memory of its
 * largest entry.
 *
 * The text must be RFC 8259 JSON in UTF-8. json-glib also accepted
 * comments, 'single quotes', hexadecimal and leading zeros; nothing writes
 * those into the files slidefrag reads. An escaped lone surrogate or \u0000
 * (JavaScript writes both) becomes U+FFFD.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>

#include "io/input.h"

/* Far beyond any file slidefrag reads (GeoJSON MultiPolygons nest 8 deep)
 * and far below what would cost real memory: one byte per level. */
#define SF_JSON_MAX_DEPTH 512

typedef enum {
    SF_JSON_END, /* after the root value: nothing more */
    SF_JSON_NULL,
    SF_JSON_BOOLEAN,      /* boolean */
    SF_JSON_INTEGER,      /* integer: no fraction or exponent, fits int64 */
    SF_JSON_DOUBLE,       /* number: any other number, finite */
    SF_JSON_STRING,       /* string, length: UTF-8, NUL-terminated */
    SF_JSON_OBJECT_BEGIN, /* then members (each value has a key), then OBJECT_END */
    SF_JSON_OBJECT_END,
    SF_JSON_ARRAY_BEGIN,
    SF_JSON_ARRAY_END,
} sf_json_token;

/* Fields are read-only for callers; valid until the next call. */
typedef struct sf_json_reader {
    sf_json_token token;
    /* The member name when the value (or container begin) is an object
     * member, else NULL. */
    const char *key;
    const char *string;
    size_t length;
    int64_t integer;
    double number; /* also set for SF_JSON_INTEGER */
    gboolean boolean;
    /* Nesting of the value: 0 for the root, 1 for its members or elements.
     * A container's END has the depth of its BEGIN. */
    int depth;
    int line; /* 1-based line where the token starts */
    struct sf_json_reader_private *priv;
} sf_json_reader;

/* `name` is the file named in messages; `data` must outlive the reader. A
 * UTF-8 byte order mark is skipped. */
sf_json_reader *sf_json_reader_new(const char *name, const char *data, size_t length);
void sf_json_reader_free(sf_json_reader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_json_reader, sf_json_reader_free)

/*
 * Moves to the next token. FALSE on malformed text (then every later call
 * fails too), with SF_EXIT_BAD_INPUT "<name>:<line>: <cause>"; the line
 * and the cause alone are in sf_json_reader_error_line/_cause.
 */
gboolean sf_json_reader_next(sf_json_reader *reader, GError **error);

/* Skips the current value: for a container BEGIN, up to its END. */
gboolean sf_json_reader_skip(sf_json_reader *reader, GError **error);

/*
 * The current value as a json-glib node, reading up to its END for a
 * container. More than `max_values` values in it (the value itself, every
 * member and element at any depth) fails with SF_EXIT_BAD_INPUT "<name>:
 * <line>: more than N values in one entry": the node memory is bounded.
 * Repeated member names keep the last, as json-glib does.
 */
JsonNode *sf_json_reader_build(sf_json_reader *reader, size_t max_values, GError **error);

/* After a FALSE: where and why, for callers that record problems rather
 * than fail. */
int sf_json_reader_error_line(const sf_json_reader *reader);
const char *sf_json_reader_error_cause(const sf_json_reader *reader);

/*
 * A whole text as one node: the root and at most `max_values` values, and
 * nothing but white space after the root. NULL with SF_EXIT_BAD_INPUT
 * "<name>:<line>: <cause>" otherwise (an empty text included).
 */
JsonNode *sf_json_parse(const char *name, const char *data, size_t length, size_t max_values,
                        GError **error);

/* ---- Whole files --------------------------------------------------------- */

/* Manifests, parameters, grids and truth files: a manifest of 10,000
 * regions is 5 MB and 300,000 values. The caps keep json-glib's tree of
 * the largest accepted file (about 100 bytes a value) near 200 MB. */
#define SF_JSON_MAX_FILE_BYTES ((size_t)64 << 20)
#define SF_JSON_MAX_FILE_VALUES ((size_t)2000000)

/*
 * The one way a JSON file is read whole: a file of `kind` (input.h) of at
 * most SF_JSON_MAX_FILE_BYTES, parsed by the pull reader into at most
 * SF_JSON_MAX_FILE_VALUES nodes. `what` names it in messages ("manifest").
 * Errors: SF_EXIT_MISSING "<path>: cannot read <what>: <cause>",
 * SF_EXIT_BAD_INPUT "<path>: file too large ..." or "<path>:<line>:
 * <cause>", SF_EXIT_FAILURE for memory.
 */
JsonNode *sf_json_load(const char *path, const char *what, sf_input_kind kind, GError **error);

/* ---- Typed access ---------------------------------------------------------
 *
 * Each returns NULL or FALSE when the value is absent or of another type,
 * so readers decide what that means for their format.
 */

/* The member `name` of `object`; NULL when `object` is NULL, or the member
 * is missing or null. */
JsonNode *sf_json_member(JsonObject *object, const char *name);
JsonObject *sf_json_object(JsonNode *node);
JsonArray *sf_json_array(JsonNode *node);
JsonObject *sf_json_object_member(JsonObject *object, const char *name);
JsonArray *sf_json_array_member(JsonObject *object, const char *name);
const char *sf_json_string(JsonNode *node);
const char *sf_json_string_member(JsonObject *object, const char *name);
/* An integer or a double, finite. */
gboolean sf_json_number(JsonNode *node, double *out);
/* An integer, or a double with an integral value (2220.0) within +-9e15,
 * where doubles still hold every integer exactly. */
gboolean sf_json_integer(JsonNode *node, int64_t *out);
