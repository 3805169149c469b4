/*
 * A slide's output folder, OUTDIR/<stem>: opened without following links,
 * locked while a run uses it, and cleaned of what slidefrag itself wrote
 * there and nothing else.
 *
 * What may be removed is decided by name and by record, never by pattern
 * alone: a user's holiday.jpg in fragments/ is not a fragment, and another
 * slide's fragment is not this slide's. The fragments a folder may hold
 * from earlier runs are those its manifest lists, plus those a run that
 * was killed had announced in PENDING_NAME before writing them; every
 * such name must still be a fragment name of this slide, which has no '/'
 * and so can only name a file inside fragments/. Removal goes through
 * file descriptors of the folders opened with O_NOFOLLOW, so a link put
 * in place of a folder cannot send an unlink elsewhere.
 */
#define _DEFAULT_SOURCE /* flock, O_NOFOLLOW, O_DIRECTORY */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/folder.h"
#include "run/run_internal.h"
#include "slidefrag/error.h"
#include "slidefrag/image_io.h"
#include "slidefrag/manifest.h"

/* Hidden, and not a name any other output has. */
#define PENDING_NAME ".pending-fragments"
/* A manifest is about 300 bytes a region. */
#define MANIFEST_MAX_BYTES ((gsize)1 << 30)
/* A pending list names at most every fragment of a few runs, about 80
 * bytes each; anything this large was not written by slidefrag. */
#define PENDING_MAX_BYTES (64 << 20)

struct sf_slide_folder {
    char *path;
    char *stem;
    int dir_fd;       /* the slide folder; holds the lock */
    int fragments_fd; /* its fragments/ */
};

/* The files slidefrag writes into a slide folder (besides fragments). */
static const char *const own_files[] = {
    "overview.jpg", "overview.png", "mask.png", "boxes.jpg", "manifest.json", PENDING_NAME,
};

static gboolean is_own_file(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(own_files); i++)
        if (!strcmp(name, own_files[i]))
            return TRUE;
    return FALSE;
}

static gboolean refuse_link(const char *path, GError **error)
{
    g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT,
                "%s: is a symbolic link; slidefrag writes only into real folders, where it "
                "removes its own earlier files; give another OUTDIR or replace the link by "
                "the folder",
                path);
    return FALSE;
}

static gboolean is_link(const char *path)
{
    GStatBuf st;
    return g_lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/* Opens folder `name` in `parent_fd` (or `path` when parent_fd is -1)
 * without following a link; creates it first when asked. -1 on error. */
static int open_folder(int parent_fd, const char *name, const char *path, gboolean create,
                       GError **error)
{
    if (create && mkdirat(parent_fd < 0 ? AT_FDCWD : parent_fd, name, 0777) != 0 &&
        errno != EEXIST) {
        int err = errno;
        g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "%s: cannot create folder: %s", path,
                    g_strerror(err));
        return -1;
    }
    int fd = openat(parent_fd < 0 ? AT_FDCWD : parent_fd, name,
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    int err = errno;
    if (err == ELOOP || ((err == ENOTDIR) && is_link(path)))
        refuse_link(path, error);
    else
        g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "%s: cannot create folder: %s", path,
                    g_strerror(err));
    return -1;
}

/*
 * Two runs writing one folder at once would each remove the other's
 * fragments and leave a manifest that lists missing files, so a run holds
 * an exclusive lock on its folder and a second one waits. flock() on the
 * folder itself leaves no lock file behind and is released when the
 * process ends, however it ends. Where the file system has no such locks,
 * the run goes ahead unlocked.
 */
static gboolean lock_folder(int fd, gboolean wait)
{
    while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
        if (errno != EINTR)
            return errno != EWOULDBLOCK; /* no locks here: unlocked */
    }
    return TRUE;
}

void sf_slide_folder_close(sf_slide_folder *folder)
{
    if (!folder)
        return;
    if (folder->fragments_fd >= 0)
        close(folder->fragments_fd);
    if (folder->dir_fd >= 0)
        close(folder->dir_fd); /* releases the lock */
    g_free(folder->path);
    g_free(folder->stem);
    g_free(folder);
}

sf_slide_folder *sf_slide_folder_open(const char *path, const char *stem, GError **error)
{
    /* The link test comes first, so that nothing is created through one;
     * O_NOFOLLOW below closes the window between the test and the open. */
    if (is_link(path)) {
        refuse_link(path, error);
        return NULL;
    }
    g_autofree char *parent = g_path_get_dirname(path);
    if (g_mkdir_with_parents(parent, 0777) != 0) {
        int err = errno;
        g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "%s: cannot create folder: %s", path,
                    g_strerror(err));
        return NULL;
    }
    g_autoptr(sf_slide_folder) folder = g_new0(sf_slide_folder, 1);
    folder->path = g_strdup(path);
    folder->stem = g_strdup(stem);
    folder->fragments_fd = -1;
    folder->dir_fd = open_folder(-1, path, path, TRUE, error);
    if (folder->dir_fd < 0)
        return NULL;
    g_autofree char *fragments = g_build_filename(path, "fragments", NULL);
    folder->fragments_fd = open_folder(folder->dir_fd, "fragments", fragments, TRUE, error);
    if (folder->fragments_fd < 0)
        return NULL;
    lock_folder(folder->dir_fd, TRUE);
    return g_steal_pointer(&folder);
}

/* Removes sf_output's temporary files of our own outputs in one folder. */
static void remove_temp_files_in(int fd, const char *stem, gboolean fragments)
{
    int dup_fd = dup(fd);
    if (dup_fd < 0)
        return;
    DIR *listing = fdopendir(dup_fd);
    if (!listing) {
        close(dup_fd);
        return;
    }
    /* Collected first: unlinking while reading may skip names. */
    g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func(g_free);
    for (struct dirent *entry; (entry = readdir(listing));) {
        g_autofree char *target = sf_output_temp_target(entry->d_name);
        if (target && (fragments ? sf_fragment_name_is_of(target, stem) : is_own_file(target)))
            g_ptr_array_add(doomed, g_strdup(entry->d_name));
    }
    closedir(listing);
    for (guint i = 0; i < doomed->len; i++)
        unlinkat(fd, g_ptr_array_index(doomed, i), 0);
}

void sf_slide_folder_remove_temp_files(sf_slide_folder *folder)
{
    remove_temp_files_in(folder->dir_fd, folder->stem, FALSE);
    remove_temp_files_in(folder->fragments_fd, folder->stem, TRUE);
}

void sf_slide_folder_clean_killed(const char *path, const char *stem)
{
    int dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir_fd < 0)
        return;
    /* A run that holds the lock is alive, and its temporary files are in
     * use: those are not a killed run's. */
    if (lock_folder(dir_fd, FALSE)) {
        remove_temp_files_in(dir_fd, stem, FALSE);
        int fragments_fd =
            openat(dir_fd, "fragments", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fragments_fd >= 0) {
            remove_temp_files_in(fragments_fd, stem, TRUE);
            close(fragments_fd);
        }
    }
    close(dir_fd);
}

/* Reads file `name` of the folder, without following a link, when it is
 * a regular file of at most `max` bytes. */
static char *read_small_file(int dir_fd, const char *name, gsize max, gsize *length)
{
    int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *text = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (gsize)st.st_size <= max) {
        text = g_malloc((gsize)st.st_size + 1);
        gsize done = 0;
        while (done < (gsize)st.st_size) {
            ssize_t n = read(fd, text + done, (gsize)st.st_size - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            done += (gsize)n;
        }
        text[done] = '\0';
        *length = done;
    }
    close(fd);
    return text;
}

GHashTable *sf_slide_folder_earlier_fragments(sf_slide_folder *folder)
{
    GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    /* The manifest: only a file that loads as one, and only entries
     * "fragments/<a fragment name of this slide>". */
    gsize length = 0;
    g_autofree char *manifest_text =
        read_small_file(folder->dir_fd, "manifest.json", MANIFEST_MAX_BYTES, &length);
    if (manifest_text) {
        g_autofree char *manifest_path = g_build_filename(folder->path, "manifest.json", NULL);
        g_autoptr(sf_manifest) manifest =
            sf_manifest_parse(manifest_path, manifest_text, length, NULL);
        for (size_t i = 0; manifest && i < manifest->n_regions; i++) {
            const sf_manifest_region *r = &manifest->regions[i];
            if (g_str_has_prefix(r->fragment_file, "fragments/") &&
                !strcmp(r->fragment_file + strlen("fragments/"), r->fragment_name) &&
                sf_fragment_name_is_of(r->fragment_name, folder->stem))
                g_hash_table_add(names, g_strdup(r->fragment_name));
        }
    }
    /* What killed runs announced, one name per line. */
    g_autofree char *pending =
        read_small_file(folder->dir_fd, PENDING_NAME, PENDING_MAX_BYTES, &length);
    if (pending) {
        g_auto(GStrv) lines = g_strsplit(pending, "\n", -1);
        for (char **line = lines; *line; line++)
            if (sf_fragment_name_is_of(*line, folder->stem))
                g_hash_table_add(names, g_strdup(*line));
    }
    return names;
}

gboolean sf_slide_folder_announce_fragments(sf_slide_folder *folder, GHashTable *names,
                                            GError **error)
{
    g_autoptr(GPtrArray) sorted = g_ptr_array_new();
    GHashTableIter iter;
    gpointer name;
    g_hash_table_iter_init(&iter, names);
    while (g_hash_table_iter_next(&iter, &name, NULL))
        g_ptr_array_add(sorted, name);
    g_ptr_array_sort(sorted, sf_compare_string_ptrs);
    GString *text = g_string_new(NULL);
    for (guint i = 0; i < sorted->len; i++) {
        g_string_append(text, g_ptr_array_index(sorted, i));
        g_string_append_c(text, '\n');
    }
    g_autofree char *path = g_build_filename(folder->path, PENDING_NAME, NULL);
    gboolean ok = sf_write_file_atomic(path, text->str, text->len, error);
    g_string_free(text, TRUE);
    return ok;
}

gboolean sf_slide_folder_remove_manifest(sf_slide_folder *folder, GError **error)
{
    if (unlinkat(folder->dir_fd, "manifest.json", 0) == 0 || errno == ENOENT)
        return TRUE;
    int err = errno;
    g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "%s/manifest.json: cannot replace: %s",
                folder->path, g_strerror(err));
    return FALSE;
}

void sf_slide_folder_remove_fragments(sf_slide_folder *folder, GHashTable *names, GHashTable *keep)
{
    GHashTableIter iter;
    gpointer name;
    g_hash_table_iter_init(&iter, names);
    while (g_hash_table_iter_next(&iter, &name, NULL))
        if (!g_hash_table_contains(keep, name))
            unlinkat(folder->fragments_fd, name, 0);
}

void sf_slide_folder_forget_pending(sf_slide_folder *folder)
{
    unlinkat(folder->dir_fd, PENDING_NAME, 0);
}
