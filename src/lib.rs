//! `img_stream`: the Rust half of the MicroPython module, as a C staticlib.
//!
//! The C shim in `c_glue/` is the only code that touches MicroPython objects;
//! it turns them into the plain structs of [`ffi`] and calls the
//! `extern "C"` functions there. Rust never calls a MicroPython API: where it
//! needs I/O it calls back through [`ffi::IsWriter`], whose C side catches
//! every MicroPython exception and hands back an error code instead.
//!
//! - [`ffi`]: the C ABI and the constants it exports (the header
//!   `c_glue/img_stream/img_stream_core.h` is generated from it, the
//!   transport files and `core/src/pixel.rs` with cbindgen; `header_check`
//!   keeps them equal);
//! - [`pool`]: the one reusable output buffer, with a user-visible limit;
//! - [`rate`]: the state blocks of `RateControl` and `SkipSame` (their
//!   policies are in the core);
//! - [`send`]: writing whole frames through a callback in bounded pieces;
//!   [`tcp_sender`] resumes them across calls on a non-blocking stream;
//! - [`runtime`]: allocator and panic handler for the no_std staticlib.
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

extern crate alloc;

/// Returns the status from an `Err`.
macro_rules! try_status {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(status) => return status,
        }
    };
}

pub mod ffi;
pub mod pool;
pub mod rate;
pub mod send;
mod staging;

// One file per transport: the C ABI entry points that encode and send.
pub mod mjpeg;
pub mod mqtt;
pub mod tcp;
pub mod tcp_sender;
pub mod udp;

#[cfg(not(test))]
mod runtime;

#[cfg(test)]
mod header_check;
