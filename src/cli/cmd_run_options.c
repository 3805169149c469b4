#include <string.h>

#include "cli/run_options.h"
#include "slidefrag/error.h"

typedef struct {
    const char *key;
    const char *arg;
    const char *help;
} option_help;

static const option_help helps[] = {
    {"max-size", "PX", "Overview: longest side in pixels (default 2048)"},
    {"downsample", "D", "Overview: level-0 pixels per overview pixel"},
    {"mpp", "M", "Overview: micrometres per pixel (needs the slide's µm/px)"},
    {"fragment-max-size", "PX",
     "Fragments: finest resolution whose longest side fits PX (default 4096)"},
    {"fragment-downsample", "D", "Fragments: level-0 pixels per fragment pixel"},
    {"fragment-mpp", "M", "Fragments: micrometres per pixel"},
    {"overview-format", "jpg|png", "Overview file format (default jpg)"},
    {"jpeg-quality", "Q", "JPEG quality 1-100 (default 90)"},
    {"channel", "NAME", "red (default), green, blue, grey or saturation"},
    {"polarity", "dark|bright", "Tissue darker than glass (default) or brighter"},
    {"threshold", "otsu|N", "Otsu's threshold (default) or a fixed value 0-255"},
    {"remove-ink", NULL, "Green and blue marker ink is not tissue (off by default)"},
    {"open", "K", "Opening with a KxK rectangle, 0 = off (default 0)"},
    {"close", "K", "Closing with a KxK rectangle after it, 0 = off (default 7)"},
    {"fill-holes", NULL, "Fill holes inside tissue"},
    {"connectivity", "4|8", "Pixel connectivity of components (default 8)"},
    {"gap", "N[um]", "Merge regions closer than this, overview px or µm (default 0)"},
    {"min-area", "N[um2|mm2]",
     "Drop regions smaller than this, overview px² or µm² (default 5000um2)"},
    {"min-area-fraction", "F", "Drop regions smaller than this fraction of the slide"},
    {"min-tissue-fraction", "F", "Drop regions with less tissue than this fraction"},
    {"padding", "N[um]", "Grow each region by this, overview px or µm (default 0)"},
};

GOptionGroup *sf_run_option_group(sf_run_options *options)
{
    const char *const *keys = sf_run_params_keys();
    size_t n_keys = g_strv_length((char **)keys);
    g_assert(n_keys < G_N_ELEMENTS(options->values));
    g_assert(n_keys == G_N_ELEMENTS(helps));
    GOptionEntry *entries = g_new0(GOptionEntry, n_keys + 3);
    size_t n = 0;
    for (size_t i = 0; i < n_keys; i++) {
        g_assert(!strcmp(keys[i], helps[i].key));
        GOptionEntry *e = &entries[n++];
        e->long_name = keys[i];
        e->description = helps[i].help;
        e->arg_description = helps[i].arg;
        if (!helps[i].arg) {
            e->arg = G_OPTION_ARG_NONE;
            e->arg_data = &options->flags[i];
        } else {
            e->arg = G_OPTION_ARG_STRING;
            e->arg_data = &options->values[i];
        }
    }
    entries[n++] = (GOptionEntry){"params",
                                  0,
                                  0,
                                  G_OPTION_ARG_FILENAME,
                                  &options->params_file,
                                  "Parameters from a JSON file (tune's result or a manifest)",
                                  "FILE"};
    entries[n++] = (GOptionEntry){"threads",
                                  0,
                                  0,
                                  G_OPTION_ARG_INT,
                                  &options->threads,
                                  "Threads cutting fragments (default: all cores)",
                                  "N"};
    GOptionGroup *group = g_option_group_new("detection", "Detection and output options:",
                                             "Show detection and output options", NULL, NULL);
    g_option_group_add_entries(group, entries); /* copies the entries */
    g_free(entries);
    return group;
}

void sf_run_options_clear(sf_run_options *options)
{
    for (size_t i = 0; i < G_N_ELEMENTS(options->values); i++)
        g_clear_pointer(&options->values[i], g_free);
    g_clear_pointer(&options->params_file, g_free);
}

gboolean sf_run_options_resolve(const sf_run_options *options, sf_run_params *params,
                                GError **error)
{
    const char *const *keys = sf_run_params_keys();
    sf_run_params_default(params);
    if (options->params_file && !sf_run_params_load(params, options->params_file, error))
        return FALSE;
    /* One resolution per target: two would silently override each other. */
    static const char *const exclusive[2][3] = {
        {"max-size", "downsample", "mpp"},
        {"fragment-max-size", "fragment-downsample", "fragment-mpp"},
    };
    for (int group = 0; group < 2; group++) {
        const char *given = NULL;
        for (size_t i = 0; keys[i]; i++) {
            for (int k = 0; k < 3; k++) {
                if (options->values[i] && !strcmp(keys[i], exclusive[group][k])) {
                    if (given) {
                        g_set_error(error, SF_ERROR, SF_EXIT_USAGE,
                                    "--%s and --%s both set the same resolution; give one", given,
                                    keys[i]);
                        return FALSE;
                    }
                    given = keys[i];
                }
            }
        }
    }
    for (size_t i = 0; keys[i]; i++)
        if (options->values[i] && !sf_run_params_set(params, keys[i], options->values[i], error))
            return FALSE;
    for (size_t i = 0; keys[i]; i++)
        if (options->flags[i] && !sf_run_params_set(params, keys[i], "true", error))
            return FALSE;
    if (options->threads < 0) {
        g_set_error(error, SF_ERROR, SF_EXIT_USAGE, "--threads: %d is not 1 or more",
                    options->threads);
        return FALSE;
    }
    params->threads = options->threads > 0 ? options->threads : (int)g_get_num_processors();
    return TRUE;
}
