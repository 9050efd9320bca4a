/* fsutil.h — the file-system questions the program asks in more than one
 * place, answered once: does a path exist, is it a regular file or a folder,
 * and make a folder with its parents (mkdir -p). */
#ifndef BS_FSUTIL_H
#define BS_FSUTIL_H

#include <stddef.h>

int bs_path_exists(const char *p); /* 1 when stat(p) succeeds */
int bs_is_file(const char *p); /* 1 for a regular file */
int bs_is_dir(const char *p); /* 1 for a folder */

/* mkdir -p: makes dir and its missing parents (mode 0777 before umask).
 * Returns 0 when dir is a folder afterwards; 1 when the name is empty or
 * 4096 bytes or longer; 2 when a component could not be made (its path in
 * where[0..n) when where is not NULL, errno kept); 3 when dir exists but is
 * not a folder. */
int bs_mkdir_parents(const char *dir, char *where, size_t n);
/* the same, 0 on success and -1 on any failure */
int bs_mkdir_p(const char *dir);

#endif
