#define _GNU_SOURCE
#include "heapd_system.h"
#include <fcntl.h>
#include <linux/falloc.h>
#include <malloc.h>
#include <stddef.h>
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
