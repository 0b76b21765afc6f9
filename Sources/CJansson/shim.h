#ifndef HEAPD_CJANSSON_SHIM_H
#define HEAPD_CJANSSON_SHIM_H
#include <jansson.h>

// Function-like macros of jansson.h do not import into Swift; these are their equivalents.
static inline int heapd_json_typeof(const json_t *json) { return json ? (int)json->type : -1; }
static inline size_t heapd_json_real_precision(int digits) { return JSON_REAL_PRECISION(digits); }
#endif
