/* Reading folders in an order that does not depend on the file system. */
#pragma once

#include <glib.h>

/*
 * The names in folder `path`, sorted bytewise, so that what is read from it,
 * which of two duplicates wins and the messages are the same on every run.
 * NULL with SF_EXIT_MISSING ("<path>: cannot read folder: ...") when it
 * cannot be listed. The array frees its names.
 */
GPtrArray *sf_folder_sorted_names(const char *path, GError **error);

/* strcmp() for g_ptr_array_sort() over an array of strings: GLib passes
 * pointers to the elements, not the elements. */
gint sf_compare_string_ptrs(gconstpointer a, gconstpointer b);
