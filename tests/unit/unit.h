/*
 * unit.h - a tiny test harness in the libuv style.
 *
 *   static void test_x(void) { ASSERT_EQ_INT(1, 1); }
 *   int main(void) { RUN(test_x); return unit_report("core"); }
 *
 * Each failed ASSERT prints file:line and both values, then ends the current
 * test (the others still run). unit_report prints "N passed, M failed" and
 * returns the exit code (1 when anything failed).
 *
 * KS_UNIT_ONLY=name[,name...] runs only the tests of those names (RUN's
 * function name, or a conformance test's name), e.g. to loop one flaky test:
 *   KS_UNIT_ONLY=test_concurrent_renewals_two_nodes build/tests/store/test_store_pg
 * Unselected tests are not counted; a selection that matched nothing fails
 * in unit_report, so a typo cannot pass.
 *
 * A suite spread over several files (the store conformance suite, see
 * conformance_util.h) defines UNIT_JMP to its one shared jmp_buf before
 * including this header: a failed ASSERT in any of its files then ends the
 * running test, and the suite's own runner counts (RUN and unit_report,
 * which need this file's state, are not defined then).
 */
#ifndef KS_TESTS_UNIT_H
#define KS_TESTS_UNIT_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

/* Removes the test folder dir and the files in it (the tests' temporary
 * folders hold no subfolders); a missing folder is no error. */
static inline void unit_rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* 1 when the test `name` is to run: KS_UNIT_ONLY unset or empty, or one of
 * its comma-separated names equal to name. */
static inline int unit_selected(const char *name)
{
    const char *only = getenv("KS_UNIT_ONLY");
    if (!only || !*only)
        return 1;
    size_t n = strlen(name);
    for (const char *p = only; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

#ifndef UNIT_JMP
static int unit_passed, unit_failed;
static jmp_buf unit_jmp;
#define UNIT_JMP unit_jmp
#define UNIT_OWN_STATE
#endif

#define UNIT_FAIL(...)                                                  \
    do {                                                                \
        fprintf(stderr, "  FAIL %s:%d: ", __FILE__, __LINE__);          \
        fprintf(stderr, __VA_ARGS__);                                   \
        fputc('\n', stderr);                                            \
        longjmp(UNIT_JMP, 1);                                           \
    } while (0)

#define ASSERT(cond) do { if (!(cond)) UNIT_FAIL("ASSERT(%s)", #cond); } while (0)
#define ASSERT_EQ_INT(a, b)                                                                 \
    do {                                                                                    \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                                       \
        if (a_ != b_) UNIT_FAIL("%s == %s: %" PRId64 " != %" PRId64, #a, #b, a_, b_);      \
    } while (0)
#define ASSERT_EQ_STR(a, b)                                                                 \
    do {                                                                                    \
        const char *a_ = (a), *b_ = (b);                                                    \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                              \
            UNIT_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
    } while (0)

#ifdef UNIT_OWN_STATE
#define RUN(fn)                                                         \
    do {                                                                \
        if (!unit_selected(#fn))                                        \
            break;                                                      \
        if (setjmp(unit_jmp) == 0) {                                    \
            fn();                                                       \
            unit_passed++;                                              \
        } else {                                                        \
            fprintf(stderr, "FAILED %s\n", #fn);                        \
            unit_failed++;                                              \
        }                                                               \
    } while (0)

static inline int unit_report(const char *suite)
{
    const char *only = getenv("KS_UNIT_ONLY");
    if (only && *only && unit_passed + unit_failed == 0) {
        printf("%s: KS_UNIT_ONLY=%s matched no test: 0 passed, 1 failed\n", suite, only);
        return 1;
    }
    printf("%s: %d passed, %d failed\n", suite, unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}
#endif

#endif
