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

#include <float.h>
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

const char *sf_number_text(char buf[SF_NUMBER_TEXT_SIZE], double value)
{
    if (!isfinite(value))
        return strcpy(buf, "null");
    if (value == 0)
        return strcpy(buf, "0");
    /* A decimal of at most DBL_DIG (15) significant digits survives the trip
     * to a normal double and back at 15 digits, so when any text of 15
     * digits or fewer reads back as `value`, "%.15g" (which drops trailing
     * zeros) prints the shortest one; else 16 digits may do, and 17 always
     * do. Subnormals hold fewer digits: every precision is tried. */
    static const char *const formats[] = {"%.1g",  "%.2g",  "%.3g",  "%.4g",  "%.5g",  "%.6g",
                                          "%.7g",  "%.8g",  "%.9g",  "%.10g", "%.11g", "%.12g",
                                          "%.13g", "%.14g", "%.15g", "%.16g", "%.17g"};
    size_t first = fabs(value) < DBL_MIN ? 0 : DBL_DIG - 1;
    for (size_t i = first; i < G_N_ELEMENTS(formats); i++) {
        g_ascii_formatd(buf, SF_NUMBER_TEXT_SIZE, formats[i], value);
        if (g_ascii_strtod(buf, NULL) == value)
            break;
    }
    return buf;
}

/* Whether json-glib printed the number token `token` (length n) as a
 * double: it prints integers with digits and a sign only. */
static gboolean is_double_token(const char *token, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isdigit(token[i]) && token[i] != '-')
            return TRUE;
    return FALSE;
}

char *sf_json_text(JsonNode *root, gboolean pretty)
{
    g_autofree char *text = json_to_string(root, pretty);
    GString *out = g_string_sized_new(strlen(text) + 1);
    for (const char *p = text; *p;) {
        if (*p == '"') {
            /* A string as json-glib escaped it: copied as it is. */
            const char *start = p++;
            while (*p && *p != '"')
                p += p[0] == '\\' && p[1] ? 2 : 1;
            if (*p)
                p++;
            g_string_append_len(out, start, p - start);
            continue;
        }
        if (!g_ascii_isalnum(*p) && *p != '-') {
            g_string_append_c(out, *p++);
            continue;
        }
        /* A literal or a number: "true", "null", "-12", "935.60000000000002",
         * "1e-08.0", "nan.0". */
        size_t n = strspn(p, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+-.");
        if (g_ascii_isalpha(*p) &&
            (!strncmp(p, "true", n) || !strncmp(p, "false", n) || !strncmp(p, "null", n))) {
            g_string_append_len(out, p, n);
        } else if (!is_double_token(p, n)) {
            g_string_append_len(out, p, n);
        } else {
            /* json-glib's own %.17g text reads back exactly; whatever it
             * appended after an exponent (".0") is not part of the number. */
            char number[SF_NUMBER_TEXT_SIZE];
            sf_number_text(number, g_ascii_strtod(p, NULL));
            g_string_append(out, number);
            if (!strpbrk(number, ".en"))
                g_string_append(out, ".0");
        }
        p += n;
    }
    return g_string_free(out, FALSE);
}

void sf_json_add_int(JsonBuilder *b, const char *name, int64_t value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

void sf_json_add_double(JsonBuilder *b, const char *name, double value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_double_value(b, value);
}

void sf_json_add_string(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

void sf_json_add_bool(JsonBuilder *b, const char *name, gboolean value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_boolean_value(b, value);
}

char *sf_json_file_text(JsonNode *root)
{
    g_autofree char *text = sf_json_text(root, TRUE);
    return g_strconcat(text, "\n", NULL);
}
