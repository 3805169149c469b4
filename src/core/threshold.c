/*
 * Histogram, Otsu's threshold and binarisation. The threshold is chosen by
 * the very arithmetic of OpenCV's getThreshVal_Otsu_8u (imgproc/thresh.cpp),
 * in double precision and in its order: Otsu's criterion is flat between
 * empty bins, so rounding decides which of several equal maxima wins and
 * any other formula drifts from OpenCV's choice on real images.
 */
#include "slidefrag/core.h"

#include <float.h>
#include <string.h>

static bool channel_valid(const sf_image *image)
{
    return image && image->channels == 1 && image->width >= 0 && image->height >= 0 &&
           (image->width == 0 || image->height == 0 ||
            (image->data && image->stride >= (size_t)image->width));
}

void sf_histogram(const sf_image *channel, uint64_t hist[256])
{
    memset(hist, 0, 256 * sizeof hist[0]);
    if (!channel_valid(channel))
        return;
    /* Four partial counts break the store-to-load chain on runs of equal
     * pixels (glass is one grey level over most of a slide). */
    uint64_t part[4][256];
    memset(part, 0, sizeof part);
    for (int y = 0; y < channel->height; y++) {
        const uint8_t *row = channel->data + (size_t)y * channel->stride;
        int x = 0;
        for (; x + 4 <= channel->width; x += 4) {
            part[0][row[x]]++;
            part[1][row[x + 1]]++;
            part[2][row[x + 2]]++;
            part[3][row[x + 3]]++;
        }
        for (; x < channel->width; x++)
            part[0][row[x]]++;
    }
    for (int i = 0; i < 256; i++)
        hist[i] = part[0][i] + part[1][i] + part[2][i] + part[3][i];
}

static double min_d(double a, double b)
{
    return b < a ? b : a;
}

static double max_d(double a, double b)
{
    return a < b ? b : a;
}

/*
 * Every operation as OpenCV writes it, in its order: no algebraic
 * simplification and no fused multiply-add, which would change last bits
 * and so ties. GCC does not fuse in ISO C mode; Clang needs telling.
 */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
uint8_t sf_otsu_threshold(const uint64_t hist[256])
{
    uint64_t total = 0;
    for (int i = 0; i < 256; i++)
        total += hist[i];
    if (total == 0)
        return 0; /* OpenCV refuses empty images; no pixel, no split */

    double mu = 0, scale = 1. / (double)total;
    for (int i = 0; i < 256; i++)
        mu += i * (double)hist[i];
    mu *= scale;

    double mu1 = 0, q1 = 0;
    double max_sigma = 0;
    int max_val = 0;
    for (int i = 0; i < 256; i++) {
        double p_i = (double)hist[i] * scale;
        mu1 *= q1;
        q1 += p_i;
        double q2 = 1. - q1;
        /* One class (nearly) empty: no split here. A single-valued image
         * skips every level and gets 0, as in OpenCV. */
        if (min_d(q1, q2) < FLT_EPSILON || max_d(q1, q2) > 1. - FLT_EPSILON)
            continue;
        mu1 = (mu1 + i * p_i) / q1;
        double mu2 = (mu - q1 * mu1) / q2;
        double sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2);
        if (sigma > max_sigma) { /* strict: the first of equal maxima wins */
            max_sigma = sigma;
            max_val = i;
        }
    }
    return (uint8_t)max_val;
}

sf_status sf_threshold(const sf_image *channel, uint8_t threshold, sf_polarity polarity,
                       sf_image *mask)
{
    if (!channel_valid(channel) || !channel_valid(mask) || mask->width != channel->width ||
        mask->height != channel->height)
        return SF_ERR_INVALID;
    if (polarity != SF_POLARITY_DARK && polarity != SF_POLARITY_BRIGHT)
        return SF_ERR_INVALID;

    /* OpenCV's THRESH_BINARY(_INV) test is v > t. */
    uint8_t above = polarity == SF_POLARITY_BRIGHT ? 255 : 0;
    uint8_t below = (uint8_t)~above;
    for (int y = 0; y < channel->height; y++) {
        const uint8_t *in = channel->data + (size_t)y * channel->stride;
        uint8_t *out = mask->data + (size_t)y * mask->stride;
        for (int x = 0; x < channel->width; x++)
            out[x] = in[x] > threshold ? above : below;
    }
    return SF_OK;
}
