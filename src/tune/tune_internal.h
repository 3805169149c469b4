/* Private to src/tune and its tests. */
#pragma once

#include "slidefrag/tune.h"

typedef struct sf_tune_axis {
    const char *key;   /* the parameter table's key */
    GPtrArray *values; /* char* texts for sf_run_params_set */
} sf_tune_axis;

struct sf_tune_grid {
    GArray *axes; /* sf_tune_axis, in file order */
};
