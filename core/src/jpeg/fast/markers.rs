//! The marker segments of a baseline JFIF file (T.81 Annex B, JFIF 1.02).

use super::bitwriter::Writer;
use super::tables::{HuffSpec, AC_CHROMA, AC_LUMA, DC_CHROMA, DC_LUMA, ZIGZAG};
use crate::sink::Sink;

/// One component of the frame header.
pub struct ComponentSpec {
    /// Component id (1 = Y, 2 = Cb, 3 = Cr, as JFIF expects).
    pub id: u8,
    /// Horizontal and vertical sampling factors.
    pub h: u8,
    /// See `h`.
    pub v: u8,
    /// Quantisation and Huffman table index (0 luma, 1 chroma).
    pub table: u8,
}

fn segment<S: Sink>(w: &mut Writer<'_, S>, marker: u8, len: usize) {
    // `len` counts the two length bytes too; every segment here is small.
    let len = len as u16 + 2;
    w.write_bytes(&[0xFF, marker, (len >> 8) as u8, len as u8]);
}

/// SOI and the JFIF APP0 segment (version 1.01, no density, no thumbnail).
pub fn start<S: Sink>(w: &mut Writer<'_, S>) {
    w.write_bytes(&[0xFF, 0xD8]);
    segment(w, 0xE0, 14);
    w.write_bytes(b"JFIF\0");
    w.write_bytes(&[1, 1, 0, 0, 1, 0, 1, 0, 0]);
}

/// DQT with each table (natural order in, zig-zag order out, B.2.4.1).
pub fn quant_tables<S: Sink>(w: &mut Writer<'_, S>, tables: &[&[u8; 64]]) {
    segment(w, 0xDB, 65 * tables.len());
    for (id, t) in tables.iter().enumerate() {
        let mut zz = [0u8; 65];
        zz[0] = id as u8; // 8-bit precision, table id
        for (z, &n) in zz[1..].iter_mut().zip(ZIGZAG.iter()) {
            *z = t[n as usize];
        }
        w.write_bytes(&zz);
    }
}

/// SOF0: baseline DCT frame header (B.2.2).
pub fn frame_header<S: Sink>(
    w: &mut Writer<'_, S>,
    width: u16,
    height: u16,
    comps: &[ComponentSpec],
) {
    segment(w, 0xC0, 6 + 3 * comps.len());
    let [h1, h0] = height.to_be_bytes();
    let [w1, w0] = width.to_be_bytes();
    w.write_bytes(&[8, h1, h0, w1, w0, comps.len() as u8]);
    for c in comps {
        w.write_bytes(&[c.id, (c.h << 4) | c.v, c.table]);
    }
}

fn huffman_table<S: Sink>(w: &mut Writer<'_, S>, class_id: u8, spec: &HuffSpec) {
    w.write_bytes(&[class_id]);
    w.write_bytes(&spec.bits);
    w.write_bytes(spec.vals);
}

/// DHT with the Annex K tables: luma only, or luma and chroma (B.2.4.2).
pub fn huffman_tables<S: Sink>(w: &mut Writer<'_, S>, chroma: bool) {
    let mut specs: [(u8, &HuffSpec); 4] = [
        (0x00, &DC_LUMA),
        (0x10, &AC_LUMA),
        (0x01, &DC_CHROMA),
        (0x11, &AC_CHROMA),
    ];
    let n = if chroma { 4 } else { 2 };
    let specs = &mut specs[..n];
    let len: usize = specs.iter().map(|(_, s)| 17 + s.vals.len()).sum();
    segment(w, 0xC4, len);
    for (class_id, spec) in specs.iter() {
        huffman_table(w, *class_id, spec);
    }
}

/// SOS for one interleaved scan of all components (B.2.3).
pub fn scan_header<S: Sink>(w: &mut Writer<'_, S>, comps: &[ComponentSpec]) {
    segment(w, 0xDA, 4 + 2 * comps.len());
    w.write_bytes(&[comps.len() as u8]);
    for c in comps {
        w.write_bytes(&[c.id, (c.table << 4) | c.table]);
    }
    // Spectral selection 0..63, no successive approximation.
    w.write_bytes(&[0, 63, 0]);
}

/// EOI.
pub fn end<S: Sink>(w: &mut Writer<'_, S>) {
    w.write_bytes(&[0xFF, 0xD9]);
}
