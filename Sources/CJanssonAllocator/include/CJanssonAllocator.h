#ifndef HEAPD_JANSSON_ALLOCATOR_H
#define HEAPD_JANSSON_ALLOCATOR_H

/// Makes Jansson allocate its small nodes from per-thread free lists (see allocator.c).
/// Must run before Jansson allocates anything; idempotent. Not installed under AddressSanitizer,
/// which must see every allocation.
void heapd_jansson_use_thread_caches(void);

#endif
