#define _POSIX_C_SOURCE 200809L
#include "fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int bs_path_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

int bs_is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int bs_is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int bs_mkdir_parents(const char *dir, char *where, size_t n)
{
    char buf[4096];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof buf) return 1;
    memcpy(buf, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                if (where && n) {
                    int e = errno;
                    snprintf(where, n, "%s", buf);
                    errno = e;
                }
                return 2;
            }
            buf[i] = c;
        }
    }
    return bs_is_dir(dir) ? 0 : 3;
}

int bs_mkdir_p(const char *dir)
{
    return bs_mkdir_parents(dir, NULL, 0) == 0 ? 0 : -1;
}
