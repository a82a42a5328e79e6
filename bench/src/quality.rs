//! Scores an encoder's output: decode it (one decoder for every encoder) and
//! compute PSNR against the reference picture.

use jpeg_decoder::{Decoder, PixelFormat};

/// PSNR in dB of `jpeg` decoded, against `reference` (RGB888, or GRAY when
/// the JPEG is grayscale), over all channels.
pub fn psnr(jpeg: &[u8], reference: &[u8]) -> Result<f64, String> {
    let mut dec = Decoder::new(jpeg);
    let pixels = dec.decode().map_err(|e| format!("decode: {e}"))?;
    let info = dec.info().ok_or("decode: no image info")?;
    match info.pixel_format {
        PixelFormat::L8 | PixelFormat::RGB24 => {}
        other => return Err(format!("decode: unexpected {other:?}")),
    }
    if pixels.len() != reference.len() {
        return Err(format!(
            "decode: {} bytes, reference {} bytes",
            pixels.len(),
            reference.len()
        ));
    }
    let sse: u64 = pixels
        .iter()
        .zip(reference)
        .map(|(&a, &b)| {
            let d = i64::from(a) - i64::from(b);
            (d * d) as u64
        })
        .sum();
    if sse == 0 {
        return Ok(f64::INFINITY);
    }
    let mse = sse as f64 / pixels.len() as f64;
    Ok(10.0 * (255.0f64 * 255.0 / mse).log10())
}
