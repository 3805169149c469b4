/*
 * LD_PRELOAD shim for test_batch: makes openslide_read_region abort() in a
 * process that opened a slide whose path contains $SLIDEFRAG_CRASH_SLIDE,
 * like a decoder bug would, and openslide_open never return for a path
 * containing $SLIDEFRAG_HANG_SLIDE, like a read from a stalled file system
 * (so that a slide is surely running when a test interrupts the batch).
 * Everything else goes to the real OpenSlide.
 */
#define _GNU_SOURCE /* RTLD_NEXT */

#include <dlfcn.h>
#include <openslide.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int crash_on_read;

openslide_t *openslide_open(const char *filename)
{
    openslide_t *(*real_open)(const char *) =
        (openslide_t * (*)(const char *)) dlsym(RTLD_NEXT, "openslide_open");
    const char *needle = getenv("SLIDEFRAG_CRASH_SLIDE");
    if (needle && *needle && filename && strstr(filename, needle))
        crash_on_read = 1;
    const char *hang = getenv("SLIDEFRAG_HANG_SLIDE");
    if (hang && *hang && filename && strstr(filename, hang))
        for (;;)
            pause();
    return real_open(filename);
}

void openslide_read_region(openslide_t *osr, uint32_t *dest, int64_t x, int64_t y, int32_t level,
                           int64_t w, int64_t h)
{
    if (crash_on_read)
        abort();
    void (*real_read)(openslide_t *, uint32_t *, int64_t, int64_t, int32_t, int64_t, int64_t) =
        (void (*)(openslide_t *, uint32_t *, int64_t, int64_t, int32_t, int64_t, int64_t))dlsym(
            RTLD_NEXT, "openslide_read_region");
    real_read(osr, dest, x, y, level, w, h);
}
