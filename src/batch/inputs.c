/* Batch inputs: slide files, folders searched for slides, and @list files. */
#define _DEFAULT_SOURCE /* realpath */

#include <stdlib.h>
#include <string.h>

#include "batch/batch.h"
#include "io/folder.h"
#include "slidefrag/error.h"
#include "slidefrag/slide.h"

typedef struct collector {
    GPtrArray *paths;    /* absolute paths, in order */
    GHashTable *files;   /* real paths already taken */
    GHashTable *folders; /* real paths of folders being searched: stops symlink loops */
} collector;

/* The identity of a file: its real path when it exists, else its absolute
 * path (a missing slide is still reported, once). */
static char *file_key(const char *abs_path)
{
    char *real = realpath(abs_path, NULL);
    if (!real)
        return g_strdup(abs_path);
    char *key = g_strdup(real);
    free(real);
    return key;
}

static void add_slide(collector *c, const char *path)
{
    char *abs_path = g_canonicalize_filename(path, NULL);
    char *key = file_key(abs_path);
    if (g_hash_table_contains(c->files, key)) {
        g_free(key);
        g_free(abs_path);
        return;
    }
    g_hash_table_add(c->files, key);
    g_ptr_array_add(c->paths, abs_path);
}

/* Appends the slide files under `folder` (recursively) to `found`. */
static gboolean search_folder(collector *c, const char *folder, GPtrArray *found, GError **error)
{
    g_autofree char *key = file_key(folder);
    if (g_hash_table_contains(c->folders, key))
        return TRUE;
    g_autoptr(GError) local = NULL;
    g_autoptr(GDir) listing = g_dir_open(folder, 0, &local);
    if (!listing) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: cannot read folder: %s", folder,
                    local->message);
        return FALSE;
    }
    g_hash_table_add(c->folders, g_strdup(key));
    gboolean ok = TRUE;
    const char *name;
    while (ok && (name = g_dir_read_name(listing))) {
        /* Dot files include macOS "._x.svs" resource forks, which are not
         * slides whatever their extension. */
        if (name[0] == '.')
            continue;
        char *path = g_build_filename(folder, name, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
            ok = search_folder(c, path, found, error);
            g_free(path);
        } else if (sf_slide_extension_length(name) && g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
            g_ptr_array_add(found, path);
        } else {
            g_free(path);
        }
    }
    g_hash_table_remove(c->folders, key);
    return ok;
}

static gboolean add_input(collector *c, const char *input, GError **error)
{
    if (!g_file_test(input, G_FILE_TEST_IS_DIR)) {
        add_slide(c, input);
        return TRUE;
    }
    g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
    if (!search_folder(c, input, found, error))
        return FALSE;
    /* Directory order is whatever the file system gives: sort so that every
     * run sees the same order. */
    g_ptr_array_sort(found, sf_compare_string_ptrs);
    for (guint i = 0; i < found->len; i++)
        add_slide(c, g_ptr_array_index(found, i));
    return TRUE;
}

static gboolean add_list_file(collector *c, const char *list_path, GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;
    if (!g_file_get_contents(list_path, &text, NULL, &local)) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "@%s: cannot read the list: %s", list_path,
                    local->message);
        return FALSE;
    }
    g_autofree char *abs_list = g_canonicalize_filename(list_path, NULL);
    g_autofree char *base = g_path_get_dirname(abs_list);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **line = lines; *line; line++) {
        char *entry = g_strstrip(*line); /* also drops a Windows \r */
        if (!*entry || *entry == '#')
            continue;
        g_autofree char *path = g_canonicalize_filename(entry, base);
        if (!add_input(c, path, error))
            return FALSE;
    }
    return TRUE;
}

GPtrArray *sf_batch_collect_inputs(const char *const *inputs, GError **error)
{
    collector c = {
        .paths = g_ptr_array_new_with_free_func(g_free),
        .files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .folders = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
    };
    gboolean ok = TRUE;
    for (const char *const *input = inputs; ok && *input; input++) {
        if ((*input)[0] == '@' && (*input)[1])
            ok = add_list_file(&c, *input + 1, error);
        else
            ok = add_input(&c, *input, error);
    }
    g_hash_table_unref(c.files);
    g_hash_table_unref(c.folders);
    if (!ok) {
        g_ptr_array_unref(c.paths);
        return NULL;
    }
    return c.paths;
}
