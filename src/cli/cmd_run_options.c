/*
 * The run parameters as options: one GOption entry per entry of the
 * parameter table (src/run/params.c), with its argument, help and default
 * taken from there. Every value arrives as text through one callback and is
 * parsed by the table, so the command line, --params files and the manifest
 * accept exactly the same values.
 */
#include <string.h>

#include "cli/run_options.h"
#include "slidefrag/error.h"

/* The group's user data: the options to fill, and the help texts the
 * entries point to for as long as the group lives. */
typedef struct {
    sf_run_options *options;
    GPtrArray *texts;
} option_state;

static void option_state_free(gpointer data)
{
    option_state *state = data;
    g_ptr_array_free(state->texts, TRUE);
    g_free(state);
}

static gboolean on_option(const char *name, const char *value, gpointer data, GError **error)
{
    option_state *state = data;
    const char *key = g_str_has_prefix(name, "--") ? name + 2 : name;
    for (size_t i = 0; i < sf_run_params_count(); i++) {
        const sf_param_info *info = sf_run_param_info_at(i);
        if (strcmp(info->key, key))
            continue;
        g_free(state->options->values[i]);
        /* A bare flag (--remove-ink) turns it on; --remove-ink=false off. */
        state->options->values[i] = g_strdup(value ? value : "true");
        return TRUE;
    }
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION, "unknown option %s", name);
    return FALSE;
}

/* "Drop regions smaller than this (default 5000um2)". */
static char *help_with_default(const sf_param_info *info, const sf_run_params *defaults)
{
    g_autofree char *value = sf_run_param_text(defaults, info->key);
    if (!value)
        return g_strdup(info->help);
    if (!info->arg)
        return g_strdup_printf("%s (default %s)", info->help,
                               !strcmp(value, "true") ? "on" : "off");
    return g_strdup_printf("%s (default %s)", info->help, value);
}

void sf_run_options_add(GOptionContext *context, const GOptionEntry *entries,
                        sf_run_options *options)
{
    size_t n_params = sf_run_params_count();
    options->values = g_new0(char *, n_params);
    option_state *state = g_new0(option_state, 1);
    state->options = options;
    state->texts = g_ptr_array_new_with_free_func(g_free);
    sf_run_params defaults;
    sf_run_params_default(&defaults);

    GArray *all = g_array_new(TRUE, TRUE, sizeof(GOptionEntry));
    for (const GOptionEntry *e = entries; e && e->long_name; e++)
        g_array_append_val(all, *e);
    for (size_t i = 0; i < n_params; i++) {
        const sf_param_info *info = sf_run_param_info_at(i);
        char *help = help_with_default(info, &defaults);
        g_ptr_array_add(state->texts, help);
        GOptionEntry e = {
            .long_name = info->key,
            .flags = info->arg ? 0 : G_OPTION_FLAG_OPTIONAL_ARG,
            .arg = G_OPTION_ARG_CALLBACK,
            .arg_data = (gpointer)on_option,
            .description = help,
            .arg_description = info->arg,
        };
        g_array_append_val(all, e);
    }
    GOptionEntry tail[] = {
        {"params", 0, 0, G_OPTION_ARG_FILENAME, &options->params_file,
         "Parameters from a JSON file (tune's result or a manifest)", "FILE"},
        {"threads", 0, 0, G_OPTION_ARG_INT, &options->threads,
         "Threads cutting fragments (default: all cores)", "N"},
    };
    g_array_append_vals(all, tail, G_N_ELEMENTS(tail));

    GOptionGroup *group = g_option_group_new(NULL, NULL, NULL, state, option_state_free);
    g_option_group_add_entries(group, (GOptionEntry *)(void *)all->data); /* copies them */
    g_array_free(all, TRUE);
    g_option_context_set_main_group(context, group);
}

void sf_run_options_clear(sf_run_options *options)
{
    for (size_t i = 0; options->values && i < sf_run_params_count(); i++)
        g_free(options->values[i]);
    g_clear_pointer(&options->values, g_free);
    g_clear_pointer(&options->params_file, g_free);
}

gboolean sf_run_options_resolve(const sf_run_options *options, sf_run_params *params,
                                GError **error)
{
    sf_run_params_default(params);
    if (options->params_file && !sf_run_params_load(params, options->params_file, error))
        return FALSE;
    if (options->values && !sf_run_params_set_all(params, options->values, error))
        return FALSE;
    if (options->threads < 0) {
        g_set_error(error, SF_ERROR, SF_EXIT_USAGE, "--threads: %d is not 1 or more",
                    options->threads);
        return FALSE;
    }
    params->threads = options->threads > 0 ? options->threads : (int)g_get_num_processors();
    return TRUE;
}
