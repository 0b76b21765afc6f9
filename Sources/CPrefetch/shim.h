#ifndef HEAPD_CPREFETCH_SHIM_H
#define HEAPD_CPREFETCH_SHIM_H
// The CPU's prefetch hint, which Swift has no spelling for: the collector's walk over objects in
// discovery order asks for the records and counts it will read a few objects ahead, so that
// their cache misses overlap instead of following one another. Header only, no system header:
// HeapCore stays free of I/O and of any library.
static inline __attribute__((always_inline)) void heapd_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 3);
}
#endif
