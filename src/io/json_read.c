/*
 * The JSON pull reader (json_read.h).
 *
 * A state machine over the text with an explicit stack of open containers,
 * one byte each: no recursion, and the nesting bound is the stack's size.
 * Strings are unescaped into a buffer the reader owns; numbers are checked
 * against RFC 8259's grammar before conversion, so "01", "1." or "+1" are
 * refused rather than read as something else.
 */
#include "io/json_read.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "slidefrag/error.h"

/* What the next token may be. */
typedef enum {
    EXPECT_ROOT,         /* the root value */
    EXPECT_VALUE_OR_END, /* just after '[' */
    EXPECT_VALUE,        /* after ',' in an array, after ':' in an object */
    EXPECT_KEY_OR_END,   /* just after '{' */
    EXPECT_KEY,          /* after ',' in an object */
    EXPECT_COMMA_OR_END, /* after a value inside a container */
    EXPECT_NOTHING,      /* after the root value */
} expectation;

struct sf_json_reader_private {
    char *name;
    const char *start, *p, *end;
    int line;
    expectation expect;
    char stack[SF_JSON_MAX_DEPTH]; /* '{' or '[' per open container */
    int n_open;
    GString *key_buffer;
    GString *string_buffer;
    /* Inside sf_json_reader_skip: values are checked, not converted. */
    gboolean skipping;
    gboolean failed;
    int error_line;
    char *error_cause;
};

sf_json_reader *sf_json_reader_new(const char *name, const char *data, size_t length)
{
    sf_json_reader *r = g_new0(sf_json_reader, 1);
    struct sf_json_reader_private *p = g_new0(struct sf_json_reader_private, 1);
    r->priv = p;
    p->name = g_strdup(name);
    if (length >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
        data += 3;
        length -= 3;
    }
    p->start = p->p = data;
    p->end = data + length;
    p->line = 1;
    p->expect = EXPECT_ROOT;
    p->key_buffer = g_string_new(NULL);
    p->string_buffer = g_string_new(NULL);
    return r;
}

void sf_json_reader_free(sf_json_reader *reader)
{
    if (!reader)
        return;
    g_free(reader->priv->name);
    g_string_free(reader->priv->key_buffer, TRUE);
    g_string_free(reader->priv->string_buffer, TRUE);
    g_free(reader->priv->error_cause);
    g_free(reader->priv);
    g_free(reader);
}

int sf_json_reader_error_line(const sf_json_reader *reader)
{
    return reader->priv->error_line;
}

const char *sf_json_reader_error_cause(const sf_json_reader *reader)
{
    return reader->priv->error_cause ? reader->priv->error_cause : "";
}

static gboolean fail(sf_json_reader *r, GError **error, const char *format, ...)
    G_GNUC_PRINTF(3, 4);
static gboolean fail(sf_json_reader *r, GError **error, const char *format, ...)
{
    struct sf_json_reader_private *p = r->priv;
    if (!p->failed) {
        va_list args;
        va_start(args, format);
        p->error_cause = g_strdup_vprintf(format, args);
        va_end(args);
        p->error_line = p->line;
        p->failed = TRUE;
    }
    g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s:%d: %s", p->name, p->error_line,
                p->error_cause);
    return FALSE;
}

/* The character at p for messages: printable ASCII as is, else its code. */
static char *describe(const char *p, const char *end)
{
    if (p >= end)
        return g_strdup("the end of the text");
    unsigned char c = (unsigned char)*p;
    if (c >= 0x21 && c < 0x7F)
        return g_strdup_printf("'%c'", c);
    return g_strdup_printf("byte 0x%02X", c);
}

static void skip_space(struct sf_json_reader_private *p)
{
    while (p->p < p->end) {
        char c = *p->p;
        if (c == '\n')
            p->line++;
        else if (c != ' ' && c != '\t' && c != '\r')
            return;
        p->p++;
    }
}

static int hex_digit(char c)
{
    return g_ascii_xdigit_value(c);
}

/* Four hex digits at s, or -1. */
static int hex4(const char *s, const char *end)
{
    if (end - s < 4)
        return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(s[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Reads the string at p->p (on its opening quote) into `out`. */
static gboolean read_string(sf_json_reader *r, GString *out, GError **error)
{
    struct sf_json_reader_private *p = r->priv;
    g_string_truncate(out, 0);
    const char *s = p->p + 1;
    for (;;) {
        /* Copy a run of plain characters at once. */
        const char *run = s;
        while (s < p->end && *s != '"' && *s != '\\' && (unsigned char)*s >= 0x20)
            s++;
        g_string_append_len(out, run, s - run);
        if (s >= p->end)
            return fail(r, error, "not valid JSON: unterminated string");
        if (*s == '"')
            break;
        if (*s != '\\') {
            if (*s == '\n')
                return fail(r, error, "not valid JSON: unterminated string");
            return fail(r, error, "not valid JSON: control character 0x%02X in a string",
                        (unsigned char)*s);
        }
        if (s + 1 >= p->end)
            return fail(r, error, "not valid JSON: unterminated string");
        char e = s[1];
        s += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            g_string_append_c(out, e);
            break;
        case 'b':
            g_string_append_c(out, '\b');
            break;
        case 'f':
            g_string_append_c(out, '\f');
            break;
        case 'n':
            g_string_append_c(out, '\n');
            break;
        case 'r':
            g_string_append_c(out, '\r');
            break;
        case 't':
            g_string_append_c(out, '\t');
            break;
        case 'u': {
            int v = hex4(s, p->end);
            if (v < 0)
                return fail(r, error, "not valid JSON: \\u not followed by four hex digits");
            s += 4;
            gunichar c = (gunichar)v;
            if (v >= 0xD800 && v <= 0xDBFF && p->end - s >= 6 && s[0] == '\\' && s[1] == 'u') {
                int low = hex4(s + 2, p->end);
                if (low >= 0xDC00 && low <= 0xDFFF) {
                    c = 0x10000 + (((gunichar)v - 0xD800) << 10) + ((gunichar)low - 0xDC00);
                    s += 6;
                }
            }
            /* A lone surrogate (JavaScript writes them) or NUL (which would
             * end the string early here) cannot be kept as they are. */
            if ((c >= 0xD800 && c <= 0xDFFF) || c == 0)
                c = 0xFFFD;
            g_string_append_unichar(out, c);
            break;
        }
        default:
            return fail(r, error, "not valid JSON: unknown escape '\\%c' in a string",
                        g_ascii_isprint(e) ? e : '?');
        }
    }
    p->p = s + 1;
    if (!g_utf8_validate(out->str, (gssize)out->len, NULL))
        return fail(r, error, "not valid JSON: a string is not UTF-8");
    return TRUE;
}

/* RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static gboolean read_number(sf_json_reader *r, GError **error)
{
    struct sf_json_reader_private *p = r->priv;
    const char *s = p->p, *end = p->end;
    gboolean integer = TRUE, exponent = FALSE;
    if (s < end && *s == '-')
        s++;
    if (s < end && *s == '0')
        s++;
    else if (s < end && *s >= '1' && *s <= '9')
        while (s < end && g_ascii_isdigit(*s))
            s++;
    else
        return fail(r, error, "not valid JSON: a number has no digits");
    if (s < end && *s == '.') {
        integer = FALSE;
        s++;
        if (s >= end || !g_ascii_isdigit(*s))
            return fail(r, error, "not valid JSON: no digit after a decimal point");
        while (s < end && g_ascii_isdigit(*s))
            s++;
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        integer = FALSE;
        exponent = TRUE;
        s++;
        if (s < end && (*s == '+' || *s == '-'))
            s++;
        if (s >= end || !g_ascii_isdigit(*s))
            return fail(r, error, "not valid JSON: no digit in an exponent");
        while (s < end && g_ascii_isdigit(*s))
            s++;
    }
    if (s < end && (g_ascii_isalnum(*s) || *s == '.' || *s == '+' || *s == '-')) {
        g_autofree char *what = describe(s, end);
        return fail(r, error, "not valid JSON: a number runs into %s", what);
    }
    size_t n = (size_t)(s - p->p);
    if (integer) {
        /* Exactly, with overflow checked: beyond 64 bits is refused, never
         * wrapped or rounded into another valid coordinate. */
        const char *d = p->p;
        gboolean negative = *d == '-';
        d += negative;
        uint64_t value = 0;
        gboolean overflow = FALSE;
        for (; d < s; d++) {
            unsigned digit = (unsigned)(*d - '0');
            if (value > (UINT64_MAX - digit) / 10) {
                overflow = TRUE;
                break;
            }
            value = value * 10 + digit;
        }
        uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        if (overflow || value > limit) {
            /* Digits only: echoing a few is safe; a 100 MB one is cut. */
            return fail(r, error, "integer %.*s%s does not fit in 64 bits; refused",
                        (int)MIN(n, (size_t)40), p->p, n > 40 ? "..." : "");
        }
        r->integer = negative ? (int64_t)(0 - value) : (int64_t)value;
        r->number = (double)r->integer;
        r->token = SF_JSON_INTEGER;
    } else if (p->skipping && !exponent && n < 300) {
        /* Finite without conversion: strtod was a third of skipping. */
        r->token = SF_JSON_DOUBLE;
    } else {
        GString *buffer = p->string_buffer;
        g_string_truncate(buffer, 0);
        g_string_append_len(buffer, p->p, (gssize)n);
        errno = 0;
        double value = g_ascii_strtod(buffer->str, NULL);
        if (!isfinite(value))
            return fail(r, error, "number %.*s%s is out of range", (int)MIN(n, (size_t)40), p->p,
                        n > 40 ? "..." : "");
        r->number = value;
        r->token = SF_JSON_DOUBLE;
    }
    p->p = s;
    return TRUE;
}

static gboolean read_literal(sf_json_reader *r, const char *word, GError **error)
{
    struct sf_json_reader_private *p = r->priv;
    size_t n = strlen(word);
    if ((size_t)(p->end - p->p) < n || memcmp(p->p, word, n) != 0 ||
        (p->p + n < p->end && g_ascii_isalnum(p->p[n]))) {
        g_autofree char *what = describe(p->p, p->end);
        return fail(r, error, "not valid JSON: unexpected %s, expected a value", what);
    }
    p->p += n;
    return TRUE;
}

/* Reads a value starting at p->p; containers are opened, not read. */
static gboolean read_value(sf_json_reader *r, GError **error)
{
    struct sf_json_reader_private *p = r->priv;
    if (p->p >= p->end)
        return fail(r, error, "not valid JSON: the text ends where a value should be");
    r->depth = p->n_open;
    switch (*p->p) {
    case '{':
    case '[':
        if (p->n_open >= SF_JSON_MAX_DEPTH)
            return fail(r, error, "JSON nested deeper than %d levels; refused", SF_JSON_MAX_DEPTH);
        p->stack[p->n_open++] = *p->p;
        r->token = *p->p == '{' ? SF_JSON_OBJECT_BEGIN : SF_JSON_ARRAY_BEGIN;
        p->expect = *p->p == '{' ? EXPECT_KEY_OR_END : EXPECT_VALUE_OR_END;
        p->p++;
        return TRUE;
    case '"':
        if (!read_string(r, p->string_buffer, error))
            return FALSE;
        r->token = SF_JSON_STRING;
        r->string = p->string_buffer->str;
        r->length = p->string_buffer->len;
        break;
    case 't':
    case 'f':
        if (!read_literal(r, *p->p == 't' ? "true" : "false", error))
            return FALSE;
        r->token = SF_JSON_BOOLEAN;
        r->boolean = p->p[-4] == 't';
        break;
    case 'n':
        if (!read_literal(r, "null", error))
            return FALSE;
        r->token = SF_JSON_NULL;
        break;
    default:
        if (*p->p == '-' || g_ascii_isdigit(*p->p)) {
            if (!read_number(r, error))
                return FALSE;
            break;
        }
        g_autofree char *what = describe(p->p, p->end);
        return fail(r, error, "not valid JSON: unexpected %s, expected a value", what);
    }
    p->expect = p->n_open ? EXPECT_COMMA_OR_END : EXPECT_NOTHING;
    return TRUE;
}

static gboolean close_container(sf_json_reader *r)
{
    struct sf_json_reader_private *p = r->priv;
    char open = p->stack[--p->n_open];
    r->token = open == '{' ? SF_JSON_OBJECT_END : SF_JSON_ARRAY_END;
    r->depth = p->n_open;
    p->p++;
    p->expect = p->n_open ? EXPECT_COMMA_OR_END : EXPECT_NOTHING;
    return TRUE;
}

gboolean sf_json_reader_next(sf_json_reader *r, GError **error)
{
    struct sf_json_reader_private *p = r->priv;
    if (p->failed)
        return fail(r, error, "%s", p->error_cause);
    r->key = NULL;
    r->string = NULL;
    r->length = 0;
    for (;;) {
        skip_space(p);
        r->line = p->line;
        char c = p->p < p->end ? *p->p : '\0';
        char open = p->n_open ? p->stack[p->n_open - 1] : '\0';
        switch (p->expect) {
        case EXPECT_ROOT:
            if (p->p >= p->end)
                return fail(r, error, "not valid JSON: no value in the text");
            return read_value(r, error);
        case EXPECT_NOTHING:
            if (p->p >= p->end) {
                r->token = SF_JSON_END;
                r->depth = 0;
                return TRUE;
            }
            {
                g_autofree char *what = describe(p->p, p->end);
                return fail(r, error, "not valid JSON: unexpected %s after the end", what);
            }
        case EXPECT_VALUE_OR_END:
            if (c == ']')
                return close_container(r);
            return read_value(r, error);
        case EXPECT_VALUE:
            return read_value(r, error);
        case EXPECT_COMMA_OR_END:
            if (c == ',') {
                p->p++;
                p->expect = open == '{' ? EXPECT_KEY : EXPECT_VALUE;
                continue;
            }
            if ((open == '{' && c == '}') || (open == '[' && c == ']'))
                return close_container(r);
            {
                g_autofree char *what = describe(p->p, p->end);
                return fail(r, error, "not valid JSON: unexpected %s, expected ',' or '%c'", what,
                            open == '{' ? '}' : ']');
            }
        case EXPECT_KEY_OR_END:
            if (c == '}')
                return close_container(r);
            /* fall through */
        case EXPECT_KEY:
            if (c != '"') {
                g_autofree char *what = describe(p->p, p->end);
                return fail(r, error, "not valid JSON: unexpected %s, expected a member name",
                            what);
            }
            if (!read_string(r, p->key_buffer, error))
                return FALSE;
            skip_space(p);
            if (p->p >= p->end || *p->p != ':') {
                g_autofree char *what = describe(p->p, p->end);
                return fail(r, error, "not valid JSON: unexpected %s, expected ':'", what);
            }
            p->p++;
            skip_space(p);
            r->line = p->line;
            if (!read_value(r, error))
                return FALSE;
            r->key = p->key_buffer->str;
            return TRUE;
        }
    }
}

gboolean sf_json_reader_skip(sf_json_reader *r, GError **error)
{
    if (r->token != SF_JSON_OBJECT_BEGIN && r->token != SF_JSON_ARRAY_BEGIN)
        return TRUE;
    int depth = r->depth;
    r->priv->skipping = TRUE;
    for (;;) {
        if (!sf_json_reader_next(r, error))
            break;
        if ((r->token == SF_JSON_OBJECT_END || r->token == SF_JSON_ARRAY_END) &&
            r->depth == depth) {
            r->priv->skipping = FALSE;
            return TRUE;
        }
    }
    r->priv->skipping = FALSE;
    return FALSE;
}

/* A node for the current scalar token. */
static JsonNode *scalar_node(const sf_json_reader *r)
{
    JsonNode *node = json_node_alloc();
    switch (r->token) {
    case SF_JSON_NULL:
        return json_node_init_null(node);
    case SF_JSON_BOOLEAN:
        return json_node_init_boolean(node, r->boolean);
    case SF_JSON_INTEGER:
        return json_node_init_int(node, r->integer);
    case SF_JSON_DOUBLE:
        return json_node_init_double(node, r->number);
    case SF_JSON_STRING:
        return json_node_init_string(node, r->string);
    default:
        break;
    }
    json_node_free(node);
    return NULL;
}

/* Adds `child` to the container node `parent`, under `key` for objects. */
static void attach(JsonNode *parent, const char *key, JsonNode *child)
{
    if (JSON_NODE_HOLDS_OBJECT(parent))
        json_object_set_member(json_node_get_object(parent), key, child);
    else
        json_array_add_element(json_node_get_array(parent), child);
}

JsonNode *sf_json_reader_build(sf_json_reader *r, size_t max_values, GError **error)
{
    /* Containers still open, innermost last; each holds its node. */
    g_autoptr(GPtrArray) open = g_ptr_array_new();
    JsonNode *root = NULL;
    size_t n_values = 0;
    for (;;) {
        if (r->token == SF_JSON_OBJECT_END || r->token == SF_JSON_ARRAY_END) {
            g_ptr_array_remove_index(open, open->len - 1);
        } else {
            if (++n_values > max_values) {
                fail(r, error, "more than %zu values in one entry; refused", max_values);
                break;
            }
            JsonNode *node;
            if (r->token == SF_JSON_OBJECT_BEGIN) {
                node = json_node_init_object(json_node_alloc(), NULL);
                json_node_take_object(node, json_object_new());
            } else if (r->token == SF_JSON_ARRAY_BEGIN) {
                node = json_node_init_array(json_node_alloc(), NULL);
                json_node_take_array(node, json_array_new());
            } else {
                node = scalar_node(r);
            }
            if (!node) {
                fail(r, error, "not valid JSON: no value");
                break;
            }
            if (open->len)
                attach(open->pdata[open->len - 1], r->key, node);
            else
                root = node;
            if (r->token == SF_JSON_OBJECT_BEGIN || r->token == SF_JSON_ARRAY_BEGIN)
                g_ptr_array_add(open, node);
        }
        if (open->len == 0)
            return root;
        if (!sf_json_reader_next(r, error))
            break;
    }
    if (root)
        json_node_unref(root);
    return NULL;
}

JsonNode *sf_json_parse(const char *name, const char *data, size_t length, size_t max_values,
                        GError **error)
{
    g_autoptr(sf_json_reader) r = sf_json_reader_new(name, data, length);
    if (!sf_json_reader_next(r, error))
        return NULL;
    JsonNode *root = sf_json_reader_build(r, max_values, error);
    if (!root)
        return NULL;
    if (!sf_json_reader_next(r, error)) {
        json_node_unref(root);
        return NULL;
    }
    return root;
}

/* ---- Whole files --------------------------------------------------------- */

JsonNode *sf_json_load(const char *path, const char *what, sf_input_kind kind, GError **error)
{
    g_autofree char *text = NULL;
    size_t length = 0;
    if (!sf_input_read(path, what, kind, SF_JSON_MAX_FILE_BYTES, &text, &length, error))
        return NULL;
    return sf_json_parse(path, text, length, SF_JSON_MAX_FILE_VALUES, error);
}

/* ---- Typed access --------------------------------------------------------- */

JsonNode *sf_json_member(JsonObject *object, const char *name)
{
    if (!object || !json_object_has_member(object, name))
        return NULL;
    JsonNode *node = json_object_get_member(object, name);
    return JSON_NODE_HOLDS_NULL(node) ? NULL : node;
}

JsonObject *sf_json_object(JsonNode *node)
{
    return node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

JsonArray *sf_json_array(JsonNode *node)
{
    return node && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
}

JsonObject *sf_json_object_member(JsonObject *object, const char *name)
{
    return sf_json_object(sf_json_member(object, name));
}

JsonArray *sf_json_array_member(JsonObject *object, const char *name)
{
    return sf_json_array(sf_json_member(object, name));
}

const char *sf_json_string(JsonNode *node)
{
    return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING
               ? json_node_get_string(node)
               : NULL;
}

const char *sf_json_string_member(JsonObject *object, const char *name)
{
    return sf_json_string(sf_json_member(object, name));
}

gboolean sf_json_number(JsonNode *node, double *out)
{
    if (!node || !JSON_NODE_HOLDS_VALUE(node))
        return FALSE;
    GType type = json_node_get_value_type(node);
    if (type == G_TYPE_INT64)
        *out = (double)json_node_get_int(node);
    else if (type == G_TYPE_DOUBLE)
        *out = json_node_get_double(node);
    else
        return FALSE;
    return isfinite(*out);
}

gboolean sf_json_integer(JsonNode *node, int64_t *out)
{
    if (node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_INT64) {
        *out = json_node_get_int(node);
        return TRUE;
    }
    double d;
    if (!sf_json_number(node, &d) || d != floor(d) || fabs(d) > 9e15)
        return FALSE;
    *out = (int64_t)d;
    return TRUE;
}
