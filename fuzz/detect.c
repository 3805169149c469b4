/*
 * The whole detection chain (sf_detect) on a random overview with random
 * parameters, then sf_draw_box with random boxes and thicknesses.
 * Input: 13 parameter bytes, then pixels (repeated to fill the image).
 */
#include "fuzz.h"
#include "slidefrag/detect.h"

static sf_box random_box(sf_fuzz_input *in)
{
    /* Mostly near the image, sometimes far outside it. */
    sf_box box = {(int16_t)sf_fuzz_u16(in), (int16_t)sf_fuzz_u16(in), (int16_t)sf_fuzz_u16(in),
                  (int16_t)sf_fuzz_u16(in)};
    if (sf_fuzz_u8(in) == 255) {
        box.x *= (int64_t)1 << 40;
        box.w *= (int64_t)1 << 40;
    }
    return box;
}

int sf_fuzz_detect(const uint8_t *data, size_t size)
{
    sf_fuzz_input in = {data, size};
    int width = 1 + sf_fuzz_u8(&in) % 80, height = 1 + sf_fuzz_u8(&in) % 80;
    size_t rgb_pad = sf_fuzz_u8(&in) % 5, mask_pad = sf_fuzz_u8(&in) % 5;
    sf_detect_params p;
    sf_detect_params_default(&p);
    uint8_t flags = sf_fuzz_u8(&in);
    p.channel = (sf_channel)(flags % 5);
    p.polarity = flags & 8 ? SF_POLARITY_BRIGHT : SF_POLARITY_DARK;
    p.otsu = (flags & 16) != 0;
    p.fill_holes = (flags & 32) != 0;
    p.regions.connectivity = flags & 64 ? 4 : 8;
    p.remove_ink = (flags & 128) != 0;
    p.threshold = sf_fuzz_u8(&in);
    p.open_size = sf_fuzz_u8(&in) % 12;
    p.close_size = sf_fuzz_u8(&in) % 12;
    p.regions.gap = (int8_t)sf_fuzz_u8(&in);
    p.regions.min_area = sf_fuzz_u16(&in) % 2000;
    p.regions.min_area_fraction = sf_fuzz_u8(&in) / 255.0;
    p.regions.min_tissue_fraction = sf_fuzz_u8(&in) / 255.0;

    size_t rgb_stride = (size_t)width * 3 + rgb_pad, mask_stride = (size_t)width + mask_pad;
    uint8_t *rgb_pixels = malloc(rgb_stride * height);
    uint8_t *mask_pixels = malloc(mask_stride * height);
    for (size_t i = 0; i < rgb_stride * height; i++)
        rgb_pixels[i] = in.size ? in.data[i % in.size] : (uint8_t)i;
    memset(mask_pixels, 0x5a, mask_stride * height);
    sf_image rgb = {rgb_pixels, width, height, 3, rgb_stride};
    sf_image mask = {mask_pixels, width, height, 1, mask_stride};

    uint8_t *before = malloc(rgb_stride * height);
    memcpy(before, rgb_pixels, rgb_stride * height);

    uint8_t threshold = 0;
    sf_regions found = {0};
    SF_FUZZ_CHECK(sf_detect(&rgb, &p, &mask, &threshold, &found) == SF_OK);
    SF_FUZZ_CHECK(memcmp(before, rgb_pixels, rgb_stride * height) == 0);
    if (!p.otsu)
        SF_FUZZ_CHECK(threshold == p.threshold);
    int64_t tissue = 0;
    for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
            uint8_t v = mask_pixels[y * mask_stride + x];
            SF_FUZZ_CHECK(v == 0 || v == 255);
            tissue += v != 0;
        }
        /* The padding past each row is never written. */
        for (size_t x = (size_t)width; x < mask_stride; x++)
            SF_FUZZ_CHECK(mask_pixels[y * mask_stride + x] == 0x5a);
    }
    for (size_t i = 0; i < found.n_initial; i++) {
        const sf_box *b = &found.initial[i];
        SF_FUZZ_CHECK(b->x >= 0 && b->y >= 0 && b->w > 0 && b->h > 0);
        SF_FUZZ_CHECK(b->x + b->w <= width && b->y + b->h <= height);
    }
    SF_FUZZ_CHECK(found.n_initial > 0 || tissue == 0);
    for (size_t i = 0; i < found.n_regions; i++) {
        const sf_region *r = &found.regions[i];
        SF_FUZZ_CHECK(r->box.x >= 0 && r->box.y >= 0 && r->box.w > 0 && r->box.h > 0);
        SF_FUZZ_CHECK(r->box.x + r->box.w <= width && r->box.y + r->box.h <= height);
        SF_FUZZ_CHECK(r->tissue_pixels >= 0 && r->tissue_pixels <= r->box.w * r->box.h);
        SF_FUZZ_CHECK(r->tissue_fraction >= 0 && r->tissue_fraction <= 1);
        /* The last step merges intersecting boxes: none may remain. */
        for (size_t j = 0; j < i; j++) {
            const sf_box *a = &found.regions[j].box, *b = &r->box;
            SF_FUZZ_CHECK(a->x + a->w <= b->x || b->x + b->w <= a->x || a->y + a->h <= b->y ||
                          b->y + b->h <= a->y);
        }
    }

    /* Drawing is clipped: only the image's own pixels may change. */
    for (int k = 0; k < 4 && in.size; k++) {
        sf_box box = random_box(&in);
        int thickness = (int8_t)sf_fuzz_u8(&in);
        const uint8_t colour[3] = {1, 2, 3};
        sf_draw_box(&rgb, &box, thickness, colour);
    }
    for (int y = 0; y < height; y++)
        for (size_t x = (size_t)width * 3; x < rgb_stride; x++)
            SF_FUZZ_CHECK(rgb_pixels[y * rgb_stride + x] == before[y * rgb_stride + x]);
    sf_regions_clear(&found);
    free(before);
    free(rgb_pixels);
    free(mask_pixels);
    return 0;
}
