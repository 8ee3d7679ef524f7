//! `shopshield demo`: a small marketplace built from real brand names
//! (simple-icons, CC0), screened end to end with the embedded store.

use std::path::Path;

use anyhow::{Result, bail};
use shopshield_app::{App, Principal};
use shopshield_intake::JsonlReader;
use shopshield_model::{Action, Listing, NewRight, Role};

const RIGHTS: &str = include_str!("../data/demo/rights.jsonl");
const LISTINGS: &str = include_str!("../data/demo/listings.jsonl");

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
    let admin = Principal::admin("demo");
    let rights: Vec<NewRight> = parse("rights.jsonl", RIGHTS)?;
    let (n, version) = app
        .import_rights(&admin, rights.into_iter().map(|r| (r, None)).collect())
        .map_err(crate::classify)?;
    println!("shopshield demo: data in {}", data.display());
    println!(
        "registered {n} word marks from simple-icons brand names (registry version {version})\n"
    );

    let listings: Vec<Listing> = parse("listings.jsonl", LISTINGS)?;
    let results = app
        .submit_batch(
            &admin,
            listings.clone(),
            shopshield_intake::ImageBase::DataOnly,
        )
        .map_err(crate::classify)?;
    let mut counts = [0usize; 3];
    println!(
        "{:<9} {:<3} {:<7} {:>5}  {:<58} why",
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
                format!(
                    "{} {} \"{}\" in {} ({})",
                    v.kind.as_str(),
                    v.right_id
                        .as_deref()
                        .or(v.rule_id.as_deref())
                        .unwrap_or("-"),
                    e.text.as_deref().unwrap_or(""),
                    e.field.as_deref().unwrap_or("-"),
                    e.method.as_deref().unwrap_or("-"),
                )
            })
            .unwrap_or_else(|| "no violation found".into());
        let mark = match d.action {
            Action::Approve => "approve",
            Action::Review => "review",
            Action::Reject => "REJECT",
        };
        println!(
            "{:<9} {:<3} {:<7} {:>5.2}  {:<58} {}",
            l.id,
            l.region,
            mark,
            d.score,
            clip(&l.title, 58),
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
    let (admin_key, _) = app
        .create_key(Role::Admin, None, None, "demo admin")
        .map_err(crate::classify)?;
    let (seller_key, _) = app
        .create_key(
            Role::Seller,
            None,
            Some("shop-lucky-deals".into()),
            "demo seller",
        )
        .map_err(crate::classify)?;
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
