#include "slidefrag/error.h"

#include <string.h>

/* The macro stringifies its first argument: formatting would change it. */
// clang-format off
G_DEFINE_QUARK(slidefrag-error-quark, sf_error)
// clang-format on

int sf_exit_code(const GError *error)
{
    return error && error->domain == SF_ERROR ? error->code : SF_EXIT_FAILURE;
}

/* Characters a terminal may act on rather than show. */
static gboolean shown_escaped(gunichar c)
{
    return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || c == 0x061C ||
           (c >= 0x200E && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029;
}

static void append_safe(GString *out, const char *text, const char *end)
{
    const char *p = text;
    while (p < end) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            g_string_append_printf(out, "\\x%02x", (unsigned char)*p);
            p++;
            continue;
        }
        const char *next = g_utf8_next_char(p);
        if (c == '\\')
            g_string_append(out, "\\\\");
        else if (c == '\n')
            g_string_append(out, "\\n");
        else if (c == '\r')
            g_string_append(out, "\\r");
        else if (c == '\t')
            g_string_append(out, "\\t");
        else if (c < 0x80 && shown_escaped(c))
            g_string_append_printf(out, "\\x%02x", c);
        else if (shown_escaped(c))
            g_string_append_printf(out, "\\u%04x", c);
        else
            g_string_append_len(out, p, next - p);
        p = next;
    }
}

/* Where the `n`th character (counting a bad byte as one) starts. */
static const char *skip_chars(const char *p, const char *end, size_t n)
{
    for (; n > 0 && p < end; n--) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        p = c == (gunichar)-1 || c == (gunichar)-2 ? p + 1 : g_utf8_next_char(p);
    }
    return p;
}

static size_t count_chars(const char *p, const char *end, size_t stop)
{
    size_t n = 0;
    for (; p < end && n <= stop; n++) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        p = c == (gunichar)-1 || c == (gunichar)-2 ? p + 1 : g_utf8_next_char(p);
    }
    return n;
}

char *sf_message_safe(const char *text)
{
    if (!text)
        return g_strdup("");
    const char *end = text + strlen(text);
    GString *out = g_string_new(NULL);
    if (count_chars(text, end, SF_MESSAGE_MAX_CHARS) <= SF_MESSAGE_MAX_CHARS) {
        append_safe(out, text, end);
        return g_string_free(out, FALSE);
    }
    /* The start says where and what, the end why: keep both. The tail is
     * found from the end, a few bytes at a time, without counting the
     * whole text. */
    size_t head = SF_MESSAGE_MAX_CHARS * 4 / 5, tail = SF_MESSAGE_MAX_CHARS - head - 5;
    append_safe(out, text, skip_chars(text, end, head));
    const char *t = end;
    for (size_t n = 0; n < tail && t > text; n++) {
        t--;
        /* Step back over continuation bytes to a character's start, but
         * never further than a UTF-8 character can be long. */
        for (int k = 0; k < 3 && t > text && ((unsigned char)*t & 0xC0) == 0x80; k++)
            t--;
    }
    g_string_append(out, " ... ");
    append_safe(out, t, end);
    return g_string_free(out, FALSE);
}
