/*
 * CSV exports (docs/formats.md): rectangles with a header, points and lines
 * without. Makesense writes no quoting, so a field never holds a comma.
 */
#include <string.h>

#include "io/export_internal.h"

typedef struct {
    sf_export_format format;
    int n_fields;
    int n_coords; /* numbers after the label */
    const char *layout;
} csv_layout;

static const csv_layout csv_layouts[] = {
    {SF_EXPORT_RECT_CSV, 8, 4, "label,x,y,width,height,image,image_width,image_height"},
    {SF_EXPORT_POINT_CSV, 6, 2, "label,x,y,image,image_width,image_height"},
    {SF_EXPORT_LINE_CSV, 8, 4, "label,x1,y1,x2,y2,image,image_width,image_height"},
};

/* Tracks runs of rows per image: Makesense writes each image's rows
 * together, so an image coming back after another is listed twice. */
typedef struct {
    char *image;
    guint group;
    sf_annotation_problem *duplicate; /* reported for this run */
} csv_run;

static sf_annotation *csv_annotation(const csv_layout *layout, char **f, const double *v,
                                     const char *name, int line)
{
    const char *image = f[layout->n_coords + 1];
    switch (layout->format) {
    case SF_EXPORT_RECT_CSV:
        return sf_export_rectangle_new(f[0], v[0], v[1], v[0] + v[2], v[1] + v[3], image, name,
                                       line, NULL);
    case SF_EXPORT_POINT_CSV: {
        sf_annotation *a =
            sf_export_annotation_new(f[0], SF_SHAPE_POINT, 1, image, name, line, NULL);
        a->vertices[0] = (sf_vertex){v[0], v[1]};
        return a;
    }
    default: {
        sf_annotation *a =
            sf_export_annotation_new(f[0], SF_SHAPE_LINE, 2, image, name, line, NULL);
        a->vertices[0] = (sf_vertex){v[0], v[1]};
        a->vertices[1] = (sf_vertex){v[2], v[3]};
        return a;
    }
    }
}

static void read_csv_row(sf_annotation_set *set, const csv_layout *layout, const char *name,
                         int line, char *text, csv_run *run)
{
    g_autofree char *where = sf_export_line_location(name, line);
    char *f[8];
    int n = sf_export_split_fields(text, ",", FALSE, f, (int)G_N_ELEMENTS(f));
    if (n != layout->n_fields) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, where, "expected %d fields (%s), found %d",
                          layout->n_fields, layout->layout, n);
        return;
    }
    double v[4];
    for (int k = 0; k < layout->n_coords; k++)
        if (!sf_export_parse_double(f[k + 1], &v[k])) {
            sf_export_problem(set, SF_SKIP_MALFORMED, 1, where, "field %d '%s' is not a number",
                              k + 2, f[k + 1]);
            return;
        }
    const char *image = f[layout->n_coords + 1];
    int width = 0, height = 0;
    sf_export_dimension w_ok = sf_export_parse_dimension(f[layout->n_coords + 2], &width);
    sf_export_dimension h_ok = sf_export_parse_dimension(f[layout->n_coords + 3], &height);
    if (!*f[0]) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, where, "empty label name");
        return;
    }
    if (!sf_export_image_name_ok(image)) {
        sf_export_problem(set, SF_SKIP_PATH, 1, where, "image name '%s' is not a file name", image);
        return;
    }
    if (w_ok == SF_DIMENSION_MALFORMED || h_ok == SF_DIMENSION_MALFORMED) {
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, where,
                          "image size '%s x %s' is not two integers", f[layout->n_coords + 2],
                          f[layout->n_coords + 3]);
        return;
    }
    if (w_ok == SF_DIMENSION_NOT_POSITIVE || h_ok == SF_DIMENSION_NOT_POSITIVE) {
        sf_export_problem(set, SF_SKIP_BAD_SIZE, 1, where, "image size %s x %s is not positive",
                          f[layout->n_coords + 2], f[layout->n_coords + 3]);
        return;
    }
    if (layout->format == SF_EXPORT_RECT_CSV && (v[2] <= 0 || v[3] <= 0)) {
        sf_export_problem(set, SF_SKIP_BAD_SIZE, 1, where, "%s rectangle size %s x %s",
                          v[2] < 0 || v[3] < 0 ? "negative" : "zero", f[3], f[4]);
        return;
    }

    if (!run->image || strcmp(run->image, image) != 0) {
        g_free(run->image);
        run->image = g_strdup(image);
        run->group = sf_export_new_group(set);
        run->duplicate = NULL;
    }
    const char *first = NULL;
    if (run->duplicate) {
        run->duplicate->n_skipped++;
        return;
    }
    if (!sf_export_register_image(set, layout->format, image, run->group, where, &first)) {
        run->duplicate = sf_export_problem(
            set, SF_SKIP_DUPLICATE, 1, where,
            "image '%s' is listed again (first at %s); these rows skipped", image, first);
        return;
    }
    sf_export_remember_size(set, image, width, height);
    sf_annotation *a = csv_annotation(layout, f, v, name, line);
    a->image_width = width;
    a->image_height = height;
    sf_export_keep(set, a);
}

void sf_export_read_csv(sf_annotation_set *set, sf_export_format format, const char *name,
                        const char *data, size_t length)
{
    const csv_layout *layout = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(csv_layouts); i++)
        if (csv_layouts[i].format == format)
            layout = &csv_layouts[i];
    g_return_if_fail(layout != NULL);
    sf_line_reader lines;
    sf_line_reader_init(&lines, data, length);
    g_autoptr(GString) text = g_string_new(NULL);
    csv_run run = {0};
    gboolean header = format == SF_EXPORT_RECT_CSV;
    while (!sf_export_stopped(set) && sf_line_reader_next(&lines, text, G_MAXSIZE)) {
        if (sf_export_blank(text->str))
            continue;
        if (header) {
            header = FALSE;
            if (!strcmp(text->str, SF_RECT_CSV_HEADER))
                continue;
        }
        read_csv_row(set, layout, name, lines.number, text->str, &run);
    }
    g_free(run.image);
}
