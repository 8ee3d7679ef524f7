//! Fuzzes the normaliser and the matcher: no panics, every span on character
//! boundaries of the original, evidence text equal to the original at its
//! span, and results independent of the order of the rights.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shopshield_model::{Listing, Money, Region, Right};
use shopshield_text::{MarkMatcher, TextConfig, normalize};

fn rights() -> Vec<Right> {
    let marks = [
        ("a", "Nike", vec!["耐克", "ナイキ"]),
        ("b", "Gucci", vec![]),
        ("c", "Louis Vuitton", vec!["LV"]),
        ("d", "Balenciaga", vec![]),
        ("e", "iPhone", vec![]),
        ("f", "3M", vec![]),
        ("g", "ช้างศึก", vec![]),
    ];
    marks
        .iter()
        .map(|(id, m, al)| {
            serde_json::from_value(serde_json::json!({
                "id": id, "holder_id": "h", "kind": "trademark", "mark": m, "aliases": al,
                "nice_classes": [9, 25], "regions": ["*"],
                "price_floor": {"amount": 100.0, "currency": "USD"}, "enabled": true,
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
            }))
            .expect("valid right")
        })
        .collect()
}

fn matchers() -> &'static (MarkMatcher, MarkMatcher) {
    static M: OnceLock<(MarkMatcher, MarkMatcher)> = OnceLock::new();
    M.get_or_init(|| {
        let r = rights();
        let mut rev = r.clone();
        rev.reverse();
        (
            MarkMatcher::build(&r, &TextConfig::default()).expect("build"),
            MarkMatcher::build(&rev, &TextConfig::default()).expect("build"),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let z = normalize(s);
    for (i, c) in z.text().char_indices() {
        let r = z.original_span(i..i + c.len_utf8());
        assert!(r.start <= r.end && r.end <= s.len());
        assert!(s.is_char_boundary(r.start) && s.is_char_boundary(r.end));
    }
    let (a, b) = matchers();
    let l = Listing {
        id: "l".into(),
        shop_id: "s".into(),
        creator_id: None,
        region: Region::parse("r", "US").expect("region"),
        category: "apparel/shoes".into(),
        title: s.to_string(),
        description: Some(s.to_string()),
        brand: Some(s.to_string()),
        price: Some(Money::new(5.0, "USD")),
        images: vec![],
        extra: Default::default(),
    };
    let va = a.screen(&l, &[25]);
    assert_eq!(va, b.screen(&l, &[25]));
    for v in &va {
        let [x, y] = v.evidence.span.expect("span");
        assert!(s.is_char_boundary(x) && s.is_char_boundary(y) && y <= s.len());
        assert_eq!(Some(&s[x..y]), v.evidence.text.as_deref());
    }
});
