//! Decoding image files to RGB with hard limits, using the `image` crate.
//!
//! Accepts JPEG, PNG, WebP, GIF (first frame), BMP and TIFF. Applies the EXIF orientation.
//! Rejects inputs over a byte limit, and images whose header claims more than a pixel limit
//! *before* any pixel buffer is allocated, so a decompression bomb gets a clear error, never an
//! out-of-memory abort. The decoder's own allocation limit is set as a second guard.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use crate::pdq::{DihedralHashes, HashError, Hasher, Pixels};

/// Limits and options for [`decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Largest accepted input, in bytes. Default 32 MiB.
    pub max_bytes: usize,
    /// Largest accepted width x height. Default 50 megapixels.
    pub max_pixels: u64,
    /// Largest accepted width or height. Default 30,000.
    pub max_dimension: u32,
    /// Largest total allocation the decoder may make, in bytes. Default 512 MiB.
    pub max_alloc: u64,
    /// Composite transparent pixels over white (true, the default: logos on transparent
    /// backgrounds hash as they display) or drop alpha (false: the reference tools' behaviour).
    pub alpha_over_white: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_bytes: 32 * 1024 * 1024,
            max_pixels: 50_000_000,
            max_dimension: 30_000,
            max_alloc: 512 * 1024 * 1024,
            alpha_over_white: true,
        }
    }
}

/// Which container the bytes were.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    WebP,
    /// GIF (first frame).
    Gif,
    /// BMP.
    Bmp,
    /// TIFF.
    Tiff,
}

/// A decoded image: interleaved 8-bit RGB, row-major, orientation applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height * 3` bytes.
    pub rgb: Vec<u8>,
    /// The container format.
    pub format: SourceFormat,
}

impl RgbImage {
    /// Borrow as hasher input.
    pub fn pixels(&self) -> Pixels<'_> {
        Pixels::Rgb8(&self.rgb)
    }
}

/// Why an image could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input is larger than [`DecodeOptions::max_bytes`].
    #[error("image file is {size} bytes, over the limit of {limit} bytes")]
    TooManyBytes {
        /// Input size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The header claims more pixels than allowed: refused before decoding (a decompression
    /// bomb, or just too big).
    #[error(
        "image claims {width}x{height} pixels, over the limit of {limit} pixels; refused before decoding"
    )]
    TooManyPixels {
        /// Claimed width.
        width: u32,
        /// Claimed height.
        height: u32,
        /// The pixel limit.
        limit: u64,
    },
    /// The decoder needed more memory than [`DecodeOptions::max_alloc`].
    #[error("decoding needs more memory than the limit of {limit} bytes")]
    MemoryLimit {
        /// The limit.
        limit: u64,
    },
    /// Not one of JPEG, PNG, WebP, GIF, BMP, TIFF.
    #[error("unsupported or unrecognised image format")]
    UnsupportedFormat,
    /// The image has no pixels.
    #[error("image has zero width or height")]
    Empty,
    /// The file is corrupt or truncated.
    #[error("malformed image: {0}")]
    Malformed(String),
}

/// Decoding or hashing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageHashError {
    /// Decoding failed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
}

fn map_image_error(
    e: image::ImageError,
    format: SourceFormat,
    opts: &DecodeOptions,
) -> DecodeError {
    use image::ImageError as E;
    // The decoder's own words name its internals (chunk types, Huffman
    // tables, buffer sizes); they go to the log, and the caller gets ours.
    tracing::debug!(error = %e, ?format, "image decoder refused the file");
    match e {
        E::Limits(_) => DecodeError::MemoryLimit {
            limit: opts.max_alloc,
        },
        E::Unsupported(_) => DecodeError::UnsupportedFormat,
        E::Decoding(_) | E::Parameter(_) | E::Encoding(_) | E::IoError(_) => {
            DecodeError::Malformed(format!(
                "the {} data is corrupt or truncated",
                format.name()
            ))
        }
    }
}

impl SourceFormat {
    /// The format's usual name (`JPEG`, `PNG`...).
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "JPEG",
            SourceFormat::Png => "PNG",
            SourceFormat::WebP => "WebP",
            SourceFormat::Gif => "GIF",
            SourceFormat::Bmp => "BMP",
            SourceFormat::Tiff => "TIFF",
        }
    }
}

/// The size an image file's header claims, read without decoding any
/// pixel, and checked against the limits: what a pixel budget is charged
/// before [`decode`] is allowed to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub width: u32,
    pub height: u32,
    pub format: SourceFormat,
}

impl Probe {
    /// Width × height.
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// Reads an image's header: its format and the dimensions it claims,
/// within the limits of `opts`. Allocates no pixel buffer.
pub fn probe(bytes: &[u8], opts: &DecodeOptions) -> Result<Probe, DecodeError> {
    let (decoder, format) = open(bytes, opts)?;
    let (width, height) = decoder.dimensions();
    Ok(Probe {
        width,
        height,
        format,
    })
}

/// Opens a decoder on the bytes and checks the header's claims.
fn open<'a>(
    bytes: &'a [u8],
    opts: &DecodeOptions,
) -> Result<(Box<dyn ImageDecoder + 'a>, SourceFormat), DecodeError> {
    if bytes.len() > opts.max_bytes {
        return Err(DecodeError::TooManyBytes {
            size: bytes.len(),
            limit: opts.max_bytes,
        });
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| DecodeError::UnsupportedFormat)?;
    let format = match reader.format() {
        Some(ImageFormat::Jpeg) => SourceFormat::Jpeg,
        Some(ImageFormat::Png) => SourceFormat::Png,
        Some(ImageFormat::WebP) => SourceFormat::WebP,
        Some(ImageFormat::Gif) => SourceFormat::Gif,
        Some(ImageFormat::Bmp) => SourceFormat::Bmp,
        Some(ImageFormat::Tiff) => SourceFormat::Tiff,
        _ => return Err(DecodeError::UnsupportedFormat),
    };
    let mut reader = reader;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(opts.max_dimension);
    limits.max_image_height = Some(opts.max_dimension);
    limits.max_alloc = Some(opts.max_alloc);
    // The reader applies these to the decoder; the explicit header check below gives the
    // clearer error for the common bomb shape.
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => DecodeError::TooManyPixels {
            width: 0,
            height: 0,
            limit: opts.max_pixels,
        },
        other => map_image_error(other, format, opts),
    })?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(DecodeError::Empty);
    }
    if u64::from(width) * u64::from(height) > opts.max_pixels
        || width > opts.max_dimension
        || height > opts.max_dimension
    {
        return Err(DecodeError::TooManyPixels {
            width,
            height,
            limit: opts.max_pixels,
        });
    }
    Ok((Box::new(decoder), format))
}

/// Decodes an image file to RGB within the limits, applying EXIF orientation.
pub fn decode(bytes: &[u8], opts: &DecodeOptions) -> Result<RgbImage, DecodeError> {
    let (mut decoder, format) = open(bytes, opts)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|e| map_image_error(e, format, opts))?;
    img.apply_orientation(orientation);
    let (w, h) = (img.width() as usize, img.height() as usize);
    let rgb = if opts.alpha_over_white && img.color().has_alpha() {
        let rgba = img.to_rgba8();
        let mut out = Vec::with_capacity(w * h * 3);
        for px in rgba.pixels() {
            let a = u32::from(px.0[3]);
            for c in 0..3 {
                let v = (u32::from(px.0[c]) * a + 255 * (255 - a) + 127) / 255;
                out.push(v.min(255) as u8);
            }
        }
        out
    } else {
        img.into_rgb8().into_raw()
    };
    tracing::trace!(width = w, height = h, ?format, "decoded image");
    Ok(RgbImage {
        width: w,
        height: h,
        rgb,
        format,
    })
}

/// Decodes an image file and computes its eight dihedral PDQ hashes and quality.
pub fn hash_image_bytes(
    bytes: &[u8],
    opts: &DecodeOptions,
    hasher: &mut Hasher,
) -> Result<DihedralHashes, ImageHashError> {
    let img = decode(bytes, opts)?;
    Ok(hasher.hash_dihedral(img.pixels(), img.width, img.height)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_header(width: u32, height: u32) -> Vec<u8> {
        // A valid PNG signature and IHDR chunk (8-bit RGB) with a correct CRC, then a tiny
        // IDAT: enough for a decoder to read the claimed size.
        let mut out = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(b"IHDR");
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        out.extend_from_slice(&13u32.to_be_bytes());
        out.extend_from_slice(&ihdr);
        out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        let idat = [
            b'I', b'D', b'A', b'T', 0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01,
        ];
        out.extend_from_slice(&8u32.to_be_bytes());
        out.extend_from_slice(&idat);
        out.extend_from_slice(&crc32(&idat).to_be_bytes());
        out
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn png_bomb_is_refused_before_decoding() {
        let bomb = png_header(100_000, 100_000);
        let err = decode(&bomb, &DecodeOptions::default()).unwrap_err();
        assert!(
            matches!(err, DecodeError::TooManyPixels { .. }),
            "got {err:?}"
        );
        assert!(err.to_string().contains("refused before decoding"));
        // Within the dimension limit but over the pixel limit.
        let bomb = png_header(20_000, 20_000);
        let err = decode(&bomb, &DecodeOptions::default()).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::TooManyPixels {
                    width: 20_000,
                    height: 20_000,
                    ..
                }
            ),
            "got {err:?}"
        );
    }

    #[test]
    fn byte_limit_and_garbage() {
        let opts = DecodeOptions {
            max_bytes: 10,
            ..DecodeOptions::default()
        };
        assert!(matches!(
            decode(&[0u8; 11], &opts),
            Err(DecodeError::TooManyBytes {
                size: 11,
                limit: 10
            })
        ));
        assert_eq!(
            decode(b"not an image at all", &DecodeOptions::default()),
            Err(DecodeError::UnsupportedFormat)
        );
        let truncated = &png_header(64, 64)[..30];
        assert!(decode(truncated, &DecodeOptions::default()).is_err());
    }

    #[test]
    fn round_trips_small_png_and_alpha_over_white() {
        let mut img = image::RgbaImage::new(8, 6);
        for (x, _, p) in img.enumerate_pixels_mut() {
            *p = image::Rgba([10 * x as u8, 0, 0, if x == 0 { 0 } else { 255 }]);
        }
        let mut buf = Vec::new();
        img.write_to(&mut Cursor::new(&mut buf), ImageFormat::Png)
            .unwrap();
        let d = decode(&buf, &DecodeOptions::default()).unwrap();
        assert_eq!((d.width, d.height, d.format), (8, 6, SourceFormat::Png));
        assert_eq!(&d.rgb[..3], &[255, 255, 255]);
        assert_eq!(&d.rgb[3..6], &[10, 0, 0]);
    }
}
