/*
 * YOLO exports: one <stem>.txt per image, a line "cls cx cy w h" per box,
 * values normalised to the image (docs/formats.md). The class is the label's
 * position in the project's list, which the export does not hold
 * (--labels gives it).
 */
#include <string.h>

#include "io/export_internal.h"

static char *class_name(sf_annotation_set *set, int64_t cls)
{
    if (set->priv->labels)
        return cls < set->priv->n_labels ? g_strdup(set->priv->labels[cls]) : NULL;
    return g_strdup_printf("class_%" G_GINT64_FORMAT, cls);
}

/* Lines that are not blank, for the count of a file skipped whole. */
static guint count_lines(const char *data, size_t length)
{
    guint n = 0;
    gboolean blank_so_far = TRUE;
    for (size_t i = 0; i < length; i++) {
        if (data[i] == '\n') {
            n += !blank_so_far;
            blank_so_far = TRUE;
        } else if (!g_ascii_isspace(data[i])) {
            blank_so_far = FALSE;
        }
    }
    return n + !blank_so_far;
}

void sf_export_read_yolo(sf_annotation_set *set, const char *name, const char *data, size_t length)
{
    g_autofree char *image = sf_export_file_stem(name);
    if (!sf_export_image_name_ok(image)) {
        sf_export_problem(set, SF_SKIP_PATH, count_lines(data, length), name,
                          "image name '%s' is not a file name", image);
        return;
    }
    const char *first = NULL;
    if (!sf_export_register_image(set, SF_EXPORT_YOLO, image, sf_export_new_group(set), name,
                                  &first)) {
        sf_export_problem(set, SF_SKIP_DUPLICATE, count_lines(data, length), name,
                          "image '%s' is already listed by %s in this export; file skipped", image,
                          first);
        return;
    }
    sf_line_reader lines;
    sf_line_reader_init(&lines, data, length);
    g_autoptr(GString) text = g_string_new(NULL);
    while (!sf_export_stopped(set) && sf_line_reader_next(&lines, text, G_MAXSIZE)) {
        int line = lines.number;
        if (sf_export_blank(text->str))
            continue;
        g_autofree char *where = sf_export_line_location(name, line);
        char *fields[6];
        int n = sf_export_split_fields(text->str, " \t", TRUE, fields, 6);
        if (n != 5) {
            sf_export_problem(set, SF_SKIP_MALFORMED, 1, where,
                              "expected 5 fields (class cx cy w h), found %d", n);
            continue;
        }
        int64_t cls;
        double v[4];
        if (!sf_export_parse_int(fields[0], 0, G_MAXINT, &cls)) {
            sf_export_problem(set, SF_SKIP_MALFORMED, 1, where,
                              "class '%s' is not a non-negative integer", fields[0]);
            continue;
        }
        gboolean numbers = TRUE;
        for (int k = 0; k < 4; k++)
            numbers = numbers && sf_export_parse_double(fields[k + 1], &v[k]);
        if (!numbers) {
            sf_export_problem(set, SF_SKIP_MALFORMED, 1, where, "cx cy w h are not all numbers");
            continue;
        }
        if (v[2] <= 0 || v[3] <= 0) {
            sf_export_problem(set, SF_SKIP_BAD_SIZE, 1, where, "%s box size %s x %s",
                              v[2] < 0 || v[3] < 0 ? "negative" : "zero", fields[3], fields[4]);
            continue;
        }
        g_autofree char *label = class_name(set, cls);
        if (!label) {
            sf_export_problem(set, SF_SKIP_UNKNOWN_CLASS, 1, where,
                              "unknown class index %" G_GINT64_FORMAT
                              " (the labels file has %u names)",
                              cls, set->priv->n_labels);
            continue;
        }
        sf_annotation *a =
            sf_export_rectangle_new(label, v[0] - v[2] / 2, v[1] - v[3] / 2, v[0] + v[2] / 2,
                                    v[1] + v[3] / 2, image, name, line, NULL);
        a->normalised = TRUE;
        sf_export_keep(set, a);
    }
}
