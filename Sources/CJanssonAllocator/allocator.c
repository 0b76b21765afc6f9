// Jansson allocates every node, string, array and hashtable of a parsed request or a built reply
// with malloc and frees them all a moment later, on the same thread. A 16-op `apply` is about 100
// blocks of a few sizes: more than glibc's per-thread cache holds per size (7), so most of them
// took glibc's slower paths (profile: malloc and free were 15% of the daemon's CPU). Here, blocks
// of up to 512 bytes come from per-thread free lists by size class instead.
//
// Every block carries a 16-byte header with its class, so that free() needs no size. A block
// freed on another thread joins that thread's list; each list keeps at most kCacheLimit blocks
// (about 2.6 MB per thread at most) and returns the rest to malloc.
#include "CJanssonAllocator.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

enum { kClasses = 5, kHeader = 16, kCacheLimit = 1024, kLargeBlock = 0xff };

typedef struct Header {
    uint32_t size_class;
    uint32_t unused;
    struct Header *next;  // while on a free list
} Header;

// initial-exec: the lists live in the executable's static TLS block, so reaching them is one
// %fs-relative load rather than a call to __tls_get_addr (this file is compiled as PIC).
#define HEAPD_TLS __thread __attribute__((tls_model("initial-exec")))
static HEAPD_TLS Header *free_lists[kClasses];
static HEAPD_TLS uint32_t cached[kClasses];

static int class_of(size_t size) {
    if (size <= 32) return 0;
    if (size <= 64) return 1;
    if (size <= 128) return 2;
    if (size <= 256) return 3;
    if (size <= 512) return 4;
    return -1;
}

static void *cached_malloc(size_t size) {
    int c = class_of(size);
    if (c >= 0) {
        Header *h = free_lists[c];
        if (h) {
            free_lists[c] = h->next;
            cached[c]--;
            return (char *)h + kHeader;
        }
        h = malloc(kHeader + ((size_t)32 << c));
        if (!h) return NULL;
        h->size_class = (uint32_t)c;
        return (char *)h + kHeader;
    }
    Header *h = malloc(kHeader + size);
    if (!h) return NULL;
    h->size_class = kLargeBlock;
    return (char *)h + kHeader;
}

static void cached_free(void *pointer) {
    if (!pointer) return;
    Header *h = (Header *)((char *)pointer - kHeader);
    uint32_t c = h->size_class;
    if (c < kClasses && cached[c] < kCacheLimit) {
        h->next = free_lists[c];
        free_lists[c] = h;
        cached[c]++;
        return;
    }
    free(h);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAPD_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HEAPD_ASAN 1
#endif

void heapd_jansson_use_thread_caches(void) {
#ifndef HEAPD_ASAN
    json_set_alloc_funcs(cached_malloc, cached_free);
#endif
}
