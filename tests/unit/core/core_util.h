/*
 * core_util.h - helpers shared by the unit tests of src/core
 * (test_secret.c, test_token_slots.c).
 *
 * Every non-test_*.c file in tests/unit/core is linked into every test
 * binary of that folder, so this file defines no main and its names all start
 * with core_util_.
 */
#ifndef KS_TESTS_CORE_UTIL_H
#define KS_TESTS_CORE_UTIL_H

#include "core/secret.h"

/* A digest whose KS_DIGEST_LEN bytes all equal fill. */
ks_digest core_util_digest_of(unsigned char fill);

#endif
