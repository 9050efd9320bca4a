#define _POSIX_C_SOURCE 200809L
#include "datadir.h"
#include "fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* the folder of the running executable, or "" */
static void exe_dir(char *out, size_t n)
{
    out[0] = '\0';
#ifdef __linux__
    ssize_t k = readlink("/proc/self/exe", out, n - 1);
    if (k <= 0) {
        out[0] = '\0';
        return;
    }
    out[k] = '\0';
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    else
        out[0] = '\0';
#else
    (void)n;
#endif
}

int bs_scenario_dirs(const char *dirs[BS_DATADIR_MAX])
{
    static char data[4096], installed[4200], tree[4200];
    int n = 0;
    const char *env = getenv("BONESIM_SCENARIOS");
    if (env && *env) dirs[n++] = env;
    const char *dataenv = getenv("BONESIM_DATA");
    if (dataenv && *dataenv) {
        snprintf(data, sizeof data, "%s/scenarios", dataenv);
        dirs[n++] = data;
    }
    dirs[n++] = "scenarios";
    char exe[4096];
    exe_dir(exe, sizeof exe);
    if (exe[0]) {
        snprintf(installed, sizeof installed, "%s/../share/bonesim/scenarios", exe);
        dirs[n++] = installed;
        snprintf(tree, sizeof tree, "%s/../scenarios", exe);
        dirs[n++] = tree;
    }
    return n;
}

const char *bs_scenario_dir(void)
{
    const char *dirs[BS_DATADIR_MAX];
    int n = bs_scenario_dirs(dirs);
    for (int k = 0; k < n; k++)
        if (bs_is_dir(dirs[k])) return dirs[k];
    return "scenarios";
}

int bs_scenario_find(const char *name, char *out, size_t n)
{
    const char *dirs[BS_DATADIR_MAX];
    int nd = bs_scenario_dirs(dirs);
    for (int d = 0; d < nd; d++) {
        snprintf(out, n, "%s/%s.ini", dirs[d], name);
        if (bs_is_file(out)) return 1;
        snprintf(out, n, "%s/%s", dirs[d], name);
        if (bs_is_file(out)) return 1;
    }
    return 0;
}
