//! The `shopshield` binary as a user runs it: real files, real processes,
//! real kill -9.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use shopshield_store::{CatalogStore, Page, RegistryStore, SqliteStore};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shopshield"));
    c.env_remove("SHOPSHIELD_DATA")
        .env_remove("SHOPSHIELD_CONFIG");
    c
}

fn run(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = bin()
        .arg("--data")
        .arg(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut si = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            si.write_all(s.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const RIGHTS: &str = r#"{"id":"r-nike","holder":"Nike, Inc.","kind":"trademark","mark":"Nike","aliases":["NIKE"],"nice_classes":[25,28],"regions":["*"],"authorized_sellers":["shop-nike"],"price_floor":{"amount":60,"currency":"USD"}}
{"id":"r-swoosh","holder":"Nike, Inc.","kind":"logo","image":"logos/swoosh.png","nice_classes":[25],"regions":["*"]}
{"id":"r-photo-1","holder":"Nike, Inc.","kind":"copyright_image","image":"photos/airmax.jpg","regions":["US","GB"]}
"#;

/// Real images: Meta's PDQ test set (see crates/pdq/tests/data/README.md).
const PDQ_IMAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/crates/pdq/tests/data/images");

fn copy_image(name: &str, to: &Path) {
    std::fs::copy(Path::new(PDQ_IMAGES).join(name), to).unwrap();
}

/// A fresh data directory (`TMP/data`) with the test rights imported.
fn with_rights() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let rights = write_rights(tmp.path());
    let out = run(&data, &["rights", "import", rights.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    (tmp, data)
}

fn write_rights(dir: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("logos")).unwrap();
    std::fs::create_dir_all(dir.join("photos")).unwrap();
    copy_image(
        "reg-test-input__pen-and-coaster.png",
        &dir.join("logos/swoosh.png"),
    );
    copy_image("bridge-mods__aaa-orig.jpg", &dir.join("photos/airmax.jpg"));
    let p = dir.join("rights.jsonl");
    std::fs::write(&p, RIGHTS).unwrap();
    p
}

#[test]
fn import_then_scan_gives_decisions_with_evidence() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let rights = write_rights(tmp.path());
    let out = run(&data, &["rights", "import", rights.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("imported 3 rights"));

    let listings = concat!(
        r#"{"id":"l-1","shop_id":"shop-9","creator_id":"c-3","region":"US","category":"apparel/shoes","title":"Air Max 90 sneakers","description":"...","brand":"Nike","price":{"amount":19.99,"currency":"USD"},"images":["img/l-1.jpg"]}"#,
        "\n",
        "this is not json\n",
        r#"{"id":"l-2","shop_id":"shop-9","region":"US","category":"apparel/shoes","title":"Plain canvas shoes"}"#,
        "\n",
        r#"{"id":"l-3","shop_id":"shop-9","region":"US","category":"spaceships/warp","title":"Warp core"}"#,
        "\n",
        r#"{"id":"l-4","shop_id":"shop-nike","region":"US","category":"apparel/shoes","title":"Nike Pegasus","brand":"Nike"}"#,
        "\n",
        r#"{"id":"l-5","shop_id":"shop-9","region":"US","category":"apparel/shoes"}"#,
        "\n",
    );
    // The documented example's image, relative to the listings file.
    std::fs::create_dir_all(tmp.path().join("img")).unwrap();
    copy_image("labelme-subset__q0004.jpg", &tmp.path().join("img/l-1.jpg"));
    let listings_file = tmp.path().join("listings.jsonl");
    std::fs::write(&listings_file, listings).unwrap();
    let out = run(&data, &["scan", listings_file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2), "bad lines make exit code 2");
    let err = text(&out.stderr);
    assert!(err.contains("listings.jsonl:2: malformed JSON"), "{err}");
    assert!(
        err.contains("listings.jsonl:4: category: unknown category"),
        "{err}"
    );
    assert!(
        err.contains("listings.jsonl:6: title: missing field `title`"),
        "{err}"
    );
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = lines.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["l-1", "l-2", "l-4"], "good lines, in input order");
    // A brand claim by an unauthorised shop at a third of the price floor.
    assert_ne!(lines[0]["action"], "approve", "{}", lines[0]);
    let v = &lines[0]["violations"][0];
    assert_eq!(v["type"], "counterfeit");
    assert_eq!(v["right_id"], "r-nike");
    assert_eq!(v["evidence"]["field"], "brand");
    assert_eq!(v["evidence"]["span"], serde_json::json!([0, 4]));
    assert_eq!(v["evidence"]["text"], "Nike");
    let ratio = v["evidence"]["price_ratio"].as_f64().unwrap();
    assert!((ratio - 19.99 / 60.0).abs() < 0.01, "{ratio}");
    assert!(v["evidence"]["why"].as_str().unwrap().len() > 20);
    assert_eq!(lines[1]["action"], "approve");
    assert_eq!(lines[2]["action"], "approve", "authorised seller");

    // A restart keeps every right and decision; scanning again is idempotent.
    let good: String = listings
        .lines()
        .filter(|l| l.contains("\"l-1\"") || l.contains("\"l-2\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let outfile = tmp.path().join("decisions.jsonl");
    let good_file = tmp.path().join("good.jsonl");
    std::fs::write(&good_file, &good).unwrap();
    let out = run(
        &data,
        &[
            "scan",
            good_file.to_str().unwrap(),
            "--out",
            outfile.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again: Vec<Value> = std::fs::read_to_string(&outfile)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(again[0], lines[0]);
    assert_eq!(again[1], lines[1]);
    let store = SqliteStore::open(&data.join("shopshield.db")).unwrap();
    assert_eq!(store.rights(None).unwrap().len(), 3);
    assert_eq!(store.decisions(&Page::first(100)).unwrap().len(), 3);
    let swoosh = store.right("r-swoosh").unwrap().unwrap();
    assert!(swoosh.image.unwrap().starts_with(b"\x89PNG"));
    assert!(
        !swoosh.right.image_hashes.is_empty(),
        "registered images are hashed"
    );
}

#[test]
fn a_reencoded_copy_of_a_registered_photo_is_rejected_with_image_evidence() {
    let (tmp, data) = with_rights();
    // Meta's own variants of the registered photo: shrunk and re-encoded,
    // blurred, and an unrelated photo.
    std::fs::create_dir_all(tmp.path().join("img")).unwrap();
    copy_image(
        "bridge-mods__shrink-a-lot.jpg",
        &tmp.path().join("img/copy.jpg"),
    );
    copy_image(
        "bridge-mods__blur-a-little.jpg",
        &tmp.path().join("img/blur.jpg"),
    );
    copy_image(
        "labelme-subset__q0746.jpg",
        &tmp.path().join("img/other.jpg"),
    );
    let listings = tmp.path().join("listings.jsonl");
    std::fs::write(
        &listings,
        concat!(
            r#"{"id":"p-1","shop_id":"shop-9","region":"US","category":"apparel/shoes","title":"Running shoes","images":["img/other.jpg","img/copy.jpg"]}"#, "\n",
            r#"{"id":"p-2","shop_id":"shop-9","region":"GB","category":"apparel/shoes","title":"Trainers","images":["img/blur.jpg"]}"#, "\n",
            r#"{"id":"p-3","shop_id":"shop-9","region":"DE","category":"apparel/shoes","title":"Trainers","images":["img/copy.jpg"]}"#, "\n",
            r#"{"id":"p-4","shop_id":"shop-9","region":"US","category":"apparel/shoes","title":"Trainers","images":["img/other.jpg"]}"#, "\n",
            r#"{"id":"p-5","shop_id":"shop-9","region":"US","category":"apparel/shoes","title":"Trainers","images":["img/missing.jpg"]}"#, "\n",
        ),
    )
    .unwrap();
    let out = run(&data, &["scan", listings.to_str().unwrap()], None);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the missing image is a bad line"
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("listings.jsonl:5: images[0]: cannot read"),
        "{err}"
    );
    let d: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(d.len(), 4);
    for (i, id) in [(0, "p-1"), (1, "p-2")] {
        assert_eq!(d[i]["id"], id);
        assert_eq!(d[i]["action"], "reject", "{}", d[i]);
        let v = &d[i]["violations"][0];
        assert_eq!(v["type"], "copyright");
        assert_eq!(v["right_id"], "r-photo-1");
        assert_eq!(v["detector"], "image");
        let e = &v["evidence"];
        assert!(e["distance"].as_u64().unwrap() <= 20, "{e}");
        assert_eq!(e["variant"], "original");
        assert!(
            e["quality"].as_u64().unwrap() >= 50 && e["reference_quality"].as_u64().unwrap() >= 50
        );
    }
    assert_eq!(d[0]["violations"][0]["evidence"]["field"], "images[1]");
    // The photo right is registered in US and GB only.
    assert_eq!(d[2]["action"], "approve", "{}", d[2]);
    assert_eq!(
        d[3]["action"], "approve",
        "an unrelated photo does not match: {}",
        d[3]
    );

    let out = run(
        &data,
        &[
            "hash",
            Path::new(PDQ_IMAGES)
                .join("bridge-mods__aaa-orig.jpg")
                .to_str()
                .unwrap(),
        ],
        None,
    );
    assert!(out.status.success());
    assert!(
        text(&out.stdout)
            .starts_with("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,100,")
    );
}

/// Demo fixtures: the simple-icons Puma logo (CC0) and Meta's pen-and-coaster
/// test photo with that logo printed on it (see data/demo/images/README.md).
const DEMO_IMAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo/images");

#[test]
fn a_logo_printed_inside_a_product_photo_goes_to_review_with_where_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(tmp.path().join("img")).unwrap();
    let demo = Path::new(DEMO_IMAGES);
    std::fs::copy(demo.join("puma-logo.png"), tmp.path().join("img/logo.png")).unwrap();
    std::fs::copy(
        demo.join("coaster-with-puma-print.jpg"),
        tmp.path().join("img/printed.jpg"),
    )
    .unwrap();
    copy_image(
        "reg-test-input__pen-and-coaster.png",
        &tmp.path().join("img/plain.png"),
    );
    let rights = tmp.path().join("rights.jsonl");
    std::fs::write(
        &rights,
        r#"{"id":"r-puma-logo","holder":"Puma SE","kind":"logo","image":"img/logo.png","nice_classes":[25],"regions":["*"],"authorized_sellers":["shop-puma"]}
"#,
    )
    .unwrap();
    assert!(
        run(&data, &["rights", "import", rights.to_str().unwrap()], None)
            .status
            .success()
    );
    let listings = tmp.path().join("listings.jsonl");
    std::fs::write(
        &listings,
        concat!(
            r#"{"id":"k-1","shop_id":"shop-9","region":"US","category":"apparel/shoes","title":"Coaster","images":["img/printed.jpg"]}"#, "\n",
            r#"{"id":"k-2","shop_id":"shop-9","region":"US","category":"apparel/shoes","title":"Coaster","images":["img/plain.png"]}"#, "\n",
            r#"{"id":"k-3","shop_id":"shop-puma","region":"US","category":"apparel/shoes","title":"Coaster","images":["img/printed.jpg"]}"#, "\n",
        ),
    )
    .unwrap();
    let out = run(&data, &["scan", listings.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let d: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(d.len(), 3);
    // A logo alone is not proof of a fake (resellers show logos too): review.
    assert_eq!(d[0]["action"], "review", "{}", d[0]);
    let v = &d[0]["violations"][0];
    assert_eq!(v["type"], "counterfeit");
    assert_eq!(v["right_id"], "r-puma-logo");
    let e = &v["evidence"];
    assert_eq!(e["field"], "images[0]");
    assert_eq!(e["method"], "keypoints");
    let why = e["why"].as_str().unwrap();
    assert!(why.contains("inside the photo, in the box x "), "{why}");
    assert!(why.contains("keypoint matches"), "{why}");
    // The logo is printed in blue on the desk at about x 560-730, y 175-305.
    let nums: Vec<f64> = why
        .split("in the box x ")
        .nth(1)
        .unwrap()
        .split(" (pixels)")
        .next()
        .unwrap()
        .replace(", y ", "-")
        .split('-')
        .map(|n| n.trim().parse().unwrap())
        .collect();
    assert!(
        nums[0] > 530.0 && nums[1] < 760.0 && nums[2] > 150.0 && nums[3] < 330.0,
        "{why}"
    );
    // The same photo without the print, and the brand's own shop: nothing.
    assert_eq!(d[1]["action"], "approve", "{}", d[1]);
    assert_eq!(d[2]["action"], "approve", "{}", d[2]);
}

#[test]
fn a_bad_rights_file_imports_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let rights = write_rights(tmp.path());
    let mut body = std::fs::read_to_string(&rights).unwrap();
    body.push_str(r#"{"id":"r-bad","holder":"X","kind":"trademark","mark":"Bad","nice_classes":[99],"regions":["*"]}"#);
    body.push('\n');
    body.push_str(
        r#"{"id":"r-img","holder":"X","kind":"logo","image":"missing.png","regions":["*"]}"#,
    );
    body.push('\n');
    std::fs::write(&rights, body).unwrap();
    let out = run(&data, &["rights", "import", rights.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("rights.jsonl:4: nice_classes[0]"), "{err}");
    assert!(err.contains("rights.jsonl:5: image: cannot read"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    let out = run(&data, &["rights", "list"], None);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn keys_and_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = run(&data, &["keys", "create", "--role", "admin"], None);
    assert!(out.status.success());
    let key = text(&out.stdout);
    assert!(
        key.trim().starts_with("ssk_") && key.trim().len() == 68,
        "{key}"
    );
    let out = run(&data, &["keys", "create", "--role", "seller"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--shop"));
    let out = run(
        &data,
        &[
            "keys",
            "create",
            "--role",
            "rights_holder",
            "--holder",
            "nobody",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let out = run(&data, &["keys", "create", "--role", "emperor"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&data, &["keys", "list"], None);
    let listed = text(&out.stdout);
    assert!(
        listed.contains("\"role\":\"admin\"") && !listed.contains(key.trim()),
        "secrets are never stored"
    );
    let out = run(&data, &["scan", "/no/such/file.jsonl"], None);
    assert_ne!(out.status.code(), Some(0));
    // A broken config file is bad input.
    std::fs::write(data.join("shopshield.toml"), "[gate]\nreview = 2.0\n").unwrap();
    let out = run(&data, &["rights", "list"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

fn many_listings(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let brand = if i % 3 == 0 { r#","brand":"Nike""# } else { "" };
        s.push_str(&format!(
            r#"{{"id":"k-{i}","shop_id":"shop-{}","region":"US","category":"apparel/shoes","title":"Running shoes model {i}"{brand}}}"#,
            i % 50
        ));
        s.push('\n');
    }
    s
}

#[test]
fn kill_9_during_scan_loses_nothing_answered() {
    let (tmp, data) = with_rights();
    let input = tmp.path().join("listings.jsonl");
    let n = 60_000;
    std::fs::write(&input, many_listings(n)).unwrap();
    let mut child = bin()
        .arg("--data")
        .arg(&data)
        .args(["scan", input.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read decisions as they are answered, then kill -9 mid-way.
    let mut answered = Vec::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while answered.len() < 3000 {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let d: Value = serde_json::from_str(&line).unwrap();
        answered.push(d["decision_id"].as_str().unwrap().to_string());
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        answered.len() >= 3000,
        "the scan answered before it was killed"
    );

    let store = SqliteStore::open(&data.join("shopshield.db")).unwrap();
    for id in &answered {
        assert!(
            store.decision(id).unwrap().is_some(),
            "answered decision {id} was lost"
        );
    }
    // The store is consistent: every stored listing has its decision.
    let stored = store.decisions(&Page::first(10_000)).unwrap().len();
    assert!(stored >= answered.len() && stored < n, "{stored}");
    drop(store);
    // Scanning again completes the job, answering stored decisions as they were.
    let out = bin()
        .arg("--data")
        .arg(&data)
        .args(["scan", input.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let all: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(all.len(), n);
    assert!(
        all.iter().all(|d| d["listing_version"] == 1),
        "no listing was screened twice"
    );
}

#[test]
fn kill_9_during_http_load_loses_nothing_answered() {
    let (_tmp, data) = with_rights();
    let key = text(&run(&data, &["keys", "create", "--role", "service"], None).stdout)
        .trim()
        .to_string();
    let mut server = bin()
        .arg("--data")
        .arg(&data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let base = loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "server exited");
        if let Some(rest) = line.split("http://").nth(1) {
            break format!("http://{}", rest.split_whitespace().next().unwrap());
        }
        assert!(Instant::now() < deadline);
    };
    let listings: Vec<String> = many_listings(4000).lines().map(String::from).collect();
    let answered = std::sync::Mutex::new(Vec::<String>::new());
    let stop_at = 400;
    std::thread::scope(|s| {
        for t in 0..4 {
            let (listings, answered, base, key) = (&listings, &answered, &base, &key);
            s.spawn(move || {
                let c = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap();
                for l in listings.iter().skip(t).step_by(4) {
                    let Ok(r) = c
                        .post(format!("{base}/v1/listings"))
                        .bearer_auth(key)
                        .header("content-type", "application/json")
                        .body(l.clone())
                        .send()
                    else {
                        return;
                    };
                    if !r.status().is_success() {
                        return;
                    }
                    let Ok(d) = r.json::<Value>() else { return };
                    let mut a = answered.lock().unwrap();
                    a.push(d["decision_id"].as_str().unwrap().to_string());
                    if a.len() >= stop_at {
                        return;
                    }
                }
            });
        }
        // Kill while requests are in flight.
        while answered.lock().unwrap().len() < stop_at / 2 {
            std::thread::sleep(Duration::from_millis(5));
        }
        server.kill().unwrap();
    });
    server.wait().unwrap();
    let answered = answered.into_inner().unwrap();
    assert!(answered.len() >= stop_at / 2);
    let store = SqliteStore::open(&data.join("shopshield.db")).unwrap();
    for id in &answered {
        assert!(
            store.decision(id).unwrap().is_some(),
            "answered decision {id} was lost"
        );
    }
}

#[test]
fn audit_verify_detects_a_tampered_enforcement_log() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let rights = tmp.path().join("marks.jsonl");
    std::fs::write(&rights, RIGHTS.lines().next().unwrap()).unwrap();
    let out = run(&data, &["rights", "import", rights.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Every finding goes to review here, whatever the detectors' exact
    // confidences.
    std::fs::write(
        data.join("shopshield.toml"),
        "[gate]\nreview = 0.01\nreject = 1.0\n",
    )
    .unwrap();
    let listings = concat!(
        r#"{"id":"t-1","shop_id":"shop-9","creator_id":"c-3","region":"US","category":"apparel/shoes","title":"Air Max 90","brand":"Nike"}"#,
        "\n",
        r#"{"id":"t-2","shop_id":"shop-9","region":"US","category":"apparel/shoes","title":"Laces for Nike trainers"}"#,
        "\n",
    );
    let out = run(&data, &["scan", "-"], Some(listings));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&data, &["cases", "list"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cases: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!cases.is_empty(), "{cases:?}");
    assert!(cases.iter().all(|c| c["shop_id"] == "shop-9"));
    let out = run(&data, &["enforcement", "tick"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(
        &data,
        &["keys", "create", "--role", "creator", "--creator", "c-3"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&data, &["keys", "create", "--role", "creator"], None);
    assert_eq!(out.status.code(), Some(2), "a creator key needs --creator");

    let out = run(&data, &["audit", "verify"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let entries = report["entries"].as_u64().unwrap();
    assert!(entries >= 2, "{report}");
    assert_eq!(report["events"]["case_opened"], cases.len());
    assert!(text(&out.stderr).contains("intact"));

    // Edit one entry with SQLite directly: the audit names it.
    let db = data.join("shopshield.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute(
            "UPDATE enforcement_log SET body = replace(body, 'shop-9', 'shop-8') WHERE seq = 2",
            [],
        )
        .unwrap();
    }
    let out = run(&data, &["audit", "verify"], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("seq 2"),
        "names the first bad entry: {}",
        text(&out.stderr)
    );
    // The application refuses to start on a tampered log.
    let out = run(&data, &["rights", "list"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("enforcement log"),
        "{}",
        text(&out.stderr)
    );

    // Put it back, then cut the last entry off: the anchor catches it.
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute(
            "UPDATE enforcement_log SET body = replace(body, 'shop-8', 'shop-9') WHERE seq = 2",
            [],
        )
        .unwrap();
    }
    assert_eq!(
        run(&data, &["audit", "verify"], None).status.code(),
        Some(0)
    );
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute(
            "DELETE FROM enforcement_log WHERE seq = (SELECT MAX(seq) FROM enforcement_log)",
            [],
        )
        .unwrap();
    }
    let out = run(&data, &["audit", "verify"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!("seq {entries}")),
        "{}",
        text(&out.stderr)
    );
}

/// `shopshield sweep`: listings scanned before a mark was imported are
/// taken down by the sweep the import opened; `--out` gets the decisions.
#[test]
fn sweep_takes_down_listings_scanned_before_the_mark() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let listings = concat!(
        r#"{"id":"s-1","shop_id":"shop-1","region":"US","category":"apparel/shoes","title":"Zorbex replica sneakers 1:1 copy","price":{"amount":12,"currency":"USD"}}"#,
        "\n",
        r#"{"id":"s-2","shop_id":"shop-2","region":"US","category":"apparel/shoes","title":"Canvas walking shoe","price":{"amount":40,"currency":"USD"}}"#,
        "\n"
    );
    let out = run(&data, &["scan", "-"], Some(listings));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).lines().all(|l| l.contains("\"approve\"")));
    let rights = tmp.path().join("rights.jsonl");
    std::fs::write(
        &rights,
        r#"{"id":"r-zorbex","holder":"Zorbex Inc","kind":"trademark","mark":"Zorbex","nice_classes":[25],"regions":["*"],"price_floor":{"amount":80,"currency":"USD"}}"#,
    )
    .unwrap();
    let out = run(&data, &["rights", "import", rights.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = tmp.path().join("swept.jsonl");
    let out = run(&data, &["sweep", "--out", file.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).lines().next(),
        Some("looked at 1, rescreened 1, taken down 1")
    );
    let written = std::fs::read_to_string(&file).unwrap();
    let d: Value = serde_json::from_str(written.trim()).unwrap();
    assert_eq!(d["decision_id"], "s-1@v2");
    assert_eq!(d["source"], "sweep");
    assert_eq!(d["action"], "reject");
    assert_eq!(d["cause"]["right_id"], "r-zorbex");
    // Nothing left to do.
    let out = run(&data, &["sweep"], None);
    assert_eq!(
        text(&out.stdout).lines().next(),
        Some("looked at 0, rescreened 0, taken down 0")
    );
}

fn notice_line(id: &str, items: &[&str], good_faith: bool) -> String {
    serde_json::json!({
        "id": id, "right_id": "r-zorbex", "work": "the Zorbex word mark",
        "items": items.iter().map(|i| serde_json::json!({"kind": "listing", "id": i, "material": "the title"})).collect::<Vec<_>>(),
        "explanation": "these are not our shoes",
        "complainant": {"name": "Ann", "email": "ann@zorbex.example", "address": "1 Main St"},
        "statements": {"good_faith": good_faith, "accuracy_under_penalty_of_perjury": true, "bona_fide": true},
        "signature": "Ann"
    })
    .to_string()
}

#[test]
fn notices_are_filed_in_bulk_and_bad_lines_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let listings = concat!(
        r#"{"id":"s-1","shop_id":"shop-1","region":"US","category":"apparel/shoes","title":"Canvas walking shoe","price":{"amount":40,"currency":"USD"}}"#,
        "\n",
        r#"{"id":"s-2","shop_id":"shop-2","region":"US","category":"apparel/shoes","title":"Canvas running shoe","price":{"amount":40,"currency":"USD"}}"#,
        "\n"
    );
    let out = run(&data, &["scan", "-"], Some(listings));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rights = tmp.path().join("rights.jsonl");
    std::fs::write(
        &rights,
        r#"{"id":"r-zorbex","holder":"Zorbex Inc","kind":"trademark","mark":"Qqzorbex","nice_classes":[25],"regions":["*"]}"#,
    )
    .unwrap();
    let out = run(&data, &["rights", "import", rights.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = tmp.path().join("notices.jsonl");
    let lines = [
        notice_line("n-1", &["s-1", "s-2"], true),
        notice_line("n-2", &["s-1"], false),
        notice_line("n-3", &["s-1", "s-9"], true),
        "{not json".to_string(),
    ];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let out = run(&data, &["notices", "file", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let f = file.display().to_string();
    assert!(
        err.contains(&format!("{f}:2: statements.good_faith")),
        "{err}"
    );
    assert!(err.contains(&format!("{f}:3: items[1].id")), "{err}");
    assert!(err.contains(&format!("{f}:4:")), "{err}");
    let receipts: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0]["notice_id"], "n-1");
    assert_eq!(receipts[0]["item_count"], 2);
    // Nothing of the bad lines was written; filing the good line again
    // answers the same receipt.
    let out = run(&data, &["notices", "list"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["notice"]["id"], "n-1");
    assert_eq!(listed[0]["items"][1]["state"], "pending");
    let good = tmp.path().join("good.jsonl");
    std::fs::write(&good, format!("{}\n", lines[0])).unwrap();
    let out = run(&data, &["notices", "file", good.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(again, receipts[0]);
    let out = run(&data, &["notices", "list", "--state", "bogus"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn report_and_statements_of_reasons_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let rights = write_rights(tmp.path());
    let out = run(&data, &["rights", "import", rights.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listings = concat!(
        r#"{"id":"d-1","shop_id":"shop-de","region":"DE","category":"apparel/shoes","title":"Nike Air Max 90 replica sneakers","brand":"Nike","price":{"amount":9.99,"currency":"EUR"}}"#,
        "\n",
        r#"{"id":"u-1","shop_id":"shop-us","region":"US","category":"apparel/shoes","title":"Nike Air Max 90 replica sneakers","brand":"Nike","price":{"amount":9.99,"currency":"USD"}}"#,
        "\n",
        r#"{"id":"d-2","shop_id":"shop-de","region":"DE","category":"apparel/shoes","title":"Plain canvas shoes"}"#,
        "\n",
    );
    let out = run(&data, &["scan", "-"], Some(listings));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let decisions: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rejected = |region_prefix: &str| {
        decisions
            .iter()
            .filter(|d| {
                d["action"] == "reject" && d["id"].as_str().unwrap().starts_with(region_prefix)
            })
            .count()
    };
    assert!(rejected("d-") >= 1, "{decisions:?}");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();

    let out = run(&data, &["report", "--from", &today, "--to", &today], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        r["totals"]["rejected_before_listing"],
        (rejected("d-") + rejected("u-")) as u64
    );
    let out = run(
        &data,
        &[
            "report", "--from", &today, "--to", &today, "--region", "DE", "--format", "md",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!(
            "| Listings rejected before listing | {} |",
            rejected("d-")
        )),
        "{}",
        text(&out.stdout)
    );
    let html = tmp.path().join("report.html");
    let out = run(
        &data,
        &[
            "report",
            "--from",
            &today,
            "--to",
            &today,
            "--format",
            "html",
            "--out",
            html.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("<svg").count(), 4);

    // Statements of reasons: the EU restrictions only, in batches.
    let sor = tmp.path().join("sor.jsonl");
    let out = run(
        &data,
        &[
            "report",
            "sor",
            "--from",
            &today,
            "--to",
            &today,
            "--out",
            sor.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let batches: Vec<Value> = std::fs::read_to_string(&sor)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let statements: Vec<&Value> = batches
        .iter()
        .flat_map(|b| b["statements"].as_array().unwrap())
        .collect();
    assert_eq!(statements.len(), rejected("d-"));
    for s in &statements {
        assert_eq!(s["territorial_scope"], serde_json::json!(["DE"]));
        assert!(s["puid"].as_str().unwrap().starts_with("shopshield-d-"));
    }

    // Bad input: exit 2 naming the flag, nothing written.
    let out = run(
        &data,
        &["report", "--from", "2026-13-01", "--to", &today],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--from"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&data, &["report", "--from", &today], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--to"), "{}", text(&out.stderr));
    let missing = tmp.path().join("never.jsonl");
    let out = run(
        &data,
        &[
            "report",
            "sor",
            "--from",
            &today,
            "--to",
            "yesterday",
            "--out",
            missing.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!missing.exists());
}

/// `scan` reads images only under the listings file's directory: a path
/// out of it (by `..`, an absolute path or a symbolic link) is a bad line
/// (exit 2) naming the way out; `--image-root` and
/// `--allow-images-anywhere` widen it; with `--nats` they are refused.
/// What the CLI writes is private (mode 0600, data directory 0700).
#[cfg(unix)]
#[test]
fn scan_reads_images_only_where_allowed_and_writes_private_files() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let outside = tmp.path().join("outside.jpg");
    copy_image("labelme-subset__q0746.jpg", &outside);
    let dir = tmp.path().join("batch");
    std::fs::create_dir_all(&dir).unwrap();
    copy_image("labelme-subset__q0746.jpg", &dir.join("inside.jpg"));
    std::os::unix::fs::symlink(&outside, dir.join("link.jpg")).unwrap();
    let line = |id: &str, image: &str| {
        format!(
            r#"{{"id":"{id}","shop_id":"shop-9","region":"US","category":"apparel/shoes","title":"Trainers","images":["{image}"]}}"#
        ) + "\n"
    };
    let listings = dir.join("listings.jsonl");
    std::fs::write(
        &listings,
        [
            line("i-1", "inside.jpg"),
            line("i-2", "../outside.jpg"),
            line("i-3", outside.to_str().unwrap()),
            line("i-4", "link.jpg"),
        ]
        .concat(),
    )
    .unwrap();
    let out = tmp.path().join("decisions.jsonl");
    let o = run(
        &data,
        &[
            "scan",
            listings.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    for n in [2, 3, 4] {
        assert!(
            err.contains(&format!("listings.jsonl:{n}:")) && err.contains("outside"),
            "line {n} not refused: {err}"
        );
    }
    assert!(!err.contains("listings.jsonl:1:"), "{err}");
    let decided = std::fs::read_to_string(&out).unwrap();
    assert_eq!(decided.lines().count(), 1, "{decided}");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o600);
    assert_eq!(mode(&data.join("shopshield.db")), 0o600);
    assert_eq!(mode(&data), 0o700);

    // A wider root lets `..` in; anywhere lets everything in.
    let o = run(
        &data,
        &[
            "scan",
            listings.to_str().unwrap(),
            "--image-root",
            tmp.path().to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).lines().count(), 4);
    let o = run(
        &data,
        &[
            "scan",
            listings.to_str().unwrap(),
            "--allow-images-anywhere",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    // Workers read images only under the listings file's directory.
    let o = run(
        &data,
        &[
            "scan",
            listings.to_str().unwrap(),
            "--nats",
            "nats://127.0.0.1:4222",
            "--allow-images-anywhere",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("--allow-images-anywhere"));
}

/// The server run with a descriptor limit far below its configured
/// connection caps, and a client opening three times as many sockets as
/// the limit: the caps are lowered to fit, the process never runs out of
/// descriptors, nothing crashes, `/healthz` answers within 100 ms
/// throughout and an API call gets an answer (never a 5xx).
#[cfg(target_os = "linux")]
#[test]
fn descriptor_exhaustion_never_silences_healthz() {
    use std::io::Read;
    use std::net::TcpStream;
    if Command::new("prlimit").arg("--version").output().is_err() {
        panic!("prlimit (util-linux) is needed for this test");
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let key = text(&run(&data, &["keys", "create", "--role", "service"], None).stdout)
        .trim()
        .to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    const LIMIT: usize = 256;
    let mut server = Command::new("prlimit")
        .arg(format!("--nofile={LIMIT}:{LIMIT}"))
        .arg(env!("CARGO_BIN_EXE_shopshield"))
        .env_remove("SHOPSHIELD_DATA")
        .env_remove("SHOPSHIELD_CONFIG")
        .arg("--data")
        .arg(&data)
        .args(["serve", "--addr", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let get = |path: &str, key: Option<&str>| -> (u16, String, Duration) {
        let t = Instant::now();
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let auth = key
            .map(|k| format!("Authorization: Bearer {k}\r\n"))
            .unwrap_or_default();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        let status = buf
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, buf, t.elapsed())
    };
    let up = Instant::now();
    while TcpStream::connect(&addr).is_err() {
        assert!(
            up.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut idle = Vec::new();
    let mut worst = Duration::ZERO;
    for i in 0..LIMIT * 3 {
        if let Ok(s) = TcpStream::connect(&addr) {
            idle.push(s);
        }
        if i % 64 == 0 {
            let (status, body, took) = get("/healthz", None);
            assert_eq!(status, 200, "after {i} sockets: {body}");
            worst = worst.max(took);
        }
    }
    for _ in 0..10 {
        let (status, body, took) = get("/healthz", None);
        assert_eq!(status, 200, "{body}");
        worst = worst.max(took);
    }
    let (status, body, _) = get("/v1/categories", Some(&key));
    assert_eq!(status, 200, "{body}");
    drop(idle);
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server exited under descriptor pressure"
    );
    server.kill().unwrap();
    let out = server.wait_with_output().unwrap();
    let log = text(&out.stderr);
    assert!(!log.contains("panicked"), "{log}");
    assert!(
        log.contains("descriptor limit"),
        "the caps were not lowered: {log}"
    );
    assert!(
        worst < Duration::from_millis(100),
        "/healthz took {worst:?} with {} sockets open",
        LIMIT * 3
    );
}

/// `--out` naming a named pipe (or a device such as `/dev/null`) is written into, not
/// replaced: a regular file is written under a temporary name and renamed into place, and
/// doing that over a device would swap the device for a file. A pipe stands in for
/// `/dev/null` here, so a regression cannot damage the machine running the tests.
#[cfg(unix)]
#[test]
fn out_to_a_named_pipe_is_written_into_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let listings = concat!(
        r#"{"id":"p-1","shop_id":"shop-1","region":"US","category":"home/kitchen","title":"Plain ceramic mug"}"#,
        "\n",
        r#"{"id":"p-2","shop_id":"shop-1","region":"US","category":"home/kitchen","title":"Oak cutting board"}"#,
        "\n",
    );
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    for (name, args) in [
        ("decisions.pipe", vec!["scan", "-"]),
        (
            "report.pipe",
            vec!["report", "--from", &today, "--to", &today],
        ),
    ] {
        let pipe = tmp.path().join(name);
        let made = Command::new("mkfifo").arg(&pipe).status().unwrap();
        assert!(made.success());
        let reader = {
            let pipe = pipe.clone();
            std::thread::spawn(move || std::fs::read_to_string(pipe).unwrap())
        };
        let mut full = args.clone();
        full.extend(["--out", pipe.to_str().unwrap()]);
        let out = run(&data, &full, Some(listings));
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        // Checked before waiting for the reader: had the pipe been replaced, the reader
        // would wait for a writer forever.
        assert!(
            std::fs::metadata(&pipe).unwrap().file_type().is_fifo(),
            "{name} was replaced"
        );
        let got = reader.join().unwrap();
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("partial") || n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        if name == "decisions.pipe" {
            let ids: Vec<String> = got
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].to_string())
                .collect();
            assert_eq!(ids, [r#""p-1""#, r#""p-2""#], "{got}");
        } else {
            let r: Value = serde_json::from_str(&got).unwrap();
            assert!(r["totals"].is_object(), "{r}");
        }
    }
}

/// `--out` naming a directory, or a file in a directory that does not exist, is bad input:
/// exit code 2, the message names `--out`, and nothing is written anywhere.
#[test]
fn out_to_a_directory_or_a_missing_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let dir = tmp.path().join("decisions.d");
    std::fs::create_dir(&dir).unwrap();
    let missing = tmp.path().join("no-such-dir").join("out.jsonl");
    let listing = r#"{"id":"q-1","shop_id":"shop-1","region":"US","category":"home/kitchen","title":"Plain ceramic mug"}"#;
    for out_path in [&dir, &missing] {
        let out = run(
            &data,
            &["scan", "-", "--out", out_path.to_str().unwrap()],
            Some(listing),
        );
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("--out"), "{}", text(&out.stderr));
    }
    let mut left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["data", "decisions.d"]);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}
