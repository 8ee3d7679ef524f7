//! The rescreen seam: which rules changed, which listings to look at again.

use shopshield_model::{Listing, Taxonomy};
use shopshield_policy::{ChangeKind, PolicySet, listings_to_rescreen, run_cases};

const V1: &str = r#"
[pack]
name = "global"
scope = "*"
version = "1"

[[rule]]
id = "g.guns"
kind = "prohibited"
categories = ["*"]
keywords = ["gun"]
exceptions = ["water gun"]
citation = "platform policy"

[[rule]]
id = "g.ivory"
kind = "prohibited"
categories = ["*"]
keywords = ["real ivory"]
citation = "CITES"
"#;

const SG: &str = r#"
[pack]
name = "sg"
scope = "SG"
version = "1"

[[rule]]
id = "sg.gum"
kind = "prohibited"
categories = ["food/*"]
keywords = ["chewing gum"]
citation = "Chewing Gum Regulations"
"#;

fn l(id: &str, region: &str, cat: &str, title: &str) -> Listing {
    serde_json::from_value(serde_json::json!({
        "id": id, "shop_id": "s", "region": region, "category": cat, "title": title
    }))
    .unwrap()
}

#[test]
fn diff_and_rescreen() {
    let t = Taxonomy::builtin();
    let old = PolicySet::from_sources(&[("global.toml", V1), ("sg.toml", SG)], &t).unwrap();
    // Staff add an exception to g.guns, drop g.ivory and add a wine rule in SG.
    let v2 = V1
        .replace("version = \"1\"", "version = \"2\"")
        .replace("[\"water gun\"]", "[\"water gun\", \"glue gun\"]")
        .replace(
            "[[rule]]\nid = \"g.ivory\"\nkind = \"prohibited\"\ncategories = [\"*\"]\nkeywords = [\"real ivory\"]\ncitation = \"CITES\"\n",
            "",
        );
    let sg2 = format!(
        "{SG}\n[[rule]]\nid = \"sg.wine\"\nkind = \"restricted\"\nqualification = \"alcohol-licence\"\ncategories = [\"alcohol/beverages\"]\nmatch_categories = [\"alcohol/beverages\"]\ncitation = \"c\"\n"
    );
    let new = PolicySet::from_sources(
        &[("global.toml", v2.as_str()), ("sg.toml", sg2.as_str())],
        &t,
    )
    .unwrap();
    let changes = old.diff(&new);
    let summary: Vec<(&str, ChangeKind)> = changes
        .iter()
        .map(|c| (c.rule_id.as_str(), c.change))
        .collect();
    assert_eq!(
        summary,
        [
            ("g.guns", ChangeKind::Modified),
            ("g.ivory", ChangeKind::Removed),
            ("sg.wine", ChangeKind::Added),
        ]
    );
    assert!(old.diff(&old).is_empty());

    let listings = [
        l("a", "US", "tools/hardware", "Hot glue gun"),
        l("b", "US", "home/kitchen", "Teapot"),
        l("c", "FR", "home/furniture", "Real ivory box"),
        l("d", "SG", "alcohol/beverages", "Shiraz 750ml"),
        l("e", "TH", "alcohol/beverages", "Shiraz 750ml"),
        l("f", "SG", "food/groceries", "Chewing gum"),
    ];
    let ids = listings_to_rescreen(&changes, &old, &new, listings.iter());
    assert_eq!(ids, ["a", "c", "d"]);
    // No change, no rescreen.
    assert!(listings_to_rescreen(&[], &old, &new, listings.iter()).is_empty());
}

#[test]
fn shipped_pack_edit_touches_only_its_region() {
    let t = Taxonomy::builtin();
    let old = PolicySet::builtin(&t).unwrap();
    let (_, sg_text) = old.sources().iter().find(|(f, _)| f == "sg.toml").unwrap();
    let edited = sg_text.replace("\"bubblegum\",", "\"bubblegum\", \"gum pellets\",");
    let new = old.with_pack("sg.toml", &edited, &t).unwrap();
    let changes = old.diff(&new);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].rule_id, "sg.chewing-gum");
    let listings = [
        l("sg-gum", "SG", "food/groceries", "Mint gum pellets"),
        l("my-gum", "MY", "food/groceries", "Mint gum pellets"),
        l("sg-tea", "SG", "food/groceries", "Green tea"),
    ];
    assert_eq!(
        listings_to_rescreen(&changes, &old, &new, listings.iter()),
        ["sg-gum"]
    );
}

#[test]
fn case_report_explains_failures() {
    let t = Taxonomy::builtin();
    let set = PolicySet::from_sources(&[("global.toml", V1)], &t).unwrap();
    let cases = r#"
# comment
{"name":"gun","listing":{"id":"1","shop_id":"s","region":"US","category":"toys/toys","title":"Gun"},"expect":"reject","rules":["g.guns"]}
{"name":"wrong","listing":{"id":"2","shop_id":"s","region":"US","category":"toys/toys","title":"Water gun"},"expect":"reject"}
not json
"#;
    let now = chrono::Utc::now();
    let r = run_cases(&set, cases, now);
    assert_eq!((r.passed(), r.failed()), (1, 2));
    assert!(!r.ok());
    let text = r.to_string();
    assert!(text.contains("PASS line 3: gun (reject)"), "{text}");
    assert!(text.contains("FAIL line 4: wrong (approve)"), "{text}");
    assert!(text.contains("expected reject, got approve"), "{text}");
    assert!(text.contains("FAIL line 5: (unreadable case)"), "{text}");
    assert!(text.ends_with("1 passed, 2 failed"), "{text}");
}
