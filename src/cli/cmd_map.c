/*
 * slidefrag map EXPORT... -o OUT: Makesense.AI annotations drawn on
 * fragments, placed back on their slides in level-0 pixels.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "slidefrag/annotations.h"
#include "slidefrag/error.h"

/* "slidefrag map" or "slidefrag pre-annotate", as main named it. */
static const char *program(void)
{
    return g_get_prgname() ? g_get_prgname() : "slidefrag map";
}
/* Messages printed per kind of problem; the rest are only counted. */
#define MAX_MESSAGES_PER_REASON 20

static const char description[] =
    "EXPORT is what Makesense.AI exports, as the downloaded zip, the extracted\n"
    "files or a folder of them: YOLO, VOC XML, rectangle/point/line CSV, COCO or\n"
    "VGG JSON. The format is found from the content.\n"
    "\n"
    "An image is placed through the manifests given, or without --manifest from\n"
    "its name <slide>__x<X>_y<Y>_w<W>_h<H>.jpg. A fragment pixel (px, py) lands\n"
    "on level 0 at (X + px * W / width, Y + py * H / height).\n"
    "\n"
    "Writes OUT/<slide>.<ext> per slide. Bad entries are reported with their file\n"
    "and line and skipped; the others are still mapped unless --strict.\n"
    "\n"
    "Limits: an EXPORT may hold 256 MiB of files (zip members counted inflated);\n"
    "one map reads at most 1,000,000 annotations of 10,000,000 vertices in all.\n"
    "Past one, nothing is written and the exit status is 8.\n"
    "\n"
    "Exit status: 0 all mapped, 7 some skipped, 8 bad input (nothing mapped, a\n"
    "limit passed, or --strict), 2 usage, 3 missing input, 6 output error, 1 out\n"
    "of memory.";

typedef struct {
    char *output;
    char **manifests;
    char *labels;
    char *to;
    char *slide_offset;
    gboolean strict;
} options;

static void options_clear(options *o)
{
    g_free(o->output);
    g_strfreev(o->manifests);
    g_free(o->labels);
    g_free(o->to);
    g_free(o->slide_offset);
}

static int fail(const GError *error)
{
    g_autofree char *message = sf_message_safe(error->message);
    fprintf(stderr, "%s: %s\n", program(), message);
    return sf_exit_code(error);
}

static int usage_error(const char *message)
{
    fprintf(stderr, "%s: %s (see '%s --help')\n", program(), message, program());
    return SF_EXIT_USAGE;
}

static void print_problems(const sf_annotation_set *set)
{
    guint shown[SF_SKIP_N_REASONS] = {0}, hidden[SF_SKIP_N_REASONS] = {0};
    for (guint i = 0; i < set->problems->len; i++) {
        const sf_annotation_problem *p = set->problems->pdata[i];
        if (shown[p->reason] < MAX_MESSAGES_PER_REASON && p->n_problems == 1) {
            fprintf(stderr, "%s: %s\n", program(), p->message);
            shown[p->reason]++;
        } else {
            hidden[p->reason] += p->n_problems;
        }
    }
    for (int r = 0; r < SF_SKIP_N_REASONS; r++)
        if (hidden[r])
            fprintf(stderr, "%s: ... and %u more '%s' problems\n", program(), hidden[r],
                    sf_skip_reason_text((sf_skip_reason)r));
}

/* "mapped N, skipped M (2 malformed, 1 outside the fragment)". */
static void print_summary(const sf_annotation_set *set, guint n_mapped)
{
    guint per_reason[SF_SKIP_N_REASONS] = {0};
    for (guint i = 0; i < set->problems->len; i++) {
        const sf_annotation_problem *p = set->problems->pdata[i];
        per_reason[p->reason] += p->n_skipped;
    }
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "mapped %u, skipped %u", n_mapped, sf_annotation_set_n_skipped(set));
    const char *sep = " (";
    for (int r = 0; r < SF_SKIP_N_REASONS; r++)
        if (per_reason[r]) {
            g_string_append_printf(s, "%s%u %s", sep, per_reason[r],
                                   sf_skip_reason_text((sf_skip_reason)r));
            sep = ", ";
        }
    if (strcmp(sep, " (") != 0)
        g_string_append_c(s, ')');
    fprintf(stderr, "%s: %s\n", program(), s->str);
    g_string_free(s, TRUE);
}

static gboolean load_manifests(sf_fragment_index *index, char **paths, GError **error)
{
    for (char **p = paths; p && *p; p++) {
        sf_manifest *manifest = sf_manifest_load(*p, error);
        if (!manifest || !sf_fragment_index_add(index, manifest, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean write_slides(GPtrArray *slides, sf_annotation_format format, const char *out,
                             GError **error)
{
    /* Nothing mapped, nothing written: not even an empty OUT. */
    if (slides->len == 0)
        return TRUE;
    if (g_mkdir_with_parents(out, 0777) != 0) {
        int err = errno;
        g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "%s: cannot create folder: %s", out,
                    g_strerror(err));
        return FALSE;
    }
    for (guint i = 0; i < slides->len; i++) {
        const sf_slide_annotations *slide = slides->pdata[i];
        g_autofree char *path = NULL;
        if (!sf_annotations_write(slide, format, out, &path, error))
            return FALSE;
        g_autofree char *shown = sf_message_safe(path);
        printf("%s\t%u annotations\n", shown, slide->annotations->len);
    }
    return TRUE;
}

static int run(options *o, int n_exports, char **exports)
{
    sf_annotation_format format = SF_ANNOTATIONS_GEOJSON;
    if (o->to && !sf_annotation_format_parse(o->to, &format))
        return usage_error("--to must be geojson, asap, imagescope, coco or csv");
    sf_slide_offset offset = SF_OFFSET_NONE;
    if (o->slide_offset && !g_strcmp0(o->slide_offset, "bounds"))
        offset = SF_OFFSET_BOUNDS;
    else if (o->slide_offset && g_strcmp0(o->slide_offset, "none") != 0)
        return usage_error("--slide-offset must be bounds or none");
    if (n_exports == 0)
        return usage_error("no EXPORT given");
    if (!o->output)
        return usage_error("-o OUT is required");
    if (offset == SF_OFFSET_BOUNDS && !o->manifests)
        return usage_error("--slide-offset bounds needs --manifest (the bounds come from it)");

    g_autoptr(GError) error = NULL;
    g_autoptr(sf_fragment_index) index = sf_fragment_index_new();
    if (!load_manifests(index, o->manifests, &error))
        return fail(error);
    g_autoptr(sf_annotation_set) set = sf_annotation_set_new();
    if (o->labels && !sf_annotation_set_load_labels(set, o->labels, &error))
        return fail(error);
    for (int i = 0; i < n_exports; i++)
        if (!sf_annotations_read_path(set, exports[i], &error))
            return fail(error);

    if (sf_annotation_set_n_exports(set) == 0) {
        /* A readme or a zip of pictures: no export at all, not an empty
         * one (which says so and maps nothing, exit 0). */
        print_problems(set);
        fprintf(stderr,
                "%s: no Makesense export (YOLO, VOC, CSV, COCO or VGG) in what was "
                "given: nothing mapped\n",
                program());
        return SF_EXIT_BAD_INPUT;
    }
    guint n_mapped = 0;
    g_autoptr(GPtrArray) slides = sf_annotations_map(set, index, offset, &n_mapped, &error);
    if (!slides)
        return fail(error);
    print_problems(set);
    gboolean errors = sf_annotation_set_has_errors(set);
    if (o->strict && errors) {
        print_summary(set, n_mapped);
        fprintf(stderr, "%s: --strict: nothing written\n", program());
        return SF_EXIT_BAD_INPUT;
    }
    if (!write_slides(slides, format, o->output, &error))
        return fail(error);
    print_summary(set, n_mapped);
    if (!errors)
        return SF_EXIT_OK;
    return n_mapped > 0 ? SF_EXIT_SOME_FAILED : SF_EXIT_BAD_INPUT;
}

int sf_cmd_map(int argc, char **argv)
{
    options o = {0};
    GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output,
         "Folder for the annotation files, one per slide (created)", "OUT"},
        {"manifest", 'm', 0, G_OPTION_ARG_FILENAME_ARRAY, &o.manifests,
         "A manifest.json written by 'slidefrag run' (repeat for several slides)", "FILE"},
        {"labels", 'l', 0, G_OPTION_ARG_FILENAME, &o.labels,
         "Label names, one per line in the project's order: YOLO class n is line n+1 "
         "(default: class_<n>)",
         "FILE"},
        {"to", 't', 0, G_OPTION_ARG_STRING, &o.to,
         "Output format: geojson (QuPath, default), asap, imagescope, coco or csv", "FORMAT"},
        {"slide-offset", 0, 0, G_OPTION_ARG_STRING, &o.slide_offset,
         "none (default): full level-0 coordinates; bounds: minus openslide.bounds-x/y, as "
         "QuPath shows cropped slides (needs --manifest)",
         "bounds|none"},
        {"strict", 0, 0, G_OPTION_ARG_NONE, &o.strict,
         "Write nothing and exit 8 if any annotation cannot be mapped", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) context =
        g_option_context_new("EXPORT... - map Makesense.AI annotations onto their slides");
    g_option_context_add_main_entries(context, entries, NULL);
    g_option_context_set_description(context, description);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        options_clear(&o);
        return usage_error(error->message);
    }
    int status = run(&o, argc - 1, argv + 1);
    options_clear(&o);
    return status;
}

/* ---- pre-annotate: level-0 annotations out to the fragments ---------------- */

static const char preannotate_description[] =
    "ANNOTATIONS are level-0 annotations a lab already has: QuPath GeoJSON, ASAP XML\n"
    "or Aperio ImageScope XML (what 'slidefrag map' writes). Each shape is clipped\n"
    "to every fragment of the manifests it reaches and put in that fragment's pixels,\n"
    "as a Makesense.AI import: pathologists correct them instead of starting from\n"
    "nothing, and 'slidefrag map' brings the corrected set home.\n"
    "\n"
    "--to coco (default) writes OUT/pre-annotations.json, boxes and polygons: in\n"
    "Makesense, open the project with the fragments, then Actions > Import\n"
    "annotations > COCO JSON. --to voc writes OUT/<fragment>.xml per fragment, boxes\n"
    "only (Makesense reads VOC coordinates as whole pixels). Points and lines cannot\n"
    "be imported into Makesense and are left out.\n"
    "\n"
    "A file names its slide ('a.geojson', 'a.xml', QuPath's 'a.svs.geojson'); with a\n"
    "single --manifest every file is that slide's.\n"
    "\n"
    "Exit status: 0 all written, 7 some skipped, 8 bad input (nothing written),\n"
    "2 usage, 3 missing input, 6 output error, 1 out of memory.";

int sf_cmd_preannotate(int argc, char **argv)
{
    g_autofree char *output = NULL, *to = NULL, *slide_offset = NULL;
    g_auto(GStrv) manifest_paths = NULL;
    GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
         "Folder for the Makesense import (created)", "OUT"},
        {"manifest", 'm', 0, G_OPTION_ARG_FILENAME_ARRAY, &manifest_paths,
         "The manifest.json of the fragments (repeat for several slides)", "FILE"},
        {"to", 't', 0, G_OPTION_ARG_STRING, &to,
         "coco (boxes and polygons, default) or voc (boxes)", "FORMAT"},
        {"slide-offset", 0, 0, G_OPTION_ARG_STRING, &slide_offset,
         "none (default): full level-0 coordinates; bounds: minus openslide.bounds-x/y, as "
         "QuPath shows cropped slides",
         "bounds|none"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(
        "ANNOTATIONS... - put level-0 annotations on fragments as a Makesense.AI import");
    g_option_context_add_main_entries(context, entries, NULL);
    g_option_context_set_description(context, preannotate_description);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(context, &argc, &argv, &error))
        return usage_error(error->message);
    sf_preannotate_format format = SF_PREANNOTATE_COCO;
    if (to && !g_ascii_strcasecmp(to, "voc"))
        format = SF_PREANNOTATE_VOC;
    else if (to && g_ascii_strcasecmp(to, "coco") != 0)
        return usage_error("--to must be coco or voc");
    sf_slide_offset offset = SF_OFFSET_NONE;
    if (slide_offset && !g_strcmp0(slide_offset, "bounds"))
        offset = SF_OFFSET_BOUNDS;
    else if (slide_offset && g_strcmp0(slide_offset, "none") != 0)
        return usage_error("--slide-offset must be bounds or none");
    if (argc < 2)
        return usage_error("no ANNOTATIONS given");
    if (!output)
        return usage_error("-o OUT is required");
    if (!manifest_paths)
        return usage_error("--manifest is required: the fragments are in it");

    g_autoptr(GPtrArray) manifests =
        g_ptr_array_new_with_free_func((GDestroyNotify)sf_manifest_free);
    for (char **p = manifest_paths; *p; p++) {
        sf_manifest *manifest = sf_manifest_load(*p, &error);
        if (!manifest)
            return fail(error);
        g_ptr_array_add(manifests, manifest);
    }
    const char *only_slide =
        manifests->len == 1 ? ((const sf_manifest *)manifests->pdata[0])->slide_name : NULL;
    g_autoptr(sf_annotation_set) set = sf_annotation_set_new();
    for (int i = 1; i < argc; i++)
        if (!sf_level0_read_path(set, argv[i], only_slide, &error))
            return fail(error);
    guint n_read = set->annotations->len, n_written = 0;
    if (!sf_preannotate_write(set, manifests, format, offset, output, &n_written, &error))
        return fail(error);
    print_problems(set);
    g_autofree char *written =
        n_written ? g_strdup_printf(" into %s", output) : g_strdup(": nothing written");
    fprintf(stderr, "%s: %u shapes read, %u written on fragments%s\n", program(), n_read, n_written,
            written);
    if (!sf_annotation_set_has_errors(set))
        return SF_EXIT_OK;
    return n_written > 0 ? SF_EXIT_SOME_FAILED : SF_EXIT_BAD_INPUT;
}
