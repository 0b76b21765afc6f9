#ifndef HEAPD_SYSTEM_H
#define HEAPD_SYSTEM_H
// Linux facilities the Glibc module does not export. This header includes no system header with
// _GNU_SOURCE (which would give `fd_set` and friends a second definition next to Glibc's and
// Dispatch's modules); system.c does, and checks there, at compile time, that what is declared
// here matches the system's own declarations.
#include <stddef.h>
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

/// Whether this CPU has the CRC-32C instruction (x86-64 SSE4.2), which
/// `heapd_crc32c_update` needs.
int heapd_crc32c_hardware(void);

/// Advances a CRC-32C register (reflected, no inversion: the caller inverts before and after)
/// over `length` bytes with the CPU's CRC-32C instruction, 8 bytes at a time. Only when
/// `heapd_crc32c_hardware()` says so.
uint32_t heapd_crc32c_update(uint32_t crc, const void *bytes, size_t length);

#endif
