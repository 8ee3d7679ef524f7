//! Load generator for livestreams: N concurrent streams against a running
//! server, each over its own WebSocket, sending one transcript segment a
//! second and one frame (a PDQ hash) every five seconds, and timing each
//! event from send to its action. Prints a JSON summary: events, actions by
//! kind, errors, and the p50/p90/p99/max event→action latency.
//!
//!   cargo run --release -p shopshield-server --example stream_load -- \
//!       --base http://127.0.0.1:8080 --key KEY [--streams 1000] [--secs 60] \
//!       [--infringing-every 50]
//!
//! Every 50th stream (by default) turns to pitching counterfeits of Nike
//! (a mark of `data/demo/rights.jsonl`) at its 20th second: its events are
//! answered with warnings and then a stop, which closes its socket.
//!
//! bench/streams/run.sh starts a server and runs it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

struct Args {
    base: String,
    key: String,
    streams: usize,
    secs: u64,
    prefix: String,
    /// Every n-th stream pitches counterfeits from its 20th second on (0:
    /// none), so warnings and stops are part of the load.
    infringing_every: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        base: "http://127.0.0.1:8080".into(),
        key: String::new(),
        streams: 1000,
        secs: 60,
        prefix: format!("load-{}", std::process::id()),
        infringing_every: 50,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--base" => a.base = value()?,
            "--key" => a.key = value()?,
            "--streams" => a.streams = value()?.parse().map_err(|e| format!("--streams: {e}"))?,
            "--secs" => a.secs = value()?.parse().map_err(|e| format!("--secs: {e}"))?,
            "--prefix" => a.prefix = value()?,
            "--infringing-every" => {
                a.infringing_every = value()?
                    .parse()
                    .map_err(|e| format!("--infringing-every: {e}"))?
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.key.is_empty() {
        return Err("--key is required (an admin or service API key)".into());
    }
    Ok(a)
}

/// What one stream saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    actions: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
}

/// A pseudo-random PDQ hash (frames of a scene nobody registered).
fn pdq(seed: u64) -> String {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut hex = String::with_capacity(64);
    for _ in 0..4 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        hex.push_str(&format!("{s:016x}"));
    }
    hex
}

const LINES: [&str; 6] = [
    "welcome back everyone to the evening show",
    "this jacket is made of recycled wool",
    "the stitching is double and the zip is metal",
    "we ship to every region in two days",
    "ask me anything about sizes in the chat",
    "this week's discount is ten percent",
];

/// What an infringing stream says from its 20th second on.
const PITCH: [&str; 3] = [
    "these Nike sneakers are replicas, 1:1 copies of the originals",
    "fake Nike at a tenth of the price, grab them now",
    "the replica Nike sell out every night",
];

async fn one_stream(args: &Args, client: &reqwest::Client, n: usize, start_in: Duration) -> Tally {
    let mut tally = Tally::default();
    let id = format!("{}-{n}", args.prefix);
    let opened = client
        .post(format!("{}/v1/streams", args.base))
        .bearer_auth(&args.key)
        .json(&json!({"id": id, "creator_id": format!("host-{n}"), "region": "US"}))
        .send()
        .await;
    match opened {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => {
            *tally
                .errors
                .entry(format!("open {}", r.status()))
                .or_default() += 1;
            return tally;
        }
        Err(e) => {
            *tally.errors.entry(format!("open: {e}")).or_default() += 1;
            return tally;
        }
    }
    tokio::time::sleep(start_in).await;
    let url = format!(
        "{}/v1/streams/{id}/ws",
        args.base.replace("http://", "ws://")
    );
    let Ok(mut req) = url.into_client_request() else {
        *tally.errors.entry("bad url".into()).or_default() += 1;
        return tally;
    };
    if let Ok(v) = format!("Bearer {}", args.key).parse() {
        req.headers_mut().insert("authorization", v);
    }
    let mut ws = match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => ws,
        Err(e) => {
            *tally.errors.entry(format!("connect: {e}")).or_default() += 1;
            return tally;
        }
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for second in 0..args.secs {
        tick.tick().await;
        let t = second as f64;
        let pitching =
            args.infringing_every > 0 && n.is_multiple_of(args.infringing_every) && second >= 20;
        let text = if pitching {
            PITCH[second as usize % PITCH.len()]
        } else {
            LINES[(n + second as usize) % LINES.len()]
        };
        let mut events = vec![json!({"type": "transcript", "t": t, "end": t + 0.9, "text": text})];
        if second % 5 == 0 {
            events.push(json!({"type": "frame", "t": t, "pdq": pdq((n as u64) << 20 | second)}));
        }
        for e in events {
            let sent = Instant::now();
            if ws.send(Message::Text(e.to_string().into())).await.is_err() {
                *tally.errors.entry("send".into()).or_default() += 1;
                return tally;
            }
            let answer = loop {
                match ws.next().await {
                    Some(Ok(Message::Text(t))) => break Some(t),
                    Some(Ok(_)) => continue,
                    _ => break None,
                }
            };
            let Some(answer) = answer else {
                *tally.errors.entry("socket closed".into()).or_default() += 1;
                return tally;
            };
            tally
                .latencies_us
                .push(sent.elapsed().as_micros().min(u128::from(u64::MAX)) as u64);
            let v: Value = serde_json::from_str(&answer).unwrap_or(Value::Null);
            match v["action"].as_str() {
                Some("stop") => {
                    // The server closes a stopped stream's socket.
                    *tally.actions.entry("stop".into()).or_default() += 1;
                    return tally;
                }
                Some(a) => *tally.actions.entry(a.to_string()).or_default() += 1,
                None => {
                    let code = v["error"]["code"].as_str().unwrap_or("unreadable");
                    *tally.errors.entry(code.to_string()).or_default() += 1;
                }
            }
        }
    }
    let _ = ws.close(None).await;
    tally
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = match args() {
        Ok(a) => std::sync::Arc::new(a),
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let client = reqwest::Client::new();
    let began = Instant::now();
    let mut tasks = Vec::with_capacity(args.streams);
    for n in 0..args.streams {
        let (args, client) = (args.clone(), client.clone());
        // Connections spread over the first second, as streams go live.
        let start_in = Duration::from_micros((n as u64 * 1_000_000) / args.streams.max(1) as u64);
        tasks.push(tokio::spawn(async move {
            one_stream(&args, &client, n, start_in).await
        }));
    }
    let mut all = Tally::default();
    for t in tasks {
        let Ok(t) = t.await else {
            *all.errors.entry("task panicked".into()).or_default() += 1;
            continue;
        };
        all.latencies_us.extend(t.latencies_us);
        for (k, v) in t.actions {
            *all.actions.entry(k).or_default() += v;
        }
        for (k, v) in t.errors {
            *all.errors.entry(k).or_default() += v;
        }
    }
    all.latencies_us.sort_unstable();
    let wall = began.elapsed().as_secs_f64();
    let summary = json!({
        "streams": args.streams,
        "seconds": args.secs,
        "events": all.latencies_us.len(),
        "events_per_second": all.latencies_us.len() as f64 / wall,
        "actions": all.actions,
        "errors": all.errors,
        "latency_ms": {
            "p50": percentile(&all.latencies_us, 0.50),
            "p90": percentile(&all.latencies_us, 0.90),
            "p99": percentile(&all.latencies_us, 0.99),
            "max": percentile(&all.latencies_us, 1.0),
        }
    });
    println!("{summary}");
    if all.errors.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    }
}
