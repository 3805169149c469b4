/*
 * What reading an export may cost (annotations.h, "Limits"): bombs made on
 * the fly, at their real size through the built binary where that stays
 * quick, and against small limits in process for every format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <zip.h>

#include "slidefrag/annotations.h"
#include "slidefrag/error.h"

static char *tmp_root;

static char *path_in(const char *dir, const char *name)
{
    return g_build_filename(dir, name, NULL);
}

/* Whether the binary runs under ASan: it reserves terabytes of address
 * space, so RLIMIT_AS cannot bound it. */
static gboolean sanitized(void)
{
    return g_getenv("SLIDEFRAG_SANITIZED") != NULL;
}

/* A zip of the given members (name, data, length), deflated. */
typedef struct {
    const char *name;
    const char *data;
    size_t length;
} member;

static void write_zip(const char *path, const member *members, size_t n)
{
    int zerr = 0;
    zip_t *archive = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(archive);
    for (size_t i = 0; i < n; i++) {
        zip_source_t *source = zip_source_buffer(archive, members[i].data, members[i].length, 0);
        assert_non_null(source);
        zip_int64_t index = zip_file_add(archive, members[i].name, source, ZIP_FL_ENC_UTF_8);
        assert_true(index >= 0);
        assert_int_equal(zip_set_file_compression(archive, (zip_uint64_t)index, ZIP_CM_DEFLATE, 9),
                         0);
    }
    assert_int_equal(zip_close(archive), 0);
}

/* `line` repeated until the text is `bytes` long (cut at a line). */
static char *repeated(const char *line, size_t bytes, size_t *length)
{
    size_t n = strlen(line), count = bytes / n;
    char *text = g_malloc(count * n + 1);
    for (size_t i = 0; i < count; i++)
        memcpy(text + i * n, line, n);
    text[count * n] = '\0';
    *length = count * n;
    return text;
}

/* slidefrag under an address-space limit (0: none); stderr kept. */
static int run_limited(uint64_t bytes, char **err, const char *const *args)
{
    return test_run_slidefrag_limited(RLIMIT_AS, bytes, args, err);
}

static int lines_in(const char *text)
{
    int n = 0;
    for (const char *p = text; p && *p; p++)
        n += *p == '\n';
    return n;
}

/* ---- Bombs through the command ------------------------------------------ */

/* 200 MiB of valid YOLO lines zipped into 0.6 MB: 5.5 million boxes. It
 * took 7.7 GB and died with SIGABRT; now it stops at the millionth box,
 * in about half a gigabyte. The child gets 2 GiB of address space, so a
 * regression fails here quickly instead of taking the machine. */
static void test_yolo_zip_bomb(void **state)
{
    (void)state;
    g_autofree char *dir = path_in(tmp_root, "yolo-bomb");
    assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
    size_t length = 0;
    g_autofree char *text =
        repeated("0 0.500000 0.500000 0.100000 0.100000\n", (size_t)200 << 20, &length);
    g_autofree char *zip = path_in(dir, "export.zip");
    const member m = {"s__x0_y0_w100_h100.txt", text, length};
    write_zip(zip, &m, 1);
    g_clear_pointer(&text, g_free);
    GStatBuf st;
    assert_int_equal(g_stat(zip, &st), 0);
    assert_true(st.st_size < 1 << 20);

    g_autofree char *out = path_in(dir, "out");
    g_autofree char *err = NULL;
    const char *args[] = {"map", zip, "-o", out, NULL};
    int code = run_limited(sanitized() ? 0 : (uint64_t)2 << 30, &err, args);
    if (code != SF_EXIT_BAD_INPUT)
        fail_msg("exit %d: %s", code, err);
    test_assert_contains(err, "export.zip/s__x0_y0_w100_h100.txt:1000001: more than 1000000 "
                              "annotations; refused");
    assert_int_equal(lines_in(err), 1);
    assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
}

/* Members are inflated only within the export's 256 MiB: a member stating
 * more is refused before a byte of it is inflated. The zip is made with a
 * small member whose stated sizes are then raised to 300 MiB. */
static void test_zip_member_stating_too_much(void **state)
{
    (void)state;
    g_autofree char *dir = path_in(tmp_root, "zip-size");
    assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
    g_autofree char *zip = path_in(dir, "export.zip");
    const char *text = "0 0.5 0.5 0.1 0.1\n";
    const member m = {"a__x0_y0_w9_h9.txt", text, strlen(text)};
    write_zip(zip, &m, 1);
    g_autofree char *data = NULL;
    gsize length = 0;
    assert_true(g_file_get_contents(zip, &data, &length, NULL));
    /* Uncompressed size: offset 22 of the local header, 24 of the central
     * directory entry. */
    const uint32_t stated = 300u << 20;
    int patched = 0;
    for (gsize i = 0; i + 46 < length; i++) {
        if (!memcmp(data + i, "PK\x03\x04", 4)) {
            memcpy(data + i + 22, &stated, 4);
            patched++;
        } else if (!memcmp(data + i, "PK\x01\x02", 4)) {
            memcpy(data + i + 24, &stated, 4);
            patched++;
        }
    }
    assert_int_equal(patched, 2);
    assert_true(g_file_set_contents(zip, data, (gssize)length, NULL));

    g_autofree char *out = path_in(dir, "out");
    g_autofree char *err = NULL;
    const char *args[] = {"map", zip, "-o", out, NULL};
    int code = run_limited(sanitized() ? 0 : (uint64_t)1 << 30, &err, args);
    if (code != SF_EXIT_BAD_INPUT)
        fail_msg("exit %d: %s", code, err);
    test_assert_contains(err, "export.zip/a__x0_y0_w9_h9.txt: the export holds more than 256 MiB");
    assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
}

/*
 * Memory refused: exit 1 and one line, never a signal. Before, GLib's
 * g_malloc aborted (exit 134), or GSlice did. The limit at which memory
 * runs out depends on the libraries' mappings, so the map runs under a
 * falling address-space limit: each run must end with 0 (it fitted), 1
 * with the message, or 127 (the loader could not even map a library), and
 * some run must have met the out-of-memory path.
 */
static void test_out_of_memory_is_exit_1(void **state)
{
    (void)state;
    if (sanitized()) {
        print_message("skipped under sanitizers: RLIMIT_AS cannot bound ASan\n");
        return;
    }
    g_autofree char *dir = path_in(tmp_root, "oom");
    assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
    size_t length = 0;
    g_autofree char *text = repeated("0 0.500000 0.500000 0.100000 0.100000\n", 1 << 20, &length);
    g_autofree char *zip = path_in(dir, "export.zip");
    const member m = {"s__x0_y0_w100_h100.txt", text, length};
    write_zip(zip, &m, 1);
    g_autofree char *out = path_in(dir, "out");
    int out_of_memory = 0;
    for (uint64_t mb = 120; mb >= 40; mb -= 8) {
        g_autofree char *err = NULL;
        const char *args[] = {"map", zip, "-o", out, "--to", "csv", NULL};
        int code = run_limited(mb << 20, &err, args);
        if (code == 1) {
            test_assert_contains(err, "slidefrag map: ");
            test_assert_contains(err, "out of memory");
            assert_int_equal(lines_in(err), 1);
            out_of_memory++;
        } else if (code != 0 && code != 127) {
            fail_msg("%u MiB: exit %d: %s", (unsigned)mb, code, err);
        }
        test_assert_no_partial_files(out);
    }
    assert_true(out_of_memory > 0);
}

/*
 * A zip whose central directory lists one 200 MiB member twenty times:
 * every entry inflates the same stream (4 s a GiB each, before), 4 GiB in
 * all from a 0.2 MB file. Each entry counts against the export's 256 MiB,
 * so the second is refused before it is inflated.
 */
static void test_zip_entries_sharing_one_stream(void **state)
{
    (void)state;
    g_autofree char *dir = path_in(tmp_root, "shared-stream");
    assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
    size_t length = 0;
    g_autofree char *blank = repeated("\n", (size_t)200 << 20, &length);
    g_autofree char *one = path_in(dir, "one.zip");
    const member m = {"a.txt", blank, length};
    write_zip(one, &m, 1);
    g_clear_pointer(&blank, g_free);
    g_autofree char *data = NULL;
    gsize size = 0;
    assert_true(g_file_get_contents(one, &data, &size, NULL));
    /* [local header + data][central entry][end record]: the end record is
     * the last 22 bytes (no comment), the central entry before it. */
    const char *end = data + size - 22;
    assert_int_equal(memcmp(end, "PK\x05\x06", 4), 0);
    uint32_t cd_size, cd_offset;
    memcpy(&cd_size, end + 12, 4);
    memcpy(&cd_offset, end + 16, 4);
    GByteArray *shared = g_byte_array_new();
    g_byte_array_append(shared, (const guint8 *)data, cd_offset);
    const int copies = 20;
    for (int i = 0; i < copies; i++)
        g_byte_array_append(shared, (const guint8 *)data + cd_offset, cd_size);
    guint8 record[22];
    memcpy(record, end, 22);
    const uint16_t entries = copies;
    const uint32_t all = cd_size * copies;
    memcpy(record + 8, &entries, 2);
    memcpy(record + 10, &entries, 2);
    memcpy(record + 12, &all, 4);
    g_byte_array_append(shared, record, 22);
    g_autofree char *zip = path_in(dir, "shared.zip");
    assert_true(g_file_set_contents(zip, (const char *)shared->data, (gssize)shared->len, NULL));
    assert_true(shared->len < 1 << 20);
    g_byte_array_unref(shared);

    g_autofree char *out = path_in(dir, "out");
    g_autofree char *err = NULL;
    const char *args[] = {"map", zip, "-o", out, NULL};
    int code = run_limited(sanitized() ? 0 : (uint64_t)2 << 30, &err, args);
    if (code != SF_EXIT_BAD_INPUT)
        fail_msg("exit %d: %s", code, err);
    test_assert_contains(err, "shared.zip/a.txt: the export holds more than 256 MiB");
    assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
}

/*
 * The size limits looked at st_size, so /dev/zero or a pipe given as an
 * export, --manifest or --labels was read until an allocation of gigabytes
 * failed, and a FIFO with no writer hung the command. Where a file is
 * expected, anything else is refused unread (exit 3); --params may be a
 * pipe (batch passes parameters on stdin), read within its bound.
 */
static void test_devices_and_pipes_as_inputs(void **state)
{
    (void)state;
    g_autofree char *dir = path_in(tmp_root, "devices");
    assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
    g_autofree char *fifo = path_in(dir, "export.fifo");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    g_autofree char *csv = path_in(dir, "a.csv");
    assert_true(g_file_set_contents(csv, "t,1,1,a__x0_y0_w10_h10.jpg,10,10\n", -1, NULL));
    g_autofree char *out = path_in(dir, "out");
    g_autofree char *slide = test_fixture("small.svs");
    const struct {
        int code;
        const char *message;
        const char *args[10];
    } cases[] = {
        {SF_EXIT_MISSING,
         "/dev/zero: cannot read an annotation export: is a device",
         {"map", "/dev/zero", "-o", out, NULL}},
        {SF_EXIT_MISSING,
         "export.fifo: cannot read an annotation export: is a pipe",
         {"map", fifo, "-o", out, NULL}},
        {SF_EXIT_MISSING,
         "/dev/zero: cannot read manifest: is a device",
         {"map", csv, "--manifest", "/dev/zero", "-o", out, NULL}},
        {SF_EXIT_MISSING,
         "export.fifo: cannot read labels: is a pipe",
         {"map", csv, "--labels", fifo, "-o", out, NULL}},
        {SF_EXIT_MISSING,
         "/dev/zero: cannot read: is a device",
         {"eval", "--truth", "/dev/zero", "--pred", csv, NULL}},
        {SF_EXIT_BAD_INPUT,
         "/dev/zero: file too large for parameters (over 64 MiB)",
         {"run", slide, "-o", out, "--params", "/dev/zero", NULL}},
        {SF_EXIT_BAD_INPUT,
         "export.fifo:1: not valid JSON: no value in the text",
         {"run", slide, "-o", out, "--params", fifo, NULL}},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *err = NULL;
        int code = run_limited(sanitized() ? 0 : (uint64_t)1 << 30, &err, cases[i].args);
        if (code != cases[i].code)
            fail_msg("case %zu: exit %d, expected %d: %s", i, code, cases[i].code, err);
        test_assert_contains(err, cases[i].message);
        assert_int_equal(lines_in(err), 1);
    }
    assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
}

/* ---- Every format against small limits ------------------------------------ */

static sf_annotation_set *limited_set(size_t bytes, size_t annotations, size_t vertices,
                                      size_t values)
{
    sf_annotation_set *set = sf_annotation_set_new();
    const sf_export_limits limits = {bytes, annotations, vertices, values};
    sf_annotation_set_set_limits(set, &limits);
    return set;
}

/* Reading `text` as `name` fails on a limit with `message`. */
static void expect_refused(sf_annotation_set *set, const char *name, const char *text,
                           const char *message)
{
    g_autoptr(GError) error = NULL;
    assert_false(sf_annotations_read_data(set, name, text, strlen(text), &error));
    test_assert_error(error, SF_EXIT_BAD_INPUT, message);
    /* Nothing past the limit was kept, and the set stays stopped. */
    g_autoptr(GError) again = NULL;
    assert_false(sf_annotations_read_data(set, "more.csv", "t,1,1,a.jpg,9,9", 15, &again));
    test_assert_error(again, SF_EXIT_BAD_INPUT, message);
}

static void test_annotation_limit_every_format(void **state)
{
    (void)state;
    GString *yolo = g_string_new(NULL), *csv = g_string_new(NULL), *voc = g_string_new(NULL);
    GString *coco = g_string_new("{\"images\": [{\"id\": 1, \"width\": 9, \"height\": 9, "
                                 "\"file_name\": \"a.jpg\"}], \"annotations\": [");
    GString *vgg = g_string_new("{\"a.jpg\": {\"filename\": \"a.jpg\", \"regions\": [");
    g_string_append(voc, "<annotation><filename>a.jpg</filename>\n");
    for (int i = 0; i < 11; i++) {
        g_string_append(yolo, "0 0.5 0.5 0.1 0.1\n");
        g_string_append(csv, "t,1,1,a.jpg,9,9\n");
        g_string_append(voc, "<object><name>t</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
                             "<xmax>2</xmax><ymax>2</ymax></bndbox></object>\n");
        g_string_append_printf(
            coco, "%s{\"image_id\": 1, \"category_id\": 1, \"bbox\": [1, 1, 2, 2]}", i ? ", " : "");
        g_string_append_printf(vgg,
                               "%s{\"shape_attributes\": {\"name\": \"polygon\", "
                               "\"all_points_x\": [1, 2, 2], \"all_points_y\": [1, 1, 2]}, "
                               "\"region_attributes\": {\"label\": \"t\"}}",
                               i ? ", " : "");
    }
    g_string_append(voc, "</annotation>\n");
    g_string_append(coco, "], \"categories\": [{\"id\": 1, \"name\": \"t\"}]}");
    g_string_append(vgg, "]}}");
    const struct {
        const char *name, *text, *message;
    } cases[] = {
        {"a.txt", yolo->str, "a.txt:11: more than 10 annotations; refused"},
        {"a.csv", csv->str, "a.csv:11: more than 10 annotations; refused"},
        {"a.xml", voc->str, "a.xml:12: more than 10 annotations; refused"},
        {"a.json", coco->str, "a.json: annotations[10]: more than 10 annotations; refused"},
        {"v.json", vgg->str, "v.json: \"a.jpg\" regions[10]: more than 10 annotations; refused"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(sf_annotation_set) set = limited_set(1 << 20, 10, 1000, 1000);
        expect_refused(set, cases[i].name, cases[i].text, cases[i].message);
        assert_true(set->annotations->len <= 10);
    }
    /* At the limit exactly, all is read. */
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(sf_annotation_set) set = limited_set(1 << 20, 11, 1000, 1000);
        assert_true(sf_annotations_read_data(set, cases[i].name, cases[i].text,
                                             strlen(cases[i].text), NULL));
        assert_int_equal(set->annotations->len, 11);
    }
    g_string_free(yolo, TRUE);
    g_string_free(csv, TRUE);
    g_string_free(voc, TRUE);
    g_string_free(coco, TRUE);
    g_string_free(vgg, TRUE);
}

/* Vertices in all, and JSON values in one entry (what json-glib's nodes
 * for it cost). */
static void test_vertex_and_entry_limits(void **state)
{
    (void)state;
    const char *coco = "{\"images\": [{\"id\": 1, \"width\": 99, \"height\": 99, \"file_name\": "
                       "\"a.jpg\"}], \"annotations\": [{\"image_id\": 1, \"category_id\": 1, "
                       "\"segmentation\": [[1, 1, 9, 1, 9, 9, 1, 9]]}, {\"image_id\": 1, "
                       "\"category_id\": 1, \"segmentation\": [[1, 1, 9, 1, 9, 9, 1, 9]]}], "
                       "\"categories\": [{\"id\": 1, \"name\": \"t\"}]}";
    g_autoptr(sf_annotation_set) vertices = limited_set(1 << 20, 100, 7, 1000);
    expect_refused(vertices, "a.json", coco,
                   "a.json: annotations[1]: more than 7 vertices in all; refused");
    assert_int_equal(vertices->annotations->len, 1);

    /* annotations[0]: object, 2 ids, segmentation, its polygon, 8 numbers. */
    g_autoptr(sf_annotation_set) entry = limited_set(1 << 20, 100, 1000, 12);
    expect_refused(entry, "a.json", coco, "a.json:1: more than 12 values in one entry; refused");
    assert_int_equal(entry->annotations->len, 0);
    g_autoptr(sf_annotation_set) fits = limited_set(1 << 20, 100, 1000, 13);
    assert_true(sf_annotations_read_data(fits, "a.json", coco, strlen(coco), NULL));
    assert_int_equal(fits->annotations->len, 2);

    const char *vgg = "{\"a.jpg\": {\"filename\": \"a.jpg\", \"size\": 1,\n \"regions\": [{"
                      "\"shape_attributes\": {\"name\": \"polygon\", \"all_points_x\": [1, 2, 2], "
                      "\"all_points_y\": [1, 1, 2]}, \"region_attributes\": {\"label\": \"t\"}}]}}";
    g_autoptr(sf_annotation_set) vgg_entry = limited_set(1 << 20, 100, 1000, 12);
    expect_refused(vgg_entry, "v.json", vgg, "v.json:2: more than 12 values in one entry");
}

/* The bytes of an export in all: files of a folder, members of a zip. */
static void test_byte_limit_across_an_export(void **state)
{
    (void)state;
    g_autofree char *dir = path_in(tmp_root, "bytes");
    g_autofree char *folder = path_in(dir, "folder");
    assert_int_equal(g_mkdir_with_parents(folder, 0755), 0);
    size_t length = 0;
    g_autofree char *text = repeated("0 0.5 0.5 0.1 0.1\n", 600, &length);
    g_autofree char *a = path_in(folder, "a__x0_y0_w9_h9.txt");
    g_autofree char *b = path_in(folder, "b__x0_y0_w9_h9.txt");
    assert_true(g_file_set_contents(a, text, (gssize)length, NULL));
    assert_true(g_file_set_contents(b, text, (gssize)length, NULL));
    g_autofree char *zip = path_in(dir, "export.zip");
    const member members[] = {{"a__x0_y0_w9_h9.txt", text, length},
                              {"b__x0_y0_w9_h9.txt", text, length}};
    write_zip(zip, members, 2);

    /* Each export has its own budget: 1000 bytes hold one file, not two. */
    const char *const exports[] = {folder, zip};
    for (size_t i = 0; i < G_N_ELEMENTS(exports); i++) {
        g_autoptr(sf_annotation_set) fits = limited_set(2 * length, 1000, 10000, 1000);
        assert_true(sf_annotations_read_path(fits, exports[i], NULL));
        assert_true(sf_annotations_read_path(fits, exports[i], NULL));
        assert_int_equal(fits->annotations->len, 2 * 2 * length / 18);

        g_autoptr(sf_annotation_set) set = limited_set(1000, 1000, 10000, 1000);
        g_autoptr(GError) error = NULL;
        assert_false(sf_annotations_read_path(set, exports[i], &error));
        test_assert_error(error, SF_EXIT_BAD_INPUT,
                          "b__x0_y0_w9_h9.txt: the export holds more than 1000 bytes");
    }
    /* One file over the budget by itself. */
    g_autoptr(sf_annotation_set) set = limited_set(500, 1000, 10000, 1000);
    g_autoptr(GError) error = NULL;
    assert_false(sf_annotations_read_path(set, a, &error));
    test_assert_error(error, SF_EXIT_BAD_INPUT, "file too large for an annotation export");
}

/* A file of bad lines costs a thousand listed problems, the others are
 * counted in one entry: a million bad lines once meant a million
 * messages kept in memory. */
static void test_problems_listed_then_counted(void **state)
{
    (void)state;
    size_t length = 0;
    g_autofree char *text = repeated("0 0.5 0.5 0.1\n", 1500 * 14, &length);
    g_autoptr(sf_annotation_set) set = sf_annotation_set_new();
    assert_true(sf_annotations_read_data(set, "s__x0_y0_w9_h9.txt", text, length, NULL));
    assert_int_equal(set->problems->len, SF_MAX_LISTED_PROBLEMS + 1);
    const sf_annotation_problem *rest = set->problems->pdata[SF_MAX_LISTED_PROBLEMS];
    assert_int_equal(rest->n_problems, 500);
    assert_int_equal(rest->n_skipped, 500);
    test_assert_contains(rest->message, "s__x0_y0_w9_h9.txt:1001: and more problems like the 1000");
    assert_int_equal(sf_annotation_set_n_skipped(set), 1500);
}

static int setup(void **state)
{
    (void)state;
    tmp_root = test_make_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_remove_tree(tmp_root);
    g_clear_pointer(&tmp_root, g_free);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yolo_zip_bomb),
        cmocka_unit_test(test_zip_member_stating_too_much),
        cmocka_unit_test(test_out_of_memory_is_exit_1),
        cmocka_unit_test(test_zip_entries_sharing_one_stream),
        cmocka_unit_test(test_devices_and_pipes_as_inputs),
        cmocka_unit_test(test_annotation_limit_every_format),
        cmocka_unit_test(test_vertex_and_entry_limits),
        cmocka_unit_test(test_byte_limit_across_an_export),
        cmocka_unit_test(test_problems_listed_then_counted),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
