/* core_util.c - helpers shared by the unit tests of src/core (core_util.h). */
#include "core_util.h"

#include <string.h>

ks_digest core_util_digest_of(unsigned char fill)
{
    ks_digest d;
    memset(d.bytes, fill, sizeof d.bytes);
    return d;
}
