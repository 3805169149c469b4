/*
 * The table of backends, in the order they are asked whether they take a
 * file (the first that does opens it), and the one list of file-name
 * extensions that batch, the Snakefile, annotation stems and the docs use.
 */
#include <string.h>

#include "slide/backend_openslide.h"

static const sf_slide_backend *const backends[] = {
    &sf_backend_openslide,
};

const sf_slide_backend *const *sf_slide_backends(int *n)
{
    *n = (int)G_N_ELEMENTS(backends);
    return backends;
}

/* The public view of the table, built once. */
typedef struct {
    sf_slide_format *formats;
    const char **extensions; /* NULL-terminated, in table order, no repeats */
} format_list;

static gpointer build_list(gpointer data)
{
    (void)data;
    format_list *list = g_new0(format_list, 1);
    list->formats = g_new0(sf_slide_format, G_N_ELEMENTS(backends));
    GPtrArray *all = g_ptr_array_new();
    for (size_t i = 0; i < G_N_ELEMENTS(backends); i++) {
        const sf_slide_backend *b = backends[i];
        list->formats[i] = (sf_slide_format){b->name, b->description, b->extensions};
        for (const char *const *e = b->extensions; *e; e++) {
            gboolean seen = FALSE;
            for (guint j = 0; j < all->len && !seen; j++)
                seen = !strcmp(all->pdata[j], *e);
            if (!seen)
                g_ptr_array_add(all, (gpointer)*e);
        }
    }
    g_ptr_array_add(all, NULL);
    list->extensions = (const char **)g_ptr_array_free(all, FALSE);
    return list;
}

static const format_list *formats(void)
{
    /* Built once and kept for the life of the process. */
    static GOnce once = G_ONCE_INIT;
    return g_once(&once, build_list, NULL);
}

const sf_slide_format *sf_slide_formats(int *n)
{
    *n = (int)G_N_ELEMENTS(backends);
    return formats()->formats;
}

const char *const *sf_slide_extensions(void)
{
    return formats()->extensions;
}

size_t sf_slide_extension_length(const char *name)
{
    size_t n = strlen(name);
    for (const char *const *e = sf_slide_extensions(); *e; e++) {
        size_t k = strlen(*e);
        if (n > k && !g_ascii_strcasecmp(name + n - k, *e))
            return k;
    }
    return 0;
}
