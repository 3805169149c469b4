/*
 * Atomic output files: write under a temporary name beside the target, then
 * fsync and rename over it, so a reader (or a rerun after a crash) sees
 * either the old file or the complete new one, never a truncated one.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "slidefrag/error.h"
#include "slidefrag/image_io.h"

struct sf_output {
    char *path;      /* the final name */
    char *temp_path; /* where the bytes go until commit */
    FILE *stream;
};

static void output_free(sf_output *output)
{
    g_free(output->path);
    g_free(output->temp_path);
    g_free(output);
}

/* The temporary name of `base`: ".<base>.XXXXXX.part", the X replaced by
 * g_mkstemp with letters and digits. */
#define TEMP_RANDOM 6

char *sf_output_temp_target(const char *name)
{
    size_t length = strlen(name);
    size_t suffix = 1 + TEMP_RANDOM + strlen(".part"); /* ".XXXXXX.part" */
    if (name[0] != '.' || length < 2 + suffix || !g_str_has_suffix(name, ".part"))
        return NULL;
    const char *random = name + length - suffix;
    if (random[0] != '.')
        return NULL;
    for (int i = 1; i <= TEMP_RANDOM; i++)
        if (!g_ascii_isalnum(random[i]))
            return NULL;
    return g_strndup(name + 1, (gsize)(random - name - 1));
}

sf_output *sf_output_create(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    /* Same directory so rename() never crosses a file system; the leading dot
     * and the .part suffix keep the temp file out of globs like *.jpg. */
    g_autofree char *name = g_strdup_printf(".%s.XXXXXX.part", base);
    sf_output *output = g_new0(sf_output, 1);
    output->path = g_strdup(path);
    output->temp_path = g_build_filename(dir, name, NULL);

    /* 0666 rather than mkstemp's 0600: the result is an ordinary output file
     * and should get the user's umask like any other. */
    int fd = g_mkstemp_full(output->temp_path, O_RDWR | O_CLOEXEC, 0666);
    if (fd < 0) {
        int saved = errno;
        g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "cannot create %s: %s", path,
                    g_strerror(saved));
        output_free(output);
        return NULL;
    }
    output->stream = fdopen(fd, "wb");
    if (!output->stream) {
        int saved = errno;
        close(fd);
        g_unlink(output->temp_path);
        g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "cannot create %s: %s", path,
                    g_strerror(saved));
        output_free(output);
        return NULL;
    }
    return output;
}

FILE *sf_output_stream(sf_output *output)
{
    return output->stream;
}

const char *sf_output_path(const sf_output *output)
{
    return output->path;
}

/* Makes the rename itself durable; a failure here loses nothing already
 * written, so it is not reported. */
static void sync_directory(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    (void)fsync(fd);
    close(fd);
}

gboolean sf_output_commit(sf_output *output, GError **error)
{
    g_return_val_if_fail(output != NULL, FALSE);
    FILE *stream = output->stream;
    output->stream = NULL;

    /* A write error earlier leaves only the stream's error flag; its errno is
     * gone, so EIO stands in for it. */
    int saved = 0;
    if (fflush(stream) != 0)
        saved = errno;
    else if (ferror(stream))
        saved = EIO;
    else if (fsync(fileno(stream)) != 0)
        saved = errno;
    if (fclose(stream) != 0 && saved == 0)
        saved = errno;
    if (saved == 0 && g_rename(output->temp_path, output->path) != 0)
        saved = errno;

    if (saved != 0) {
        g_unlink(output->temp_path);
        g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "cannot write %s: %s", output->path,
                    g_strerror(saved));
        output_free(output);
        return FALSE;
    }
    sync_directory(output->path);
    output_free(output);
    return TRUE;
}

void sf_output_abort(sf_output *output)
{
    if (!output)
        return;
    if (output->stream)
        fclose(output->stream);
    g_unlink(output->temp_path);
    output_free(output);
}

gboolean sf_write_file_atomic(const char *path, const void *data, size_t length, GError **error)
{
    g_autoptr(sf_output) output = sf_output_create(path, error);
    if (!output)
        return FALSE;
    if (length > 0 && fwrite(data, 1, length, output->stream) != length) {
        int saved = errno;
        g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "cannot write %s: %s", path,
                    g_strerror(saved));
        return FALSE;
    }
    return sf_output_commit(g_steal_pointer(&output), error);
}
