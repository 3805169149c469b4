/*
 * Makesense.AI exports read into annotations (docs/formats.md, "Makesense.AI
 * exports"): YOLO, Pascal VOC, the three CSV layouts, COCO and VGG JSON,
 * loose, in folders or in the zip the browser downloads. This file finds
 * each file's format and opens folders and zips; one file per format reads
 * it (export_internal.h).
 *
 * Every problem is recorded against its file and line and reading goes on,
 * so one bad line never costs the valid annotations around it.
 */
#include <glib/gstdio.h>
#include <string.h>
#include <zip.h>

#include "io/export_internal.h"
#include "io/folder.h"
#include "io/input.h"
#include "slidefrag/error.h"

/* ---- Format detection --------------------------------------------------- */

static gboolean all_numeric(char **fields, int from, int to)
{
    double d;
    for (int i = from; i < to; i++)
        if (!sf_export_parse_double(fields[i], &d))
            return FALSE;
    return TRUE;
}

/* One line's vote: which text layout it looks like. Splits `line`. */
static sf_export_format classify_line(char *line)
{
    char *fields[16];
    if (strchr(line, ',')) {
        int n = sf_export_split_fields(line, ",", FALSE, fields, 8);
        if (n == 6 && all_numeric(fields, 1, 3) && all_numeric(fields, 4, 6))
            return SF_EXPORT_POINT_CSV;
        if (n == 8 && all_numeric(fields, 1, 5) && all_numeric(fields, 6, 8))
            return SF_EXPORT_LINE_CSV;
        return SF_EXPORT_UNKNOWN;
    }
    int n = sf_export_split_fields(line, " \t", TRUE, fields, (int)G_N_ELEMENTS(fields));
    int64_t cls;
    if (n < 2 || !sf_export_parse_int(fields[0], 0, G_MAXINT, &cls))
        return SF_EXPORT_UNKNOWN;
    return all_numeric(fields, 1, MIN(n, (int)G_N_ELEMENTS(fields))) ? SF_EXPORT_YOLO
                                                                     : SF_EXPORT_UNKNOWN;
}

sf_export_format sf_export_detect(const char *data, size_t length)
{
    /* A zip starts with a member, or with the end record when it has none:
     * what Makesense downloads when nothing of a kind was drawn. */
    if (length >= 4 && (!memcmp(data, "PK\x03\x04", 4) || !memcmp(data, "PK\x05\x06", 4)))
        return SF_EXPORT_ZIP;
    if (memchr(data, '\0', length))
        return SF_EXPORT_UNKNOWN;
    size_t rest;
    const char *text = sf_export_skip_bom_and_space(data, length, &rest);
    if (!rest)
        return SF_EXPORT_UNKNOWN;
    if (*text == '<')
        return SF_EXPORT_VOC;
    if (*text == '{' || *text == '[') {
        /* COCO has these three top-level arrays; VGG is keyed by file name. */
        g_autofree char *head = g_strndup(text, MIN(rest, (size_t)1 << 20));
        if (strstr(head, "\"annotations\"") && strstr(head, "\"images\""))
            return SF_EXPORT_COCO;
        return SF_EXPORT_VGG;
    }
    /* The majority of the first lines decides, so one bad line does not.
     * Lines far longer than any export's count as unknown, uncopied. */
    sf_line_reader lines;
    sf_line_reader_init(&lines, text, rest);
    g_autoptr(GString) line = g_string_new(NULL);
    int votes[SF_EXPORT_ZIP + 1] = {0};
    int counted = 0;
    while (counted < 50 && sf_line_reader_next(&lines, line, 64 * 1024)) {
        if (lines.number == 1 && !strcmp(line->str, SF_RECT_CSV_HEADER))
            return SF_EXPORT_RECT_CSV;
        if (!lines.too_long && sf_export_blank(line->str))
            continue;
        votes[lines.too_long ? SF_EXPORT_UNKNOWN : classify_line(line->str)]++;
        counted++;
    }
    sf_export_format best = SF_EXPORT_UNKNOWN;
    int best_votes = 0;
    for (int f = SF_EXPORT_YOLO; f <= SF_EXPORT_LINE_CSV; f++)
        if (votes[f] > best_votes) {
            best = (sf_export_format)f;
            best_votes = votes[f];
        }
    return best;
}

/* ---- Files, folders and zips --------------------------------------------- */

/* Where a file was found: given by itself, or met in a folder or a zip. */
typedef enum { FROM_ARGUMENT, FROM_FOLDER, FROM_ZIP } origin;

static void read_zip(sf_annotation_set *set, const char *name, const char *data, size_t length);

static void read_any(sf_annotation_set *set, const char *name, const char *data, size_t length,
                     origin from)
{
    /* Inside a folder or zip, other files (notes, images) are expected. */
    gboolean in_container = from != FROM_ARGUMENT;
    sf_export_format format = sf_export_detect(data, length);
    gboolean an_export = TRUE;
    switch (format) {
    case SF_EXPORT_YOLO:
        sf_export_read_yolo(set, name, data, length);
        break;
    case SF_EXPORT_VOC:
        an_export = sf_export_read_voc(set, name, data, length, in_container);
        break;
    case SF_EXPORT_RECT_CSV:
    case SF_EXPORT_POINT_CSV:
    case SF_EXPORT_LINE_CSV:
        sf_export_read_csv(set, format, name, data, length);
        break;
    case SF_EXPORT_COCO:
    case SF_EXPORT_VGG:
        an_export = sf_export_read_json(set, name, data, length, in_container);
        break;
    case SF_EXPORT_ZIP:
        /* Its members count for themselves. */
        an_export = FALSE;
        if (from == FROM_ZIP)
            sf_export_note(set, name, "ignored: a zip inside a zip is not opened");
        else
            read_zip(set, name, data, length);
        break;
    case SF_EXPORT_UNKNOWN: {
        size_t rest;
        sf_export_skip_bom_and_space(data, length, &rest);
        /* Makesense's CSV of nothing drawn is an empty file. */
        an_export = rest == 0;
        if (rest == 0)
            sf_export_note(set, name, "empty file, nothing to map");
        else if (in_container)
            sf_export_note(set, name, "ignored: not a Makesense export");
        else
            sf_export_problem(set, SF_SKIP_NOT_EXPORT, 1, name,
                              "not a Makesense export (YOLO, VOC, CSV, COCO or VGG)");
        break;
    }
    }
    set->priv->n_exports += an_export;
}

/* The fatal error, if any, into `error`. */
static gboolean outcome(const sf_annotation_set *set, GError **error)
{
    if (!set->priv->fatal)
        return TRUE;
    g_propagate_error(error, g_error_copy(set->priv->fatal));
    return FALSE;
}

gboolean sf_annotations_read_data(sf_annotation_set *set, const char *name, const char *data,
                                  size_t length, GError **error)
{
    if (!sf_export_stopped(set))
        read_any(set, name, data, length, FROM_ARGUMENT);
    return outcome(set, error);
}

/* Files a folder of exports commonly holds beside them. */
static gboolean quietly_ignored(const char *base)
{
    g_autofree char *key = sf_image_key(base);
    return base[0] == '.' || strcmp(key, base) != 0 || !strcmp(base, "__MACOSX");
}

/* A member name that stays inside the archive: relative, no "..". */
static gboolean member_name_ok(const char *member)
{
    if (!*member || member[0] == '/' || strchr(member, '\\') || strchr(member, ':'))
        return FALSE;
    g_auto(GStrv) parts = g_strsplit(member, "/", -1);
    for (char **p = parts; *p; p++)
        if (!strcmp(*p, ".."))
            return FALSE;
    return TRUE;
}

static void read_zip(sf_annotation_set *set, const char *name, const char *data, size_t length)
{
    zip_error_t zerr;
    zip_error_init(&zerr);
    zip_source_t *source = zip_source_buffer_create(data, length, 0, &zerr);
    zip_t *archive = source ? zip_open_from_source(source, ZIP_RDONLY, &zerr) : NULL;
    if (!archive && zip_error_code_zip(&zerr) == ZIP_ER_MEMORY)
        sf_export_fatal(set, SF_EXIT_FAILURE, name, "out of memory reading the zip");
    else if (!archive)
        sf_export_problem(set, SF_SKIP_MALFORMED, 1, name, "not a readable zip: %s",
                          zip_error_strerror(&zerr));
    if (!archive) {
        if (source)
            zip_source_free(source);
        zip_error_fini(&zerr);
        return;
    }
    zip_error_fini(&zerr);
    zip_int64_t n = zip_get_num_entries(archive, 0);
    if (n == 0) {
        /* What Makesense downloads as YOLO or VOC when no image has a box. */
        sf_export_note(set, name, "an empty export (the zip holds no file): nothing to map");
        set->priv->n_exports++;
    }
    for (zip_int64_t i = 0; i < n && !sf_export_stopped(set); i++) {
        zip_stat_t st;
        if (zip_stat_index(archive, (zip_uint64_t)i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME))
            continue;
        const char *member = st.name;
        size_t member_length = strlen(member);
        if (member_length && member[member_length - 1] == '/')
            continue; /* a folder entry */
        g_autofree char *display = g_strdup_printf("%s/%s", name, member);
        const char *base = strrchr(member, '/') ? strrchr(member, '/') + 1 : member;
        if (!member_name_ok(member)) {
            sf_export_problem(set, SF_SKIP_PATH, 1, display,
                              "zip member name is a path outside the archive; skipped");
            continue;
        }
        if (quietly_ignored(base) || g_str_has_prefix(member, "__MACOSX/"))
            continue;
        if (!(st.valid & ZIP_STAT_SIZE)) {
            sf_export_problem(set, SF_SKIP_MALFORMED, 1, display, "zip member of unknown size");
            continue;
        }
        /* The stated size is checked before anything is inflated; the
         * bytes inflated can never exceed it (libzip stops there), so a
         * member lying about its size costs no more than it states. Every
         * entry counts, also entries sharing one compressed stream. */
        if (!sf_export_take_bytes(set, display, st.size))
            break;
        char *content = g_try_malloc(st.size + 1);
        if (!content) {
            sf_export_fatal(set, SF_EXIT_FAILURE, display,
                            "out of memory for a zip member of %" G_GUINT64_FORMAT " bytes",
                            (guint64)st.size);
            break;
        }
        zip_file_t *file = zip_fopen_index(archive, (zip_uint64_t)i, 0);
        zip_int64_t got = 0;
        if (file) {
            while ((zip_uint64_t)got < st.size) {
                zip_int64_t r = zip_fread(file, content + got, st.size - (zip_uint64_t)got);
                if (r <= 0)
                    break;
                got += r;
            }
        }
        gboolean complete = file && (zip_uint64_t)got == st.size;
        const char *why = file ? zip_file_strerror(file) : zip_strerror(archive);
        if (!complete)
            sf_export_problem(set, SF_SKIP_MALFORMED, 1, display, "cannot read zip member: %s",
                              why);
        if (file)
            zip_fclose(file);
        if (complete) {
            content[st.size] = '\0';
            read_any(set, display, content, st.size, FROM_ZIP);
        }
        g_free(content);
    }
    zip_discard(archive);
}

static gboolean read_file(sf_annotation_set *set, const char *path, origin from, GError **error)
{
    sf_annotation_set_private *priv = set->priv;
    size_t left = priv->limits.max_bytes - MIN(priv->n_bytes, priv->limits.max_bytes);
    g_autofree char *data = NULL;
    size_t length = 0;
    GError *local = NULL;
    if (!sf_input_read(path, "an annotation export", SF_INPUT_FILE, left, &data, &length, &local)) {
        if (local->code == SF_EXIT_MISSING) {
            g_propagate_error(error, local);
            return FALSE;
        }
        /* Too large: the export as a whole when others came before. */
        if (local->code == SF_EXIT_BAD_INPUT && priv->n_bytes > 0)
            sf_export_take_bytes(set, path, left + 1);
        else if (!priv->fatal)
            priv->fatal = g_error_copy(local);
        g_error_free(local);
        return outcome(set, error);
    }
    /* A zip counts by its members, as inflated (read_zip). */
    if (sf_export_detect(data, length) != SF_EXPORT_ZIP)
        sf_export_take_bytes(set, path, length);
    read_any(set, path, data, length, from);
    return outcome(set, error);
}

static gboolean read_folder(sf_annotation_set *set, const char *path, GError **error)
{
    g_autoptr(GPtrArray) names = sf_folder_sorted_names(path, error);
    if (!names)
        return FALSE;
    for (guint i = 0; i < names->len; i++) {
        const char *base = names->pdata[i];
        if (quietly_ignored(base))
            continue;
        g_autofree char *child = g_build_filename(path, base, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_SYMLINK) && g_file_test(child, G_FILE_TEST_IS_DIR))
            continue; /* never loop through links */
        gboolean ok = g_file_test(child, G_FILE_TEST_IS_DIR)
                          ? read_folder(set, child, error)
                          : read_file(set, child, FROM_FOLDER, error);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

gboolean sf_annotations_read_path(sf_annotation_set *set, const char *path, GError **error)
{
    sf_annotation_set_begin_named_export(set, path);
    if (sf_export_stopped(set))
        return outcome(set, error);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: no such file or folder", path);
        return FALSE;
    }
    if (g_file_test(path, G_FILE_TEST_IS_DIR))
        return read_folder(set, path, error);
    return read_file(set, path, FROM_ARGUMENT, error);
}
