#ifndef HEAPD_SYSTEM_H
#define HEAPD_SYSTEM_H
// Linux facilities the Glibc module does not export, declared by the system's own headers
// rather than re-declared in Swift: `struct ucred` and `fallocate` need _GNU_SOURCE, `mallopt`
// is in <malloc.h>, FALLOC_FL_KEEP_SIZE in <linux/falloc.h>.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/socket.h>

/// The kernel's credentials of a Unix-socket peer (SO_PEERCRED).
typedef struct ucred heapd_ucred;

/// Fixes glibc's mmap threshold (M_MMAP_THRESHOLD) at `bytes`; returns mallopt's result.
int heapd_set_mmap_threshold(int bytes);

#endif
