#!/usr/bin/python3
"""The tissue-fragment method written plainly with OpenSlide and OpenCV.

This is the reference `scripts/bench` compares slidefrag against: the same
steps, written the way a user of python3-openslide and python3-opencv would
write them, in one process. It is deliberately not optimised.

  overview (longest side --max-size) -> red channel -> Otsu (dark = tissue)
  -> 7x7 closing -> 8-connected components' boxes
  -> merge intersecting -> merge touching (gap 0) -> drop boxes smaller than
  5000 µm² (0.0001 of the overview when the slide has no µm/px)
  -> merge intersecting -> level-0 boxes (outward)
  (slidefrag's default parameters)
  -> one JPEG per box at --fragment-downsample.

Usage: reference_method.py SLIDE -o OUTDIR [--max-size 2048]
           [--fragment-downsample 2] [--boxes-out FILE]
"""

import argparse
import json
import math
import os
import sys
import time

import cv2
import numpy as np
import openslide

# Reading a region whole is what a user does; only beyond this many bytes of
# RGBA (where one read_region call would need several GB) is it read in
# strips of rows instead, each strip resized on its own.
WHOLE_READ_LIMIT = int(1.5 * 1024**3)
STRIP_BYTES = 256 * 1024**2

MIN_AREA_UM2 = 5000.0
MIN_AREA_FRACTION_NO_MPP = 0.0001
JPEG_QUALITY = 90


def c_round(v):
    """Round half away from zero, as C's round() (Python's round() is banker's)."""
    return int(math.floor(v + 0.5))


def background_rgb(slide):
    value = slide.properties.get(openslide.PROPERTY_NAME_BACKGROUND_COLOR)
    if value and len(value) == 6:
        return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))
    return (255, 255, 255)


def rgba_to_rgb(rgba, background):
    """Composites OpenSlide's (non-premultiplied) RGBA onto the background."""
    rgb = rgba[:, :, :3]
    alpha = rgba[:, :, 3]
    if alpha.min() == 255:
        return np.ascontiguousarray(rgb)
    a = alpha.astype(np.uint16)[:, :, None]
    bg = np.array(background, dtype=np.uint16)[None, None, :]
    out = (rgb.astype(np.uint16) * a + bg * (255 - a) + 127) // 255
    return out.astype(np.uint8)


def read_level(slide, level, x, y, w, h):
    """Level-0 rectangle (x, y, w, h) read at `level` as RGB."""
    ds = slide.level_downsamples[level]
    lw = max(1, math.ceil(w / ds))
    lh = max(1, math.ceil(h / ds))
    region = slide.read_region((x, y), level, (lw, lh))
    rgba = np.asarray(region)
    del region
    return rgba_to_rgb(rgba, background_rgb(slide))


def read_scaled(slide, level, x, y, w, h, out_w, out_h):
    """Level-0 rectangle resized with INTER_AREA to out_w x out_h (RGB)."""
    ds = slide.level_downsamples[level]
    lw = max(1, math.ceil(w / ds))
    lh = max(1, math.ceil(h / ds))
    if lw * lh * 4 <= WHOLE_READ_LIMIT:
        rgb = read_level(slide, level, x, y, w, h)
        if rgb.shape[1] == out_w and rgb.shape[0] == out_h:
            return rgb
        return cv2.resize(rgb, (out_w, out_h), interpolation=cv2.INTER_AREA)

    # Too big to read whole: bands of output rows, each from the level rows
    # that cover it (edges rounded outward, so bands overlap by a fraction
    # of a pixel where the ratio is not an integer).
    out = np.empty((out_h, out_w, 3), dtype=np.uint8)
    rows_per_band = max(1, int(STRIP_BYTES / (lw * 4) / (lh / out_h)))
    for r0 in range(0, out_h, rows_per_band):
        r1 = min(out_h, r0 + rows_per_band)
        y0 = y + math.floor(r0 * h / out_h)
        y1 = y + math.ceil(r1 * h / out_h)
        rgb = read_level(slide, level, x, y0, w, y1 - y0)
        out[r0:r1] = cv2.resize(rgb, (out_w, r1 - r0), interpolation=cv2.INTER_AREA)
        del rgb
    return out


# ---- boxes: (x, y, w, h), half-open ---------------------------------------


def intersect(a, b):
    return (a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and
            a[1] < b[1] + b[3] and b[1] < a[1] + a[3])


def within_gap(a, b, gap):
    return (a[0] <= b[0] + b[2] + gap and b[0] <= a[0] + a[2] + gap and
            a[1] <= b[1] + b[3] + gap and b[1] <= a[1] + a[3] + gap)


def union(a, b):
    x0 = min(a[0], b[0])
    y0 = min(a[1], b[1])
    x1 = max(a[0] + a[2], b[0] + b[2])
    y1 = max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


def merge(boxes, meets):
    """Replaces boxes that meet by their union until no two boxes meet."""
    boxes = list(boxes)
    changed = True
    while changed:
        changed = False
        result = []
        for box in boxes:
            i = 0
            while i < len(result):
                if meets(result[i], box):
                    box = union(result.pop(i), box)
                    changed = True
                    i = 0
                else:
                    i += 1
            result.append(box)
        boxes = result
    return sorted(boxes, key=lambda b: (b[1], b[0], b[3], b[2]))


def min_area_pixels(mask_shape, um_per_pixel):
    """The smallest box area kept, in overview pixels."""
    if um_per_pixel > 0:
        return math.ceil(MIN_AREA_UM2 / (um_per_pixel * um_per_pixel) - 1e-9)
    return MIN_AREA_FRACTION_NO_MPP * mask_shape[0] * mask_shape[1]


def find_boxes(overview_rgb, um_per_pixel):
    red = overview_rgb[:, :, 0]
    threshold, mask = cv2.threshold(red, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE,
                            cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7)))
    n, _labels, stats, _centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    boxes = [tuple(int(v) for v in stats[i, :4]) for i in range(1, n)]

    boxes = merge(boxes, intersect)
    boxes = merge(boxes, lambda a, b: within_gap(a, b, 0))
    min_area = min_area_pixels(mask.shape, um_per_pixel)
    boxes = [b for b in boxes if b[2] * b[3] >= min_area]
    boxes = merge(boxes, intersect)
    return threshold, mask, boxes


def to_level0(box, scale_x, scale_y, width, height):
    x0 = max(0, math.floor(box[0] * scale_x))
    y0 = max(0, math.floor(box[1] * scale_y))
    x1 = min(width, math.ceil((box[0] + box[2]) * scale_x))
    y1 = min(height, math.ceil((box[1] + box[3]) * scale_y))
    return (x0, y0, x1 - x0, y1 - y0)


def save_jpeg(path, rgb):
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(path, bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise OSError(f"{path}: cannot write")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("slide")
    parser.add_argument("-o", "--output", required=True, help="output folder")
    parser.add_argument("--max-size", type=int, default=2048,
                        help="overview longest side in pixels (default 2048)")
    parser.add_argument("--fragment-downsample", type=float, default=2.0,
                        help="level-0 pixels per fragment pixel (default 2)")
    parser.add_argument("--boxes-out", help="write the level-0 boxes as JSON [[x,y,w,h],...]")
    args = parser.parse_args()

    start = time.monotonic()
    slide = openslide.OpenSlide(args.slide)
    os.makedirs(args.output, exist_ok=True)
    stem = os.path.splitext(os.path.basename(args.slide))[0]
    width, height = slide.dimensions

    # Overview: the level just finer than the target, area-averaged down.
    ds = max(1.0, max(width, height) / args.max_size)
    ov_w = max(1, c_round(width / ds))
    ov_h = max(1, c_round(height / ds))
    level = slide.get_best_level_for_downsample(min(width / ov_w, height / ov_h))
    overview = read_scaled(slide, level, 0, 0, width, height, ov_w, ov_h)
    t_overview = time.monotonic() - start

    scale_x = width / ov_w
    scale_y = height / ov_h
    mpp_x = float(slide.properties.get(openslide.PROPERTY_NAME_MPP_X, 0) or 0)
    threshold, mask, boxes = find_boxes(overview, mpp_x * scale_x)
    save_jpeg(os.path.join(args.output, "overview.jpg"), overview)
    cv2.imwrite(os.path.join(args.output, "mask.png"), mask)

    level0 = [to_level0(b, scale_x, scale_y, width, height) for b in boxes]
    if args.boxes_out:
        with open(args.boxes_out, "w") as f:
            json.dump([list(b) for b in level0], f)

    t_fragments = time.monotonic()
    for x, y, w, h in level0:
        out_w = max(1, c_round(w / args.fragment_downsample))
        out_h = max(1, c_round(h / args.fragment_downsample))
        frag_level = slide.get_best_level_for_downsample(args.fragment_downsample)
        rgb = read_scaled(slide, frag_level, x, y, w, h, out_w, out_h)
        save_jpeg(os.path.join(args.output, f"{stem}__x{x}_y{y}_w{w}_h{h}.jpg"), rgb)
        del rgb
    end = time.monotonic()

    print(f"{stem}: overview {ov_w}x{ov_h} (level {level}), Otsu threshold {int(threshold)}, "
          f"{len(level0)} regions; overview {t_overview:.2f} s, "
          f"fragments {end - t_fragments:.2f} s, total {end - start:.2f} s")
    slide.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
