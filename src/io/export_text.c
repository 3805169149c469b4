/*
 * The small text parsers the export readers share (export_internal.h):
 * numbers as the exports write them, lines read one at a time, fields
 * split in place.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "io/export_internal.h"

gboolean sf_export_parse_double(const char *s, double *out)
{
    if (!*s || g_ascii_isspace(*s))
        return FALSE;
    char *end = NULL;
    errno = 0;
    double value = g_ascii_strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(value))
        return FALSE;
    *out = value;
    return TRUE;
}

gboolean sf_export_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    gint64 value;
    if (!g_ascii_string_to_signed(s, 10, min, max, &value, NULL))
        return FALSE;
    *out = value;
    return TRUE;
}

sf_export_dimension sf_export_parse_dimension(const char *s, int *out)
{
    int64_t value;
    if (!sf_export_parse_int(s, G_MININT, G_MAXINT, &value))
        return SF_DIMENSION_MALFORMED;
    if (value <= 0)
        return SF_DIMENSION_NOT_POSITIVE;
    *out = (int)value;
    return SF_DIMENSION_OK;
}

char *sf_export_line_location(const char *source, int line)
{
    return g_strdup_printf("%s:%d", source, line);
}

void sf_line_reader_init(sf_line_reader *r, const char *data, size_t length)
{
    /* A UTF-8 byte order mark (Windows editors write one) is not text:
     * left in, it made the first YOLO box unreadable. */
    if (length >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
        data += 3;
        length -= 3;
    }
    *r = (sf_line_reader){.p = data, .end = data + length};
}

/* Copies the next line into `line` (empty, with too_long set, when longer
 * than `max_length`); FALSE after the last one. */
gboolean sf_line_reader_next(sf_line_reader *r, GString *line, size_t max_length)
{
    if (r->done)
        return FALSE;
    const char *newline = memchr(r->p, '\n', (size_t)(r->end - r->p));
    const char *stop = newline ? newline : r->end;
    size_t n = (size_t)(stop - r->p);
    if (n && stop[-1] == '\r')
        n--;
    g_string_truncate(line, 0);
    r->too_long = n > max_length;
    if (!r->too_long)
        g_string_append_len(line, r->p, (gssize)n);
    r->number++;
    if (newline)
        r->p = newline + 1;
    else
        r->done = TRUE;
    return TRUE;
}

/*
 * Splits `line` in place at any of `separators`, dropping empty fields
 * when `skip_empty`, and stores at most `max` of them: returns how many
 * there are in all, so a line of a million fields is counted, not copied.
 */
int sf_export_split_fields(char *line, const char *separators, gboolean skip_empty, char **fields,
                           int max)
{
    int n = 0;
    for (char *p = line;;) {
        char *q = p + strcspn(p, separators);
        gboolean last = *q == '\0';
        *q = '\0';
        if (!skip_empty || *p) {
            if (n < max)
                fields[n] = p;
            n++;
        }
        if (last)
            return n;
        p = q + 1;
    }
}

gboolean sf_export_blank(const char *s)
{
    for (; *s; s++)
        if (!g_ascii_isspace(*s))
            return FALSE;
    return TRUE;
}

/* The base name without its last extension ("a/b.c.txt" -> "b.c"). */
char *sf_export_file_stem(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? g_strndup(base, (gsize)(dot - base)) : g_strdup(base);
}

const char *sf_export_skip_bom_and_space(const char *data, size_t length, size_t *rest)
{
    if (length >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
        data += 3;
        length -= 3;
    }
    while (length && g_ascii_isspace(*data)) {
        data++;
        length--;
    }
    *rest = length;
    return data;
}
