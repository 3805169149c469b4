/* Pieces of the run job shared between its files and with tune. */
#pragma once

#include "slidefrag/run.h"

/* Fragment pixel size and the level to read for a level-0 box. */
gboolean sf_fragment_geometry(const sf_slide *slide, const sf_target *target, const sf_box *box,
                              int *width, int *height, int *level, GError **error);

/* An overview box grown by `padding` overview pixels, mapped to level 0
 * (rounded outward) and clamped to the slide. */
sf_box sf_region_to_level0(const sf_box *box, double padding, double scale_x, double scale_y,
                           int64_t slide_width, int64_t slide_height);

/* The slide's file name without its last extension: the fragment name stem. */
char *sf_slide_stem(const char *path);

/* The output folder for a slide under out_root: out_root/<stem>, or
 * out_root/<stem>-<hash of the path> when stem_shared (several inputs have
 * this stem) or an earlier run left that folder for another slide file. */
char *sf_run_output_dir(const char *out_root, const char *slide_path, gboolean stem_shared);
