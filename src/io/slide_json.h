/* A slide described in JSON, shared by `info --json` and the manifest. */
#pragma once

#include <json-glib/json-glib.h>

#include "slidefrag/manifest.h"

/* Adds to the open object what a manifest records of its slide: vendor,
 * width, height, mpp_x, mpp_y, objective_power, quickhash, bounds and
 * levels (null where the slide does not say). */
void sf_slide_json_members(JsonBuilder *b, const sf_manifest *manifest);
