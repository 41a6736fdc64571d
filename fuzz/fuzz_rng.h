/*
 * fuzz_rng.h - a deterministic RNG behind libsodium's randombytes, for the
 * fuzz targets whose code under test draws random bytes (tokens, key ids,
 * JWT ids): with it a crash reproduces from its input alone.
 *
 * fuzz_rng_install() must run before sodium_init() (LLVMFuzzerInitialize);
 * fuzz_rng_seed() restarts the stream, typically from a hash of the input.
 * Never use this outside fuzz/: it is splitmix64, not a CSPRNG.
 */
#ifndef KS_FUZZ_RNG_H
#define KS_FUZZ_RNG_H

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>

static uint64_t fuzz_rng_state = 0x9E3779B97F4A7C15u;

static inline uint64_t fuzz_rng_next(void) /* splitmix64 */
{
    uint64_t z = (fuzz_rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static inline const char *fuzz_rng_name(void) { return "keystile-fuzz-deterministic"; }
static inline uint32_t fuzz_rng_random(void) { return (uint32_t)fuzz_rng_next(); }
static inline void fuzz_rng_buf(void *const buf, const size_t size)
{
    unsigned char *p = buf;
    for (size_t i = 0; i < size; i++)
        p[i] = (unsigned char)fuzz_rng_next();
}

static inline void fuzz_rng_seed(uint64_t seed) { fuzz_rng_state = seed; }

/* Installs the RNG and initialises libsodium; aborts if either fails. */
static inline void fuzz_rng_install(void)
{
    static randombytes_implementation impl = {fuzz_rng_name, fuzz_rng_random, NULL, NULL, fuzz_rng_buf, NULL};
    if (randombytes_set_implementation(&impl) != 0 || sodium_init() < 0)
        abort();
}

#endif
