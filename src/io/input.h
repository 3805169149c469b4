/*
 * Input files read whole: exports, manifests, parameters, grids, truth and
 * label files. The one place that opens them, so that every reader gets the
 * same two guards: a regular file (a FIFO would block the open, /dev/zero
 * would never end) and a bound on the bytes read, checked while reading and
 * not from st_size, which a growing file, a pipe or a device does not
 * honour.
 */
#pragma once

#include <glib.h>
#include <stddef.h>

typedef enum {
    SF_INPUT_FILE,   /* a regular file only */
    SF_INPUT_STREAM, /* also a pipe, FIFO, socket or terminal: batch passes
                      * parameters to its children as --params /dev/stdin */
} sf_input_kind;

/*
 * Reads `path` into *data (NUL-terminated; g_free it) and *length.
 * `what` names the file in messages ("manifest", "labels"; NULL: nothing).
 * Errors, each "<path>: <cause>":
 *  - SF_EXIT_MISSING: cannot be opened or read (with the system's reason),
 *    or is not of `kind` (a folder never is, nor a disk);
 *  - SF_EXIT_BAD_INPUT: more than `max_bytes` bytes ("file too large for
 *    <what> (over N MiB)"), found from its size or while reading;
 *  - SF_EXIT_FAILURE: the memory for it cannot be had.
 */
gboolean sf_input_read(const char *path, const char *what, sf_input_kind kind, size_t max_bytes,
                       char **data, size_t *length, GError **error);

/* "256 MiB", "1.5 GiB", "1000 bytes": a size for messages. g_free it. */
char *sf_input_size_text(size_t bytes);
