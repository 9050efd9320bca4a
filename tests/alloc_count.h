/* alloc_count.h — counts the heap allocations a test's program makes.
 *
 * Include it in exactly one file of a test program that the build links
 * with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=aligned_alloc
 * (tests/CMakeLists.txt): every allocation by code linked into the program
 * (the engine, the model) then goes through these wrappers and bumps
 * bs_allocs. Shared libraries (the OpenMP runtime, libc itself) are not
 * counted. */
#ifndef BS_ALLOC_COUNT_H
#define BS_ALLOC_COUNT_H

#include <stddef.h>

static long bs_allocs;
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t k);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t k);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n)
{
    bs_allocs++;
    return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t k)
{
    bs_allocs++;
    return __real_calloc(n, k);
}
void *__wrap_realloc(void *p, size_t n)
{
    bs_allocs++;
    return __real_realloc(p, n);
}
void *__wrap_aligned_alloc(size_t a, size_t n)
{
    bs_allocs++;
    return __real_aligned_alloc(a, n);
}

#endif
