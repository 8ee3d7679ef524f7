//! Sweep benchmark: a catalogue of live listings in the SQLite store, a new
//! mark registered, and the time until every affected listing is taken
//! down (the sweep opened, the index looked up, the candidates screened
//! again, the decisions committed and handed to enforcement).
//!
//! ```sh
//! cargo run --release -p shopshield-app --example sweep_bench -- \
//!     --listings 1000000 --affected 10000 --marks 1000 --db /tmp/sweep-bench.db
//! ```
//!
//! The catalogue is built once through the screening service (every
//! listing screened and indexed as a real submission is) and kept in
//! `--db`; later runs reuse it with a fresh copy of the registry change
//! (each run registers a new mark of its own, so earlier takedowns do not
//! count again).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use shopshield_app::{App, AppConfig, AppError, Principal, SystemClock};
use shopshield_intake::ImageBase;
use shopshield_model::{Listing, NewRight};
use shopshield_store::{CatalogStore, SqliteStore};

struct Args {
    listings: usize,
    affected: usize,
    marks: usize,
    db: PathBuf,
}

fn args() -> Args {
    let mut a = Args {
        listings: 1_000_000,
        affected: 10_000,
        marks: 1_000,
        db: std::env::temp_dir().join("shopshield-sweep-bench.db"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--listings" => a.listings = v.parse().expect("--listings N"),
            "--affected" => a.affected = v.parse().expect("--affected N"),
            "--marks" => a.marks = v.parse().expect("--marks N"),
            "--db" => a.db = PathBuf::from(v),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// A deterministic pseudo-word: syllables from a small alphabet.
fn word(mut n: usize, syllables: usize) -> String {
    const ON: [&str; 16] = [
        "b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "ch",
    ];
    const NU: [&str; 6] = ["a", "e", "i", "o", "u", "ai"];
    let mut s = String::new();
    for _ in 0..syllables {
        s.push_str(ON[n % ON.len()]);
        n /= ON.len();
        s.push_str(NU[n % NU.len()]);
        n /= NU.len();
    }
    s
}

fn capital(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn right(id: &str, mark: &str) -> NewRight {
    serde_json::from_value(serde_json::json!({
        "id": id, "holder": "Bench Holder", "kind": "trademark", "mark": mark,
        "nice_classes": [25], "regions": ["*"],
        "price_floor": {"amount": 80.0, "currency": "USD"}
    }))
    .expect("valid right")
}

/// Listing `i`: generic words; every `stride`-th one a counterfeit of the
/// mark registered later (`TARGET` stands for it).
fn listing(i: usize, stride: usize, target: &str) -> Listing {
    let a = word(i.wrapping_mul(2_654_435_761) % 40_000, 3);
    let b = word((i / 7).wrapping_mul(40_503) % 40_000, 2);
    let title = if i.is_multiple_of(stride) {
        format!("{target} replica {a} sneakers 1:1 copy")
    } else {
        format!("{} {a} {b} walking shoe", capital(&word(i % 977, 2)))
    };
    serde_json::from_value(serde_json::json!({
        "id": format!("l-{i:08}"), "shop_id": format!("shop-{:06}", i % 200_000),
        "region": "US", "category": "apparel/shoes", "title": title,
        "price": {"amount": if i.is_multiple_of(stride) { 15.0 } else { 60.0 }, "currency": "USD"}
    }))
    .expect("valid listing")
}

fn main() {
    let a = args();
    let op = Principal::operator("bench");
    let fresh = !a.db.exists();
    let store = Arc::new(SqliteStore::open(&a.db).expect("open the store"));
    let app = App::new(store.clone(), AppConfig::default(), Arc::new(SystemClock)).expect("app");
    let stride = (a.listings / a.affected.max(1)).max(1);
    // The mark each run registers: a word no generated listing has, except
    // the counterfeits written with it.
    let target = "Zorbexa";
    if fresh {
        let marks: Vec<(NewRight, Option<Vec<u8>>)> = (0..a.marks)
            .map(|i| {
                (
                    right(&format!("m-{i}"), &capital(&word(i + 90_000, 3))),
                    None,
                )
            })
            .collect();
        app.registry()
            .import_rights(&op, marks)
            .expect("import marks");
        // Sweep what the import opened (nothing is listed yet).
        app.sweeps().run_now(&op, None).expect("initial sweep");
        let start = Instant::now();
        let batch = 4_096;
        let mut i = 0;
        let (mut refused, mut refused_affected) = (0usize, 0usize);
        while i < a.listings {
            let end = (i + batch).min(a.listings);
            let ls: Vec<Listing> = (i..end).map(|j| listing(j, stride, target)).collect();
            let out = app
                .screening()
                .submit_batch(&op, ls, ImageBase::DataOnly)
                .expect("screen a batch");
            // A shop deactivated by penalties earlier in the build has its
            // later listings refused, as the server would refuse them; they
            // are counted, and anything else stops the build.
            for (j, r) in (i..end).zip(&out) {
                match r {
                    Ok(_) => {}
                    Err(e @ AppError::Forbidden(_)) => {
                        if refused == 0 {
                            eprintln!("first refusal: listing {j}: {e}");
                        }
                        refused += 1;
                        refused_affected += usize::from(j.is_multiple_of(stride));
                    }
                    Err(e) => panic!("listing {j}: {e}"),
                }
            }
            i = end;
            if i % 100_000 < batch {
                eprintln!(
                    "catalogue: {i} listings ({:.0}s)",
                    start.elapsed().as_secs_f64()
                );
            }
        }
        eprintln!(
            "catalogue built: {} listings in {:.1}s ({refused} refused by penalties, {refused_affected} of them counterfeits of the new mark)",
            a.listings,
            start.elapsed().as_secs_f64()
        );
    }
    let run = std::process::id();
    let right_id = format!("target-{run}");
    // Each run's mark must be new: a right with the same mark disabled by
    // an earlier run is re-registered under a new id. Earlier runs' target
    // rights are disabled first, outside the timing, so their takedowns do
    // not stand in the way (they were removed already; a disabled right
    // sends them back to review).
    for r in app.registry().rights(&op, None).expect("rights") {
        if r.id.starts_with("target-") && r.enabled {
            app.registry()
                .set_right_enabled(&op, &r.id, false)
                .expect("disable");
        }
    }
    app.sweeps()
        .run_now(&op, None)
        .expect("earlier runs' sweeps");
    let decisions_before = store.decisions_end().expect("decisions");

    let start = Instant::now();
    app.registry()
        .import_rights(&op, vec![(right(&right_id, target), None)])
        .expect("register the new mark");
    let registered = start.elapsed();
    let report = app.sweeps().run_now(&op, None).expect("sweep");
    let total = start.elapsed();
    let c = report.counts;
    let decisions_after = store.decisions_end().expect("decisions");
    println!(
        "{{\"listings\":{},\"affected_expected\":{},\"looked_at\":{},\"rescreened\":{},\"taken_down\":{},\"to_review\":{},\"decisions_stored\":{},\"register_ms\":{},\"total_ms\":{}}}",
        a.listings,
        a.listings.div_ceil(stride),
        c.looked_at,
        c.rescreened,
        c.taken_down,
        c.to_review,
        decisions_after - decisions_before,
        registered.as_millis(),
        total.as_millis()
    );
}
