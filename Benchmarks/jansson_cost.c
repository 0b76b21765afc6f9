/* What Jansson alone costs per heapd request on this machine: the floor under heapd's CPU per
 * request, since every request is parsed by Jansson and every reply written by it (SPEC).
 *
 * Parses the exact bytes `heapctl bench` sends for `refunref` (a `ref`) and for `apply` with 16
 * ops, with the flags the daemon uses (duplicate keys rejected) and the daemon's allocator for
 * Jansson (Sources/CJanssonAllocator), and builds and dumps the matching replies. Prints
 * microseconds per request. Run by Benchmarks/compare_redis.py.
 *
 *   cc -O2 -ISources/CJanssonAllocator/include Benchmarks/jansson_cost.c \
 *       Sources/CJanssonAllocator/allocator.c -ljansson -o /tmp/jansson_cost && /tmp/jansson_cost
 */
#include <jansson.h>
#include "CJanssonAllocator.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double parse_us(const char *text, int rounds) {
    size_t n = strlen(text);
    json_error_t error;
    double start = now();
    for (int i = 0; i < rounds; i++) {
        json_t *root = json_loadb(text, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &error);
        if (!root) { fprintf(stderr, "parse failed: %s\n", error.text); return -1; }
        json_decref(root);
    }
    return (now() - start) / rounds * 1e6;
}

/* {"jsonrpc":"2.0","id":1,"result":<result>}, with `results` numbers when ops > 0. */
static double reply_us(int ops, int rounds) {
    char buffer[4096];
    double start = now();
    for (int i = 0; i < rounds; i++) {
        json_t *reply = json_object();
        json_object_set_new(reply, "jsonrpc", json_string("2.0"));
        json_object_set_new(reply, "id", json_integer(1));
        json_t *result = json_object();
        if (ops == 0) {
            json_object_set_new(result, "id", json_integer(4294967301LL));
            json_object_set_new(result, "refcount", json_integer(2));
        } else {
            json_t *results = json_array();
            for (int k = 0; k < ops; k++) json_array_append_new(results, json_integer(2 - k % 2));
            json_object_set_new(result, "results", results);
            json_object_set_new(result, "errors", json_integer(0));
        }
        json_object_set_new(reply, "result", result);
        json_dumpb(reply, buffer, sizeof buffer, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
        json_decref(reply);
    }
    return (now() - start) / rounds * 1e6;
}

int main(void) {
    heapd_jansson_use_thread_caches();
    json_object_seed(0);
    const char *ref = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ref\",\"params\":{\"id\":4294967301}}";
    char apply[2048] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"apply\",\"params\":{\"ops\":[";
    for (int k = 0; k < 16; k++) {
        strcat(apply, k % 2 ? "[\"unref\",4294967301]" : "[\"ref\",4294967301]");
        if (k < 15) strcat(apply, ",");
    }
    strcat(apply, "]}}");
    int rounds = 200000;
    double single = parse_us(ref, rounds) + reply_us(0, rounds);
    double bulk = parse_us(apply, rounds / 8) + reply_us(16, rounds / 8);
    printf("{\"single_us\": %.2f, \"apply16_us\": %.2f}\n", single, bulk);
    return 0;
}
