//! Broken packs are refused with file, line, rule id and reason, and change
//! nothing.

use chrono::{TimeZone, Utc};
use shopshield_model::{Listing, Taxonomy};
use shopshield_policy::{PackIssue, PolicyError, PolicySet};

const GOOD: &str = r#"
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
"#;

fn issues(sources: &[(&str, &str)]) -> Vec<PackIssue> {
    match PolicySet::from_sources(sources, &Taxonomy::builtin()) {
        Ok(_) => panic!("accepted a broken pack"),
        Err(PolicyError::Invalid(v)) => v,
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn one(text: &str) -> PackIssue {
    let v = issues(&[("x.toml", text)]);
    assert_eq!(v.len(), 1, "{v:?}");
    v.into_iter().next().unwrap()
}

fn rule(body: &str) -> String {
    format!("[pack]\nname = \"x\"\nscope = \"SG\"\nversion = \"1\"\n\n[[rule]]\n{body}\n")
}

#[test]
fn good_pack_loads() {
    let s = PolicySet::from_sources(&[("global.toml", GOOD)], &Taxonomy::builtin()).unwrap();
    assert_eq!(s.packs()[0].rules[0].line, 7);
}

#[test]
fn unknown_category_names_file_line_and_rule() {
    let i = one(&rule(
        "id = \"x.a\"\nkind = \"prohibited\"\ncategories = [\"toys/toys\", \"cars/boats\"]\nkeywords = [\"gun\"]\ncitation = \"c\"",
    ));
    assert_eq!(i.file, "x.toml");
    assert_eq!(i.line, 9);
    assert_eq!(i.rule_id.as_deref(), Some("x.a"));
    assert!(
        i.reason.contains("unknown category \"cars/boats\""),
        "{}",
        i.reason
    );
    assert!(i.to_string().starts_with("x.toml:9: rule x.a: "), "{i}");
}

#[test]
fn bad_patterns_are_refused() {
    for (kw, why) in [
        ("\"ve*pe\"", "'*' may only stand"),
        ("\"--\"", "no letters or digits"),
        ("\"x\"", "single letter"),
        ("\"*ab\"", "wildcard needs"),
    ] {
        let i = one(&rule(&format!(
            "id = \"x.a\"\nkind = \"prohibited\"\ncategories = [\"*\"]\nkeywords = [\"fine\", {kw}]\ncitation = \"c\""
        )));
        assert!(
            i.reason.contains("bad keyword pattern"),
            "{kw}: {}",
            i.reason
        );
        assert!(i.reason.contains(why), "{kw}: {}", i.reason);
        assert_eq!(i.line, 10);
    }
}

#[test]
fn empty_rule_is_refused() {
    let i = one(&rule(
        "id = \"x.a\"\nkind = \"prohibited\"\ncategories = [\"*\"]\ncitation = \"c\"",
    ));
    assert!(i.reason.contains("empty rule"), "{}", i.reason);
    assert_eq!(i.line, 6);
}

#[test]
fn duplicate_ids_are_refused_within_and_across_packs() {
    let body = "id = \"x.a\"\nkind = \"prohibited\"\ncategories = [\"*\"]\nkeywords = [\"gun\"]\ncitation = \"c\"";
    let text = format!("{}\n[[rule]]\n{body}\n", rule(body));
    let i = one(&text);
    assert!(i.reason.contains("duplicate rule id"), "{}", i.reason);
    assert_eq!(i.line, 13);

    let other = rule(body)
        .replace("name = \"x\"", "name = \"y\"")
        .replace("\"SG\"", "\"TH\"");
    let v = issues(&[("x.toml", &rule(body)), ("y.toml", &other)]);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].file, "y.toml");
    assert!(
        v[0].reason.contains("also in x.toml line 6"),
        "{}",
        v[0].reason
    );
}

#[test]
fn restricted_rule_needs_its_qualification_and_prohibited_cannot_have_one() {
    let i = one(&rule(
        "id = \"x.a\"\nkind = \"restricted\"\ncategories = [\"*\"]\nkeywords = [\"gun\"]\ncitation = \"c\"",
    ));
    assert!(i.reason.contains("qualification"), "{}", i.reason);
    let i = one(&rule(
        "id = \"x.a\"\nkind = \"prohibited\"\nqualification = \"q\"\ncategories = [\"*\"]\nkeywords = [\"gun\"]\ncitation = \"c\"",
    ));
    assert!(
        i.reason.contains("cannot name a qualification"),
        "{}",
        i.reason
    );
}

#[test]
fn missing_citation_bad_kind_and_dates_are_refused() {
    let v = issues(&[(
        "x.toml",
        &rule(
            "id = \"x.a\"\nkind = \"banned\"\ncategories = [\"*\"]\nkeywords = [\"gun\"]\neffective_from = 2026-01-01\neffective_until = 2025-01-01",
        ),
    )]);
    let all: Vec<String> = v.iter().map(|i| i.reason.clone()).collect();
    assert!(all.iter().any(|r| r.contains("kind \"banned\"")), "{all:?}");
    assert!(all.iter().any(|r| r.contains("citation")), "{all:?}");
}

#[test]
fn toml_syntax_errors_have_a_line() {
    let i = one(
        "[pack]\nname = \"x\"\nscope = \"SG\"\nversion = \"1\"\n\n[[rule]]\nid = \"x.a\nkind = 1\n",
    );
    assert_eq!(i.line, 7, "{i}");
    let i = one("[pack]\nname = \"x\"\nscope = \"SG\"\nversion = \"1\"\nowner = \"me\"\n");
    assert!(i.reason.contains("owner"), "{i}");
}

#[test]
fn scope_and_replacement_are_checked_across_packs() {
    let sg = rule(
        "id = \"sg.a\"\nkind = \"prohibited\"\ncategories = [\"*\"]\nkeywords = [\"gun\"]\ncitation = \"c\"\nreplaces = [\"g.nope\"]",
    );
    let v = issues(&[("global.toml", GOOD), ("x.toml", &sg)]);
    assert!(v[0].reason.contains("replaces unknown rule"), "{v:?}");
    let bad_scope = GOOD.replace("scope = \"*\"", "scope = \"XX\"");
    assert!(
        issues(&[("g.toml", &bad_scope)])[0]
            .reason
            .contains("scope \"XX\"")
    );
    let twice = GOOD
        .replace("name = \"global\"", "name = \"other\"")
        .replace("g.guns", "g.guns2");
    let v = issues(&[("global.toml", GOOD), ("other.toml", &twice)]);
    assert!(v[0].reason.contains("already has a pack"), "{v:?}");
}

#[test]
fn a_broken_pack_on_disk_changes_nothing() {
    let t = Taxonomy::builtin();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("global.toml"), GOOD).unwrap();
    let live = PolicySet::load_dir(dir.path(), &t).unwrap();
    let l: Listing = serde_json::from_value(serde_json::json!({
        "id": "l", "shop_id": "s", "region": "SG", "category": "toys/toys", "title": "Gun replica"
    }))
    .unwrap();
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let before = live.screen(&l, &[], now);
    assert_eq!(before.violations.len(), 1);

    // Staff save a pack with an unknown category: the reload is refused...
    std::fs::write(
        dir.path().join("sg.toml"),
        rule("id = \"sg.a\"\nkind = \"prohibited\"\ncategories = [\"cars/boats\"]\nkeywords = [\"gun\"]\ncitation = \"c\""),
    )
    .unwrap();
    let err = PolicySet::load_dir(dir.path(), &t).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("sg.toml:9: rule sg.a: unknown category"),
        "{msg}"
    );
    // ...and the set in force is untouched.
    assert_eq!(live.screen(&l, &[], now), before);

    // An empty directory is an error too, not an empty policy.
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        PolicySet::load_dir(empty.path(), &t),
        Err(PolicyError::NoPacks(_))
    ));
}

#[test]
fn with_pack_tries_an_edit_without_touching_the_set() {
    let t = Taxonomy::builtin();
    let set = PolicySet::from_sources(&[("global.toml", GOOD)], &t).unwrap();
    let edited = GOOD.replace("version = \"1\"", "version = \"2\"");
    let next = set.with_pack("global.toml", &edited, &t).unwrap();
    assert!(next.versions()["global"].starts_with("2+"));
    assert!(set.versions()["global"].starts_with("1+"));
    assert!(set.with_pack("global.toml", "not toml [", &t).is_err());
}

#[test]
fn bad_weak_in_scopes_name_file_line_and_rule() {
    let i = one(&rule(
        "id = \"x.r\"\nkind = \"prohibited\"\ncategories = [\"*\"]\nweak_in = [\"apparel/*\", \"apparel/socks\"]\nkeywords = [\"dynamite\"]\ncitation = \"c\"",
    ));
    assert_eq!((i.file.as_str(), i.line), ("x.toml", 10));
    assert_eq!(i.rule_id.as_deref(), Some("x.r"));
    assert!(
        i.reason.contains("unknown category \"apparel/socks\""),
        "{i:?}"
    );

    let i = one(&rule(
        "id = \"x.r\"\nkind = \"prohibited\"\ncategories = [\"apparel/clothing\"]\nweak_in = [\"apparel/clothing\"]\nkeywords = [\"gin\"]\ncitation = \"c\"",
    ));
    assert_eq!(i.line, 10);
    assert!(i.reason.contains("both categories and weak_in"), "{i:?}");

    let i = one(&rule(
        "id = \"x.r\"\nkind = \"prohibited\"\ncategories = [\"*\"]\nweak_in = [\"*\"]\nkeywords = [\"gin\"]\ncitation = \"c\"",
    ));
    assert!(i.reason.contains("weak_in = [\"*\"]"), "{i:?}");
}

#[test]
fn weak_in_makes_one_keyword_weak_and_two_a_review() {
    let pack = rule(
        "id = \"x.explosives\"\nkind = \"prohibited\"\ncategories = [\"*\"]\nweak_in = [\"apparel/*\"]\nkeywords = [\"dynamite\", \"detonator\"]\ncitation = \"platform policy\"",
    );
    let set = PolicySet::from_sources(&[("x.toml", pack.as_str())], &Taxonomy::builtin())
        .unwrap_or_else(|e| panic!("{e}"));
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let screen = |cat: &str, title: &str| {
        let l: Listing = serde_json::from_value(serde_json::json!({
            "id": "l", "shop_id": "s", "region": "SG", "category": cat, "title": title
        }))
        .unwrap();
        set.screen(&l, &[], now)
    };
    let o = screen("apparel/accessories", "Dynamite leather belt");
    assert_eq!(o.violations.len(), 1);
    assert_eq!(
        o.action(0.5, 0.85),
        shopshield_model::Action::Approve,
        "{o:?}"
    );
    assert!(o.violations[0].evidence.why.contains("weak evidence"));
    let o = screen("apparel/accessories", "Dynamite belt with detonator");
    assert_eq!(o.action(0.5, 0.85), shopshield_model::Action::Review);
    let o = screen("tools/hardware", "Dynamite sticks");
    assert_eq!(o.action(0.5, 0.85), shopshield_model::Action::Reject);
}
