/*
 * JSON written one way (json_safe.h).
 */
#include "io/json_safe.h"

#include <float.h>
#include <math.h>
#include <string.h>

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
    g_autofree char *text = sf_json_text(root, TRUE);
    return g_strconcat(text, "\n", NULL);
}
