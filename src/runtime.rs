//! Global allocator and panic handler of the no_std staticlib.
//!
//! Memory comes from the C side (`img_stream_host_alloc`, libc `malloc` on the
//! unix port and on CanMV), never from the MicroPython GC heap: the GC would
//! not see Rust's pointers and could free what they point to.

use core::alloc::{GlobalAlloc, Layout};

extern "C" {
    fn img_stream_host_alloc(size: usize, align: usize) -> *mut u8;
    fn img_stream_host_free(ptr: *mut u8);
    fn img_stream_host_abort() -> !;
}

struct HostAllocator;

unsafe impl GlobalAlloc for HostAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the C side returns null or a block of `size` bytes aligned
        // to `align`, as GlobalAlloc requires.
        unsafe { img_stream_host_alloc(layout.size(), layout.align()) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from `img_stream_host_alloc`.
        unsafe { img_stream_host_free(ptr) }
    }
}

#[global_allocator]
static ALLOCATOR: HostAllocator = HostAllocator;

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    // Unwinding into C (or MicroPython's nlr frames) is undefined; inputs are
    // validated before any code that could panic, so this is a last resort.
    // SAFETY: the shim's abort never returns.
    unsafe { img_stream_host_abort() }
}

/// The prebuilt `alloc` of a stable toolchain was compiled for unwinding and
/// references this symbol, though with `panic = "abort"` nothing unwinds and
/// it is never called. (A `-Zbuild-std` build, as for riscv64, does not need it.)
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
