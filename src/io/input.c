/*
 * Input files read whole, bounded (input.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "io/input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slidefrag/error.h"

char *sf_input_size_text(size_t bytes)
{
    if (bytes >= (size_t)1 << 30)
        return g_strdup_printf("%.3g GiB", (double)bytes / (double)((size_t)1 << 30));
    if (bytes >= (size_t)1 << 20)
        return g_strdup_printf("%.3g MiB", (double)bytes / (double)((size_t)1 << 20));
    return g_strdup_printf("%zu bytes", bytes);
}

static gboolean too_large(const char *path, const char *what, size_t max_bytes, GError **error)
{
    g_autofree char *limit = sf_input_size_text(max_bytes);
    g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s: file too large for %s (over %s)", path,
                what ? what : "this input", limit);
    return FALSE;
}

static gboolean system_error(const char *path, const char *what, int err, GError **error)
{
    g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: cannot read%s%s: %s", path, what ? " " : "",
                what ? what : "", g_strerror(err));
    return FALSE;
}

gboolean sf_input_read(const char *path, const char *what, sf_input_kind kind, size_t max_bytes,
                       char **data, size_t *length, GError **error)
{
    *data = NULL;
    *length = 0;
    /* O_NONBLOCK: opening a FIFO without a writer would wait forever; the
     * type is checked on the open descriptor, so a swap after a stat()
     * cannot slip a FIFO or device past it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return system_error(path, what, errno, error);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return system_error(path, what, err, error);
    }
    gboolean stream = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode);
    if (!S_ISREG(st.st_mode) && !(stream && kind == SF_INPUT_STREAM)) {
        close(fd);
        const char *type = S_ISDIR(st.st_mode)                          ? "is a folder"
                           : S_ISFIFO(st.st_mode)                       ? "is a pipe"
                           : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "is a device"
                                                                        : "is not a regular file";
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: cannot read%s%s: %s", path,
                    what ? " " : "", what ? what : "", type);
        return FALSE;
    }
    /* Opened without waiting; read as usual, waiting for a writer's data
     * (a FIFO nobody writes to reads as empty). */
    if (stream)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > (uint64_t)max_bytes) {
        close(fd);
        return too_large(path, what, max_bytes, error);
    }
    /* st_size is a hint only (the file may grow, /proc files claim 0): the
     * bound is enforced on the bytes actually read. */
    size_t capacity = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 64 * 1024;
    capacity = MIN(capacity, max_bytes + 1);
    char *buffer = g_try_malloc(capacity + 1);
    size_t used = 0;
    while (buffer) {
        if (used == capacity) {
            if (used > max_bytes)
                break;
            capacity = MIN(capacity * 2, max_bytes + 1);
            char *grown = g_try_realloc(buffer, capacity + 1);
            if (!grown) {
                g_free(buffer);
                buffer = NULL;
                break;
            }
            buffer = grown;
        }
        ssize_t n = read(fd, buffer + used, capacity - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            close(fd);
            g_free(buffer);
            return system_error(path, what, err, error);
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    if (!buffer) {
        g_autofree char *size = sf_input_size_text(capacity);
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE, "%s: out of memory reading %s", path, size);
        return FALSE;
    }
    if (used > max_bytes) {
        g_free(buffer);
        return too_large(path, what, max_bytes, error);
    }
    buffer[used] = '\0';
    *data = buffer;
    *length = used;
    return TRUE;
}
