#include "slidefrag/error.h"

/* The macro stringifies its first argument: formatting would change it. */
// clang-format off
G_DEFINE_QUARK(slidefrag-error-quark, sf_error)
// clang-format on

int sf_exit_code(const GError *error)
{
    return error && error->domain == SF_ERROR ? error->code : SF_EXIT_FAILURE;
}
