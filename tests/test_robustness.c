/*
 * The fault table of docs/robustness.md, one test per row: bad slides,
 * bad output folders, bad option values and hostile annotation files, each
 * run through the built slidefrag. Every row checks the exit code, that the
 * message names the file and the cause, and that no temporary (*.part) or
 * half-written file is left behind.
 *
 * The damaged slides are made at setup by scripts/make-bad-slides from the
 * real fixtures.
 */
#define _DEFAULT_SOURCE /* fseeko, geteuid */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"
#include "slidefrag/error.h"
#include "slidefrag/image_io.h"
#include "slidefrag/manifest.h"

static char *tmp_root; /* everything this file writes */
static char *bad;      /* what scripts/make-bad-slides made */

/* ---- Running slidefrag -------------------------------------------------- */

/* slidefrag with the NULL-terminated arguments; stdout and stderr kept. */
static int run_args(char **out, char **err, const char *first, ...)
{
    const char *argv[64];
    int n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 63; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return test_run_slidefrag(argv, out, err);
}

/* A resource limit for the child, applied between fork and exec. */
typedef struct child_limit {
    int resource;
    rlim_t value;
} child_limit;

static int run_limited(const child_limit *limit, char **err, const char *const *args)
{
    return test_run_slidefrag_limited(limit->resource, limit->value, args, err);
}

/* ---- Checking outputs ---------------------------------------------------- */

static char *path_in(const char *dir, const char *name)
{
    return g_build_filename(dir, name, NULL);
}

static char *new_dir(const char *name)
{
    char *dir = path_in(tmp_root, name);
    test_remove_tree(dir);
    assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
    return dir;
}

static char *bad_slide(const char *name)
{
    return path_in(bad, name);
}

/* ---- Slides: one row each ------------------------------------------------- */

typedef struct slide_row {
    const char *name;    /* the test's name */
    const char *file;    /* in the made folder, or "fixtures/<name>" */
    const char *options; /* extra run options, space-separated, or NULL */
    int code;
    const char *cause;      /* in stderr with the path (failures) */
    gboolean overview_left; /* failed after writing a whole overview */
} slide_row;

static const slide_row slide_rows[] = {
    {"slide_missing", "does-not-exist.svs", NULL, SF_EXIT_MISSING, "No such file or directory",
     FALSE},
    {"slide_is_a_directory", ".", NULL, SF_EXIT_MISSING, "Is a directory", FALSE},
    {"slide_empty_file", "empty.svs", NULL, SF_EXIT_SLIDE_OPEN, "not a slide", FALSE},
    {"slide_png_named_svs", "png-named.svs", NULL, SF_EXIT_SLIDE_OPEN, "not a slide", FALSE},
    {"slide_not_a_slide_fixture", "fixtures/broken.svs", NULL, SF_EXIT_SLIDE_OPEN, "not a slide",
     FALSE},
    {"slide_text_file", "notes.txt", NULL, SF_EXIT_SLIDE_OPEN, "not a slide", FALSE},
    {"slide_cut_in_header", "trunc-header.svs", NULL, SF_EXIT_SLIDE_OPEN, "not a slide", FALSE},
    {"slide_cut_in_directory", "trunc-ifd.svs", NULL, SF_EXIT_SLIDE_OPEN, "not a slide", FALSE},
    {"slide_cut_in_tiles_directory_lost", "trunc-early.svs", NULL, SF_EXIT_SLIDE_OPEN,
     "not a slide", FALSE},
    {"slide_cut_in_tiles_one_level", "trunc-tiles.svs", NULL, SF_EXIT_SLIDE_OPEN,
     "Cannot hash TIFF tiles", FALSE},
    {"slide_cut_in_level0_tiles", "trunc-tiles.tiff", "--max-size 64", SF_EXIT_SLIDE_READ,
     "TIFFRGBAImageGet failed", TRUE},
    {"slide_corrupt_jpeg_fixture", "fixtures/unreadable.svs", NULL, SF_EXIT_SLIDE_READ,
     "Bogus marker length", FALSE},
    /* libjpeg only warns and decodes on into grey; like OpenSlide, the
     * direct TIFF reader makes the warning fatal. */
    {"slide_flipped_tile_data", "flipped-tile.svs", "--max-size 256", SF_EXIT_SLIDE_READ,
     "level 0, tile (4, 1): JPEGLib: Corrupt JPEG data", FALSE},
    {"slide_flipped_tile_marker", "flipped-marker.svs", "--max-size 256", SF_EXIT_SLIDE_READ,
     "JPEG", FALSE},
    /* libtiff only warns that the JPEG is smaller than the TIFF tile and
     * leaves the rest of the buffer unwritten; OpenSlide refuses it
     * ("Dimensional mismatch reading JPEG"), and so does slidefrag. */
    {"slide_jpeg_smaller_than_tile", "tile-size-mismatch.svs", NULL, SF_EXIT_SLIDE_READ,
     "level 0, tile (0, 0): JPEGPreDecode: Improper JPEG strip/tile size, expected 256x256, got "
     "240x240",
     FALSE},
    {"slide_unsupported_compression", "fixtures/unopenable.tiff", NULL, SF_EXIT_SLIDE_OPEN,
     "Unsupported TIFF compression", FALSE},
    {"slide_directory_loop", "loop.svs", NULL, SF_EXIT_SLIDE_OPEN, "not a slide", FALSE},
    {"slide_directory_self_loop", "self-loop.svs", NULL, SF_EXIT_SLIDE_OPEN, "not a slide", FALSE},
    {"slide_dangling_symlink", "dangling.svs", NULL, SF_EXIT_MISSING, "No such file", FALSE},
    /* Reading a FIFO waits for a writer: refused before it is opened. */
    {"slide_fifo", "fifo.svs", NULL, SF_EXIT_MISSING, "not a regular file (a FIFO)", FALSE},
    /* Every tile missing: OpenSlide would paint 10^12 px of background. */
    {"slide_claims_1e12_px_without_tiles", "huge-no-tiles.svs", NULL, SF_EXIT_SLIDE_READ,
     "level 0 stores 0 bytes of pixels (954529 of 954529 tiles missing) for a read of "
     "1000000 x 1000000 px",
     FALSE},
    {"slide_one_pixel", "one-pixel.tiff", NULL, SF_EXIT_OK, NULL, FALSE},
    {"slide_levels_below_one_tile", "sub-tile.tiff", "--min-area 0", SF_EXIT_OK, NULL, FALSE},
    {"slide_16px_in_one_tile", "small.svs", "--min-area 0", SF_EXIT_OK, NULL, FALSE},
    {"slide_symlink", "link.svs", NULL, SF_EXIT_OK, NULL, FALSE},
};

static void test_slide_row(void **state)
{
    const slide_row *row = *state;
    g_autofree char *slide = g_str_has_prefix(row->file, "fixtures/")
                                 ? test_fixture(row->file + strlen("fixtures/"))
                                 : bad_slide(row->file);
    g_autofree char *out = new_dir(row->name);
    const char *argv[16] = {"run", slide, "-o", out};
    int n = 4;
    g_auto(GStrv) options = row->options ? g_strsplit(row->options, " ", -1) : NULL;
    for (char **o = options; o && *o; o++)
        argv[n++] = *o;
    argv[n] = NULL;
    g_autofree char *std_out = NULL, *err = NULL;
    /* Never a hang: every one of these is a small file. */
    int code = test_run_slidefrag_within(argv, 60, &std_out, &err);
    if (code != row->code)
        fail_msg("%s: exit %d, expected %d; stderr: %s", row->file, code, row->code, err);
    g_autofree char *stem = g_path_get_basename(slide);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem)
        *dot = '\0';
    g_autofree char *dir = path_in(out, stem);
    if (row->code == SF_EXIT_OK) {
        g_autoptr(sf_manifest) manifest = test_assert_slide_folder_finished(dir);
        return;
    }
    /* "slidefrag run: <path>: <cause>" on a line of its own (libtiff may
     * have printed its own lines before it). */
    g_autofree char *line = g_strdup_printf("slidefrag run: %s: ", slide);
    g_autofree char *later_line = g_strconcat("\n", line, NULL);
    if (!g_str_has_prefix(err, line) && !strstr(err, later_line))
        fail_msg("no line '%s...' in: %s", line, err);
    test_assert_contains(strstr(err, line), row->cause);
    test_assert_slide_folder_unfinished(dir);
    g_autofree char *overview = path_in(dir, "overview.jpg");
    assert_int_equal(g_file_test(overview, G_FILE_TEST_EXISTS), row->overview_left);
    test_assert_no_partial_files(out);
}

/* A missing tile (TileByteCounts 0) is what Aperio writes for empty
 * areas: OpenSlide draws it as background, so the run succeeds and the
 * tile's area is white where tissue was. */
static void test_slide_zero_length_tile(void **state)
{
    (void)state;
    g_autofree char *slide = bad_slide("zero-tile.svs");
    g_autofree char *out = new_dir("zero-tile");
    g_autofree char *err = NULL;
    assert_int_equal(run_args(NULL, &err, "run", slide, "-o", out, "--max-size", "512",
                              "--overview-format", "png", NULL),
                     SF_EXIT_OK);
    g_autofree char *dir = path_in(out, "zero-tile");
    g_autoptr(sf_manifest) manifest = test_assert_slide_folder_finished(dir);
    g_autofree char *overview_path = path_in(dir, "overview.png");
    sf_image overview = test_image_load_png(overview_path, 3);
    /* Tile 14 is level-0 x 960..1200, y 240..480; its inner part in the
     * overview (2967 / 512 level-0 px per pixel): */
    double scale = 2967.0 / overview.height;
    int x0 = (int)(980 / scale) + 1, x1 = (int)(1180 / scale) - 1;
    int y0 = (int)(260 / scale) + 1, y1 = (int)(460 / scale) - 1;
    double sum = 0;
    int count = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            for (int c = 0; c < 3; c++, count++)
                sum += overview.data[y * overview.stride + x * 3 + c];
    assert_true(sum / count > 250);
    test_image_free(&overview);

    /* The intact slide has tissue there. */
    g_autofree char *intact = test_fixture("cmu-1-small-region.svs");
    g_autofree char *out2 = new_dir("zero-tile-intact");
    assert_int_equal(run_args(NULL, NULL, "run", intact, "-o", out2, "--max-size", "512",
                              "--overview-format", "png", NULL),
                     SF_EXIT_OK);
    g_autofree char *intact_png =
        g_build_filename(out2, "cmu-1-small-region", "overview.png", NULL);
    sf_image reference = test_image_load_png(intact_png, 3);
    sum = 0;
    count = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            for (int c = 0; c < 3; c++, count++)
                sum += reference.data[y * reference.stride + x * 3 + c];
    assert_true(sum / count < 230);
    test_image_free(&reference);
}

/* A FIFO named as a slide hangs nothing: info refuses it, and batch runs
 * the other slide and reports the FIFO failed. */
static void test_slide_fifo_info_and_batch(void **state)
{
    (void)state;
    g_autofree char *fifo = bad_slide("fifo.svs");
    g_autofree char *err = NULL;
    const char *info[] = {"info", fifo, NULL};
    int code = test_run_slidefrag_within(info, 60, NULL, &err);
    if (code != SF_EXIT_MISSING)
        fail_msg("info: exit %d: %s", code, err);
    g_autofree char *line = g_strdup_printf("%s: not a regular file (a FIFO)", fifo);
    test_assert_contains(err, line);

    g_autofree char *small = test_fixture("small.svs");
    g_autofree char *out = new_dir("fifo-batch");
    g_autofree char *batch_err = NULL;
    const char *batch[] = {"batch", fifo,      small,        "-o", out, "--jobs",
                           "1",     "--quiet", "--min-area", "0",  NULL};
    code = test_run_slidefrag_within(batch, 60, NULL, &batch_err);
    if (code != SF_EXIT_SOME_FAILED)
        fail_msg("batch: exit %d: %s", code, batch_err);
    g_autofree char *summary_path = path_in(out, "summary.json");
    g_autofree char *summary = NULL;
    assert_true(g_file_get_contents(summary_path, &summary, NULL, NULL));
    test_assert_contains(summary, "not a regular file (a FIFO)");
    g_autofree char *manifest = g_build_filename(out, "small", "manifest.json", NULL);
    assert_true(g_file_test(manifest, G_FILE_TEST_IS_REGULAR));
}

/* Spaces, quotes, non-ASCII and shell metacharacters reach no shell: the
 * folder and fragments carry the name as it is, and "$(touch pwned)" ran
 * nowhere. */
static void test_slide_name_with_metacharacters(void **state)
{
    (void)state;
    const char *name = "we ird 'q\" é $(touch pwned);|&<>*.svs";
    g_autofree char *slide = bad_slide(name);
    g_autofree char *out = new_dir("weird-name");
    g_autofree char *cwd = g_get_current_dir();
    assert_int_equal(g_chdir(out), 0);
    g_autofree char *err = NULL;
    int code = run_args(NULL, &err, "run", slide, "-o", out, "--min-area", "0", NULL);
    assert_int_equal(g_chdir(cwd), 0);
    if (code != 0)
        fail_msg("exit %d: %s", code, err);
    g_autofree char *stem = g_strndup(name, strlen(name) - strlen(".svs"));
    g_autofree char *dir = path_in(out, stem);
    g_autoptr(sf_manifest) manifest = test_assert_slide_folder_finished(dir);
    assert_string_equal(manifest->slide_name, stem);
    assert_true(manifest->n_regions > 0);
    assert_true(g_str_has_prefix(manifest->regions[0].fragment_name, stem));
    g_autofree char *pwned_out = path_in(out, "pwned");
    g_autofree char *pwned_bad = path_in(bad, "pwned");
    assert_false(g_file_test(pwned_out, G_FILE_TEST_EXISTS));
    assert_false(g_file_test(pwned_bad, G_FILE_TEST_EXISTS));
    assert_false(g_file_test("pwned", G_FILE_TEST_EXISTS));
}

/* A name that is not UTF-8: the manifest must still be JSON that map and
 * eval can read, so the text in it is made valid UTF-8, and the folder and
 * fragments use that same text. */
static void test_slide_name_not_utf8(void **state)
{
    (void)state;
    g_autofree char *dir_in = new_dir("not-utf8-in");
    test_copy_fixture("small.svs", dir_in, "bad\xff\xfename.svs");
    g_autofree char *slide = path_in(dir_in, "bad\xff\xfename.svs");
    g_autofree char *out = new_dir("not-utf8");
    g_autofree char *err = NULL;
    assert_int_equal(run_args(NULL, &err, "run", slide, "-o", out, "--min-area", "0", NULL), 0);
    g_autofree char *dir = path_in(out, "bad\xef\xbf\xbd\xef\xbf\xbdname");
    g_autoptr(sf_manifest) manifest = test_assert_slide_folder_finished(dir);
    assert_true(g_utf8_validate(manifest->slide_path, -1, NULL));
    /* eval reads it back. */
    g_autofree char *manifest_path = path_in(dir, "manifest.json");
    g_autofree char *eval_err = NULL;
    assert_int_equal(
        run_args(NULL, &eval_err, "eval", "--truth", manifest_path, "--pred", manifest_path, NULL),
        0);
    /* info --json describes it in JSON. */
    g_autofree char *info = NULL;
    assert_int_equal(run_args(&info, NULL, "info", "--json", slide, NULL), 0);
    g_autoptr(GError) json_error = NULL;
    g_autoptr(JsonNode) info_json = json_from_string(info, &json_error);
    if (!info_json)
        fail_msg("info --json: %s", json_error->message);
    /* A second run finds the folder its own. */
    assert_int_equal(run_args(NULL, NULL, "run", slide, "-o", out, "--min-area", "0", NULL), 0);
    g_autofree char *folders = test_dir_entries(out);
    assert_string_equal(folders, "bad\xef\xbf\xbd\xef\xbf\xbdname|report.html");
}

/*
 * run and map agree on which slide names make usable stems: a name run
 * accepts gives fragments that map maps (here without a manifest, by the
 * fragment name alone), and a name run refuses is refused before anything
 * is written. Before, "...svs" and "a..b.svs" and stems of 200-220 bytes
 * were run and then refused by map, and longer stems failed in run only
 * after the overview was written.
 */
static void test_slide_stem_rule(void **state)
{
    (void)state;
    g_autofree char *in = new_dir("stems-in");
    g_autofree char *long_149 = g_strnfill(149, 'a');
    g_autofree char *long_210 = g_strnfill(210, 'b');
    g_autofree char *long_240 = g_strnfill(240, 'c');
    const struct {
        const char *stem;
        gboolean accepted;
    } cases[] = {
        {"a..b", TRUE},         {long_149, TRUE},  {"...", FALSE},    {".hidden", FALSE},
        {"back\\slash", FALSE}, {long_210, FALSE}, {long_240, FALSE},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *name = g_strconcat(cases[i].stem, ".svs", NULL);
        test_copy_fixture("small.svs", in, name);
        g_autofree char *slide = path_in(in, name);
        g_autofree char *out = new_dir("stems-out");
        g_autofree char *err = NULL;
        int code = run_args(NULL, &err, "run", slide, "-o", out, "--min-area", "0", NULL);
        if (!cases[i].accepted) {
            if (code != SF_EXIT_USAGE)
                fail_msg("stem '%.20s...' (%zu bytes): exit %d, expected 2: %s", cases[i].stem,
                         strlen(cases[i].stem), code, err);
            test_assert_contains(err, "cannot name");
            g_autofree char *entries = test_dir_entries(out);
            assert_string_equal(entries, "");
            continue;
        }
        if (code != 0)
            fail_msg("stem '%.20s...': exit %d: %s", cases[i].stem, code, err);
        g_autofree char *dir = path_in(out, cases[i].stem);
        g_autoptr(sf_manifest) manifest = test_assert_slide_folder_finished(dir);
        assert_true(manifest->n_regions > 0);
        const sf_manifest_region *r = &manifest->regions[0];
        g_autofree char *csv = path_in(out, "points.csv");
        g_autofree char *row = g_strdup_printf("tumour,1,1,%s,%d,%d\n", r->fragment_name,
                                               r->fragment_width, r->fragment_height);
        test_write_text(csv, row);
        g_autofree char *mapped = path_in(out, "mapped");
        g_autofree char *map_err = NULL;
        code = run_args(NULL, &map_err, "map", csv, "-o", mapped, NULL);
        if (code != 0)
            fail_msg("map of stem '%.20s...': exit %d: %s", cases[i].stem, code, map_err);
        g_autofree char *geojson_name = g_strconcat(cases[i].stem, ".geojson", NULL);
        g_autofree char *geojson = path_in(mapped, geojson_name);
        assert_true(g_file_test(geojson, G_FILE_TEST_IS_REGULAR));
    }
}

/* cmu-1-small-region with its "MPP = 0.4990" replaced by `mpp` (6
 * characters), into `dir`. */
static char *slide_with_mpp(const char *dir, const char *name, const char *mpp)
{
    g_autofree char *source = test_fixture("cmu-1-small-region.svs");
    g_autofree char *data = NULL;
    gsize length = 0;
    assert_true(g_file_get_contents(source, &data, &length, NULL));
    assert_int_equal(strlen(mpp), 6);
    int replaced = 0;
    for (gsize i = 0; i + 12 <= length; i++)
        if (!memcmp(data + i, "MPP = 0.4990", 12)) {
            memcpy(data + i + 6, mpp, 6);
            replaced++;
        }
    assert_true(replaced > 0);
    char *path = path_in(dir, name);
    assert_true(g_file_set_contents(path, data, (gssize)length, NULL));
    return path;
}

/* A µm/px no scanner writes (1e-300, 1e+300) turned every size in µm into
 * a float-to-integer overflow: undefined behaviour, and in practice a
 * minimum area of INT64_MIN (or 0), so every speck became a fragment. Such
 * a resolution is treated as unknown, with a note; sizes asked for in µm
 * are refused as on a slide without one. */
static void test_slide_implausible_mpp(void **state)
{
    (void)state;
    g_autofree char *in = new_dir("implausible-mpp-in");
    g_autofree char *out = new_dir("implausible-mpp");
    g_autofree char *reference = test_fixture("cmu-1-small-region.svs");
    assert_int_equal(run_args(NULL, NULL, "run", reference, "-o", out, "--min-area", "0",
                              "--min-area-fraction", "0.0001", NULL),
                     0);
    g_autofree char *reference_dir = path_in(out, "cmu-1-small-region");
    g_autoptr(sf_manifest) expected = test_assert_slide_folder_finished(reference_dir);
    static const char *const values[] = {"1e-300", "1e+300"};
    for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
        g_autofree char *name = g_strdup_printf("mpp%zu.svs", i);
        g_autofree char *slide = slide_with_mpp(in, name, values[i]);
        g_autofree char *err = NULL;
        int code = run_args(NULL, &err, "run", slide, "-o", out, NULL);
        if (code != 0)
            fail_msg("%s: exit %d: %s", values[i], code, err);
        test_assert_contains(err, "not a plausible resolution");
        g_autofree char *stem = g_strdup_printf("mpp%zu", i);
        g_autofree char *dir = path_in(out, stem);
        g_autoptr(sf_manifest) manifest = test_assert_slide_folder_finished(dir);
        assert_int_equal(manifest->n_regions, expected->n_regions);
        /* A size in µm cannot be converted. */
        g_free(err);
        err = NULL;
        code = run_args(NULL, &err, "run", slide, "-o", out, "--gap", "20um", NULL);
        if (code != SF_EXIT_USAGE)
            fail_msg("%s --gap 20um: exit %d: %s", values[i], code, err);
        test_assert_contains(err, "not a plausible resolution");
    }
}

/* "...svs" without its extension is "..": the folder would be OUTDIR/..,
 * outside OUTDIR. Such a name, like any stem starting with '.', is refused
 * (exit 2) before anything is written. */
static void test_slide_name_of_dots(void **state)
{
    (void)state;
    g_autofree char *top = new_dir("dots");
    g_autofree char *out = path_in(top, "out");
    static const char *const names[] = {"...svs", "..svs"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        test_copy_fixture("small.svs", top, names[i]);
        g_autofree char *slide = path_in(top, names[i]);
        g_autofree char *err = NULL;
        assert_int_equal(run_args(NULL, &err, "run", slide, "-o", out, NULL), SF_EXIT_USAGE);
        test_assert_contains(err, "cannot name a slide's outputs");
    }
    /* Nothing but the two slides in the folder above OUTDIR, nothing in it. */
    g_autofree char *entries = test_dir_entries(top);
    assert_string_equal(entries, "...svs|..svs");
}

/* Permissions do not bind root: as root the file is read anyway, which is
 * what the table records; as anyone else it is refused with exit 3. */
static void test_slide_without_read_permission(void **state)
{
    (void)state;
    g_autofree char *slide = bad_slide("no-read.svs");
    g_autofree char *out = new_dir("no-read");
    g_autofree char *err = NULL;
    int code = run_args(NULL, &err, "run", slide, "-o", out, NULL);
    if (geteuid() == 0) {
        assert_int_equal(code, SF_EXIT_OK);
        print_message("running as root: a mode-000 file is readable, and was read\n");
        return;
    }
    assert_int_equal(code, SF_EXIT_MISSING);
    test_assert_contains(err, slide);
    test_assert_contains(err, "Permission denied");
    test_assert_no_partial_files(out);
}

/* ---- Outputs -------------------------------------------------------------- */

static void expect_output_error(const char *out, const char *cause)
{
    g_autofree char *slide = test_fixture("small.svs");
    g_autofree char *err = NULL;
    int code = run_args(NULL, &err, "run", slide, "-o", out, NULL);
    if (code != SF_EXIT_OUTPUT)
        fail_msg("-o %s: exit %d: %s", out, code, err);
    test_assert_contains(err, out);
    test_assert_contains(err, "cannot create folder");
    test_assert_contains(err, cause);
}

static void test_output_under_a_file(void **state)
{
    (void)state;
    g_autofree char *dir = new_dir("out-under-file");
    g_autofree char *file = path_in(dir, "file");
    test_write_text(file, "x");
    g_autofree char *out = path_in(file, "out");
    expect_output_error(out, "Not a directory");
    /* OUTDIR itself a file. */
    expect_output_error(file, "Not a directory");
}

static void test_output_not_writable(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        g_autofree char *dir = new_dir("out-read-only");
        assert_int_equal(g_chmod(dir, 0555), 0);
        g_autofree char *out = path_in(dir, "out");
        expect_output_error(out, "Permission denied");
        assert_int_equal(g_chmod(dir, 0755), 0);
        return;
    }
    /* Root writes anywhere a mode allows; /proc takes no new folders. */
    print_message("running as root: using /proc as the unwritable folder\n");
    expect_output_error("/proc/slidefrag-robustness/out", "");
}

static void check_disk_full(rlim_t limit, const char *failing, const char *name)
{
    g_autofree char *slide = test_fixture("cmu-1-small-region.svs");
    g_autofree char *out = new_dir(name);
    child_limit fsize = {RLIMIT_FSIZE, limit};
    const char *args[] = {"run", slide, "-o", out, "--max-size", "512", "--threads", "2", NULL};
    g_autofree char *err = NULL;
    int code = run_limited(&fsize, &err, args);
    if (code != SF_EXIT_OUTPUT)
        fail_msg("exit %d: %s", code, err);
    test_assert_contains(err, "cannot write");
    test_assert_contains(err, failing);
    g_autofree char *dir = path_in(out, "cmu-1-small-region");
    test_assert_slide_folder_unfinished(dir);
}

/* A full disk (RLIMIT_FSIZE: writes past 200 kB fail with EFBIG) while the
 * 1.4 MB fragment is written: exit 6 naming it, the finished overview and
 * small fragments whole, no temporary file, no manifest. */
static void test_output_disk_full_in_fragment(void **state)
{
    (void)state;
    check_disk_full(200 * 1024, "fragments/cmu-1-small-region__x", "disk-full-fragment");
}

static void test_output_disk_full_in_overview(void **state)
{
    (void)state;
    check_disk_full(20 * 1024, "overview.jpg", "disk-full-overview");
}

/* A rerun over an earlier run's folder, with other parameters: fragments
 * the new manifest does not list are removed, and so are the temporary
 * files of a run that was killed there. */
static void test_output_replaces_earlier_run(void **state)
{
    (void)state;
    g_autofree char *slide = test_fixture("cmu-1-small-region.svs");
    g_autofree char *out = new_dir("rerun");
    assert_int_equal(run_args(NULL, NULL, "run", slide, "-o", out, "--max-size", "256",
                              "--min-area", "0", "--fragment-max-size", "128", NULL),
                     0);
    g_autofree char *dir = path_in(out, "cmu-1-small-region");
    g_autoptr(sf_manifest) first = test_assert_slide_folder_finished(dir);
    /* What a run killed mid-write leaves (the temporary files of its own
     * outputs: others are not slidefrag's, see test_run_folder). */
    g_autofree char *stale_part = g_build_filename(
        dir, "fragments", ".cmu-1-small-region__x0_y0_w9_h9.jpg.AbC123.part", NULL);
    g_autofree char *stale_overview = path_in(dir, ".overview.jpg.XyZ789.part");
    test_write_text(stale_part, "half");
    test_write_text(stale_overview, "half");

    assert_int_equal(run_args(NULL, NULL, "run", slide, "-o", out, "--max-size", "256",
                              "--min-area", "0", "--padding", "9", "--fragment-max-size", "128",
                              NULL),
                     0);
    g_autoptr(sf_manifest) second = test_assert_slide_folder_finished(dir);
    /* Padding moved every box: none of the first run's names remain. */
    for (size_t i = 0; i < first->n_regions; i++) {
        g_autofree char *old = path_in(dir, first->regions[i].fragment_file);
        assert_false(g_file_test(old, G_FILE_TEST_EXISTS));
    }
    assert_false(g_file_test(stale_part, G_FILE_TEST_EXISTS));
    assert_false(g_file_test(stale_overview, G_FILE_TEST_EXISTS));
}

static GSubprocess *start_run(const char *slide, const char *out, const char *padding)
{
    g_autoptr(GError) error = NULL;
    GSubprocess *p =
        g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                         SLIDEFRAG_BINARY, "run", slide, "-o", out, "--max-size", "512",
                         "--min-area", "0", "--padding", padding, "--threads", "2", NULL);
    if (!p)
        fail_msg("%s", error->message);
    return p;
}

static void finish_run(GSubprocess *p)
{
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;
    assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, NULL, &err, &error));
    if (g_subprocess_get_exit_status(p) != 0)
        fail_msg("exit %d: %s", g_subprocess_get_exit_status(p), err);
    g_object_unref(p);
}

/* Two runs into one folder at once, the same slide with different
 * parameters: both finish, and the folder is one run's consistent result
 * (the second waits for the first's lock on the folder). */
static void test_output_two_runs_at_once(void **state)
{
    (void)state;
    g_autofree char *slide = test_fixture("cmu-1-small-region.svs");
    for (int trial = 0; trial < 2; trial++) {
        g_autofree char *out = new_dir("concurrent");
        GSubprocess *a = start_run(slide, out, "0");
        GSubprocess *b = start_run(slide, out, "40");
        finish_run(a);
        finish_run(b);
        g_autofree char *dir = path_in(out, "cmu-1-small-region");
        g_autoptr(sf_manifest) manifest = test_assert_slide_folder_finished(dir);
        assert_true(manifest->n_regions > 0);
    }
}

/* When the system refuses more threads (a process limit; here every
 * thread's stack would need 64 GB), the fragments are cut and the strips
 * read by the caller's thread instead of aborting or waiting forever for
 * a reader that never starts. cmu-1-small-region at 512 px reads its
 * overview in several strips, which take the strip readers' threads. */
static void check_threads_refused(const char *slide, const char *stem, const char *max_size,
                                  size_t min_regions)
{
    g_autofree char *out = new_dir(stem);
    child_limit stack = {RLIMIT_STACK, (rlim_t)64 << 30};
    const char *args[] = {"run",       slide, "-o",         out,      "--min-area", "0",
                          "--threads", "8",   "--max-size", max_size, NULL};
    g_autofree char *err = NULL;
    int code = run_limited(&stack, &err, args);
    if (code != 0)
        fail_msg("%s: exit %d: %s", slide, code, err);
    g_autofree char *dir = path_in(out, stem);
    g_autoptr(sf_manifest) manifest = test_assert_slide_folder_finished(dir);
    assert_true(manifest->n_regions >= min_regions);
}

static void test_output_threads_refused(void **state)
{
    (void)state;
    g_autofree char *sub_tile = bad_slide("sub-tile.tiff");
    check_threads_refused(sub_tile, "sub-tile", "2048", 2);
    check_threads_refused(SLIDEFRAG_SOURCE_DIR "/fixtures/cmu-1-small-region.svs",
                          "cmu-1-small-region", "512", 1);
}

/*
 * Out of memory (RLIMIT_AS, every 3 MB from ample down to where the first
 * large buffer, the overview, no longer fits) while run reads a
 * full-resolution overview and cuts it: each run finishes or stops with
 * exit 1 and a message, whichever buffer fails; before, the read's rows
 * and strips aborted with GLib-ERROR (exit 133). Below the overview only
 * the small allocations of opening the slide are left, inside OpenSlide
 * and GLib, which abort on failure whatever the caller does. Address space
 * limits mean nothing under ASan, which reserves terabytes of shadow
 * memory: skipped there.
 */
static void test_output_out_of_memory(void **state)
{
    (void)state;
    if (g_getenv("SLIDEFRAG_SANITIZED")) {
        print_message("sanitized build: RLIMIT_AS does not apply, skipped\n");
        return;
    }
    g_autofree char *slide = test_fixture("cmu-1-small-region.svs");
    g_autofree char *out = new_dir("out-of-memory");
    const char *args[] = {"run", slide, "-o", out, "--max-size", "2967", "--threads", "1", NULL};
    int n_out_of_memory = 0, n_ok = 0;
    for (rlim_t mb = 200; mb > 20; mb -= 3) {
        child_limit limit = {RLIMIT_AS, mb << 20};
        g_autofree char *err = NULL;
        int code = run_limited(&limit, &err, args);
        if (code == SF_EXIT_FAILURE) {
            if (!strstr(err, "memory"))
                fail_msg("%u MB: exit 1 without saying why: %s", (unsigned)mb, err);
            n_out_of_memory++;
            if (strstr(err, "no memory for a 2220x2967 image"))
                break; /* the overview: the first large buffer */
        } else if (code == SF_EXIT_OK) {
            n_ok++;
        } else {
            fail_msg("%u MB: exit %d: %s", (unsigned)mb, code, err);
        }
        g_autofree char *dir = path_in(out, "cmu-1-small-region");
        test_assert_no_partial_files(dir);
    }
    print_message("%d runs finished, %d out of memory\n", n_ok, n_out_of_memory);
    assert_true(n_ok > 0);
    assert_true(n_out_of_memory > 0);
}

/* batch when summary.json cannot be written (RLIMIT_FSIZE 1 byte: every
 * write fails as on a full disk, the slides' and the summary's): the
 * summaries of an earlier batch, which said "ok", are removed rather than
 * left to describe this one, and the summary's path is not given as if it
 * were written. */
static void test_batch_summary_not_written(void **state)
{
    (void)state;
    g_autofree char *in = new_dir("summary-in");
    test_copy_fixture("small.svs", in, NULL);
    g_autofree char *out = new_dir("summary-out");
    const char *args[] = {"batch", in, "-o", out, "--max-size", "64", NULL};
    g_autofree char *first_err = NULL;
    child_limit none = {RLIMIT_FSIZE, RLIM_INFINITY};
    int code = run_limited(&none, &first_err, args);
    if (code != 0)
        fail_msg("exit %d: %s", code, first_err);
    g_autofree char *summary = path_in(out, "summary.json");
    g_autofree char *csv = path_in(out, "summary.csv");
    assert_true(g_file_test(summary, G_FILE_TEST_EXISTS));

    child_limit fsize = {RLIMIT_FSIZE, 1};
    g_autofree char *err = NULL;
    code = run_limited(&fsize, &err, args);
    if (code != SF_EXIT_SOME_FAILED)
        fail_msg("exit %d, expected 7: %s", code, err);
    test_assert_contains(err, "summary.json");
    test_assert_contains(err, "cannot write");
    test_assert_contains(err, "no summary written");
    assert_false(g_file_test(summary, G_FILE_TEST_EXISTS));
    assert_false(g_file_test(csv, G_FILE_TEST_EXISTS));
    test_assert_no_partial_files(out);
}

/* ---- Options --------------------------------------------------------------- */

/* Every numeric option of run with a negative, zero, huge and non-numeric
 * value: a usage error naming the option, or (where the value is allowed)
 * a finished run. */
static void test_options_numeric_values(void **state)
{
    (void)state;
    static const struct {
        const char *option;
        int negative, zero, huge, text; /* expected exit codes */
    } rows[] = {
        {"--max-size", 2, 2, 2, 2},
        {"--downsample", 2, 2, 2, 2},
        {"--mpp", 2, 2, 2, 2},
        {"--fragment-max-size", 2, 2, 2, 2},
        {"--fragment-downsample", 2, 2, 2, 2},
        {"--fragment-mpp", 2, 2, 2, 2},
        {"--jpeg-quality", 2, 2, 2, 2},
        {"--threshold", 2, 0, 2, 2},
        {"--open", 2, 0, 2, 2},
        {"--close", 2, 0, 2, 2},
        {"--connectivity", 2, 2, 2, 2},
        {"--gap", 2, 0, 2, 2},
        {"--min-area", 2, 0, 2, 2},
        {"--min-area-fraction", 2, 0, 2, 2},
        {"--min-tissue-fraction", 2, 0, 2, 2},
        {"--padding", 2, 0, 2, 2},
        {"--threads", 2, 0, 2, 2},
    };
    static const char *const values[] = {"-1", "0", "1e300", "abc"};
    g_autofree char *slide = test_fixture("small.svs");
    g_autofree char *out = new_dir("options");
    for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
        const int expected[] = {rows[i].negative, rows[i].zero, rows[i].huge, rows[i].text};
        for (size_t v = 0; v < G_N_ELEMENTS(values); v++) {
            g_autofree char *arg = g_strdup_printf("%s=%s", rows[i].option, values[v]);
            g_autofree char *err = NULL;
            int code = run_args(NULL, &err, "run", slide, "-o", out, arg, NULL);
            if (code != expected[v])
                fail_msg("%s: exit %d, expected %d: %s", arg, code, expected[v], err);
            if (code == SF_EXIT_USAGE) {
                assert_true(g_str_has_prefix(err, "slidefrag run: "));
                test_assert_contains(err, rows[i].option);
                test_assert_contains(err, values[v]);
            }
        }
    }
    test_assert_no_partial_files(out);
}

static void test_options_unknown_channel(void **state)
{
    (void)state;
    g_autofree char *slide = test_fixture("small.svs");
    g_autofree char *out = path_in(tmp_root, "channel-out");
    g_autofree char *err = NULL;
    assert_int_equal(run_args(NULL, &err, "run", slide, "-o", out, "--channel", "purple", NULL),
                     SF_EXIT_USAGE);
    test_assert_contains(err, "--channel: 'purple' is not red, green, blue, grey or saturation");
    /* Nothing is written for a bad option. */
    assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
}

/* --max-size beyond level 0 never upsamples: the overview is level 0. */
static void test_options_max_size_above_level0(void **state)
{
    (void)state;
    g_autofree char *slide = test_fixture("small.svs");
    g_autofree char *out = new_dir("max-size-large");
    assert_int_equal(run_args(NULL, NULL, "run", slide, "-o", out, "--max-size", "65535", NULL), 0);
    g_autofree char *overview = g_build_filename(out, "small", "overview.jpg", NULL);
    int w = 0, h = 0;
    g_autofree uint8_t *pixels = sf_jpeg_load(overview, &w, &h, NULL);
    assert_non_null(pixels);
    assert_int_equal(w, 16);
    assert_int_equal(h, 16);
}

/* A gap wider than the slide merges every piece into one region covering
 * all the tissue found. */
static void test_options_gap_larger_than_slide(void **state)
{
    (void)state;
    g_autofree char *slide = test_fixture("cmu-1-small-region.svs");
    g_autofree char *out = new_dir("gap-large");
    assert_int_equal(run_args(NULL, NULL, "run", slide, "-o", out, "--max-size", "256",
                              "--min-area", "0", "--gap", "100000", NULL),
                     0);
    g_autofree char *dir = path_in(out, "cmu-1-small-region");
    g_autoptr(sf_manifest) merged = test_assert_slide_folder_finished(dir);
    assert_int_equal(merged->n_regions, 1);

    g_autofree char *out2 = new_dir("gap-none");
    assert_int_equal(run_args(NULL, NULL, "run", slide, "-o", out2, "--max-size", "256",
                              "--min-area", "0", NULL),
                     0);
    g_autofree char *dir2 = path_in(out2, "cmu-1-small-region");
    g_autoptr(sf_manifest) apart = test_assert_slide_folder_finished(dir2);
    assert_true(apart->n_regions > 1);
    const sf_manifest_region *m = &merged->regions[0];
    for (size_t i = 0; i < apart->n_regions; i++) {
        const sf_manifest_region *r = &apart->regions[i];
        assert_true(r->x >= m->x && r->y >= m->y && r->x + r->w <= m->x + m->w &&
                    r->y + r->h <= m->y + m->h);
    }
}

/* Values json-glib would print as "1e-08.0" (invalid JSON): the manifest
 * stays readable, and so do the parameters in it. */
static void test_options_tiny_values_in_manifest(void **state)
{
    (void)state;
    g_autofree char *slide = test_fixture("small.svs");
    g_autofree char *out = new_dir("tiny-values");
    assert_int_equal(run_args(NULL, NULL, "run", slide, "-o", out, "--min-area-fraction", "1e-8",
                              "--min-tissue-fraction", "1e-300", NULL),
                     0);
    g_autofree char *dir = path_in(out, "small");
    g_autoptr(sf_manifest) manifest = test_assert_slide_folder_finished(dir);
    g_autofree char *manifest_path = path_in(dir, "manifest.json");
    g_autofree char *out2 = new_dir("tiny-values-again");
    g_autofree char *err = NULL;
    assert_int_equal(
        run_args(NULL, &err, "run", slide, "-o", out2, "--params", manifest_path, NULL), 0);
}

/* ---- Hostile annotation and JSON files --------------------------------- */

/* A 100 MB COCO export: a 100 MB description and one annotation. Read
 * whole, mapped, in bounded time. (A dense 75 MB export, 600,000
 * annotations, takes about 45 s and 4.4 GB: docs/robustness.md.) */
static void test_json_100_mb(void **state)
{
    (void)state;
    g_autofree char *dir = new_dir("json-100mb");
    g_autofree char *path = path_in(dir, "export.json");
    GString *s = g_string_sized_new(101 << 20);
    g_string_append(s, "{\"info\": {\"description\": \"");
    for (int i = 0; i < 100 << 20; i += 64)
        g_string_append(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 [{");
    g_string_append(s, "\"}, \"images\": [{\"id\": 1, \"width\": 777, \"height\": 555, "
                       "\"file_name\": \"beta__x0_y0_w777_h555.jpg\"}], \"annotations\": "
                       "[{\"id\": 0, \"image_id\": 1, \"category_id\": 1, \"segmentation\": "
                       "[[1, 1, 50, 1, 50, 50]]}], \"categories\": [{\"id\": 1, \"name\": "
                       "\"tumour\"}]}");
    assert_true(g_file_set_contents(path, s->str, (gssize)s->len, NULL));
    g_string_free(s, TRUE);
    g_autofree char *out = path_in(dir, "out");
    g_autofree char *err = NULL;
    gint64 start = g_get_monotonic_time();
    int code = run_args(NULL, &err, "map", path, "-o", out, NULL);
    double seconds = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
    if (code != 0)
        fail_msg("exit %d: %s", code, err);
    assert_true(seconds < 60);
    test_assert_contains(err, "mapped 1, skipped 0");
    g_autofree char *geojson = path_in(out, "beta.geojson");
    assert_true(g_file_test(geojson, G_FILE_TEST_EXISTS));
    test_assert_no_partial_files(out);
    assert_int_equal(g_unlink(path), 0);
}

/* An export over the 256 MiB limit is refused from its size, unread (a
 * sparse file: no disk used). */
static void test_json_over_size_limit(void **state)
{
    (void)state;
    g_autofree char *dir = new_dir("json-huge");
    g_autofree char *path = path_in(dir, "export.json");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs("{", f) >= 0, 1);
    assert_int_equal(fseeko(f, ((off_t)1 << 30) + 10, SEEK_SET), 0);
    assert_int_equal(fputs("}", f) >= 0, 1);
    fclose(f);
    g_autofree char *out = path_in(dir, "out");
    g_autofree char *err = NULL;
    gint64 start = g_get_monotonic_time();
    assert_int_equal(run_args(NULL, &err, "map", path, "-o", out, NULL), SF_EXIT_BAD_INPUT);
    assert_true(g_get_monotonic_time() - start < 10 * G_USEC_PER_SEC);
    test_assert_contains(err, path);
    test_assert_contains(err, "file too large");
}

/* 100,000 levels of "[" would overflow json-glib's recursive parser:
 * every JSON reader refuses them first, with exit 8 naming the file. */
static void test_json_deeply_nested(void **state)
{
    (void)state;
    g_autofree char *dir = new_dir("json-deep");
    g_autofree char *arrays = path_in(dir, "arrays.json");
    g_autofree char *objects = path_in(dir, "objects.json");
    g_autofree char *text = g_strnfill(100000, '[');
    test_write_text(arrays, text);
    GString *o = g_string_new(NULL);
    for (int i = 0; i < 100000; i++)
        g_string_append(o, "{\"a\":");
    g_string_append(o, "1");
    for (int i = 0; i < 100000; i++)
        g_string_append_c(o, '}');
    assert_true(g_file_set_contents(objects, o->str, (gssize)o->len, NULL));
    g_string_free(o, TRUE);
    g_autofree char *slide = test_fixture("small.svs");
    g_autofree char *out = path_in(dir, "out");
    g_autofree char *csv = path_in(dir, "a.csv");
    test_write_text(csv, "t,1,1,a__x0_y0_w10_h10.jpg,10,10\n");
    const char *const files[] = {arrays, objects};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        const char *f = files[i];
        struct {
            const char *args[10];
        } commands[] = {
            {{"map", f, "-o", out, NULL}},
            {{"map", csv, "--manifest", f, "-o", out, NULL}},
            {{"eval", "--truth", f, "--pred", f, NULL}},
            {{"run", slide, "-o", out, "--params", f, NULL}},
            {{"tune", slide, "--truth", f, "-o", out, NULL}},
        };
        for (size_t c = 0; c < G_N_ELEMENTS(commands); c++) {
            g_autofree char *err = NULL;
            int code = test_run_slidefrag(commands[c].args, NULL, &err);
            if (code != SF_EXIT_BAD_INPUT)
                fail_msg("%s %s: exit %d: %s", commands[c].args[0], f, code, err);
            g_autofree char *where = g_strdup_printf("%s:1: JSON nested deeper than", f);
            test_assert_contains(err, where);
        }
    }
    /* Nothing written, not even the output folder. */
    assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
}

/* batch --resume reads whatever manifest.json an OUTDIR holds: one nested
 * 100,000 deep is no finished run, so the slide is simply run again. */
static void test_json_deeply_nested_manifest_on_resume(void **state)
{
    (void)state;
    g_autofree char *out = new_dir("resume-deep");
    g_autofree char *folder = path_in(out, "small");
    assert_int_equal(g_mkdir_with_parents(folder, 0755), 0);
    g_autofree char *manifest = path_in(folder, "manifest.json");
    g_autofree char *text = g_strnfill(100000, '[');
    test_write_text(manifest, text);
    g_autofree char *slide = test_fixture("small.svs");
    g_autofree char *err = NULL;
    int code = run_args(NULL, &err, "batch", slide, "-o", out, "--resume", "--jobs", "1",
                        "--min-area", "0", "--quiet", NULL);
    if (code != SF_EXIT_OK)
        fail_msg("exit %d: %s", code, err);
    g_autoptr(sf_manifest) done = test_assert_slide_folder_finished(folder);
    assert_int_equal(done->n_regions, 1);
}

/* XML nested 100,000 deep: libxml2 stops at its depth limit (256). */
static void test_xml_deeply_nested(void **state)
{
    (void)state;
    g_autofree char *dir = new_dir("xml-deep");
    g_autofree char *path = path_in(dir, "deep.xml");
    GString *x = g_string_new("<annotation>");
    for (int i = 0; i < 100000; i++)
        g_string_append(x, "<a>");
    assert_true(g_file_set_contents(path, x->str, (gssize)x->len, NULL));
    g_string_free(x, TRUE);
    g_autofree char *out = path_in(dir, "out");
    g_autofree char *err = NULL;
    assert_int_equal(run_args(NULL, &err, "map", path, "-o", out, NULL), SF_EXIT_BAD_INPUT);
    test_assert_contains(err, path);
    test_assert_contains(err, "not well-formed XML");
}

/* Labels with control characters and bytes that are not UTF-8 (from a CSV
 * export): every output format must still parse, XML and JSON alike. */
static void test_annotation_labels_any_bytes(void **state)
{
    (void)state;
    g_autofree char *dir = new_dir("labels");
    g_autofree char *csv = path_in(dir, "points.csv");
    test_write_text(csv, "tu\x01mour,12,40,s__x0_y0_w777_h555.jpg,777,555\n"
                         "str\xff\xfeoma,1,1,s__x0_y0_w777_h555.jpg,777,555\n"
                         "a<b>&\"c',2,2,s__x0_y0_w777_h555.jpg,777,555\n");
    static const char *const formats[] = {"asap", "imagescope", "geojson", "coco"};
    static const char *const extensions[] = {"xml", "xml", "geojson", "json"};
    for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
        g_autofree char *out = path_in(dir, formats[i]);
        g_autofree char *err = NULL;
        int code = run_args(NULL, &err, "map", csv, "-o", out, "--to", formats[i], NULL);
        if (code != 0)
            fail_msg("--to %s: exit %d: %s", formats[i], code, err);
        g_autofree char *name = g_strdup_printf("s.%s", extensions[i]);
        g_autofree char *file = path_in(out, name);
        g_autofree char *text = NULL;
        gsize length;
        assert_true(g_file_get_contents(file, &text, &length, NULL));
        assert_true(g_utf8_validate(text, (gssize)length, NULL));
        if (i < 2) {
            xmlDoc *doc = xmlReadMemory(text, (int)length, NULL, NULL, XML_PARSE_NONET);
            assert_non_null(doc);
            xmlFreeDoc(doc);
        } else {
            g_autoptr(JsonParser) parser = json_parser_new();
            assert_true(json_parser_load_from_data(parser, text, (gssize)length, NULL));
        }
    }
}

static int make_bad_slides(void **state)
{
    (void)state;
    tmp_root = test_make_tmpdir();
    bad = path_in(tmp_root, "bad");
    g_autofree char *script =
        g_build_filename(SLIDEFRAG_SOURCE_DIR, "scripts", "make-bad-slides", NULL);
    const char *argv[] = {script, bad, NULL};
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;
    int wait_status = 0;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                      &wait_status, &error) ||
        !g_spawn_check_wait_status(wait_status, NULL)) {
        fprintf(stderr, "scripts/make-bad-slides failed: %s\n", error ? error->message : err);
        return -1;
    }
    return 0;
}

static int remove_all(void **state)
{
    (void)state;
    test_remove_tree(tmp_root);
    g_clear_pointer(&tmp_root, g_free);
    g_clear_pointer(&bad, g_free);
    return 0;
}

int main(void)
{
    GArray *tests = g_array_new(FALSE, FALSE, sizeof(struct CMUnitTest));
    for (size_t i = 0; i < G_N_ELEMENTS(slide_rows); i++) {
        struct CMUnitTest t = {slide_rows[i].name, test_slide_row, NULL, NULL,
                               (void *)&slide_rows[i]};
        g_array_append_val(tests, t);
    }
    const struct CMUnitTest others[] = {
        cmocka_unit_test(test_slide_zero_length_tile),
        cmocka_unit_test(test_slide_fifo_info_and_batch),
        cmocka_unit_test(test_slide_name_with_metacharacters),
        cmocka_unit_test(test_slide_name_not_utf8),
        cmocka_unit_test(test_slide_name_of_dots),
        cmocka_unit_test(test_slide_implausible_mpp),
        cmocka_unit_test(test_slide_stem_rule),
        cmocka_unit_test(test_slide_without_read_permission),
        cmocka_unit_test(test_output_under_a_file),
        cmocka_unit_test(test_output_not_writable),
        cmocka_unit_test(test_output_disk_full_in_fragment),
        cmocka_unit_test(test_output_disk_full_in_overview),
        cmocka_unit_test(test_output_replaces_earlier_run),
        cmocka_unit_test(test_output_two_runs_at_once),
        cmocka_unit_test(test_output_threads_refused),
        cmocka_unit_test(test_output_out_of_memory),
        cmocka_unit_test(test_batch_summary_not_written),
        cmocka_unit_test(test_options_numeric_values),
        cmocka_unit_test(test_options_unknown_channel),
        cmocka_unit_test(test_options_max_size_above_level0),
        cmocka_unit_test(test_options_gap_larger_than_slide),
        cmocka_unit_test(test_options_tiny_values_in_manifest),
        cmocka_unit_test(test_json_100_mb),
        cmocka_unit_test(test_json_over_size_limit),
        cmocka_unit_test(test_json_deeply_nested),
        cmocka_unit_test(test_json_deeply_nested_manifest_on_resume),
        cmocka_unit_test(test_xml_deeply_nested),
        cmocka_unit_test(test_annotation_labels_any_bytes),
    };
    g_array_append_vals(tests, others, G_N_ELEMENTS(others));
    int failed = _cmocka_run_group_tests("robustness", (struct CMUnitTest *)tests->data, tests->len,
                                         make_bad_slides, remove_all);
    g_array_free(tests, TRUE);
    return failed;
}
