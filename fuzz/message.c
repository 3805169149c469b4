/*
 * sf_message_safe (src/error/error.c) on any bytes: the result is one line
 * of valid UTF-8 without a character a terminal acts on, bounded whatever
 * the input, and plain text short enough comes back as it was.
 */
#include <glib.h>
#include <string.h>

#include "fuzz.h"
#include "slidefrag/error.h"

int sf_fuzz_message(const uint8_t *data, size_t size)
{
    char *text = g_strndup((const char *)data, size); /* up to a NUL, as a C string */
    char *safe = sf_message_safe(text);
    SF_FUZZ_CHECK(g_utf8_validate(safe, -1, NULL));
    gboolean plain = TRUE;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        plain = plain && *p >= 0x20 && *p < 0x7F && *p != '\\';
    for (const char *p = safe; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        SF_FUZZ_CHECK(c >= 0x20 && c != 0x7F && !(c >= 0x80 && c <= 0x9F));
        SF_FUZZ_CHECK(!(c >= 0x202A && c <= 0x202E) && !(c >= 0x2066 && c <= 0x2069));
    }
    /* Each kept character is shown in at most 6 ("\u202e"). */
    SF_FUZZ_CHECK(g_utf8_strlen(safe, -1) <= 6 * SF_MESSAGE_MAX_CHARS);
    if (plain && strlen(text) <= SF_MESSAGE_MAX_CHARS)
        SF_FUZZ_CHECK(!strcmp(safe, text));
    g_free(safe);
    g_free(text);
    return 0;
}
