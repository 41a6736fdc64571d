/*
 * replay_main.c - runs a fuzz target without libFuzzer, for `make test`.
 *
 *   fuzz_X DIR|FILE...
 *
 * Calls LLVMFuzzerInitialize once (when the target defines it), then
 * LLVMFuzzerTestOneInput on every regular file of each DIR (sorted by name,
 * not recursive) and on each FILE given directly. Every input is passed in a
 * buffer of exactly its size, so a read past the end is an ASan error.
 * The last line printed is "<target>: N passed, 0 failed". A crash ends the
 * process (tests/run.sh counts that as a failure); the input being run is
 * named on stderr first. A missing, unreadable or empty DIR is an error
 * (exit 1), so a lost corpus cannot pass silently.
 */
#include "fuzz_util.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#define REPLAY_INPUT_MAX (16u * 1024 * 1024) /* bigger corpus files are a mistake */

/* Weak: targets may leave it out; the sanitizer hook exists only under ASan/UBSan. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static const char *target_name = "replay";
static char current_input[4096]; /* the file being run, for the crash message */

static void say_current_input(void)
{
    if (!current_input[0])
        return;
    static const char prefix[] = "replay: crashed on input ";
    ssize_t ignored = write(STDERR_FILENO, prefix, sizeof prefix - 1);
    ignored = write(STDERR_FILENO, current_input, strlen(current_input));
    ignored = write(STDERR_FILENO, "\n", 1);
    (void)ignored;
}

static void on_fatal_signal(int sig)
{
    say_current_input();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Reads the whole file into a malloc'd buffer of exactly its size. 0 or -1. */
static int read_input(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int rc = -1;
    uint8_t *buf = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > REPLAY_INPUT_MAX)
        goto out;
    size_t n = (size_t)st.st_size;
    buf = malloc(n ? n : 1);
    if (!buf || (n && fread(buf, 1, n, f) != n))
        goto out;
    *out = buf;
    *len = n;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    fclose(f);
    return rc;
}

/* Runs the target on one file. 0, or -1 after printing why it could not. */
static int run_file(const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    errno = 0;
    if (read_input(path, &data, &len) != 0) {
        fprintf(stderr, "%s: cannot read %s: %s\n", target_name, path,
                errno ? strerror(errno) : "over 16 MiB");
        return -1;
    }
    snprintf(current_input, sizeof current_input, "%s", path);
    LLVMFuzzerTestOneInput(data, len);
    current_input[0] = '\0';
    free(data);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs the target on every regular file of dir; adds them to *count.
 * 0, or -1 after printing why (missing, unreadable or empty directory). */
static int run_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: cannot open corpus directory %s: %s\n", target_name, dir, strerror(errno));
        return -1;
    }
    char **paths = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        struct stat st;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path ||
            stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **grown = realloc(paths, ncap * sizeof *grown);
            if (!grown) {
                fprintf(stderr, "%s: out of memory\n", target_name);
                goto out;
            }
            paths = grown;
            cap = ncap;
        }
        if (!(paths[n] = strdup(path))) {
            fprintf(stderr, "%s: out of memory\n", target_name);
            goto out;
        }
        n++;
    }
    if (n == 0) {
        fprintf(stderr, "%s: corpus directory %s has no inputs\n", target_name, dir);
        goto out;
    }
    qsort(paths, n, sizeof *paths, compare_names);
    for (size_t i = 0; i < n; i++)
        if (run_file(paths[i]) != 0)
            goto out;
    *count += n;
    rc = 0;
out:
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    const char *slash = strrchr(argv[0], '/');
    target_name = slash ? slash + 1 : argv[0];
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", target_name);
        return 1;
    }
    /* Name the input of a crash. Under ASan/UBSan the sanitizer reports
     * faults itself and calls the death callback; its SEGV handler must
     * stay in place. abort() (a failed FUZZ_CHECK) is ours either way. */
    signal(SIGABRT, on_fatal_signal);
    if (__sanitizer_set_death_callback) {
        __sanitizer_set_death_callback(say_current_input);
    } else {
        signal(SIGSEGV, on_fatal_signal);
        signal(SIGBUS, on_fatal_signal);
        signal(SIGFPE, on_fatal_signal);
        signal(SIGILL, on_fatal_signal);
    }
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    size_t passed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(argv[i]) != 0)
                return 1;
            passed++;
        } else if (run_dir(argv[i], &passed) != 0) {
            return 1;
        }
    }
    printf("%s: %zu passed, 0 failed\n", target_name, passed);
    return 0;
}
