//! What the text tests share: a trademark right built from its few fields that matter.
//! (Each test file uses what it needs.)
#![allow(dead_code)]

use shopshield_model::Right;

/// A trademark right `id` for `mark` in `classes`, valid in every region, with the fields of
/// `extra` (a JSON object: `aliases`, `authorized_sellers`, `price_floor`...) on top.
pub fn trademark(id: &str, mark: &str, classes: &[u8], extra: serde_json::Value) -> Right {
    let mut v = serde_json::json!({
        "id": id,
        "holder_id": format!("h-{id}"),
        "kind": "trademark",
        "mark": mark,
        "nice_classes": classes,
        "regions": ["*"],
        "enabled": true,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    });
    if let (Some(base), serde_json::Value::Object(more)) = (v.as_object_mut(), extra) {
        base.extend(more);
    }
    serde_json::from_value(v).expect("valid right")
}

/// A price floor in US dollars, as a right's `price_floor`.
pub fn usd(amount: f64) -> serde_json::Value {
    serde_json::json!({"amount": amount, "currency": "USD"})
}

/// A trademark right sold by `seller` (its one authorised shop), with a price floor in US
/// dollars.
pub fn sold_by(id: &str, mark: &str, classes: &[u8], floor: f64, seller: &str) -> Right {
    trademark(
        id,
        mark,
        classes,
        serde_json::json!({"authorized_sellers": [seller], "price_floor": usd(floor)}),
    )
}
