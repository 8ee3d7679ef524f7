//! Image intake for screening: decode with limits, hash the views PDQ
//! matches on, and keep the banks of registered images in step with the
//! registry.

use serde::{Deserialize, Serialize};
use shopshield_gate::{ImageBanks, ImageSignal};
use shopshield_intake::IntakeError;
use shopshield_model::{ImageHash, Right};
use shopshield_pdq::views::{ViewOptions, query_views, reference_hashes};
use shopshield_pdq::{BankConfig, BankKind, DecodeOptions, Hasher, decode};

/// `[images]` in `shopshield.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImagesConfig {
    /// Largest Hamming distance for a logo match (default 31).
    pub logo_max_distance: u32,
    /// Smallest PDQ quality for logos, both sides (default 50).
    pub logo_min_quality: u8,
    /// Largest Hamming distance for a product-photo match (default 31).
    pub photo_max_distance: u32,
    /// Smallest PDQ quality for photos, both sides (default 50).
    pub photo_min_quality: u8,
    /// Also search listing photos tile by tile for a small logo inside a
    /// larger product photo (costs about 35 more hashes per image).
    pub logo_tiles: bool,
    /// Confidences given to matches.
    pub scoring: shopshield_gate::ImageConfig,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        ImagesConfig {
            logo_max_distance: shopshield_pdq::bank::DEFAULT_MAX_DISTANCE,
            logo_min_quality: shopshield_pdq::bank::DEFAULT_MIN_QUALITY,
            photo_max_distance: shopshield_pdq::bank::DEFAULT_MAX_DISTANCE,
            photo_min_quality: shopshield_pdq::bank::DEFAULT_MIN_QUALITY,
            logo_tiles: false,
            scoring: shopshield_gate::ImageConfig::default(),
        }
    }
}

impl ImagesConfig {
    pub fn validate(&self) -> Result<(), String> {
        for (name, d) in [
            ("logo_max_distance", self.logo_max_distance),
            ("photo_max_distance", self.photo_max_distance),
        ] {
            if d > 64 {
                return Err(format!(
                    "{name} = {d}: PDQ matches beyond 64 of 256 bits are noise"
                ));
            }
        }
        for (name, q) in [
            ("logo_min_quality", self.logo_min_quality),
            ("photo_min_quality", self.photo_min_quality),
        ] {
            if q > 100 {
                return Err(format!("{name} = {q}: quality is 0 to 100"));
            }
        }
        Ok(())
    }

    pub fn banks(&self) -> ImageBanks {
        let mut logos = BankConfig::new("logos", BankKind::Logo);
        logos.max_distance = self.logo_max_distance;
        logos.min_quality = self.logo_min_quality;
        let mut photos = BankConfig::new("photos", BankKind::Photo);
        photos.max_distance = self.photo_max_distance;
        photos.min_quality = self.photo_min_quality;
        ImageBanks::new(logos, photos)
    }
}

fn image_error(field: &str, reason: impl std::fmt::Display) -> IntakeError {
    IntakeError::Image {
        field: field.to_string(),
        reason: reason.to_string(),
    }
}

/// The hashes to register for a right's image: the whole image, its
/// border-trimmed content, and 5% and 10% centre crops.
pub fn reference_image_hashes(field: &str, bytes: &[u8]) -> Result<Vec<ImageHash>, IntakeError> {
    let img = decode(bytes, &DecodeOptions::default()).map_err(|e| image_error(field, e))?;
    let mut hasher = Hasher::new();
    let refs = reference_hashes(
        &mut hasher,
        &img.rgb,
        img.width,
        img.height,
        &ViewOptions::BANK,
    )
    .map_err(|e| image_error(field, e))?;
    if refs.iter().all(|r| r.degenerate) {
        return Err(image_error(
            field,
            "the image is flat or too small to match reliably (PDQ quality too low)",
        ));
    }
    Ok(refs
        .into_iter()
        .map(|r| ImageHash {
            view: r.view,
            pdq: r.hash.to_hex(),
            quality: r.quality,
            degenerate: r.degenerate,
        })
        .collect())
}

/// Decodes and hashes a listing image into the views the banks match on.
pub fn listing_image_signal(
    field: &str,
    bytes: &[u8],
    tiles: bool,
) -> Result<ImageSignal, IntakeError> {
    let img = decode(bytes, &DecodeOptions::default()).map_err(|e| image_error(field, e))?;
    let mut hasher = Hasher::new();
    let opts = if tiles {
        ViewOptions::QUERY_WITH_TILES
    } else {
        ViewOptions::QUERY_PIXEL_DIHEDRAL
    };
    let views = query_views(&mut hasher, &img.rgb, img.width, img.height, &opts)
        .map_err(|e| image_error(field, e))?;
    Ok(ImageSignal {
        field: field.to_string(),
        views,
    })
}

/// Fills in a right's image hashes from its stored image when they are
/// missing (rights stored before images were hashed).
pub fn ensure_hashed(right: &mut Right, image: Option<&[u8]>) -> Result<bool, IntakeError> {
    if right.kind == shopshield_model::RightKind::Trademark || !right.image_hashes.is_empty() {
        return Ok(false);
    }
    let Some(bytes) = image else { return Ok(false) };
    right.image_hashes = reference_image_hashes("image", bytes)?;
    Ok(true)
}
