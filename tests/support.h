/* Shared helpers for the cmocka tests. Include after cmocka's headers. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "slidefrag/core.h"
#include "slidefrag/manifest.h"
#include "slidefrag/slide.h"

/* Absolute path of a file under fixtures/; g_free it. */
char *test_fixture(const char *name);

/* Copies fixtures/<name> into `dir` as `as` (NULL: the same name). */
void test_copy_fixture(const char *name, const char *dir, const char *as);

/* A fresh empty directory under the system temp dir; removed by
 * test_remove_tree(). g_free the path. */
char *test_make_tmpdir(void);
void test_remove_tree(const char *path);

/* Runs the built slidefrag binary with argv (NULL-terminated, without
 * argv[0]); returns its exit status (or 128+signal), captures output when
 * out/err are non-NULL (g_free them). */
int test_run_slidefrag(const char *const *argv, char **out, char **err);
/* The same, but the child is ended by SIGALRM (status 128 + 14) when it
 * runs longer than `seconds` (0: no limit): a hang fails instead of
 * blocking the suite. */
int test_run_slidefrag_within(const char *const *argv, unsigned seconds, char **out, char **err);

/* As test_run_slidefrag, with a resource limit (setrlimit's `resource`,
 * soft and hard `value`; value 0: none) applied in the child, stdout
 * dropped. Past RLIMIT_FSIZE write() fails with EFBIG, as on a full disk,
 * rather than the default SIGXFSZ killing the child. */
int test_run_slidefrag_limited(int resource, uint64_t value, const char *const *argv, char **err);

/* Runs argv[0] (a path, or a name looked up on PATH) in `cwd` (NULL: this
 * one) with environment `envp` (NULL: this one); returns the exit status
 * (or 128+signal), captures output when out/err are non-NULL. */
int test_run(const char *const *argv, const char *cwd, const char *const *envp, char **out,
             char **err);

/* The commands a `slidefrag --help` text lists, in its order (g_free'd
 * strings). */
GPtrArray *test_help_commands(const char *help);

/* Every option spelling ("-o", "--output", ...) that `BINARY COMMAND
 * --help-all` lists, in its order (g_free'd strings). */
GPtrArray *test_help_options(const char *binary, const char *command);

/* An sf_image owning g_malloc'ed pixels; free with test_image_free(). */
sf_image test_image_new(int width, int height, int channels);
void test_image_free(sf_image *image);

/* Loads a PNG fixture (see sf_png_load) into an owning sf_image. */
sf_image test_image_load_png(const char *path, int channels);

/* Fails the test, naming the file, when `dir` or a folder below it (not
 * through symlinks) holds a temporary ".part" file: a write not finished. */
void test_assert_no_partial_files(const char *dir);

/* Fails unless `error` is an SF_ERROR with `code` whose message contains
 * `needle` (when not NULL). */
void test_assert_error(const GError *error, int code, const char *needle);

/* The names in `dir`, sorted and "|"-separated; g_free it. */
char *test_dir_entries(const char *dir);

/* A finished slide folder: its manifest loads and lists exactly the
 * fragments on disk, each decoding whole at the size it records; every
 * image decodes; no temporary file. Returns the manifest. */
sf_manifest *test_assert_slide_folder_finished(const char *dir);
/* The folder a failed run leaves: no manifest, every image left whole, no
 * temporary file. */
void test_assert_slide_folder_unfinished(const char *dir);

/* A fragment of a manifest: its level-0 box and pixel size. */
typedef struct test_region {
    int64_t x, y, w, h;
    int width, height;
} test_region;

/* Writes to `path` the manifest of slide `slide` (level-0 size, µm/px and
 * bounds as JSON text: "0.25", "null") whose regions are `regions`, their
 * fragments named as run names them. */
void test_write_manifest(const char *path, const char *slide, int64_t width, int64_t height,
                         const char *mpp, const char *bounds, const test_region *regions, size_t n);

/* Fails unless `text` (may be NULL) contains `part`. */
void test_assert_contains(const char *text, const char *part);

/* Writes `text` to `path`, failing the test if it cannot. */
void test_write_text(const char *path, const char *text);

/* Fails unless the box is (x, y, w, h). */
void test_assert_box(const sf_box *box, int64_t x, int64_t y, int64_t w, int64_t h);

/* Opens a slide, failing the test with the error if it cannot; the second
 * form takes a name under fixtures/. */
sf_slide *test_open_slide(const char *path);
sf_slide *test_open_fixture_slide(const char *name);

/* An image whose rows are `pad` bytes longer than its pixels, every byte
 * (and one past the end) TEST_PAD_VALUE, so that a write outside the pixels
 * shows in test_assert_padding_intact. Free with test_image_free(). */
#define TEST_PAD_VALUE 0xA5
sf_image test_padded_image(int width, int height, int channels, size_t pad);
void test_assert_padding_intact(const sf_image *image);
