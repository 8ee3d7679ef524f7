//! `shopshield demo`: a small marketplace built from real brand names
//! (simple-icons, CC0), screened end to end with the embedded store.

use std::path::Path;

use anyhow::{Result, bail};
use shopshield_app::{App, NewKey, Principal};
use shopshield_intake::JsonlReader;
use shopshield_model::{Action, Listing, NewRight, Role};

const RIGHTS: &str = include_str!("../data/demo/rights.jsonl");
const LISTINGS: &str = include_str!("../data/demo/listings.jsonl");
const QUALIFICATIONS: &str = include_str!("../data/demo/qualifications.jsonl");
/// A copyrighted product photo and a re-encoded, shrunk copy of it (Meta's
/// PDQ test images stand in for a brand's photo shoot).
const PHOTO: &[u8] =
    include_bytes!("../crates/pdq/tests/data/images/bridge-mods__square-256x256.jpg");
const PHOTO_COPY: &[u8] =
    include_bytes!("../crates/pdq/tests/data/images/bridge-mods__shrink-a-lot.jpg");

/// The Puma logo (simple-icons, CC0) and a product photo with it printed on
/// it (see data/demo/images/README.md).
const LOGO: &[u8] = include_bytes!("../data/demo/images/puma-logo.png");
const LOGO_PRINTED: &[u8] = include_bytes!("../data/demo/images/coaster-with-puma-print.jpg");

fn data_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let mime = if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "image/jpeg"
    };
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn parse<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for line in JsonlReader::<_, T>::new(text.as_bytes()) {
        match line.value {
            Ok(v) => out.push(v),
            Err(e) => bail!("demo data {name}:{}: {e}", line.number),
        }
    }
    Ok(out)
}

/// Pads to a display width (CJK characters take two columns).
fn pad(s: &str, width: usize) -> String {
    let w = unicode_width::UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

pub fn run(app: &App, data: &Path) -> Result<()> {
    let admin = Principal::operator("demo");
    let rights: Vec<NewRight> = parse("rights.jsonl", RIGHTS)?;
    let mut entries: Vec<(NewRight, Option<Vec<u8>>)> =
        rights.into_iter().map(|r| (r, None)).collect();
    let photo: NewRight = serde_json::from_value(serde_json::json!({
        "id": "r-nike-photo-1", "holder": "Nike (rights holder)", "kind": "copyright_image",
        "image": "demo photo", "regions": ["*"], "authorized_sellers": ["shop-nike-official"]
    }))?;
    entries.push((photo, Some(PHOTO.to_vec())));
    let logo: NewRight = serde_json::from_value(serde_json::json!({
        "id": "r-puma-logo", "holder": "Puma (rights holder)", "kind": "logo",
        "image": "demo logo", "nice_classes": [18, 21, 25, 28], "regions": ["*"],
        "authorized_sellers": ["shop-puma-official"]
    }))?;
    entries.push((logo, Some(LOGO.to_vec())));
    let (n, version) = app
        .registry()
        .import_rights(&admin, entries)
        .map_err(crate::classify)?;
    println!("shopshield demo: data in {}", data.display());
    println!(
        "registered {} word marks from simple-icons brand names, 1 logo and 1 copyrighted product photo (registry version {version})",
        n - 2
    );

    let quals: Vec<shopshield_model::Qualification> =
        parse("qualifications.jsonl", QUALIFICATIONS)?;
    for q in quals {
        app.screening()
            .put_qualification(&admin, q)
            .map_err(crate::classify)?;
    }
    println!(
        "{} policy packs in force ({}); seller qualifications on file for shop-paris-mode and shop-toyland\n",
        app.registry().policy().versions().len(),
        app.registry()
            .policy()
            .versions()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );

    let mut listings: Vec<Listing> = parse("listings.jsonl", LISTINGS)?;
    listings.push(serde_json::from_value(serde_json::json!({
        "id": "demo-044", "shop_id": "shop-lucky-deals", "region": "US", "category": "apparel/shoes",
        "title": "Running shoes, fast shipping", "price": {"amount": 35.0, "currency": "USD"},
        "images": [data_url(PHOTO_COPY)]
    }))?);
    listings.push(serde_json::from_value(serde_json::json!({
        "id": "demo-045", "shop_id": "shop-lucky-deals", "region": "DE", "category": "home/kitchen",
        "title": "Cork coaster, cat print", "price": {"amount": 4.0, "currency": "EUR"},
        "images": [data_url(LOGO_PRINTED)]
    }))?);
    let results = app
        .screening()
        .submit_batch(
            &admin,
            listings.clone(),
            shopshield_intake::ImageBase::DataOnly,
        )
        .map_err(crate::classify)?;
    let mut counts = [0usize; 3];
    println!(
        "{:<9} {:<3} {:<7} {:>5}  {:<50} why",
        "listing", "rgn", "action", "score", "title"
    );
    for (l, r) in listings.iter().zip(results) {
        let d = match r {
            Ok(s) => s.decision,
            Err(e) => {
                println!("{:<9} {:<3} ERROR   {e}", l.id, l.region);
                continue;
            }
        };
        counts[d.action as usize] += 1;
        let why = d
            .violations
            .first()
            .map(|v| {
                let e = &v.evidence;
                let what = v
                    .right_id
                    .as_deref()
                    .or(v.rule_id.as_deref())
                    .unwrap_or("-");
                match (&e.text, &e.field) {
                    (Some(t), Some(f)) => format!(
                        "{} {what}: \"{t}\" in {f} ({})",
                        v.kind.as_str(),
                        e.method.as_deref().unwrap_or("-")
                    ),
                    _ => format!("{} {what}: {}", v.kind.as_str(), clip(&e.why, 70)),
                }
            })
            .unwrap_or_else(|| "no violation found".into());
        let mark = match d.action {
            Action::Approve => "approve",
            Action::Review => "review",
            Action::Reject => "REJECT",
        };
        println!(
            "{:<9} {:<3} {:<7} {:>5.2}  {} {}",
            l.id,
            l.region,
            mark,
            d.score,
            pad(&clip(&l.title, 50), 50),
            why
        );
    }
    println!(
        "\n{} listings: {} approved, {} to review, {} rejected. Every decision is stored with its evidence.",
        listings.len(),
        counts[0],
        counts[1],
        counts[2]
    );
    let key = |role: Role, shop: Option<&str>, label: &str| {
        app.keys()
            .create(
                &admin,
                NewKey {
                    role: Some(role),
                    shop: shop.map(str::to_string),
                    label: label.to_string(),
                    ..NewKey::default()
                },
            )
            .map(|(secret, _)| secret)
            .map_err(crate::classify)
    };
    let admin_key = key(Role::Admin, None, "demo admin")?;
    let seller_key = key(Role::Seller, Some("shop-lucky-deals"), "demo seller")?;
    println!("\nAPI keys for this demo (shown once):");
    println!("  admin:                    {admin_key}");
    println!("  seller shop-lucky-deals:  {seller_key}");
    println!("Try, once the server is up:");
    println!(
        "  curl -s -H 'Authorization: Bearer {admin_key}' http://127.0.0.1:8080/v1/decisions/demo-002@v1"
    );
    println!(
        "  curl -s -H 'Authorization: Bearer {seller_key}' http://127.0.0.1:8080/v1/shops/shop-lucky-deals/listings"
    );
    Ok(())
}
