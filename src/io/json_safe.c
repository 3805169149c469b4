/*
 * JSON text json-glib can read and write (json_safe.h).
 *
 * How deep a text nests is measured without recursion.
 *
 * The count must never be lower than what json-glib's parser reaches, so
 * strings have to be skipped exactly where json-glib's scanner skips them.
 * For standard JSON the two agree. json-glib (1.6) also accepts things
 * JSON does not, and lexes them in its own way: 'single-quoted' strings,
 * a '/' that starts a comment ending at the next '/', and a \u escape that
 * takes the next four characters whatever they are. Rather than copy those
 * quirks, the scan stops tracking strings at the first of them and from
 * there on counts every '[' and '{' as one level deeper: an upper bound,
 * since no text nests deeper than it opens. Only files that use these
 * extensions and open more than the limit after them are refused wrongly.
 */
#include "io/json_safe.h"

#include <math.h>
#include <string.h>

#include "slidefrag/error.h"

static gboolean is_hex(char c)
{
    return g_ascii_isxdigit(c);
}

/* The value of the four hex digits at p (all known to be hex). */
static unsigned hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++)
        v = v * 16 + (unsigned)g_ascii_xdigit_value(p[i]);
    return v;
}

/*
 * Length of a standard \uXXXX escape at p (p[0] == '\\', p[1] == 'u'),
 * with its low surrogate when it is a high one: 6 or 12. 0 when the escape
 * is not standard, where json-glib may read on past a quote.
 */
static size_t unicode_escape_length(const char *p, size_t left)
{
    if (left < 6 || !is_hex(p[2]) || !is_hex(p[3]) || !is_hex(p[4]) || !is_hex(p[5]))
        return 0;
    unsigned v = hex4(p + 2);
    if (v < 0xD800 || v > 0xDFFF)
        return 6;
    if (v > 0xDBFF || left < 12 || p[6] != '\\' || p[7] != 'u' || !is_hex(p[8]) || !is_hex(p[9]) ||
        !is_hex(p[10]) || !is_hex(p[11]))
        return 0;
    unsigned low = hex4(p + 8);
    return low >= 0xDC00 && low <= 0xDFFF ? 12 : 0;
}

size_t sf_json_depth_bound(const char *data, size_t length, size_t limit, int *line)
{
    size_t depth = 0, deepest = 0;
    gboolean in_string = FALSE, exact = TRUE;
    int at_line = 1;
    for (size_t i = 0; i < length; i++) {
        char c = data[i];
        if (c == '\n')
            at_line++;
        if (in_string) {
            if (c == '"') {
                in_string = FALSE;
            } else if (c == '\\' && i + 1 < length) {
                if (data[i + 1] != 'u') {
                    i++; /* one escaped character */
                    if (data[i] == '\n')
                        at_line++;
                } else {
                    size_t n = unicode_escape_length(data + i, length - i);
                    if (n == 0) {
                        exact = FALSE;
                        in_string = FALSE;
                    } else {
                        i += n - 1;
                    }
                }
            }
            continue;
        }
        switch (c) {
        case '"':
            if (exact)
                in_string = TRUE;
            break;
        case '\'':
        case '/':
            exact = FALSE;
            break;
        case '[':
        case '{':
            depth++;
            break;
        case ']':
        case '}':
            /* Once inexact, a closing bracket may sit in a string json-glib
             * skips, so it no longer counts. */
            if (exact && depth > 0)
                depth--;
            break;
        default:
            break;
        }
        if (depth > deepest) {
            deepest = depth;
            if (deepest > limit) {
                if (line)
                    *line = at_line;
                return deepest;
            }
        }
    }
    return deepest;
}

gboolean sf_json_check_depth(const char *name, const char *data, size_t length, GError **error)
{
    int line = 0;
    if (sf_json_depth_bound(data, length, SF_JSON_MAX_DEPTH, &line) <= SF_JSON_MAX_DEPTH)
        return TRUE;
    g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT,
                "%s:%d: JSON nested deeper than %d levels; refused", name, line, SF_JSON_MAX_DEPTH);
    return FALSE;
}

double sf_json_double(double value)
{
    char text[G_ASCII_DTOSTR_BUF_SIZE];
    /* One step is enough in practice: the neighbour of a short decimal
     * needs all 17 digits, hence a '.'. */
    for (int i = 0; i < 4 && isfinite(value) && value != 0; i++) {
        g_ascii_dtostr(text, sizeof text, value);
        if (strchr(text, '.') || !strpbrk(text, "eE"))
            break;
        value = nextafter(value, 0.0);
    }
    return value;
}

void sf_json_add_int(JsonBuilder *b, const char *name, int64_t value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

void sf_json_add_double(JsonBuilder *b, const char *name, double value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_double_value(b, sf_json_double(value));
}

void sf_json_add_string(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (!value) {
        json_builder_add_null_value(b);
    } else if (g_utf8_validate(value, -1, NULL)) {
        json_builder_add_string_value(b, value);
    } else {
        /* json-glib writes the bytes as they are, and no JSON reader (its
         * own included) accepts the result: a file name that is not UTF-8
         * made summary.json unreadable. Such text is written made valid
         * (U+FFFD for each bad byte). */
        g_autofree char *valid = g_utf8_make_valid(value, -1);
        json_builder_add_string_value(b, valid);
    }
}

void sf_json_add_bool(JsonBuilder *b, const char *name, gboolean value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_boolean_value(b, value);
}

char *sf_json_file_text(JsonNode *root)
{
    g_autofree char *text = json_to_string(root, TRUE);
    return g_strconcat(text, "\n", NULL);
}
