#define _GNU_SOURCE
#include "heapd_system.h"
#include <fcntl.h>
#include <linux/falloc.h>
#include <malloc.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

// heapd_ucred must be struct ucred, field by field.
_Static_assert(sizeof(heapd_ucred) == sizeof(struct ucred), "heapd_ucred size");
_Static_assert(offsetof(heapd_ucred, pid) == offsetof(struct ucred, pid), "heapd_ucred.pid");
_Static_assert(offsetof(heapd_ucred, uid) == offsetof(struct ucred, uid), "heapd_ucred.uid");
_Static_assert(offsetof(heapd_ucred, gid) == offsetof(struct ucred, gid), "heapd_ucred.gid");

int heapd_set_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}

int heapd_fallocate_keep_size(int fd, int64_t offset, int64_t length) {
    return fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length);
}

#if defined(__x86_64__)
int heapd_crc32c_hardware(void) {
    return __builtin_cpu_supports("sse4.2");
}

__attribute__((target("sse4.2"))) uint32_t heapd_crc32c_update(uint32_t crc, const void *bytes, size_t length) {
    const unsigned char *p = bytes;
    uint64_t c = crc;
    for (; length >= 8; p += 8, length -= 8) {
        uint64_t word;
        memcpy(&word, p, 8);  // unaligned and alias-safe; compiles to one load
        c = __builtin_ia32_crc32di(c, word);
    }
    uint32_t c32 = (uint32_t)c;
    for (; length > 0; p++, length--) c32 = __builtin_ia32_crc32qi(c32, *p);
    return c32;
}
#else
int heapd_crc32c_hardware(void) {
    return 0;
}

uint32_t heapd_crc32c_update(uint32_t crc, const void *bytes, size_t length) {
    (void)bytes;
    (void)length;
    return crc;  // never called: heapd_crc32c_hardware() is 0
}
#endif
