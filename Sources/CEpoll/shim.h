#ifndef HEAPD_CEPOLL_SHIM_H
#define HEAPD_CEPOLL_SHIM_H
// Swift's Glibc module leaves out <sys/epoll.h>; the benchmark's load generator needs it.
#include <sys/epoll.h>
#endif
