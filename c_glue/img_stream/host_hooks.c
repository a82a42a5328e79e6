// What the Rust staticlib needs from its host: memory and abort. Memory is
// libc's (as on CanMV), never the GC heap: the GC cannot see Rust's pointers.
#include <stdlib.h>
#include <stddef.h>

void *img_stream_host_alloc(size_t size, size_t align);
void img_stream_host_free(void *ptr);
void img_stream_host_abort(void);

void *img_stream_host_alloc(size_t size, size_t align) {
    if (size == 0) {
        size = 1;
    }
    if (align <= 16) {
        // malloc's blocks are 16-byte aligned on every 64-bit libc we target.
        return malloc(size);
    }
    void *p = NULL;
    if (posix_memalign(&p, align, size) != 0) {
        return NULL;
    }
    return p;
}

void img_stream_host_free(void *ptr) {
    free(ptr);
}

void img_stream_host_abort(void) {
    abort();
}
