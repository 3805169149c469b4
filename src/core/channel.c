/*
 * One 8-bit channel out of an RGB image. Grey and saturation follow
 * OpenCV's 8-bit fixed-point conversions bit for bit, so masks made here
 * match the method's OpenCV pipeline pixel for pixel.
 */
#include "slidefrag/core.h"

#include <string.h>

/* OpenCV's COLOR_RGB2GRAY for 8 bits: BT.601 weights in Q15 that sum to
 * 1 << 15, rounded (color.hpp: RY15, GY15, BY15, gray_shift). */
enum {
    GREY_SHIFT = 15,
    GREY_R = 9798,
    GREY_G = 19235,
    GREY_B = 3735,
};

/* OpenCV's RGB2HSV_b computes S = diff * 255 / V as diff times a Q12
 * reciprocal table, rounded; the table is part of the result. */
enum { HSV_SHIFT = 12 };

static const struct {
    sf_channel channel;
    const char *name;
} channel_names[] = {
    {SF_CHANNEL_RED, "red"},   {SF_CHANNEL_GREEN, "green"}, {SF_CHANNEL_BLUE, "blue"},
    {SF_CHANNEL_GREY, "grey"}, {SF_CHANNEL_GREY, "gray"},   {SF_CHANNEL_SATURATION, "saturation"},
};

const char *sf_channel_name(sf_channel channel)
{
    for (size_t i = 0; i < sizeof channel_names / sizeof channel_names[0]; i++)
        if (channel_names[i].channel == channel)
            return channel_names[i].name;
    return NULL;
}

bool sf_channel_from_name(const char *name, sf_channel *out)
{
    if (!name)
        return false;
    for (size_t i = 0; i < sizeof channel_names / sizeof channel_names[0]; i++) {
        if (!strcmp(channel_names[i].name, name)) {
            if (out)
                *out = channel_names[i].channel;
            return true;
        }
    }
    return false;
}

/*
 * sdiv[v] = round((255 << 12) / v), sdiv[0] = 0. OpenCV rounds a double
 * half to even; 2^13 * 255 / v is never an odd multiple of 1/2 for v < 256,
 * so rounding half up in integers gives the same table.
 */
static void saturation_table(int32_t sdiv[256])
{
    const int64_t num = (int64_t)255 << HSV_SHIFT;
    sdiv[0] = 0;
    for (int v = 1; v < 256; v++)
        sdiv[v] = (int32_t)((2 * num + v) / (2 * v));
}

static void extract_grey(const uint8_t *in, uint8_t *out, int width)
{
    for (int x = 0; x < width; x++, in += 3) {
        uint32_t sum = in[0] * (uint32_t)GREY_R + in[1] * (uint32_t)GREY_G +
                       in[2] * (uint32_t)GREY_B + (1u << (GREY_SHIFT - 1));
        out[x] = (uint8_t)(sum >> GREY_SHIFT);
    }
}

static void extract_saturation(const uint8_t *in, uint8_t *out, int width, const int32_t sdiv[256])
{
    for (int x = 0; x < width; x++, in += 3) {
        int r = in[0], g = in[1], b = in[2];
        int v = r > g ? r : g;
        v = v > b ? v : b;
        int vmin = r < g ? r : g;
        vmin = vmin < b ? vmin : b;
        int diff = v - vmin;
        out[x] = (uint8_t)((diff * sdiv[v] + (1 << (HSV_SHIFT - 1))) >> HSV_SHIFT);
    }
}

static void extract_plane(const uint8_t *in, uint8_t *out, int width, int index)
{
    in += index;
    for (int x = 0; x < width; x++, in += 3)
        out[x] = *in;
}

sf_status sf_extract_channel(const sf_image *rgb, sf_channel channel, sf_image *out)
{
    if (!rgb || !out || rgb->channels != 3 || out->channels != 1 || rgb->width < 0 ||
        rgb->height < 0 || out->width != rgb->width || out->height != rgb->height)
        return SF_ERR_INVALID;
    if (channel < SF_CHANNEL_RED || channel > SF_CHANNEL_SATURATION)
        return SF_ERR_INVALID;
    if (rgb->width == 0 || rgb->height == 0)
        return SF_OK;
    if (!rgb->data || !out->data || rgb->stride < (size_t)rgb->width * 3 ||
        out->stride < (size_t)out->width)
        return SF_ERR_INVALID;

    int32_t sdiv[256];
    if (channel == SF_CHANNEL_SATURATION)
        saturation_table(sdiv);

    for (int y = 0; y < rgb->height; y++) {
        const uint8_t *in = rgb->data + (size_t)y * rgb->stride;
        uint8_t *o = out->data + (size_t)y * out->stride;
        switch (channel) {
        case SF_CHANNEL_RED:
            extract_plane(in, o, rgb->width, 0);
            break;
        case SF_CHANNEL_GREEN:
            extract_plane(in, o, rgb->width, 1);
            break;
        case SF_CHANNEL_BLUE:
            extract_plane(in, o, rgb->width, 2);
            break;
        case SF_CHANNEL_GREY:
            extract_grey(in, o, rgb->width);
            break;
        case SF_CHANNEL_SATURATION:
            extract_saturation(in, o, rgb->width, sdiv);
            break;
        }
    }
    return SF_OK;
}
