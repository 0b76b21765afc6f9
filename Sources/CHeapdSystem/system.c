#include "heapd_system.h"
#include <malloc.h>

int heapd_set_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}
