//! End-to-end behaviour of the matcher on hand-written listings.

mod common;

use shopshield_model::{Action, Listing, Money, Region, Right, ViolationType};
use shopshield_text::{MarkMatcher, TextConfig};

fn right(id: &str, mark: &str, aliases: &[&str], classes: &[u8], floor: Option<f64>) -> Right {
    common::trademark(
        id,
        mark,
        classes,
        serde_json::json!({
            "aliases": aliases,
            "authorized_sellers": ["shop-official"],
            "price_floor": floor.map(common::usd),
        }),
    )
}

fn rights() -> Vec<Right> {
    let mut us_only = right("r-target", "Targetta", &[], &[25], None);
    us_only.regions = vec![Region::parse("r", "US").unwrap()];
    vec![
        right(
            "r-nike",
            "Nike",
            &["NIKE", "耐克", "ナイキ", "Найк"],
            &[25, 28],
            Some(60.0),
        ),
        right(
            "r-gucci",
            "Gucci",
            &["グッチ", "古驰"],
            &[14, 18, 25],
            Some(300.0),
        ),
        right("r-iphone", "iPhone", &[], &[9], Some(400.0)),
        right("r-apple", "Apple", &[], &[9], Some(100.0)),
        right("r-asics", "Asics", &[], &[25], Some(50.0)),
        right("r-dove", "Dove", &[], &[3], None),
        right(
            "r-chanel",
            "Chanel",
            &["シャネル"],
            &[3, 14, 18, 25],
            Some(200.0),
        ),
        right("r-lv", "Louis Vuitton", &["LV"], &[18, 25], Some(500.0)),
        right("r-adidas", "Adidas", &[], &[25, 28], Some(50.0)),
        right("r-balenciaga", "Balenciaga", &[], &[18, 25], Some(400.0)),
        right("r-samsung", "Samsung", &["삼성", "三星"], &[9], Some(150.0)),
        right("r-thai", "ช้างศึก", &[], &[25], None),
        right("r-ar", "نايك", &[], &[25], None),
        us_only,
    ]
}

fn listing(title: &str, category_region: &str) -> Listing {
    Listing {
        id: "l-1".into(),
        shop_id: "shop-9".into(),
        creator_id: None,
        region: Region::parse("r", category_region).unwrap(),
        category: "apparel/shoes".into(),
        title: title.into(),
        description: None,
        brand: None,
        price: None,
        images: vec![],
        extra: Default::default(),
    }
}

fn matcher() -> MarkMatcher {
    MarkMatcher::build(&rights(), &TextConfig::default()).unwrap()
}

fn screen(m: &MarkMatcher, l: &Listing, nice: &[u8]) -> (Action, Vec<shopshield_model::Violation>) {
    let v = m.screen(l, nice);
    let score = v.iter().map(|v| v.confidence).fold(0.0, f64::max);
    (m.score_to_action(score), v)
}

fn check(title: &str, nice: &[u8], want: Action) -> Vec<shopshield_model::Violation> {
    let m = matcher();
    let l = listing(title, "US");
    let (a, v) = screen(&m, &l, nice);
    assert_eq!(a, want, "{title:?}: {v:#?}");
    for x in &v {
        let [s, e] = x.evidence.span.unwrap();
        assert_eq!(&title[s..e], x.evidence.text.as_deref().unwrap());
        assert!(!x.evidence.why.is_empty());
    }
    v
}

#[test]
fn look_alikes_are_caught_with_readable_evidence() {
    let v = check("Guссi bag new", &[18], Action::Reject);
    assert_eq!(v[0].evidence.text.as_deref(), Some("Guссi"));
    assert!(
        v[0].evidence
            .method
            .as_deref()
            .unwrap()
            .contains("homoglyph")
    );
    let v = check("N1ke running shoes", &[25], Action::Review);
    assert_eq!(v[0].evidence.method.as_deref(), Some("leet"));
    check("4didas superstar", &[25], Action::Review);
    let v = check("N.I.K.E air max", &[25], Action::Review);
    assert_eq!(v[0].evidence.text.as_deref(), Some("N.I.K.E"));
    check("N I K E air max", &[25], Action::Review);
    check("Niiike air max", &[25], Action::Review);
    check("Niike air max", &[25], Action::Review);
    check("Ni\u{200B}ke air max", &[25], Action::Reject);
    check("Nïke air max", &[25], Action::Review);
    // "guci" is an Indonesian word (a jar): not a look-alike by edit
    // distance alone, but a cue still raises it.
    check("Guci handbag", &[18], Action::Approve);
    check("Guci handbag replica", &[18], Action::Reject);
    check("Gucii handbag", &[18], Action::Review);
    let v = check("Balenciaha sneakers", &[25], Action::Review);
    assert!(
        v[0].evidence
            .method
            .as_deref()
            .unwrap()
            .contains("keyboard"),
        "{v:?}"
    );
    check("Adidsa shoes", &[25], Action::Review);
    check("Adi-das shoes", &[25], Action::Review);
    check("LouisVuitton bag", &[18], Action::Review);
    check("Louis Vuiton bag", &[18], Action::Review);
    check("nikeshoes sale", &[25], Action::Review);
    check("Ch@nel perfume", &[3], Action::Review);
}

#[test]
fn cues_brand_and_price() {
    let v = check("Nike Air Jordan 1 replica 1:1", &[25], Action::Reject);
    assert_eq!(v[0].kind, ViolationType::Counterfeit);
    assert!(v[0].evidence.cues.contains(&"replica".to_string()));
    check("iPhone 15 Pro Max 1:1 copy", &[9], Action::Reject);
    check("Gucci 高仿 包", &[18], Action::Reject);
    check("グッチ コピー品 財布", &[18], Action::Reject);
    check("Nike shoes, not a replica", &[25], Action::Review);
    let m = matcher();
    let mut l = listing("Running shoes", "US");
    l.brand = Some("Nike".into());
    l.price = Some(Money::new(9.0, "USD"));
    let (a, v) = screen(&m, &l, &[25]);
    assert_eq!(a, Action::Reject, "{v:#?}");
    assert_eq!(v[0].evidence.price_ratio, Some(0.15));
    l.price = Some(Money::new(1_000_000.0, "IDR"));
    let (a, _) = screen(&m, &l, &[25]);
    assert_eq!(a, Action::Review);
}

#[test]
fn honest_listings_are_approved() {
    for (t, nice) in [
        ("Silicone case for iPhone 15", &[9u8][..]),
        ("Screen protector compatible with Samsung Galaxy S23", &[9]),
        ("Charger for Apple iPhone 15 Pro", &[9]),
        ("iPhone 15 Pro用 ケース", &[9]),
        ("适用于iPhone15 手机壳", &[9]),
        ("Fresh apple pie", &[30]),
        ("Dove-shaped earrings", &[14]),
        ("Basics cotton t-shirt", &[25]),
        ("Channel letter sign", &[25]),
        ("Nike air max", &[9]),
        ("500ml bottle 3pcs", &[25]),
        ("Apple green dress", &[25]),
        ("Targetta running shoes", &[25]),
    ] {
        let m = matcher();
        let mut l = listing(t, "US");
        if t.starts_with("Targetta") {
            l.region = Region::parse("r", "GB").unwrap();
        }
        let (a, v) = screen(&m, &l, nice);
        assert_eq!(a, Action::Approve, "{t:?}: {v:#?}");
    }
    let m = matcher();
    let mut l = listing("Nike Air Max 90 replica", "US");
    l.shop_id = "shop-official".into();
    assert!(m.screen(&l, &[25]).is_empty());
}

#[test]
fn other_scripts_match() {
    check("耐克 运动鞋 高仿", &[25], Action::Reject);
    check("ナイキ スニーカー", &[25], Action::Review);
    check("Кроссовки Найк", &[25], Action::Review);
    check("รองเท้า ช้างศึก ของปลอม", &[25], Action::Reject);
    check("حذاء نايك تقليد", &[25], Action::Reject);
    check("삼성 갤럭시", &[9], Action::Review);
}

#[test]
fn order_of_rights_does_not_matter() {
    let mut r = rights();
    let a = MarkMatcher::build(&r, &TextConfig::default()).unwrap();
    r.reverse();
    let b = MarkMatcher::build(&r, &TextConfig::default()).unwrap();
    for t in ["Guссi N1ke Adidsa replica", "LV Louis Vuitton bag", "nike"] {
        let l = listing(t, "US");
        assert_eq!(a.screen(&l, &[18, 25]), b.screen(&l, &[18, 25]));
    }
}

#[test]
fn a_cue_next_to_a_plain_mark_does_not_raise_an_ordinary_word_of_another() {
    // "sell" is one edit from "Shell" and an English word: a counterfeit
    // cue could raise it, but here the cue ("fake") is Nike's, named
    // plainly in the same text.
    let mut rs = rights();
    rs.push(right("r-shell", "Shell", &[], &[4, 37], None));
    let m = MarkMatcher::build(&rs, &TextConfig::default()).unwrap();
    let honest_word = listing("these fake Nike sell out fast", "US");
    let v = m.screen(&honest_word, &[]);
    let ids: Vec<&str> = v.iter().map(|v| v.right_id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["r-nike"], "{v:#?}");
    // Without a plainly named mark the cue is the word's own, as before.
    let alone = listing("fake sell out fast", "US");
    let v = m.screen(&alone, &[]);
    assert!(
        v.iter().any(|v| v.right_id.as_deref() == Some("r-shell")),
        "{v:#?}"
    );
}
