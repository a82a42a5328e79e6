//! What the frame header and the chunk header share: both are
//! *self-describing* headers.
//!
//! Both start with the same prefix (a 4-byte magic, `version`, `header_len`,
//! `flags`, `seq`), keep every integer little-endian, and end with a CRC-32
//! over all header bytes before it, stored in the last four bytes of
//! `header_len` (so a later, longer version can still be checked and
//! skipped). This module holds that knowledge once: the field ranges, the
//! little-endian access, the length rules, the CRC placement and the order in
//! which a receiver checks them (`docs/PROTOCOL.md` §2–3).
//!
//! [`framing`](crate::framing) and [`chunk`](crate::chunk) build their
//! public views with [`self_describing_view!`], which writes the shared
//! accessors, define their errors with [`header_error!`], and parse with
//! [`parse_prefix`].

use crate::crc32::crc32;

/// Byte ranges of the fields, as in smoltcp's `wire::field`.
pub(crate) mod field {
    /// A field's byte range within a header.
    pub type Field = core::ops::Range<usize>;

    /// The magic that names the header kind.
    pub const MAGIC: Field = 0..4;
    /// The version byte.
    pub const VERSION: usize = 4;
    /// The header's own length.
    pub const HEADER_LEN: usize = 5;
    /// Flag bits (none defined in v1).
    pub const FLAGS: Field = 6..8;
    /// The frame's sequence number.
    pub const SEQ: Field = 8..12;
}

/// Bytes needed to read magic, version and header length.
pub(crate) const PREFIX_LEN: usize = field::HEADER_LEN + 1;

/// Length of the trailing header CRC.
const CRC_LEN: usize = 4;

/// A v1 header's length: its fields end at `fields_end`, then comes the
/// header CRC (in every version the last four bytes of `header_len`).
pub(crate) const fn v1_header_len(fields_end: usize) -> usize {
    fields_end + CRC_LEN
}

/// Reads the little-endian `u16` at `at`.
pub(crate) fn get_u16(buf: &[u8], at: field::Field) -> u16 {
    let b = &buf[at];
    u16::from_le_bytes([b[0], b[1]])
}

/// Reads the little-endian `u32` at `at`.
pub(crate) fn get_u32(buf: &[u8], at: field::Field) -> u32 {
    let b = &buf[at];
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Writes `bytes` (a value's `to_le_bytes()`) at `at`.
pub(crate) fn put(buf: &mut [u8], at: field::Field, bytes: &[u8]) {
    buf[at].copy_from_slice(bytes);
}

/// Why bytes are not a usable self-describing header; each header module
/// turns this into its own error type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The buffer ends before the header does.
    Truncated,
    /// The buffer does not start with the expected magic.
    BadMagic,
    /// `header_len` is below the v1 length, or a v1 header is not exactly
    /// the v1 length.
    BadHeaderLen,
    /// The header CRC does not match its bytes.
    BadHeaderCrc,
}

/// A header that passed [`parse_prefix`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Checked {
    /// A v1 header of exactly the v1 length.
    V1,
    /// A header of another version whose CRC matches, so its lengths can be
    /// trusted for skipping.
    OtherVersion {
        /// The version byte.
        version: u8,
        /// The header's own length.
        header_len: u8,
    },
}

/// Checks that `buf` holds the whole header it claims and that the claim is
/// at least `v1_len` (later versions only ever grow). After this, every
/// accessor of the view is in bounds.
pub(crate) fn check_len(buf: &[u8], v1_len: usize) -> Result<(), Fault> {
    if buf.len() < PREFIX_LEN {
        return Err(Fault::Truncated);
    }
    let len = buf[field::HEADER_LEN] as usize;
    if len < v1_len {
        Err(Fault::BadHeaderLen)
    } else if buf.len() < len {
        Err(Fault::Truncated)
    } else {
        Ok(())
    }
}

/// Where the header CRC sits: the last four bytes of `header_len`.
pub(crate) fn crc_field(buf: &[u8]) -> field::Field {
    let end = buf[field::HEADER_LEN] as usize;
    end - CRC_LEN..end
}

/// The CRC the header bytes before the CRC field actually have.
pub(crate) fn compute_header_crc(buf: &[u8]) -> u32 {
    crc32(&buf[..crc_field(buf).start])
}

/// Whether the stored header CRC matches the header bytes.
pub(crate) fn verify_header_crc(buf: &[u8]) -> bool {
    get_u32(buf, crc_field(buf)) == compute_header_crc(buf)
}

/// The receiver's checks on a self-describing header, in the order
/// `docs/PROTOCOL.md` gives them: length of the prefix, magic, header
/// length, header CRC, version, then the exact v1 length. Only a header
/// whose CRC matched is reported as [`Checked::OtherVersion`].
pub(crate) fn parse_prefix(
    buf: &[u8],
    magic: [u8; 4],
    version: u8,
    v1_len: usize,
) -> Result<Checked, Fault> {
    if buf.len() < PREFIX_LEN {
        return Err(Fault::Truncated);
    }
    if buf[field::MAGIC] != magic {
        return Err(Fault::BadMagic);
    }
    check_len(buf, v1_len)?;
    if !verify_header_crc(buf) {
        return Err(Fault::BadHeaderCrc);
    }
    if buf[field::VERSION] != version {
        return Ok(Checked::OtherVersion {
            version: buf[field::VERSION],
            header_len: buf[field::HEADER_LEN],
        });
    }
    if buf[field::HEADER_LEN] as usize != v1_len {
        return Err(Fault::BadHeaderLen);
    }
    Ok(Checked::V1)
}

/// Defines the module's `Error`: first the faults every self-describing
/// header can have (those of [`Fault`], with their texts naming the header
/// kind `$what`), then the module's own variants and their `Display` arms
/// (which write to `$f`). Used with [`self_describing_view!`], which
/// converts a [`Fault`] into this type.
macro_rules! header_error {
    (
        $(#[$attr:meta])*
        $what:literal;
        $(#[$truncated_doc:meta])*
        Truncated => $truncated:literal,
        variants { $($variants:tt)* }
        display($f:ident) { $($arms:tt)* }
    ) => {
        $(#[$attr])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Error {
            $(#[$truncated_doc])*
            Truncated,
            /// The bytes do not start with [`MAGIC`].
            BadMagic,
            /// `header_len` is shorter than [`HEADER_LEN`], or a v1 header is not
            /// exactly [`HEADER_LEN`] long.
            BadHeaderLen,
            /// The header CRC does not match its bytes.
            BadHeaderCrc,
            $($variants)*
        }

        impl core::fmt::Display for Error {
            fn fmt(&self, $f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self {
                    Error::Truncated => $f.write_str($truncated),
                    Error::BadMagic => $f.write_str(concat!("bad ", $what, " magic")),
                    Error::BadHeaderLen => $f.write_str(concat!("bad ", $what, " header length")),
                    Error::BadHeaderCrc => $f.write_str(concat!($what, " header crc mismatch")),
                    $($arms)*
                }
            }
        }
    };
}

/// Defines the view type `$view` with everything a self-describing view
/// shares: the struct, construction, the prefix fields, the trailing CRC, and
/// the module's `Result` alias, `core::error::Error` impl and conversion from
/// [`Fault`]. The module defines `MAGIC`, `HEADER_LEN` and an `Error` enum
/// with (at least) `Truncated`, `BadMagic`, `BadHeaderLen`, `BadHeaderCrc`.
macro_rules! self_describing_view {
    ($(#[$attr:meta])* $view:ident, $what:literal) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $view<T: AsRef<[u8]>> {
            buffer: T,
        }

        /// The result type of this module.
        pub type Result<T> = core::result::Result<T, Error>;

        impl core::error::Error for Error {}

        impl From<$crate::wire::Fault> for Error {
            fn from(fault: $crate::wire::Fault) -> Error {
                match fault {
                    $crate::wire::Fault::Truncated => Error::Truncated,
                    $crate::wire::Fault::BadMagic => Error::BadMagic,
                    $crate::wire::Fault::BadHeaderLen => Error::BadHeaderLen,
                    $crate::wire::Fault::BadHeaderCrc => Error::BadHeaderCrc,
                }
            }
        }

        impl<T: AsRef<[u8]>> $view<T> {
            /// Wraps `buffer` without any check; accessors may panic on a
            /// short buffer. Meant for emitting into a buffer known to be
            /// long enough.
            pub const fn new_unchecked(buffer: T) -> $view<T> {
                $view { buffer }
            }

            /// Wraps `buffer` after [`check_len`](Self::check_len).
            pub fn new_checked(buffer: T) -> Result<$view<T>> {
                let header = $view::new_unchecked(buffer);
                header.check_len()?;
                Ok(header)
            }

            /// Checks that the buffer holds the whole header it claims and
            /// that the claim is at least [`HEADER_LEN`]. After this, no
            /// accessor panics.
            pub fn check_len(&self) -> Result<()> {
                Ok($crate::wire::check_len(self.buffer.as_ref(), HEADER_LEN)?)
            }

            /// Gives the buffer back.
            pub fn into_inner(self) -> T {
                self.buffer
            }

            /// The magic bytes.
            pub fn magic(&self) -> [u8; 4] {
                let b = &self.buffer.as_ref()[$crate::wire::field::MAGIC];
                [b[0], b[1], b[2], b[3]]
            }

            #[doc = concat!("The ", $what, " header version.")]
            pub fn version(&self) -> u8 {
                self.buffer.as_ref()[$crate::wire::field::VERSION]
            }

            /// The header's own length in bytes.
            pub fn header_len(&self) -> u8 {
                self.buffer.as_ref()[$crate::wire::field::HEADER_LEN]
            }

            /// Flag bits (none defined in v1).
            pub fn flags(&self) -> u16 {
                $crate::wire::get_u16(self.buffer.as_ref(), $crate::wire::field::FLAGS)
            }

            /// The frame's sequence number.
            pub fn seq(&self) -> u32 {
                $crate::wire::get_u32(self.buffer.as_ref(), $crate::wire::field::SEQ)
            }

            /// The header CRC as stored (the last four bytes of the header).
            pub fn header_crc(&self) -> u32 {
                let buf = self.buffer.as_ref();
                $crate::wire::get_u32(buf, $crate::wire::crc_field(buf))
            }

            /// The CRC the header bytes actually have.
            pub fn compute_header_crc(&self) -> u32 {
                $crate::wire::compute_header_crc(self.buffer.as_ref())
            }

            /// Whether the stored header CRC matches the header bytes.
            pub fn verify_header_crc(&self) -> bool {
                $crate::wire::verify_header_crc(self.buffer.as_ref())
            }
        }

        impl<T: AsRef<[u8]> + AsMut<[u8]>> $view<T> {
            /// Writes [`MAGIC`].
            pub fn set_magic(&mut self) {
                $crate::wire::put(self.buffer.as_mut(), $crate::wire::field::MAGIC, &MAGIC);
            }

            /// Sets the version byte.
            pub fn set_version(&mut self, value: u8) {
                self.buffer.as_mut()[$crate::wire::field::VERSION] = value;
            }

            /// Sets the header length byte.
            pub fn set_header_len(&mut self, value: u8) {
                self.buffer.as_mut()[$crate::wire::field::HEADER_LEN] = value;
            }

            /// Sets the flag bits.
            pub fn set_flags(&mut self, value: u16) {
                let at = $crate::wire::field::FLAGS;
                $crate::wire::put(self.buffer.as_mut(), at, &value.to_le_bytes());
            }

            /// Sets the sequence number.
            pub fn set_seq(&mut self, value: u32) {
                let at = $crate::wire::field::SEQ;
                $crate::wire::put(self.buffer.as_mut(), at, &value.to_le_bytes());
            }

            /// Stores `value` as the header CRC (at the end of `header_len`).
            pub fn set_header_crc(&mut self, value: u32) {
                let at = $crate::wire::crc_field(self.buffer.as_ref());
                $crate::wire::put(self.buffer.as_mut(), at, &value.to_le_bytes());
            }

            /// Computes and stores the header CRC; call after every other
            /// setter.
            pub fn fill_header_crc(&mut self) {
                let crc = self.compute_header_crc();
                self.set_header_crc(crc);
            }
        }
    };
}

/// Writes a getter and a setter for each little-endian integer field of a
/// view: `#[doc] getter / setter: type = range;`.
macro_rules! field_accessors {
    ($view:ident; $(#[doc = $doc:literal] $get:ident / $set:ident: $ty:ty = $at:expr;)*) => {
        impl<T: AsRef<[u8]>> $view<T> {
            $(
                #[doc = $doc]
                pub fn $get(&self) -> $ty {
                    let mut b = [0u8; core::mem::size_of::<$ty>()];
                    b.copy_from_slice(&self.buffer.as_ref()[$at]);
                    <$ty>::from_le_bytes(b)
                }
            )*
        }

        impl<T: AsRef<[u8]> + AsMut<[u8]>> $view<T> {
            $(
                #[doc = concat!("Sets [`", stringify!($get), "`](Self::", stringify!($get), ").")]
                pub fn $set(&mut self, value: $ty) {
                    $crate::wire::put(self.buffer.as_mut(), $at, &value.to_le_bytes());
                }
            )*
        }
    };
}

pub(crate) use {field_accessors, header_error, self_describing_view};
