//! Throughput of the PostgreSQL store against the SQLite store, on the same
//! generated data in one run, and what the statement cache saves.
//!
//! ```text
//! cargo run --release -p shopshield-postgres --example store_bench -- [batches] [rounds]
//! ```
//!
//! Needs a PostgreSQL server: `postgres://postgres@127.0.0.1:5432` or the
//! URL (without database) in `SHOPSHIELD_TEST_PG`. Each PostgreSQL store
//! gets a fresh database `shopshield_bench_<random>`, dropped at the end;
//! the SQLite store a file in a temporary directory (WAL, fsync on
//! commit, as deployed; the PostgreSQL server's own fsync settings are
//! printed).
//!
//! Measured, per store:
//! * `record_screenings` in batches of 512 new listings, then 512 next
//!   versions of them (the update path);
//! * `record_screenings` of one listing at a time (statement-bound);
//! * `latest_listing` point reads;
//! * for PostgreSQL, how long after another store's commit a waiting
//!   change feed wakes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use postgres::{Client, NoTls};
use shopshield_model::{
    Action, Decision, Evidence, Listing, NewRight, Right, RightsHolder, Violation, ViolationType,
};
use shopshield_postgres::{PgOptions, PgStore};
use shopshield_store::{ChangeFeed, RegistryStore, RightRecord, Screened, SqliteStore, Store};

const BATCH: usize = 512;

fn server() -> String {
    let url = std::env::var("SHOPSHIELD_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let start = url.find("://").map_or(0, |i| i + 3);
    match url[start..].find('/') {
        Some(slash) => url[..start + slash].to_string(),
        None => url,
    }
}

struct BenchDb {
    name: String,
    url: String,
}

impl BenchDb {
    fn create() -> Result<BenchDb, Box<dyn std::error::Error>> {
        let name = format!("shopshield_bench_{:016x}", rand::random::<u64>());
        let mut admin = Client::connect(&format!("{}/postgres", server()), NoTls)?;
        admin.batch_execute(&format!(
            "CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"
        ))?;
        Ok(BenchDb {
            url: format!("{}/{name}", server()),
            name,
        })
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        let dropped =
            Client::connect(&format!("{}/postgres", server()), NoTls).and_then(|mut c| {
                c.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    self.name
                ))
            });
        if let Err(e) = dropped {
            eprintln!("could not drop {}: {e}", self.name);
        }
    }
}

const WORDS: &[&str] = &[
    "running", "shoes", "leather", "wallet", "vintage", "cotton", "hoodie", "wireless", "earbuds",
    "ceramic", "mug", "handmade", "silver", "ring", "kids", "backpack", "travel", "organic", "tea",
    "set", "phone", "case", "sports", "watch", "linen", "dress",
];

/// A listing and its decision, shaped like the gate's output: a third are
/// reviewed or rejected with a violation and its evidence.
fn screened(i: usize, version: u32) -> Screened {
    let w = |k: usize| WORDS[(i * 7 + k * 13 + version as usize) % WORDS.len()];
    let id = format!("listing-{i:07}");
    let title = format!("{} {} {} {}", w(0), w(1), w(2), w(3));
    let region = ["US", "GB", "DE", "FR"][i % 4];
    let listing: Listing = serde_json::from_value(serde_json::json!({
        "id": id,
        "shop_id": format!("shop-{:04}", i % 997),
        "region": region,
        "category": "apparel/shoes",
        "title": title,
        "description": format!("{} {} {} {} {} {} {} {}, ships in two days.",
            w(4), w(5), w(6), w(7), w(8), w(9), w(10), w(11)),
        "brand": w(12),
        "price": {"amount": 10.99 + (i % 90) as f64, "currency": "USD"},
        "images": [format!("images/{i}.jpg")]
    }))
    .unwrap_or_else(|e| panic!("listing: {e}"));
    let action = [
        Action::Approve,
        Action::Approve,
        Action::Review,
        Action::Reject,
    ][i % 4];
    let violations = if action == Action::Approve {
        vec![]
    } else {
        vec![Violation {
            kind: ViolationType::Trademark,
            right_id: Some(format!("right-{}", i % 50)),
            rule_id: None,
            detector: "text".into(),
            confidence: 0.93,
            evidence: Evidence {
                field: Some("title".into()),
                span: Some([0, 7]),
                text: Some(w(0).into()),
                mark: Some("Mark".into()),
                method: Some("edit distance 1".into()),
                why: "The title uses a registered mark one letter away.".into(),
                ..Evidence::default()
            },
        }]
    };
    Screened {
        content_hash: listing.content_hash(),
        terms: Vec::new(),
        decision: Decision {
            id: id.clone(),
            decision_id: Decision::decision_id(&id, version),
            listing_version: version,
            action,
            score: if action == Action::Approve { 0.0 } else { 0.93 },
            violations,
            registry_version: 7,
            policy_versions: BTreeMap::from([("global".to_string(), "3".to_string())]),
            decided_at: Utc
                .with_ymd_and_hms(2026, 6, 1, 12, 0, 0)
                .single()
                .unwrap_or_default()
                + chrono::Duration::seconds(i as i64),
            source: Default::default(),
            cause: None,
        },
        listing,
        version,
    }
}

struct Stores {
    names: Vec<&'static str>,
    stores: Vec<Box<dyn Store>>,
    _keep: (Vec<BenchDb>, tempfile::TempDir),
}

fn open(pool_size: u32) -> Result<Stores, Box<dyn std::error::Error>> {
    let cached = BenchDb::create()?;
    let uncached = BenchDb::create()?;
    let dir = tempfile::tempdir()?;
    let pg = |db: &BenchDb, cache: bool| {
        PgStore::connect_with(
            &db.url,
            &PgOptions {
                pool_size,
                statement_cache: cache,
                ..PgOptions::default()
            },
        )
    };
    let stores: Vec<Box<dyn Store>> = vec![
        Box::new(pg(&cached, true)?),
        Box::new(pg(&uncached, false)?),
        Box::new(SqliteStore::open(&dir.path().join("bench.db"))?),
    ];
    Ok(Stores {
        names: vec!["postgres, cached", "postgres, uncached", "sqlite file"],
        stores,
        _keep: (vec![cached, uncached], dir),
    })
}

/// Per store: median seconds per call of `f(store, round)` over `rounds`
/// calls. The stores take turns, each round starting with the next one,
/// so changes in load (and one store's fsync slowing the next) hit them
/// alike.
fn measure(stores: &Stores, rounds: usize, mut f: impl FnMut(&dyn Store, usize)) -> Vec<f64> {
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); stores.stores.len()];
    for round in 0..rounds {
        let n = stores.stores.len();
        for k in 0..n {
            let s = (round + k) % n;
            let start = Instant::now();
            f(stores.stores[s].as_ref(), round);
            times[s].push(start.elapsed().as_secs_f64());
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect()
}

fn report(title: &str, stores: &Stores, per_call: &[f64], items_per_call: usize, unit: &str) {
    println!("\n{title}");
    println!(
        "  {:<20} {:>14} {:>16} {:>22}",
        "store",
        "ms per call",
        format!("{unit}/s"),
        "time vs postgres cached"
    );
    for (name, t) in stores.names.iter().zip(per_call) {
        println!(
            "  {:<20} {:>14.3} {:>16.0} {:>21.2}x",
            name,
            t * 1e3,
            items_per_call as f64 / t,
            t / per_call[0]
        );
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let batches = args.first().copied().unwrap_or(20).max(2);
    let singles = args.get(1).copied().unwrap_or(300).max(10);

    let mut admin = Client::connect(&format!("{}/postgres", server()), NoTls)?;
    let setting = |c: &mut Client, name: &str| -> Result<String, postgres::Error> {
        c.query_one("SELECT current_setting($1)", &[&name])
            .map(|r| r.get(0))
    };
    println!(
        "PostgreSQL {} (fsync={}, synchronous_commit={}), SQLite WAL synchronous=FULL; \
         {} cores, load average {}",
        setting(&mut admin, "server_version")?,
        setting(&mut admin, "fsync")?,
        setting(&mut admin, "synchronous_commit")?,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .unwrap_or("?"),
    );

    let stores = open(4)?;
    // Warm-up: schema pages, statements, the allocator.
    for store in &stores.stores {
        let warm: Vec<Screened> = (0..BATCH).map(|i| screened(9_000_000 + i, 1)).collect();
        store.record_screenings(&warm)?;
    }
    let docs: usize = (0..BATCH)
        .map(|i| {
            let s = screened(i, 1);
            serde_json::to_string(&s.listing).map_or(0, |d| d.len())
                + serde_json::to_string(&s.decision).map_or(0, |d| d.len())
        })
        .sum();
    println!(
        "batches of {BATCH}: {} bytes of documents per batch on average",
        docs
    );

    let new = measure(&stores, batches, |store, round| {
        let batch: Vec<Screened> = (0..BATCH).map(|i| screened(round * BATCH + i, 1)).collect();
        if let Err(e) = store.record_screenings(&batch) {
            panic!("{}: {e}", store.backend());
        }
    });
    report(
        &format!("record_screenings, {batches} batches of {BATCH} new listings (median batch)"),
        &stores,
        &new,
        BATCH,
        "listings",
    );

    let next = measure(&stores, batches, |store, round| {
        let batch: Vec<Screened> = (0..BATCH).map(|i| screened(round * BATCH + i, 2)).collect();
        if let Err(e) = store.record_screenings(&batch) {
            panic!("{}: {e}", store.backend());
        }
    });
    report(
        &format!("record_screenings, {batches} batches of {BATCH} next versions (median batch)"),
        &stores,
        &next,
        BATCH,
        "listings",
    );

    let base = 5_000_000;
    let one = measure(&stores, singles, |store, round| {
        if let Err(e) = store.record_screenings(&[screened(base + round, 1)]) {
            panic!("{}: {e}", store.backend());
        }
    });
    report(
        &format!("record_screenings, {singles} batches of 1 (median)"),
        &stores,
        &one,
        1,
        "listings",
    );

    let stored = batches * BATCH;
    let reads = measure(&stores, singles * 10, |store, round| {
        let id = format!("listing-{:07}", (round * 7919) % stored);
        match store.latest_listing(&id) {
            Ok(Some(l)) if l.version == 2 => {}
            other => panic!("{}: {other:?}", store.backend()),
        }
    });
    report(
        &format!("latest_listing, {} point reads (median)", singles * 10),
        &stores,
        &reads,
        1,
        "reads",
    );

    // The change feed: how long after a commit the other store wakes.
    let db = BenchDb::create()?;
    let writer = PgStore::connect(&db.url)?;
    let waiter = PgStore::connect(&db.url)?;
    writer.insert_holder(&RightsHolder {
        id: "h".into(),
        name: "H".into(),
        created_at: Utc::now(),
    })?;
    waiter.wait_registry_change(0, Duration::from_millis(10))?;
    let listening_by = Instant::now() + Duration::from_secs(30);
    while !waiter.feed_listening() {
        if Instant::now() > listening_by {
            return Err("the change feed's listener did not connect".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut wakes = Vec::new();
    for round in 1..=50u64 {
        let woke = std::thread::scope(|s| {
            let w = s.spawn(|| {
                let v = waiter.wait_registry_change(round - 1, Duration::from_secs(30));
                (v, Instant::now())
            });
            std::thread::sleep(Duration::from_millis(20));
            let new: NewRight = serde_json::from_value(serde_json::json!({
                "id": format!("r{round}"), "holder": "h", "kind": "trademark",
                "mark": format!("Mark{round}"), "nice_classes": [25], "regions": ["*"]
            }))
            .unwrap_or_else(|e| panic!("right: {e}"));
            let rec = RightRecord::plain(Right::from_new(new, "h".into(), Utc::now()));
            if let Err(e) = writer.insert_right(&rec) {
                panic!("insert_right: {e}");
            }
            let committed = Instant::now();
            let (v, at) = w.join().unwrap_or_else(|_| panic!("waiter panicked"));
            match v {
                Ok(v) if v == round => {}
                other => panic!("feed: {other:?}"),
            }
            at.saturating_duration_since(committed)
        });
        wakes.push(woke.as_secs_f64() * 1e3);
    }
    wakes.sort_by(f64::total_cmp);
    println!(
        "\nchange feed: another store's commit woke the waiter after {:.2} ms (median), \
         {:.2} ms (worst of {})",
        wakes[wakes.len() / 2],
        wakes[wakes.len() - 1],
        wakes.len()
    );
    Ok(())
}
