//! Image hashing and matching: `POST /v1/hash`, `POST /v1/match`, and
//! HMA's lookup shape at `GET /m/lookup` so existing HMA clients work.

use crate::extract::Query;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shopshield_intake::{ImageBase, read_image};
use shopshield_model::Permission;
use shopshield_pdq::{Dihedral, Hash256, QueryView};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::body;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HashRequest {
    /// The image as a `data:` URL (JPEG, PNG, WebP, GIF, BMP or TIFF).
    pub image: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HashResponse {
    /// PDQ hash, 64 hex digits, most significant bit first.
    pub pdq: String,
    /// PDQ quality, 0 to 100; below 50 is not matched by default.
    pub quality: u8,
    /// Flat, tiny or degenerate: never matched.
    pub degenerate: bool,
    pub width: usize,
    pub height: usize,
    /// The eight dihedral hashes by variant (`original`, `rotate90`...).
    pub dihedral: BTreeMap<String, String>,
}

#[utoipa::path(post, path = "/v1/hash", tag = "images", request_body = HashRequest,
    description = "PDQ hash and quality of an image, with its eight dihedral hashes.",
    responses((status = 200, body = HashResponse), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn hash(
    c: Caller,
    b: Result<Bytes, BytesRejection>,
) -> Result<Json<HashResponse>, ApiError> {
    let req: HashRequest = body(b)?;
    let bytes = read_image("image", &req.image, ImageBase::DataOnly)?;
    c.charge_pixels(Permission::HashImages, &[("image".into(), &bytes)])?;
    let h = c
        .run(move |a, p| a.registry().hash_image(p, &bytes))
        .await?;
    Ok(Json(HashResponse {
        pdq: h.hashes.hashes[0].to_hex(),
        quality: h.hashes.quality,
        degenerate: h.hashes.degenerate,
        width: h.width,
        height: h.height,
        dihedral: h
            .hashes
            .iter()
            .map(|(d, x)| (d.name().to_string(), x.to_hex()))
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchRequest {
    /// A PDQ hash (64 hex digits) to look up as it is...
    pub hash: Option<String>,
    /// ...or an image as a `data:` URL, hashed with all its views.
    pub image: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchHit {
    /// `logos` or `photos`.
    pub bank: String,
    /// `counterfeit` (logos) or `copyright` (photos).
    pub violation: String,
    pub right_id: String,
    /// Hamming distance of 256 bits.
    pub distance: u32,
    /// Which dihedral variant of the query matched.
    pub variant: String,
    pub query_quality: u8,
    pub reference_quality: u8,
    pub query_view: String,
    pub reference_view: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchResponse {
    pub matches: Vec<MatchHit>,
    /// Registered logos found inside the image by local features (only
    /// when an image is sent; a bare hash has no keypoints).
    pub located: Vec<LocatedHit>,
}

/// A registered logo found inside a larger image.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocatedHit {
    pub right_id: String,
    /// Always `counterfeit`: a logo.
    pub violation: String,
    /// Keypoint matches agreeing on the placement, of `matches` putative ones.
    pub inliers: usize,
    pub matches: usize,
    /// Where the artwork lies: four corners `[x, y]` in image pixels
    /// (top-left, top-right, bottom-right, bottom-left of the artwork).
    pub quad: [[f32; 2]; 4],
    /// Size relative to the registered artwork, and rotation in degrees.
    pub scale: f32,
    pub rotation_degrees: f32,
    /// Found as a negative (light artwork on a dark ground).
    pub negative: bool,
    /// Normalised cross-correlation of the image, warped onto the artwork, with it.
    pub correlation: f32,
}

/// Treats a bare hash as a whole-image view of perfect quality (the caller
/// vouches for it), with only its original variant.
fn hash_view(field: &str, hex: &str) -> Result<QueryView, ApiError> {
    let h = Hash256::from_hex(hex.trim()).map_err(|e| {
        ApiError::from(shopshield_app::AppError::Invalid(
            shopshield_model::ValidationError::new(field, format!("not a PDQ hash: {e}")),
        ))
    })?;
    Ok(QueryView {
        view: "full".into(),
        hashes: shopshield_pdq::DihedralHashes {
            hashes: [h; 8],
            quality: 100,
            degenerate: false,
        },
    })
}

#[utoipa::path(post, path = "/v1/match", tag = "images", request_body = MatchRequest,
    description = "Looks a hash or an image up in the banks of registered logos and photos (admin, reviewer, service).",
    responses((status = 200, body = MatchResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn match_image(
    c: Caller,
    b: Result<Bytes, BytesRejection>,
) -> Result<Json<MatchResponse>, ApiError> {
    let req: MatchRequest = body(b)?;
    let found = match (&req.hash, &req.image) {
        (Some(h), None) => {
            let view = hash_view("hash", h)?;
            c.run(move |a, p| {
                Ok(shopshield_app::ImageMatches {
                    matches: a.registry().match_views(p, &[view])?,
                    located: Vec::new(),
                })
            })
            .await?
        }
        (None, Some(img)) => {
            let bytes = read_image("image", img, ImageBase::DataOnly)?;
            c.charge_pixels(Permission::MatchImages, &[("image".into(), &bytes)])?;
            c.run(move |a, p| a.registry().match_image(p, &bytes))
                .await?
        }
        _ => {
            return Err(ApiError::from(shopshield_app::AppError::Invalid(
                shopshield_model::ValidationError::new("hash", "send exactly one of hash or image"),
            )));
        }
    };
    let (matches, located) = (found.matches, found.located);
    Ok(Json(MatchResponse {
        located: located
            .into_iter()
            .map(|m| LocatedHit {
                right_id: m.right_id,
                violation: "counterfeit".into(),
                inliers: m.inliers,
                matches: m.matches,
                quad: m.quad,
                scale: m.scale,
                rotation_degrees: m.rotation_degrees,
                negative: m.negative,
                correlation: m.correlation,
            })
            .collect(),
        matches: matches
            .into_iter()
            .map(|m| MatchHit {
                bank: m.bank,
                violation: m.violation,
                right_id: m.right_id,
                distance: m.distance,
                variant: m.variant.name().to_string(),
                query_quality: m.query_quality,
                reference_quality: m.reference_quality,
                query_view: m.query_view,
                reference_view: m.reference_view,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LookupQuery {
    /// Only `pdq` is supported.
    pub signal_type: Option<String>,
    /// The hash, 64 hex digits.
    pub signal: Option<String>,
}

/// One bank's matches, as HMA answers them.
#[derive(Debug, Serialize, ToSchema)]
pub struct HmaMatch {
    /// The matched content: here, the right id.
    pub bank_content_id: String,
    /// The Hamming distance, as a string (HMA's `pretty_str`).
    pub distance: String,
}

#[utoipa::path(get, path = "/m/lookup", tag = "images", params(LookupQuery),
    description = "HMA-compatible lookup: `{bank name: [{bank_content_id, distance}]}` for a PDQ hash.",
    responses((status = 200, body = BTreeMap<String, Vec<HmaMatch>>), (status = 400, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn hma_lookup(
    c: Caller,
    Query(q): Query<LookupQuery>,
) -> Result<Json<BTreeMap<String, Vec<HmaMatch>>>, ApiError> {
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid", m);
    match q.signal_type.as_deref() {
        Some("pdq") => {}
        Some(other) => {
            return Err(bad(format!(
                "No such SignalType '{other}'; only pdq is served"
            )));
        }
        None => return Err(bad("signal_type is required".into())),
    }
    let signal = q.signal.ok_or_else(|| bad("signal is required".into()))?;
    let h = Hash256::from_hex(signal.trim()).map_err(|e| bad(format!("invalid signal: {e}")))?;
    let view = QueryView {
        view: "full".into(),
        hashes: shopshield_pdq::DihedralHashes {
            hashes: [h; 8],
            quality: 100,
            degenerate: false,
        },
    };
    let matches = c
        .run(move |a, p| a.registry().match_views(p, &[view]))
        .await?;
    let mut out: BTreeMap<String, Vec<HmaMatch>> = BTreeMap::new();
    for m in matches {
        if m.variant != Dihedral::Original {
            continue;
        }
        out.entry(m.bank).or_default().push(HmaMatch {
            bank_content_id: m.right_id,
            distance: m.distance.to_string(),
        });
    }
    Ok(Json(out))
}
