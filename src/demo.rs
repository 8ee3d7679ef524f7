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

/// A registered clip's vPDQ hash list, a re-encoded excerpt of it, a
/// creator's own footage, and a short MP4 that shows the printed coaster
/// (see data/demo/videos/README.md).
const CLIP_VPDQ: &str = include_str!("../data/demo/videos/clip.vpdq");
const REUPLOAD_VPDQ: &str = include_str!("../data/demo/videos/reupload.vpdq");
const HAUL_VPDQ: &str = include_str!("../data/demo/videos/haul.vpdq");
const LOGO_MP4: &[u8] = include_bytes!("../data/demo/videos/coaster.mp4");
/// A recorded livestream: honest for two minutes, then a counterfeit pitch.
const STREAM: &str = include_str!("../data/demo/stream.jsonl");

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
    let clip_right: NewRight = serde_json::from_value(serde_json::json!({
        "id": "r-fractal-clip", "holder": "Fractal Films (rights holder)",
        "kind": "copyright_video", "vpdq": CLIP_VPDQ, "regions": ["*"]
    }))?;
    entries.push((clip_right, None));
    let (n, version) = app
        .registry()
        .import_rights(&admin, entries)
        .map_err(crate::classify)?;
    println!("shopshield demo: data in {}", data.display());
    println!(
        "registered {} word marks from simple-icons brand names, 1 logo, 1 copyrighted product photo and 1 copyrighted video clip (registry version {version})",
        n - 3
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
    videos(app, &admin)?;
    livestream(app, &admin)?;
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

/// `mm:ss` of a time in seconds.
fn clock(t: f64) -> String {
    let s = t.max(0.0) as u64;
    format!("{:02}:{:02}", s / 60, s % 60)
}

/// The first violation of a decision, as one line a seller can read.
fn first_reason(d: &shopshield_model::Decision) -> String {
    d.violations
        .first()
        .map(|v| {
            let what = v
                .right_id
                .as_deref()
                .or(v.rule_id.as_deref())
                .unwrap_or("-");
            format!("{} {what}: {}", v.kind.as_str(), clip(&v.evidence.why, 160))
        })
        .unwrap_or_else(|| "no violation found".into())
}

/// Three short videos: a creator's own footage, a re-upload of the
/// registered clip (given as the platform's vPDQ hash list), and an MP4
/// decoded with ffmpeg whose frames show the registered logo.
fn videos(app: &App, admin: &Principal) -> Result<()> {
    let mut videos: Vec<shopshield_model::Video> = vec![
        serde_json::from_value(serde_json::json!({
            "id": "vid-001", "creator_id": "creator-mia", "shop_id": "shop-paris-mode",
            "region": "FR", "caption": "Weekend market haul: linen scarves and a straw hat",
            "hashtags": ["haul", "vintage"], "vpdq": HAUL_VPDQ,
            "transcript": [{"start": 0.0, "end": 6.0, "text": "look what I found at the flea market this morning"}]
        }))?,
        serde_json::from_value(serde_json::json!({
            "id": "vid-002", "creator_id": "creator-jo", "region": "US",
            "caption": "the most satisfying zoom you will see today", "hashtags": ["fyp"],
            "vpdq": REUPLOAD_VPDQ
        }))?,
    ];
    let ffmpeg = ffmpeg_available();
    if ffmpeg {
        videos.push(serde_json::from_value(serde_json::json!({
            "id": "vid-003", "creator_id": "creator-jo", "shop_id": "shop-lucky-deals",
            "region": "DE", "caption": "Unboxing my new cork coaster",
            "media": data_url(LOGO_MP4)
        }))?);
    }
    println!(
        "\n{:<9} {:<3} {:<7} {:>5} {:>6}  {:<44} why",
        "video", "rgn", "action", "score", "frames", "caption"
    );
    let mut counts = [0usize; 3];
    for v in &videos {
        let caption = v.caption.clone().unwrap_or_default();
        let r = app
            .videos()
            .submit(admin, v.clone(), shopshield_intake::ImageBase::DataOnly)
            .map_err(crate::classify)?;
        let d = &r.decision;
        counts[d.action as usize] += 1;
        println!(
            "{:<9} {:<3} {:<7} {:>5.2} {:>6}  {} {}",
            v.id,
            v.region,
            action_label(d.action),
            d.score,
            if r.created {
                r.frames.to_string()
            } else {
                "stored".to_string()
            },
            pad(&clip(&caption, 44), 44),
            first_reason(d)
        );
    }
    if !ffmpeg {
        println!(
            "vid-003 (an MP4 whose frames show the Puma logo) was skipped: ffmpeg is not installed (scripts/test installs it)"
        );
    }
    println!(
        "{} videos: {} approved, {} to review, {} rejected. A removal counts against the creator's record.",
        videos.len(),
        counts[0],
        counts[1],
        counts[2]
    );
    Ok(())
}

fn action_label_stream(k: shopshield_model::StreamActionKind) -> &'static str {
    use shopshield_model::StreamActionKind as K;
    match k {
        K::Continue => "continue",
        K::Warn => "WARN",
        K::Unpin => "UNPIN",
        K::Stop => "STOP",
    }
}

/// True when ffmpeg and ffprobe (which decode MP4 files) can be run.
fn ffmpeg_available() -> bool {
    ["ffmpeg", "ffprobe"].iter().all(|p| {
        std::process::Command::new(p)
            .arg("-version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn action_label(a: Action) -> &'static str {
    match a {
        Action::Approve => "approve",
        Action::Review => "review",
        Action::Reject => "REJECT",
    }
}

/// A livestream that starts honest and pitches counterfeits at minute
/// two: each event goes through the streams service as it would over the
/// WebSocket, and the stop is stored, enforced and appealable.
fn livestream(app: &App, admin: &Principal) -> Result<()> {
    use shopshield_model::{NewStream, StreamActionKind, StreamEvent};
    let mut lines = STREAM.lines().filter(|l| !l.trim().is_empty());
    let meta: NewStream = match lines.next() {
        Some(l) => serde_json::from_str(l)?,
        None => bail!("demo data stream.jsonl is empty"),
    };
    let id = meta.id.clone();
    let host = meta.creator_id.clone();
    let streams = app.streams();
    println!("\nlivestream {id} (host {host}):");
    match streams.open(admin, meta) {
        Ok(_) => {}
        Err(shopshield_app::AppError::Conflict(_)) => {
            // A second run: the stream was played (and stopped) before.
            let view = streams.stream(admin, &id).map_err(crate::classify)?;
            println!(
                "  already {} in an earlier run of the demo{}",
                view.status.as_str(),
                view.decision
                    .map(|d| format!(": decision {} ({})", d.decision_id, first_reason(&d)))
                    .unwrap_or_default()
            );
            return Ok(());
        }
        Err(e) => return Err(crate::classify(e)),
    }
    let mut events = 0usize;
    for l in lines {
        let event: StreamEvent = serde_json::from_str(l)?;
        events += 1;
        let said = match &event {
            StreamEvent::Transcript { text, .. } => format!("says \"{}\"", clip(text, 60)),
            StreamEvent::Frame { .. } => "shows a frame".to_string(),
            StreamEvent::Product { listing_id, .. } => format!("pins {listing_id}"),
        };
        let a = streams
            .event(admin, &id, event, shopshield_intake::ImageBase::DataOnly)
            .map_err(crate::classify)?;
        let what = match a.action {
            StreamActionKind::Continue => "continue".to_string(),
            k => format!(
                "{}: {}",
                action_label_stream(k),
                a.reason.as_deref().unwrap_or("")
            ),
        };
        println!(
            "  {}  {}  -> {}",
            clock(a.t),
            pad(&clip(&said, 72), 72),
            what
        );
        if a.action == StreamActionKind::Stop {
            if let Some(d) = &a.decision {
                println!(
                    "  stopped after {events} events; decision {} recorded against {host} (appealable)",
                    d.decision_id
                );
            }
            break;
        }
    }
    Ok(())
}
