//! `shopshield stream replay FILE.jsonl` as a user runs it: a recorded
//! stream that starts honest, shows a registered logo, pitches a
//! counterfeit at minute two and is stopped; each action printed as JSONL
//! with its time. A bad line exits 2 naming it, and prints nothing.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const IMAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo/images");

fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shopshield"))
        .env_remove("SHOPSHIELD_DATA")
        .env_remove("SHOPSHIELD_CONFIG")
        .env_remove("SHOPSHIELD_STORE")
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write_lines(path: &Path, lines: &[Value]) {
    let body: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(path, body.join("\n") + "\n").unwrap();
}

#[test]
fn replay_prints_each_action_with_its_time_until_the_stop() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::copy(
        format!("{IMAGES}/puma-logo.png"),
        dir.path().join("puma-logo.png"),
    )
    .unwrap();
    let rights = dir.path().join("rights.jsonl");
    write_lines(
        &rights,
        &[
            serde_json::json!({"id": "r-rolex", "holder": "Rolex", "kind": "trademark",
                "mark": "Rolex", "nice_classes": [14], "regions": ["*"],
                "price_floor": {"amount": 5000, "currency": "USD"}}),
            serde_json::json!({"id": "r-logo", "holder": "Puma", "kind": "logo",
                "image": "puma-logo.png", "nice_classes": [18, 25], "regions": ["*"]}),
        ],
    );
    let out = run(&data, &["rights", "import", rights.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    std::fs::create_dir(dir.path().join("frames")).unwrap();
    std::fs::copy(
        format!("{IMAGES}/puma-logo.png"),
        dir.path().join("frames/f1.png"),
    )
    .unwrap();
    let file = dir.path().join("live.jsonl");
    write_lines(
        &file,
        &[
            serde_json::json!({"creator_id": "c-1", "shop_id": "shop-1", "region": "US"}),
            serde_json::json!({"t": 0, "type": "transcript", "text": "hi everyone, welcome to the show"}),
            serde_json::json!({"t": 5, "type": "frame", "pdq": "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c"}),
            serde_json::json!({"t": 10, "type": "frame", "image": "frames/f1.png"}),
            serde_json::json!({"t": 120, "type": "transcript", "text": "this replica Rolex is a perfect 1:1 copy"}),
            serde_json::json!({"t": 125, "type": "transcript", "text": "yes a replica Rolex, cheap"}),
            serde_json::json!({"t": 130, "type": "transcript", "text": "last replica Rolex left"}),
            serde_json::json!({"t": 140, "type": "transcript", "text": "never screened: the stream is over"}),
        ],
    );
    let out = run(&data, &["stream", "replay", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let actions: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<(f64, &str)> = actions
        .iter()
        .map(|a| (a["t"].as_f64().unwrap(), a["action"].as_str().unwrap()))
        .collect();
    assert_eq!(seen[0], (0.0, "continue"), "{seen:?}");
    assert_eq!(seen[1], (5.0, "continue"), "{seen:?}");
    // The registered logo in a frame: a warning naming the frame's time.
    assert_eq!(seen[2], (10.0, "warn"), "{actions:#?}");
    let why = actions[2]["reason"].as_str().unwrap();
    assert!(why.contains("00:00:10"), "{why}");
    assert_eq!(seen[3], (120.0, "warn"), "{seen:?}");
    assert_eq!(seen[4], (125.0, "stop"), "{seen:?}");
    assert_eq!(actions.len(), 5, "nothing after the stop: {seen:?}");
    let d = &actions[4]["decision"];
    assert_eq!(d["action"], "reject");
    assert!(d["violations"][0]["evidence"]["time"].is_array(), "{d}");
}

#[test]
fn a_bad_line_exits_2_naming_it_and_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("bad.jsonl");
    write_lines(
        &file,
        &[
            serde_json::json!({"t": 0, "type": "transcript", "text": "hello"}),
            serde_json::json!({"t": 1, "type": "frame"}),
        ],
    );
    let out = run(&data, &["stream", "replay", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.jsonl:2") && err.contains("image"),
        "{err}"
    );

    write_lines(
        &file,
        &[serde_json::json!({"t": 0, "type": "frame", "image": "missing.png"})],
    );
    let out = run(&data, &["stream", "replay", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.jsonl:1") && err.contains("image"),
        "{err}"
    );
}
