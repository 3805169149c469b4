/* Marker ink is not tissue (core.h, sf_clear_ink). */
#include <stdlib.h>

#include "slidefrag/core.h"

sf_status sf_clear_ink(const sf_image *rgb, sf_image *mask)
{
    if (!rgb || !mask || rgb->channels != 3 || mask->channels != 1 || rgb->width != mask->width ||
        rgb->height != mask->height || rgb->width < 0 || rgb->height < 0)
        return SF_ERR_INVALID;
    if (rgb->width == 0 || rgb->height == 0)
        return SF_OK;
    sf_image ink = {NULL, rgb->width, rgb->height, 1, (size_t)rgb->width};
    ink.data = malloc(ink.stride * (size_t)ink.height);
    if (!ink.data)
        return SF_ERR_NOMEM;
    for (int y = 0; y < rgb->height; y++) {
        const uint8_t *p = rgb->data + (size_t)y * rgb->stride;
        uint8_t *out = ink.data + (size_t)y * ink.stride;
        for (int x = 0; x < rgb->width; x++, p += 3)
            out[x] = (int)p[1] - (int)p[0] > SF_INK_MARGIN ? 255 : 0;
    }
    const int side = 2 * SF_INK_BORDER + 1;
    sf_status status = sf_morphology(&ink, &ink, SF_MORPH_DILATE, SF_KERNEL_RECT, side, side, 1);
    if (status == SF_OK)
        for (int y = 0; y < mask->height; y++) {
            const uint8_t *in = ink.data + (size_t)y * ink.stride;
            uint8_t *m = mask->data + (size_t)y * mask->stride;
            for (int x = 0; x < mask->width; x++)
                m[x] &= (uint8_t)~in[x];
        }
    free(ink.data);
    return status;
}
