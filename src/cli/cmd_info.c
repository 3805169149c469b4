/* slidefrag info SLIDE [--json]: what a slide holds. */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "cli/commands.h"
#include "io/json_safe.h"
#include "io/slide_json.h"
#include "slidefrag/error.h"
#include "slidefrag/slide.h"

static JsonNode *describe(const sf_slide *slide)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    sf_json_add_string(b, "path", sf_slide_path(slide));
    sf_slide_json_members(b, slide);
    json_builder_set_member_name(b, "associated_images");
    json_builder_begin_object(b);
    for (const char *const *name = sf_slide_associated_image_names(slide); name && *name; name++) {
        int64_t w = 0, h = 0;
        sf_slide_associated_image_size(slide, *name, &w, &h);
        json_builder_set_member_name(b, *name);
        json_builder_begin_object(b);
        sf_json_add_int(b, "width", w);
        sf_json_add_int(b, "height", h);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static void print_text(const sf_slide *slide)
{
    printf("file:       %s\n", sf_slide_path(slide));
    printf("vendor:     %s\n", sf_slide_vendor(slide));
    printf("size:       %" G_GINT64_FORMAT " x %" G_GINT64_FORMAT " px (level 0)\n",
           sf_slide_width(slide), sf_slide_height(slide));
    if (sf_slide_mpp_x(slide) > 0)
        printf("resolution: %.4f x %.4f µm/px\n", sf_slide_mpp_x(slide), sf_slide_mpp_y(slide));
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

int sf_cmd_info(int argc, char **argv)
{
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("SLIDE - describe a slide");
    g_option_context_add_main_entries(context, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        fprintf(stderr, "slidefrag info: %s\n", error->message);
        return SF_EXIT_USAGE;
    }
    if (argc != 2) {
        fprintf(stderr, "slidefrag info: give exactly one slide\n");
        return SF_EXIT_USAGE;
    }
    g_autoptr(sf_slide) slide = sf_slide_open(argv[1], &error);
    if (!slide) {
        fprintf(stderr, "slidefrag info: %s\n", error->message);
        return error->code;
    }
    if (json) {
        g_autoptr(JsonNode) root = describe(slide);
        g_autofree char *text = sf_json_text(root, TRUE);
        printf("%s\n", text);
    } else {
        print_text(slide);
    }
    return SF_EXIT_OK;
}
