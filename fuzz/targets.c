/* The table of harnesses and what they share. */
#define _GNU_SOURCE /* memfd_create */

#include <glib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

const sf_fuzz_target sf_fuzz_targets[] = {
    {"detect", sf_fuzz_detect},
    {"morphology", sf_fuzz_morphology},
    {"merge", sf_fuzz_merge},
    {"fragment_name", sf_fuzz_fragment_name},
    {"annotations_yolo", sf_fuzz_annotations_yolo},
    {"annotations_voc", sf_fuzz_annotations_voc},
    {"annotations_csv", sf_fuzz_annotations_csv},
    {"annotations_coco", sf_fuzz_annotations_coco},
    {"annotations_vgg", sf_fuzz_annotations_vgg},
    {"annotations_zip", sf_fuzz_annotations_zip},
    {"manifest", sf_fuzz_manifest},
    {"params", sf_fuzz_params},
    {"boxes", sf_fuzz_boxes},
    {"slide", sf_fuzz_slide},
    {"json_read", sf_fuzz_json_read},
    {"message", sf_fuzz_message},
    {NULL, NULL},
};

const char *sf_fuzz_memfile(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd >= 0)
        close(fd);
    fd = memfd_create("slidefrag-fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return "";
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0)
            return "";
        done += (size_t)n;
    }
    g_snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return path;
}
