use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Money, Region, ValidationError, validate_id};

/// Longest accepted title, in bytes.
pub const MAX_TITLE_LEN: usize = 500;
/// Longest accepted description, in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 20_000;
/// Most images one listing may carry.
pub const MAX_IMAGES: usize = 20;
/// Longest accepted brand, in bytes.
pub const MAX_BRAND_LEN: usize = 200;
/// Most fields a listing may carry beyond the screened ones (`extra`).
pub const MAX_EXTRA_FIELDS: usize = 32;
/// Largest size of those fields together, as compact JSON, in bytes.
pub const MAX_EXTRA_BYTES: usize = 8 * 1024;
/// Deepest nesting of arrays and objects inside one of them.
pub const MAX_EXTRA_DEPTH: usize = 4;

/// A product offered for sale: one line of a listings JSONL file, or the body
/// of `POST /v1/listings`. Fields other than these are kept in `extra` and
/// stored, but not screened; they are capped: at most [`MAX_EXTRA_FIELDS`]
/// fields, [`MAX_EXTRA_BYTES`] bytes of compact JSON together, nested at
/// most [`MAX_EXTRA_DEPTH`] deep. A listing over a cap is refused (422
/// naming the field), never truncated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Listing {
    pub id: String,
    /// The shop (seller) offering the product.
    pub shop_id: String,
    /// The creator selling it through a video or livestream, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_id: Option<String>,
    /// The one region the listing is sold in (never `*`).
    pub region: Region,
    /// A category id from the taxonomy, e.g. `apparel/shoes`.
    pub category: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The brand the seller claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    /// Paths relative to the listings file, `data:` URLs, or (over HTTP)
    /// `data:` URLs only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Any other fields the platform sends; kept, not screened.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Nesting depth of a JSON value: 0 for a scalar.
fn depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        serde_json::Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

impl Listing {
    /// Checks every field except the category (which needs the taxonomy).
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_id("id", &self.id)?;
        validate_id("shop_id", &self.shop_id)?;
        if let Some(c) = &self.creator_id {
            validate_id("creator_id", c)?;
        }
        if self.region.is_all() {
            return Err(ValidationError::new(
                "region",
                "a listing is sold in one region; \"*\" is only for rights",
            ));
        }
        if self.category.is_empty() {
            return Err(ValidationError::new("category", "must not be empty"));
        }
        check_text("title", &self.title, MAX_TITLE_LEN, false)?;
        if let Some(d) = &self.description {
            check_text("description", d, MAX_DESCRIPTION_LEN, true)?;
        }
        if let Some(b) = &self.brand {
            check_text("brand", b, MAX_BRAND_LEN, true)?;
        }
        if let Some(p) = &self.price {
            p.validate("price")?;
        }
        if self.images.len() > MAX_IMAGES {
            return Err(ValidationError::new(
                "images",
                format!(
                    "has {} entries; the limit is {MAX_IMAGES}",
                    self.images.len()
                ),
            ));
        }
        for (i, img) in self.images.iter().enumerate() {
            if img.is_empty() {
                return Err(ValidationError::new(
                    format!("images[{i}]"),
                    "must not be empty",
                ));
            }
        }
        self.check_extra()
    }

    /// The caps on the fields kept but not screened.
    fn check_extra(&self) -> Result<(), ValidationError> {
        if self.extra.len() > MAX_EXTRA_FIELDS {
            return Err(ValidationError::new(
                "(document)",
                format!(
                    "has {} fields besides the screened ones; the limit is {MAX_EXTRA_FIELDS}",
                    self.extra.len()
                ),
            ));
        }
        let mut total = 0usize;
        for (name, value) in &self.extra {
            if name.len() > 64 || name.chars().any(char::is_control) {
                return Err(ValidationError::new(
                    "(document)",
                    "a field name is over 64 bytes or has control characters",
                ));
            }
            if depth(value) > MAX_EXTRA_DEPTH {
                return Err(ValidationError::new(
                    name.clone(),
                    format!("is nested deeper than {MAX_EXTRA_DEPTH} levels"),
                ));
            }
            // Serialising a JSON value cannot fail.
            total += name.len() + serde_json::to_vec(value).map_or(0, |v| v.len());
            if total > MAX_EXTRA_BYTES {
                return Err(ValidationError::new(
                    name.clone(),
                    format!(
                        "the fields besides the screened ones are over {MAX_EXTRA_BYTES} bytes together"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// SHA-256 of the listing's canonical JSON: equal content, equal hash.
    pub fn content_hash(&self) -> String {
        // Serialising a struct of strings, numbers and ordered maps cannot fail.
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}

fn check_text(field: &str, s: &str, max: usize, may_be_empty: bool) -> Result<(), ValidationError> {
    if !may_be_empty && s.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    crate::ids::check_text(field, s, max)
}

/// A seller's shop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Shop {
    pub id: String,
    pub created_at: DateTime<Utc>,
}

/// A creator who sells through videos and livestreams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Creator {
    pub id: String,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{"id":"l-1","shop_id":"shop-9","creator_id":"c-3","region":"US","category":"apparel/shoes","title":"Air Max 90 sneakers","description":"...","brand":"Nike","price":{"amount":19.99,"currency":"USD"},"images":["img/l-1.jpg"],"sku":"X1"}"#;

    #[test]
    fn documented_example_parses_and_keeps_extra_fields() {
        let l: Listing = serde_json::from_str(EXAMPLE).unwrap();
        l.validate().unwrap();
        assert_eq!(l.extra["sku"], "X1");
        let back = serde_json::to_string(&l).unwrap();
        assert!(back.contains("\"sku\":\"X1\""));
    }

    #[test]
    fn content_hash_tracks_content() {
        let a: Listing = serde_json::from_str(EXAMPLE).unwrap();
        let mut b = a.clone();
        assert_eq!(a.content_hash(), b.content_hash());
        b.title.push('!');
        assert_ne!(a.content_hash(), b.content_hash());
    }

    #[test]
    fn names_the_bad_field() {
        let mut l: Listing = serde_json::from_str(EXAMPLE).unwrap();
        l.title = " ".into();
        assert_eq!(l.validate().unwrap_err().field, "title");
        let mut l: Listing = serde_json::from_str(EXAMPLE).unwrap();
        l.region = Region::ALL;
        assert_eq!(l.validate().unwrap_err().field, "region");
        let mut l: Listing = serde_json::from_str(EXAMPLE).unwrap();
        l.price = Some(Money::new(1.0, "usd"));
        assert_eq!(l.validate().unwrap_err().field, "price.currency");
        let mut l: Listing = serde_json::from_str(EXAMPLE).unwrap();
        l.shop_id = "a/b".into();
        assert_eq!(l.validate().unwrap_err().field, "shop_id");
    }

    #[test]
    fn extra_fields_are_capped() {
        let base: Listing = serde_json::from_str(EXAMPLE).unwrap();
        let mut l = base.clone();
        l.price = Some(Money::new(1.0, "ZZZ"));
        assert_eq!(l.validate().unwrap_err().field, "price.currency");
        let mut l = base.clone();
        for i in 0..MAX_EXTRA_FIELDS {
            l.extra.insert(format!("f{i}"), serde_json::json!(i));
        }
        assert_eq!(l.validate().unwrap_err().field, "(document)");
        let mut l = base.clone();
        l.extra.insert(
            "blob".into(),
            serde_json::json!("x".repeat(MAX_EXTRA_BYTES)),
        );
        assert_eq!(l.validate().unwrap_err().field, "blob");
        let mut l = base.clone();
        l.extra
            .insert("deep".into(), serde_json::json!([[[[["too deep"]]]]]));
        assert_eq!(l.validate().unwrap_err().field, "deep");
        let mut l = base;
        l.extra
            .insert("ok".into(), serde_json::json!({"a": [1, {"b": 2}]}));
        l.validate().unwrap();
    }
}
