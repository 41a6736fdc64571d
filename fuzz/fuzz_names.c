/*
 * fuzz_names.c - the name rules of src/core/roles.h: ks_utf8_length,
 * ks_has_control_chars, ks_has_invisible_chars, ks_role_name_valid, ks_resource_valid,
 * ks_role_is_builtin.
 *
 * The input, up to its first NUL, is a C string in a buffer of exactly its
 * length + 1 (so ASan sees a read past the terminator). Each function's
 * answer must equal the reference written here from the rules (abort()
 * otherwise). The UTF-8 reference decodes code points and rejects overlong
 * forms, surrogates and values above U+10FFFF by value, unlike the code,
 * which checks the byte ranges of Unicode table 3-7.
 */
#include "fuzz_util.h"

#include "core/roles.h"

/* Code points in s, or -1 when s is not well-formed UTF-8. */
static long ref_utf8_length(const unsigned char *s)
{
    long count = 0;
    while (*s) {
        unsigned char b = *s;
        int len;
        uint32_t cp;
        if (b < 0x80) { len = 1; cp = b; }
        else if ((b & 0xE0) == 0xC0) { len = 2; cp = b & 0x1F; }
        else if ((b & 0xF0) == 0xE0) { len = 3; cp = b & 0x0F; }
        else if ((b & 0xF8) == 0xF0) { len = 4; cp = b & 0x07; }
        else return -1;
        for (int i = 1; i < len; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return -1; /* also stops at the NUL */
            cp = cp << 6 | (s[i] & 0x3F);
        }
        static const uint32_t MIN[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < MIN[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return -1;
        s += len;
        count++;
    }
    return count;
}

static int ref_has_control(const unsigned char *s)
{
    for (; *s; s++)
        if (*s <= 0x1F || *s == 0x7F)
            return 1;
    return 0;
}

/* Bidirectional controls and zero-width characters, as UTF-8 byte
 * sequences (written out here rather than decoded, unlike the code). */
static int ref_has_invisible(const char *s)
{
    static const char *const SEQ[] = {
        "\xd8\x9c", "\xe1\xa0\x8e", "\xe2\x80\x8b", "\xe2\x80\x8c", "\xe2\x80\x8d", "\xe2\x80\x8e",
        "\xe2\x80\x8f", "\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad", "\xe2\x80\xae",
        "\xe2\x81\xa0", "\xe2\x81\xa1", "\xe2\x81\xa2", "\xe2\x81\xa3", "\xe2\x81\xa4", "\xe2\x81\xa5",
        "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9", "\xe2\x81\xaa", "\xe2\x81\xab",
        "\xe2\x81\xac", "\xe2\x81\xad", "\xe2\x81\xae", "\xe2\x81\xaf", "\xef\xbb\xbf"};
    for (size_t i = 0; i < sizeof SEQ / sizeof *SEQ; i++)
        if (strstr(s, SEQ[i]))
            return 1;
    return 0;
}

static int ref_role_name_valid(const char *s)
{
    long n = ref_utf8_length((const unsigned char *)s);
    size_t len = strlen(s);
    return n >= 1 && n <= 100 && !ref_has_control((const unsigned char *)s) && !ref_has_invisible(s) &&
           s[0] != ' ' && s[len - 1] != ' ';
}

static int ref_resource_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/*-") == n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    char *s = fuzz_cstr(data, nul ? (size_t)(nul - data) : size);
    long n = ks_utf8_length(s), ref_n = ref_utf8_length((const unsigned char *)s);
    FUZZ_CHECK(n == ref_n, "ks_utf8_length %ld, reference %ld", n, ref_n);
    FUZZ_CHECK(!!ks_has_control_chars(s) == ref_has_control((const unsigned char *)s), "control chars differ");
    if (ref_n >= 0) /* on valid UTF-8 (what names are checked for first) */
        FUZZ_CHECK(!!ks_has_invisible_chars(s) == ref_has_invisible(s), "invisible chars differ on '%.120s'", s);
    int role = ks_role_name_valid(s), ref_role = ref_role_name_valid(s);
    FUZZ_CHECK(!!role == ref_role, "ks_role_name_valid %d, reference %d on '%.120s'", role, ref_role, s);
    int res = ks_resource_valid(s), ref_res = ref_resource_valid(s);
    FUZZ_CHECK(!!res == ref_res, "ks_resource_valid %d, reference %d on '%.140s'", res, ref_res, s);
    int builtin = ks_role_is_builtin(s);
    FUZZ_CHECK(!!builtin == (strcmp(s, KS_ROLE_OWNER) == 0 || strcmp(s, KS_ROLE_USER_ADMIN) == 0),
               "ks_role_is_builtin %d on '%.120s'", builtin, s);
    if (builtin)
        FUZZ_CHECK(role, "a built-in role name is not a valid role name");
    free(s);
    return 0;
}
