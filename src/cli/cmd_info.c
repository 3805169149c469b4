/* slidefrag info SLIDE [--json]: what a slide holds. */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "cli/commands.h"
#include "slidefrag/error.h"
#include "slidefrag/json.h"
#include "slidefrag/manifest.h"
#include "slidefrag/run.h"
#include "slidefrag/slide.h"

static void print_text(const sf_slide *slide)
{
    printf("file:       %s\n", sf_slide_path(slide));
    printf("vendor:     %s\n", sf_slide_vendor(slide));
    printf("size:       %" G_GINT64_FORMAT " x %" G_GINT64_FORMAT " px (level 0)\n",
           sf_slide_width(slide), sf_slide_height(slide));
    double mpp = sf_slide_mpp_x(slide);
    if (mpp > 0 && sf_run_usable_mpp(mpp) == 0)
        printf("resolution: %g x %g µm/px, not plausible: run treats it as unknown\n", mpp,
               sf_slide_mpp_y(slide));
    else if (mpp > 0)
        printf("resolution: %.4f x %.4f µm/px\n", mpp, sf_slide_mpp_y(slide));
    else
        printf("resolution: unknown (no openslide.mpp-x)\n");
    if (sf_slide_objective_power(slide) > 0)
        printf("objective:  %gx\n", sf_slide_objective_power(slide));
    printf("quickhash:  %s\n", sf_slide_quickhash(slide) ? sf_slide_quickhash(slide) : "-");
    printf("levels:\n");
    for (int l = 0; l < sf_slide_level_count(slide); l++) {
        const sf_level *level = sf_slide_level(slide, l);
        printf("  %d: %" G_GINT64_FORMAT " x %" G_GINT64_FORMAT "  downsample %.4f\n", l,
               level->width, level->height, level->downsample);
    }
    printf("associated images:\n");
    for (const char *const *name = sf_slide_associated_image_names(slide); name && *name; name++) {
        int64_t w = 0, h = 0;
        sf_slide_associated_image_size(slide, *name, &w, &h);
        printf("  %s: %" G_GINT64_FORMAT " x %" G_GINT64_FORMAT "\n", *name, w, h);
    }
}

/* The formats slidefrag reads and their file-name extensions: the list
 * the Snakefile searches folders with (--json). */
static void print_formats(gboolean json)
{
    int n = 0;
    const sf_slide_format *formats = sf_slide_formats(&n);
    if (!json) {
        for (int i = 0; i < n; i++) {
            g_autofree char *extensions = g_strjoinv(" ", (char **)formats[i].extensions);
            printf("%s: %s\n  %s\n", formats[i].name, extensions, formats[i].description);
        }
        return;
    }
    g_autoptr(JsonNode) root = sf_slide_formats_json();
    g_autofree char *text = sf_json_text(root, TRUE);
    printf("%s\n", text);
}

int sf_cmd_info(int argc, char **argv)
{
    gboolean json = FALSE, formats = FALSE;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL},
        {"formats", 0, 0, G_OPTION_ARG_NONE, &formats,
         "List the slide formats and file-name extensions slidefrag reads", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) context =
        g_option_context_new("SLIDE | --formats - describe a slide, or the formats read");
    g_option_context_add_main_entries(context, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        fprintf(stderr, "slidefrag info: %s\n", error->message);
        return SF_EXIT_USAGE;
    }
    if (formats) {
        if (argc != 1) {
            fprintf(stderr, "slidefrag info: --formats takes no slide\n");
            return SF_EXIT_USAGE;
        }
        print_formats(json);
        return SF_EXIT_OK;
    }
    if (argc != 2) {
        fprintf(stderr, "slidefrag info: give exactly one slide\n");
        return SF_EXIT_USAGE;
    }
    g_autoptr(sf_slide) slide = sf_slide_open(argv[1], &error);
    if (!slide) {
        fprintf(stderr, "slidefrag info: %s\n", error->message);
        return sf_exit_code(error);
    }
    if (json) {
        g_autoptr(JsonNode) root = sf_slide_info_json(slide);
        g_autofree char *text = sf_json_text(root, TRUE);
        printf("%s\n", text);
    } else {
        print_text(slide);
    }
    return SF_EXIT_OK;
}
