#ifndef HEAPD_SYSTEM_H
#define HEAPD_SYSTEM_H
// Linux facilities the Glibc module does not export. This header includes no system header with
// _GNU_SOURCE (which would give `fd_set` and friends a second definition next to Glibc's and
// Dispatch's modules); system.c does, and checks there, at compile time, that what is declared
// here matches the system's own declarations.
#include <stdint.h>

/// The kernel's credentials of a Unix-socket peer (SO_PEERCRED): the layout of `struct ucred`,
/// checked against it in system.c.
typedef struct {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
} heapd_ucred;

/// Fixes glibc's mmap threshold (M_MMAP_THRESHOLD) at `bytes`; returns mallopt's result.
int heapd_set_mmap_threshold(int bytes);

/// fallocate(fd, FALLOC_FL_KEEP_SIZE, offset, length): allocates disk blocks without changing the
/// file's size. Returns 0, or -1 with errno set.
int heapd_fallocate_keep_size(int fd, int64_t offset, int64_t length);

#endif
