//! What the tests of real processes share: the binary, a fresh PostgreSQL
//! database per test, unique NATS queue names, a private `nats-server`,
//! and child processes that are killed when the test ends.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

/// The binary under test, with the environment's shopshield settings
/// removed so that only the arguments count.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shopshield"));
    for v in [
        "SHOPSHIELD_DATA",
        "SHOPSHIELD_CONFIG",
        "SHOPSHIELD_STORE",
        "SHOPSHIELD_NATS",
        "SHOPSHIELD_QUEUE",
        "SHOPSHIELD_LOG",
    ] {
        c.env_remove(v);
    }
    c
}

/// Runs a command to completion and returns its standard output; panics
/// with its standard error when it fails.
pub fn cli(data: &Path, store: &str, args: &[&str]) -> String {
    let out = bin()
        .arg("--data")
        .arg(data)
        .args(["--store", store])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A child process, killed (SIGKILL) and reaped when dropped. Its standard
/// error is collected for assertions and failure messages.
pub struct Proc {
    pub child: Child,
    pub stderr: Arc<Mutex<String>>,
}

impl Proc {
    /// Spawns `c` and waits until a line of its standard error contains
    /// `ready` (returning that line).
    pub fn spawn(mut c: Command, ready: &str) -> (Proc, String) {
        let mut child = c
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let log = log.clone();
            let ready = ready.to_string();
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if line.contains(&ready)
                        && let Some(tx) = tx.take()
                    {
                        let _ = tx.send(line.clone());
                    }
                    let mut l = log.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        let line = match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{c:?} did not print {ready:?}:\n{}", log.lock().unwrap());
            }
        };
        (Proc { child, stderr: log }, line)
    }

    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The shared NATS server the tests use (scripts/test starts it), or
/// `SHOPSHIELD_TEST_NATS`.
pub fn nats_url() -> String {
    std::env::var("SHOPSHIELD_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// A queue name no other test uses: its streams are this test's alone.
pub fn unique_queue(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("t-{tag}-{}-{:x}", std::process::id(), nanos % (1 << 40))
}

/// A `worker` process on `queue`, started and taking work.
pub fn worker(data: &Path, store: &str, nats: &str, queue: &str, ack_wait: u32) -> Proc {
    let mut c = bin();
    c.arg("--data")
        .arg(data)
        .args(["--store", store, "worker", "--nats", nats, "--queue", queue])
        .args(["--ack-wait", &ack_wait.to_string()])
        .env("SHOPSHIELD_LOG", "shopshield_queue=info,warn");
    Proc::spawn(c, "worker: screening work").0
}

/// A `serve` process; returns it and its base URL.
pub fn serve(data: &Path, store: &str) -> (Proc, String) {
    let mut c = bin();
    c.arg("--data")
        .arg(data)
        .args(["--store", store, "serve", "--addr", "127.0.0.1:0"]);
    let (p, line) = Proc::spawn(c, "serving the API on http://");
    let base = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .map(|a| format!("http://{a}"))
        .unwrap();
    (p, base)
}

/// A private `nats-server` with JetStream on a free port and its own
/// storage directory, for tests that stop and restart it.
pub struct PrivateNats {
    pub port: u16,
    pub dir: PathBuf,
    proc: Option<Proc>,
}

impl PrivateNats {
    pub fn start(dir: &Path) -> PrivateNats {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut n = PrivateNats {
            port,
            dir: dir.to_path_buf(),
            proc: None,
        };
        n.restart();
        n
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Stops the server (SIGKILL: its stream files stay on disk).
    pub fn stop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill9();
        }
    }

    /// Starts it (again) on the same port and storage.
    pub fn restart(&mut self) {
        self.stop();
        let exe = ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("nats-server");
        let mut c = Command::new(exe);
        c.args([
            "-a",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-js",
            "-sd",
        ])
        .arg(&self.dir);
        let (p, _) = Proc::spawn(c, "Server is ready");
        self.proc = Some(p);
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A database of its own on the machine's PostgreSQL (or
/// `SHOPSHIELD_TEST_PG`), dropped with its connections at the end.
pub struct TestDb {
    pub url: String,
    name: String,
    admin: String,
}

impl TestDb {
    pub fn create(tag: &str) -> TestDb {
        let server = std::env::var("SHOPSHIELD_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!(
            "shopshield_test_{tag}_{}_{:x}",
            std::process::id(),
            nanos % (1 << 32)
        );
        let admin = format!("{server}/postgres");
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap_or_else(|e| {
            panic!("PostgreSQL must run at {server} (scripts/test starts it): {e}")
        });
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        TestDb {
            url: format!("{server}/{name}"),
            name,
            admin,
        }
    }

    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).unwrap()
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

pub const RIGHTS: &[&str] = &[
    r#"{"id":"r-zorb","holder":"Zorb","kind":"trademark","mark":"Zorbatrix","nice_classes":[25],"regions":["*"],"price_floor":{"amount":80,"currency":"USD"}}"#,
    r#"{"id":"r-acme","holder":"Acme","kind":"trademark","mark":"Acmeflux","nice_classes":[25],"regions":["*"]}"#,
];

/// Listing `i` of a test file: every fifth names a registered mark at a
/// knock-off price, every seventh a mark at full price, the rest are plain.
/// Each listing has a shop of its own, so no shop reaches a penalty that
/// would refuse its later listings (which would make the outcome depend
/// on the order of commits).
pub fn listing(i: usize) -> Value {
    let (title, brand, price) = match i {
        i if i % 5 == 0 => (
            format!("Zorbatrix running shoes {i}"),
            Some("Zorbatrix"),
            12.0,
        ),
        i if i % 7 == 0 => (
            format!("Acmeflux trail sneakers {i}"),
            Some("Acmeflux"),
            95.0,
        ),
        _ => (format!("Plain canvas shoes model {i}"), None, 30.0),
    };
    let mut l = json!({"id": format!("l-{i}"), "shop_id": format!("shop-{i}"),
        "region": "US", "category": "apparel/shoes", "title": title,
        "price": {"amount": price, "currency": "USD"}});
    if let Some(b) = brand {
        l["brand"] = json!(b);
    }
    l
}

/// Writes rights and a listings file of `n` listings; returns the paths.
pub fn write_inputs(dir: &Path, n: usize, with_bad_lines: bool) -> (String, String) {
    let rights = dir.join("rights.jsonl");
    std::fs::write(&rights, RIGHTS.join("\n")).unwrap();
    let listings = dir.join("listings.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&listings).unwrap());
    for i in 0..n {
        if with_bad_lines && i == 3 {
            writeln!(f, "{{not json").unwrap();
        }
        if with_bad_lines && i == 10 {
            let mut l = listing(100_000);
            l["category"] = json!("no/such/category");
            writeln!(f, "{l}").unwrap();
        }
        writeln!(f, "{}", listing(i)).unwrap();
        if with_bad_lines && i == 20 {
            // The same listing twice: one decision, answered twice.
            writeln!(f, "{}", listing(i)).unwrap();
        }
    }
    drop(f);
    (
        rights.to_str().unwrap().to_string(),
        listings.to_str().unwrap().to_string(),
    )
}

pub fn scan_via_queue(
    data: &Path,
    store: &str,
    nats: &str,
    queue: &str,
    input: &str,
    out: &Path,
) -> Output {
    bin()
        .arg("--data")
        .arg(data)
        .args([
            "--store", store, "scan", input, "--nats", nats, "--queue", queue,
        ])
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

pub fn decisions(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Decisions per listing in the store.
pub fn stored_decision_counts(db: &TestDb) -> HashMap<String, i64> {
    db.client()
        .query(
            "SELECT listing_id, count(*) FROM decisions GROUP BY listing_id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}
