//! Property tests for the matcher: no panics, evidence spans on character
//! boundaries of the original with the exact original text, and results
//! independent of the order in which rights are given.

use proptest::prelude::*;
mod common;

use shopshield_model::{Listing, Money, Region, Right};
use shopshield_text::{MarkMatcher, TextConfig};

fn right(id: &str, mark: &str, aliases: &[&str], classes: &[u8]) -> Right {
    common::trademark(
        id,
        mark,
        classes,
        serde_json::json!({"holder_id": "h", "aliases": aliases, "price_floor": common::usd(100.0)}),
    )
}

fn rights() -> Vec<Right> {
    vec![
        right("a", "Nike", &["耐克"], &[25]),
        right("b", "Gucci", &[], &[25]),
        right("c", "Louis Vuitton", &["LV"], &[25]),
        right("d", "Balenciaga", &[], &[25]),
        right("e", "Apple", &["iPhone"], &[25]),
        right("f", "3M", &[], &[25]),
        right("g", "ナイキ", &[], &[25]),
    ]
}

fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("Nike".to_string()),
        Just("N1ke".to_string()),
        Just("Guссi".to_string()),
        Just("Louis Vuiton".to_string()),
        Just("N.I.K.E".to_string()),
        Just("replica".to_string()),
        Just("for".to_string()),
        Just("耐克".to_string()),
        Just("ナイキ用".to_string()),
        Just("Balenciagaa".to_string()),
        Just("\u{200B}".to_string()),
        "[a-zA-Z0-9 .:@$!|-]{0,8}",
        any::<String>().prop_map(|s| s.chars().take(6).collect()),
    ];
    proptest::collection::vec(piece, 0..8).prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn spans_and_order(title in text(), desc in text(), brand in text(), seed in 0usize..7) {
        let rs = rights();
        let a = MarkMatcher::build(&rs, &TextConfig::default()).unwrap();
        let mut rotated = rs.clone();
        rotated.rotate_left(seed);
        rotated.reverse();
        let b = MarkMatcher::build(&rotated, &TextConfig::default()).unwrap();
        let l = Listing {
            id: "l".into(),
            shop_id: "s".into(),
            creator_id: None,
            region: Region::parse("r", "US").unwrap(),
            category: "apparel/shoes".into(),
            title: title.clone(),
            description: Some(desc.clone()),
            brand: Some(brand.clone()),
            price: Some(Money::new(5.0, "USD")),
            images: vec![],
            extra: Default::default(),
        };
        let va = a.screen(&l, &[25]);
        prop_assert_eq!(&va, &b.screen(&l, &[25]));
        for v in &va {
            prop_assert!((0.0..=1.0).contains(&v.confidence));
            let field = match v.evidence.field.as_deref() {
                Some("title") => &title,
                Some("description") => &desc,
                Some("brand") => &brand,
                other => return Err(TestCaseError::fail(format!("field {other:?}"))),
            };
            let [s, e] = v.evidence.span.unwrap();
            prop_assert!(s <= e && e <= field.len());
            prop_assert!(field.is_char_boundary(s) && field.is_char_boundary(e));
            prop_assert_eq!(&field[s..e], v.evidence.text.as_deref().unwrap());
        }
    }
}
