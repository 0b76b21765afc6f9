#ifndef HEAPD_CFALLOCATE_SHIM_H
#define HEAPD_CFALLOCATE_SHIM_H
// glibc declares fallocate(2) only under _GNU_SOURCE, which Swift's Glibc module does not set;
// the journal reserves disk space with it (HeapStore's JournalWriter).
#include <sys/types.h>
extern int fallocate(int fd, int mode, off_t offset, off_t len);
// <linux/falloc.h>: allocate without changing the file's size.
static const int HEAPD_FALLOC_FL_KEEP_SIZE = 0x01;
#endif
