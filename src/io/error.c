#include "slidefrag/error.h"

G_DEFINE_QUARK(slidefrag-error-quark, sf_error)
