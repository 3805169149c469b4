/*
 * JSON written one way (json_safe.h).
 */
#include "io/json_safe.h"

#include <math.h>
#include <string.h>

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
