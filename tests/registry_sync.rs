//! A right imported by another process is in force in a running server
//! within one second, on SQLite (the server polls the registry version)
//! and on PostgreSQL (the importer's commit notifies the server), for the
//! text engine and the image banks both.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shopshield"));
    c.env_remove("SHOPSHIELD_DATA")
        .env_remove("SHOPSHIELD_CONFIG")
        .env_remove("SHOPSHIELD_STORE");
    c
}

fn cli(data: &Path, store: Option<&str>, args: &[&str]) -> String {
    let mut c = bin();
    c.arg("--data").arg(data);
    if let Some(s) = store {
        c.args(["--store", s]);
    }
    let out = c.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path, store: Option<&str>) -> Served {
    let mut c = bin();
    c.arg("--data").arg(data);
    if let Some(s) = store {
        c.args(["--store", s]);
    }
    let mut child = c
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let base = loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "server exited");
        if let Some(rest) = line.split("http://").nth(1) {
            break format!("http://{}", rest.split_whitespace().next().unwrap());
        }
        assert!(Instant::now() < deadline, "server did not start");
    };
    // Keep draining stderr so the server never blocks on it.
    std::thread::spawn(move || for _ in err.lines() {});
    Served { child, base }
}

const PEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/crates/pdq/tests/data/images/reg-test-input__pen-and-coaster.png"
);

fn data_url(path: &str) -> String {
    use base64::Engine;
    let bytes = std::fs::read(path).unwrap();
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Submits `listing` again and again (as new versions) until its action is
/// `want`; returns how long that took after `since`.
fn until_action(base: &str, key: &str, listing: &Value, want: &str, since: Instant) -> Duration {
    let c = reqwest::blocking::Client::new();
    let mut l = listing.clone();
    let mut n = 0;
    loop {
        n += 1;
        l["description"] = json!(format!("attempt {n}"));
        let d: Value = c
            .post(format!("{base}/v1/listings"))
            .bearer_auth(key)
            .json(&l)
            .send()
            .unwrap()
            .json()
            .unwrap();
        if d["action"] == want {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(10),
            "still {} after 10 s: {d}",
            d["action"]
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn import_while_serving(store: Option<&str>) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // A first right, so the server starts with a non-empty registry.
    let rights = tmp.path().join("a.jsonl");
    std::fs::write(
        &rights,
        r#"{"id":"r-acme","holder":"Acme","kind":"trademark","mark":"Acmeflux","nice_classes":[25],"regions":["*"]}"#,
    )
    .unwrap();
    cli(
        &data,
        store,
        &["rights", "import", rights.to_str().unwrap()],
    );
    let key = cli(&data, store, &["keys", "create", "--role", "service"]);
    let srv = serve(&data, store);
    let word = json!({"id":"w-1","shop_id":"shop-1","region":"US","category":"apparel/shoes",
        "title":"Zorbatrix running shoes","brand":"Zorbatrix","price":{"amount":9.0,"currency":"USD"}});
    let photo = json!({"id":"p-1","shop_id":"shop-1","region":"US","category":"home/kitchen",
        "title":"Pen and coaster set","images":[data_url(PEN)]});
    let c = reqwest::blocking::Client::new();
    for l in [&word, &photo] {
        let d: Value = c
            .post(format!("{}/v1/listings", srv.base))
            .bearer_auth(&key)
            .json(l)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(d["action"], "approve", "{d}");
    }
    // Another process registers a word mark and a copyrighted photo.
    std::fs::copy(PEN, tmp.path().join("pen.png")).unwrap();
    let more = tmp.path().join("b.jsonl");
    let mut f = std::fs::File::create(&more).unwrap();
    writeln!(
        f,
        r#"{{"id":"r-zorb","holder":"Zorb","kind":"trademark","mark":"Zorbatrix","nice_classes":[25],"regions":["*"],"price_floor":{{"amount":80,"currency":"USD"}}}}"#
    )
    .unwrap();
    writeln!(
        f,
        r#"{{"id":"r-pen","holder":"Zorb","kind":"copyright_image","image":"pen.png","regions":["*"]}}"#
    )
    .unwrap();
    drop(f);
    let imported = cli(&data, store, &["rights", "import", more.to_str().unwrap()]);
    let _ = imported;
    let done = Instant::now();
    // The version the import committed, as the store has it.
    let want = registry_version(&data, store);
    // The server's engine (text matcher and image banks, swapped together)
    // reaches that version within a second.
    let c = reqwest::blocking::Client::new();
    loop {
        let h: Value = c
            .get(format!("{}/healthz", srv.base))
            .send()
            .unwrap()
            .json()
            .unwrap();
        if h["registry_version"].as_u64().unwrap_or(0) >= want {
            break;
        }
        assert!(
            done.elapsed() < Duration::from_secs(1),
            "the server is still at registry version {} of {want} one second after the import",
            h["registry_version"]
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // And both new rights are in force.
    until_action(&srv.base, &key, &word, "reject", done);
    until_action(&srv.base, &key, &photo, "reject", done);
}

/// The store's registry version, read by a process of its own.
fn registry_version(data: &Path, store: Option<&str>) -> u64 {
    use shopshield_store::RegistryStore;
    match store {
        None => shopshield_store::SqliteStore::open(&data.join("shopshield.db"))
            .unwrap()
            .registry_version()
            .unwrap(),
        Some(url) => shopshield_postgres::PgStore::connect(url)
            .unwrap()
            .registry_version()
            .unwrap(),
    }
}

#[test]
fn a_right_imported_beside_a_running_sqlite_server_is_in_force_within_a_second() {
    import_while_serving(None);
}

#[test]
fn a_right_imported_beside_a_running_postgres_server_is_in_force_within_a_second() {
    let db = TestDb::create();
    import_while_serving(Some(&db.url));
}

/// A database of its own on the machine's PostgreSQL, dropped at the end.
struct TestDb {
    url: String,
    name: String,
    admin: String,
}

impl TestDb {
    fn create() -> TestDb {
        let server = std::env::var("SHOPSHIELD_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let name = format!("shopshield_test_sync_{}", std::process::id());
        let admin = format!("{server}/postgres");
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap_or_else(|e| {
            panic!("PostgreSQL must run at {server} (scripts/test starts it): {e}")
        });
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        TestDb {
            url: format!("{server}/{name}"),
            name,
            admin,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
