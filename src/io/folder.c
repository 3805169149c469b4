#include "io/folder.h"

#include <string.h>

#include "slidefrag/error.h"

gint sf_compare_string_ptrs(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *sf_folder_sorted_names(const char *path, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GDir) dir = g_dir_open(path, 0, &local);
    if (!dir) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: cannot read folder: %s", path,
                    local->message);
        return NULL;
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    for (const char *name; (name = g_dir_read_name(dir));)
        g_ptr_array_add(names, g_strdup(name));
    g_ptr_array_sort(names, sf_compare_string_ptrs);
    return names;
}
