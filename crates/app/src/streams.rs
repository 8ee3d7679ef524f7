//! The livestreams service: a session per live stream, scored over a
//! sliding window as its events arrive.
//!
//! Each event (a transcript segment, a frame as an image or a PDQ hash, a
//! pinned product) is screened by the same engine as listings and videos
//! ([`Engine::screen_content`], with time locators): a segment alone and
//! joined to the one before it (a phrase cut in two), a frame against the
//! logo and photo banks and, with the window's other frames, against the
//! registered clips; a pinned product by its own listing's decision. What
//! it finds joins the window; the window's score is its strongest
//! violation still inside `window_secs`. The answer is one action:
//! continue, warn the host, unpin the product, or — once the host has had
//! `warnings_before_stop` warnings and the window reaches
//! `stop_threshold` — stop. A stop is stored first (a stopped stream
//! never goes live again, in any process), then handed to enforcement as
//! a decision against the host (and the shop, when a pinned product of it
//! infringes): points, penalties and appeals as for any decision.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shopshield_gate::{ContentInput, ContentKind, Engine, Frame, ImageSignal, Parties, TextField};
use shopshield_intake::{ImageBase, read_image};
use shopshield_model::{
    Action, Decision, DecisionSource, Evidence, NewStream, Permission, Principal, Qualification,
    Role, StreamAction, StreamActionKind, StreamEvent, ValidationError, Violation, ViolationType,
    format_time_range,
};
use shopshield_pdq::{DihedralHashes, Hash256, QueryView};
use shopshield_store::{CatalogStore, StoredStream};
use shopshield_vpdq::FrameHash;

use crate::content::ContentDeps;
use crate::registry::Registry;
use crate::{AppConfig, AppError};

/// `[stream]`: how live streams are scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamSettings {
    /// Seconds of stream the window holds.
    pub window_secs: f64,
    /// A violation this strong warns the host.
    pub warn_threshold: f64,
    /// A window this strong stops the stream once the host was warned
    /// `warnings_before_stop` times.
    pub stop_threshold: f64,
    /// Warnings (and unpins) before a stop; 0 stops at once.
    pub warnings_before_stop: u32,
    /// Events of one stream being scored at once; more are refused (429)
    /// until the earlier ones are answered.
    pub max_in_flight: usize,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            window_secs: 60.0,
            warn_threshold: 0.5,
            stop_threshold: 0.85,
            warnings_before_stop: 2,
            max_in_flight: 8,
        }
    }
}

impl StreamSettings {
    pub fn validate(&self) -> Result<(), String> {
        if !(self.window_secs.is_finite() && (1.0..=3600.0).contains(&self.window_secs)) {
            return Err("stream.window_secs: must be 1..=3600".into());
        }
        let ok = |x: f64| x.is_finite() && x > 0.0 && x <= 1.0;
        if !ok(self.warn_threshold) {
            return Err("stream.warn_threshold: must be in (0, 1]".into());
        }
        if !ok(self.stop_threshold) || self.stop_threshold < self.warn_threshold {
            return Err("stream.stop_threshold: must be in [warn_threshold, 1]".into());
        }
        if self.warnings_before_stop > 1000 {
            return Err("stream.warnings_before_stop: must be 0..=1000".into());
        }
        if !(1..=1024).contains(&self.max_in_flight) {
            return Err("stream.max_in_flight: must be 1..=1024".into());
        }
        Ok(())
    }
}

/// `live` or `stopped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StreamStatus {
    Live,
    Stopped,
}

impl StreamStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamStatus::Live => "live",
            StreamStatus::Stopped => "stopped",
        }
    }
}

/// A stream session as stored and answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StreamView {
    pub stream: NewStream,
    pub status: StreamStatus,
    pub opened_at: DateTime<Utc>,
    /// Warnings (and unpins) given to the host.
    pub warnings: u32,
    /// The last warning's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_warning: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<DateTime<Utc>>,
    /// The stop decision, with its evidence and times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

/// What names one violation across events: its type, right and rule.
type Key = (ViolationType, Option<String>, Option<String>);

fn key(v: &Violation) -> Key {
    (v.kind, v.right_id.clone(), v.rule_id.clone())
}

fn end_time(v: &Violation) -> f64 {
    v.evidence.time.map_or(f64::NEG_INFINITY, |t| t[1])
}

struct Segment {
    start: f64,
    end: f64,
    text: String,
    keys: Vec<Key>,
}

struct WindowFrame {
    signal: ImageSignal,
    hash: Hash256,
    quality: u8,
    t: f64,
}

/// One stream's scoring state: the window and the warnings so far. Pure
/// but for the engine and the catalogue it reads.
pub struct Session {
    view: StreamView,
    subject_id: String,
    latest: f64,
    segments: VecDeque<Segment>,
    frames: VecDeque<WindowFrame>,
    /// Violations found in the window, each with its evidence time.
    found: Vec<Violation>,
    /// The latest evidence end time reported per violation.
    reported: BTreeMap<Key, f64>,
    frame_numbers: u64,
}

/// A frame decoded (or its hash parsed) before the session is locked.
pub struct PreparedFrame {
    signal: ImageSignal,
    hash: Hash256,
    quality: u8,
}

/// What scoring one event needs besides the session.
pub struct Scoring<'a> {
    pub engine: &'a Engine,
    pub settings: &'a StreamSettings,
    pub catalog: &'a dyn CatalogStore,
    pub qualifications: &'a [Qualification],
    pub now: DateTime<Utc>,
}

/// The decision a stop writes.
fn stop_decision(s: &Session, ctx: &Scoring<'_>, violations: Vec<Violation>) -> Decision {
    let score = violations
        .first()
        .map_or(0.0, |v| v.confidence.clamp(0.0, 1.0));
    Decision {
        id: s.subject_id.clone(),
        decision_id: Decision::decision_id(&s.subject_id, 1),
        listing_version: 1,
        action: Action::Reject,
        score,
        violations,
        registry_version: ctx.engine.registry_version(),
        policy_versions: BTreeMap::new(),
        decided_at: ctx.now,
        source: DecisionSource::Screen,
        cause: None,
    }
}

impl StreamView {
    fn fresh(stream: NewStream, opened_at: DateTime<Utc>) -> StreamView {
        StreamView {
            stream,
            status: StreamStatus::Live,
            opened_at,
            warnings: 0,
            last_warning: None,
            stopped_at: None,
            decision: None,
        }
    }
}

impl Session {
    /// A session for a stream opening now.
    pub fn new(stream: NewStream, opened_at: DateTime<Utc>) -> Session {
        Self::resume(StreamView::fresh(stream, opened_at))
    }

    /// A session for a stored stream (after a reconnect to another
    /// process, or a restart): its warnings count, its window starts empty.
    pub fn resume(view: StreamView) -> Session {
        Session {
            subject_id: view.stream.subject_id(),
            view,
            latest: 0.0,
            segments: VecDeque::new(),
            frames: VecDeque::new(),
            found: Vec::new(),
            reported: BTreeMap::new(),
            frame_numbers: 0,
        }
    }

    pub fn view(&self) -> &StreamView {
        &self.view
    }

    pub fn is_stopped(&self) -> bool {
        self.view.status == StreamStatus::Stopped
    }

    /// Stops the stream with a decision taken outside its events (a
    /// rights holder's notice accepted by a reviewer).
    fn stop_with(&mut self, decision: Decision, reason: String, now: DateTime<Utc>) {
        self.view.status = StreamStatus::Stopped;
        self.view.stopped_at = Some(now);
        self.view.decision = Some(decision);
        self.view.last_warning = Some(reason);
    }

    /// Drops what fell out of the window ending at `now`.
    fn prune(&mut self, now: f64, window: f64) {
        let from = now - window;
        while self.segments.front().is_some_and(|s| s.end < from) {
            self.segments.pop_front();
        }
        while self.frames.front().is_some_and(|f| f.t < from) {
            self.frames.pop_front();
        }
        self.found.retain(|v| end_time(v) >= from);
    }

    fn content<'a>(
        &'a self,
        ctx: &'a Scoring<'_>,
        texts: &'a [TextField],
        frames: &'a [Frame],
        video: Option<&'a [FrameHash]>,
    ) -> ContentInput<'a> {
        ContentInput {
            kind: ContentKind::Stream,
            id: &self.subject_id,
            parties: Parties {
                shop: self.view.stream.shop_id.as_deref(),
                creator: Some(&self.view.stream.creator_id),
            },
            region: self.view.stream.region,
            texts,
            frames,
            video,
            qualifications: ctx.qualifications,
            now: ctx.now,
        }
    }

    fn transcript(&mut self, ctx: &Scoring<'_>, t: f64, end: f64, text: &str) -> Vec<Violation> {
        let field = |start: f64, end: f64| TextField {
            field: "transcript".into(),
            label: "the transcript".into(),
            text: String::new(),
            time: Some([start, end]),
        };
        let alone = [TextField {
            text: text.to_string(),
            ..field(t, end)
        }];
        let mut found = ctx
            .engine
            .screen_content(&self.content(ctx, &alone, &[], None))
            .violations;
        let keys: Vec<Key> = found.iter().map(key).collect();
        // Joined to the segment before it: a phrase cut in two. What the
        // earlier segment already held on its own is not found again.
        if let Some(prev) = self.segments.back() {
            let joined = [TextField {
                text: format!("{} {text}", prev.text),
                ..field(prev.start, end)
            }];
            let pair = ctx
                .engine
                .screen_content(&self.content(ctx, &joined, &[], None))
                .violations;
            for v in pair {
                let k = key(&v);
                if !keys.contains(&k) && !prev.keys.contains(&k) {
                    found.push(v);
                }
            }
        }
        self.segments.push_back(Segment {
            start: t,
            end,
            text: text.to_string(),
            keys: found.iter().map(key).collect(),
        });
        found
    }

    fn frame(&mut self, ctx: &Scoring<'_>, t: f64, frame: PreparedFrame) -> Vec<Violation> {
        self.frames.push_back(WindowFrame {
            signal: ImageSignal {
                field: "frame".into(),
                ..frame.signal
            },
            hash: frame.hash,
            quality: frame.quality,
            t,
        });
        self.frame_numbers += 1;
        let Some(last) = self.frames.back() else {
            return Vec::new();
        };
        let frames = [Frame {
            signal: last.signal.clone(),
            time: t,
        }];
        let first_number = self.frame_numbers - self.frames.len() as u64;
        let hashes: Vec<FrameHash> = self
            .frames
            .iter()
            .enumerate()
            .map(|(i, f)| FrameHash {
                frame_number: first_number + i as u64,
                quality: f.quality,
                hash: f.hash,
                timestamp: f.t,
            })
            .collect();
        ctx.engine
            .screen_content(&self.content(ctx, &[], &frames, Some(&hashes)))
            .violations
    }

    fn product(
        &mut self,
        ctx: &Scoring<'_>,
        listing_id: &str,
        t: f64,
    ) -> Result<Option<Violation>, AppError> {
        let Some(stored) = ctx.catalog.latest_listing(listing_id)? else {
            return Err(ValidationError::new(
                "listing_id",
                format!("no listing {listing_id:?} is in the catalogue"),
            )
            .into());
        };
        if let Some(shop) = &self.view.stream.shop_id
            && shop != &stored.listing.shop_id
        {
            return Err(ValidationError::new(
                "listing_id",
                format!(
                    "listing {listing_id:?} belongs to shop {:?}, not the stream's shop {shop:?}",
                    stored.listing.shop_id
                ),
            )
            .into());
        }
        let decision_id = Decision::decision_id(listing_id, stored.version);
        let Some(d) = ctx.catalog.decision(&decision_id)? else {
            return Ok(None);
        };
        if d.action != Action::Reject {
            return Ok(None);
        }
        let Some(top) = d.violations.first() else {
            return Ok(None);
        };
        Ok(Some(Violation {
            kind: top.kind,
            right_id: top.right_id.clone(),
            rule_id: top.rule_id.clone(),
            detector: "showcase".into(),
            confidence: top.confidence,
            evidence: Evidence {
                field: Some("product".into()),
                time: Some([t, t]),
                why: format!(
                    "At {} the stream pinned listing {listing_id} of shop {}, rejected by decision {decision_id}: {}",
                    format_time_range([t, t]),
                    stored.listing.shop_id,
                    top.evidence.why
                ),
                ..Evidence::default()
            },
        }))
    }

    /// Scores one event (validated, its frame prepared) and answers the
    /// action. A stop marks the session stopped; the caller stores it.
    pub fn apply(
        &mut self,
        ctx: &Scoring<'_>,
        event: &StreamEvent,
        frame: Option<PreparedFrame>,
    ) -> Result<StreamAction, AppError> {
        if self.is_stopped() {
            return Err(self.stopped_error());
        }
        let t = event.t();
        self.latest = self.latest.max(t);
        self.prune(self.latest, ctx.settings.window_secs);
        let mut unpin = None;
        let mut new = match event {
            StreamEvent::Transcript { text, end, .. } => {
                self.transcript(ctx, t, end.unwrap_or(t), text)
            }
            StreamEvent::Frame { .. } => match frame {
                Some(f) => self.frame(ctx, t, f),
                None => {
                    return Err(ValidationError::new("image", "the frame was not read").into());
                }
            },
            StreamEvent::Product { listing_id, .. } => {
                let found = self.product(ctx, listing_id, t)?;
                if found.is_some() {
                    unpin = Some(listing_id.clone());
                }
                found.into_iter().collect()
            }
        };
        // Only what is new counts: a violation not reported yet, or one
        // whose evidence reaches past what was reported.
        new.retain(|v| {
            v.confidence >= ctx.settings.warn_threshold
                && self
                    .reported
                    .get(&key(v))
                    .is_none_or(|&seen| end_time(v) > seen)
        });
        new.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        for v in &new {
            let e = self.reported.entry(key(v)).or_insert(f64::NEG_INFINITY);
            *e = e.max(end_time(v));
        }
        self.found.extend(new.iter().cloned());
        let mut window = self.found.clone();
        shopshield_gate::strongest_per_subject(&mut window);
        window.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        let score = window.first().map_or(0.0, |v| v.confidence.clamp(0.0, 1.0));
        let mut action = StreamAction {
            t,
            action: StreamActionKind::Continue,
            reason: None,
            listing_id: None,
            warnings: self.view.warnings,
            score,
            violations: Vec::new(),
            decision: None,
        };
        let Some(top) = new.first() else {
            return Ok(action);
        };
        let why = top.evidence.why.clone();
        if score >= ctx.settings.stop_threshold
            && self.view.warnings >= ctx.settings.warnings_before_stop
        {
            let decision = stop_decision(self, ctx, window);
            let reason = format!(
                "Stream stopped after {} warning(s): {why}",
                self.view.warnings
            );
            self.view.status = StreamStatus::Stopped;
            self.view.stopped_at = Some(ctx.now);
            self.view.decision = Some(decision.clone());
            self.view.last_warning = Some(reason.clone());
            action.action = StreamActionKind::Stop;
            action.reason = Some(reason);
            action.decision = Some(decision);
        } else {
            self.view.warnings += 1;
            self.view.last_warning = Some(why.clone());
            action.warnings = self.view.warnings;
            action.action = if unpin.is_some() {
                StreamActionKind::Unpin
            } else {
                StreamActionKind::Warn
            };
            action.listing_id = unpin;
            action.reason = Some(why);
        }
        action.violations = new;
        Ok(action)
    }

    fn stopped_error(&self) -> AppError {
        let by = self
            .view
            .decision
            .as_ref()
            .map_or_else(String::new, |d| format!(" by decision {}", d.decision_id));
        AppError::Conflict(format!(
            "stream {:?} was stopped{by}; a stopped stream cannot go live again",
            self.view.stream.id
        ))
    }
}

/// Turns a frame event's image or hash into what the banks match.
fn prepare_frame(
    registry: &Registry,
    config: &AppConfig,
    event: &StreamEvent,
    base: ImageBase<'_>,
) -> Result<Option<PreparedFrame>, AppError> {
    let StreamEvent::Frame { image, pdq, .. } = event else {
        return Ok(None);
    };
    if let Some(hex) = pdq {
        let hash = Hash256::from_hex(hex.trim())
            .map_err(|e| ValidationError::new("pdq", format!("not a PDQ hash: {e}")))?;
        return Ok(Some(PreparedFrame {
            signal: ImageSignal {
                field: "frame".into(),
                views: vec![QueryView {
                    view: "full".into(),
                    hashes: DihedralHashes {
                        hashes: [hash; 8],
                        quality: 100,
                        degenerate: false,
                    },
                }],
                local: None,
            },
            hash,
            quality: 100,
        }));
    }
    let Some(reference) = image else {
        return Err(ValidationError::new("image", "a frame needs image or pdq").into());
    };
    let bytes = read_image("image", reference, base)?;
    let keypoints = config.images.logo_keypoints && registry.image_banks().wants_local_features();
    let signal =
        crate::images::listing_image_signal("frame", &bytes, config.images.logo_tiles, keypoints)?;
    let (hash, quality) = signal
        .views
        .first()
        .map(|v| (v.hashes.hashes[0], v.hashes.quality))
        .ok_or_else(|| ValidationError::new("image", "the image gave no hash"))?;
    Ok(Some(PreparedFrame {
        signal,
        hash,
        quality,
    }))
}

struct Live {
    in_flight: AtomicUsize,
    session: Mutex<Session>,
}

/// Releases an in-flight slot when an event is answered.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The livestreams service.
pub struct Streams {
    deps: ContentDeps,
    live: Mutex<HashMap<String, Arc<Live>>>,
}

impl Streams {
    pub(crate) fn new(deps: ContentDeps) -> Streams {
        Streams {
            deps,
            live: Mutex::new(HashMap::new()),
        }
    }

    pub fn settings(&self) -> &StreamSettings {
        &self.deps.config.stream
    }

    fn check_host(p: &Principal, stream: &NewStream) -> Result<(), AppError> {
        p.require(Permission::SubmitContent)?;
        if p.role == Role::Seller {
            match (&stream.shop_id, &p.shop_id) {
                (Some(shop), Some(own)) if shop == own => {}
                _ => {
                    return Err(ValidationError::new(
                        "shop_id",
                        "sellers stream for their own shop only",
                    )
                    .into());
                }
            }
        }
        Ok(())
    }

    fn sees(p: &Principal, stream: &NewStream) -> bool {
        p.can(Permission::ReadListings)
            && match p.role {
                Role::Seller => stream.shop_id.as_deref().is_some_and(|s| p.sees_shop(s)),
                _ => true,
            }
    }

    fn store_view(&self, view: &StreamView, insert: bool) -> Result<(), AppError> {
        let stored = StoredStream {
            id: view.stream.id.clone(),
            host_id: view.stream.creator_id.clone(),
            status: view.status.as_str().to_string(),
            doc: serde_json::to_value(view)
                .map_err(|e| AppError::Conflict(format!("stream document: {e}")))?,
            updated_at: self.deps.clock.now(),
        };
        if insert {
            self.deps.content.insert_stream(&stored)?;
        } else {
            self.deps.content.update_stream(&stored)?;
        }
        Ok(())
    }

    fn read_view(&self, id: &str) -> Result<Option<StreamView>, AppError> {
        let Some(s) = self.deps.content.stream(id)? else {
            return Ok(None);
        };
        let view: StreamView = serde_json::from_value(s.doc).map_err(|e| {
            AppError::Integrity(format!("stream {id:?}: stored document unreadable: {e}"))
        })?;
        Ok(Some(view))
    }

    /// Opens a stream session: stored at once, live until stopped.
    pub fn open(&self, p: &Principal, stream: NewStream) -> Result<StreamView, AppError> {
        Self::check_host(p, &stream)?;
        stream.validate()?;
        self.deps.review.admit_creator(&stream.creator_id)?;
        let id = stream.id.clone();
        let session = Session::new(stream, self.deps.clock.now());
        let view = session.view().clone();
        self.store_view(&view, true).map_err(|e| match e {
            AppError::Conflict(_) => AppError::Conflict(format!(
                "stream {id:?} exists already; a stream id is used once"
            )),
            other => other,
        })?;
        self.lock_live().insert(
            id,
            Arc::new(Live {
                in_flight: AtomicUsize::new(0),
                session: Mutex::new(session),
            }),
        );
        Ok(view)
    }

    fn lock_live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Live>>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The stream as stored.
    pub fn stream(&self, p: &Principal, id: &str) -> Result<StreamView, AppError> {
        match self.read_view(id)? {
            Some(v) if Self::sees(p, &v.stream) => Ok(v),
            _ => Err(AppError::not_found("stream", id)),
        }
    }

    /// The live session of a stream, loaded from the store when this
    /// process has not seen it (a reconnect).
    fn session(&self, p: &Principal, id: &str) -> Result<Arc<Live>, AppError> {
        if let Some(l) = self.lock_live().get(id) {
            return Ok(l.clone());
        }
        let view = match self.read_view(id)? {
            Some(v) if Self::sees(p, &v.stream) => v,
            _ => return Err(AppError::not_found("stream", id)),
        };
        let session = Session::resume(view);
        if session.is_stopped() {
            return Err(session.stopped_error());
        }
        let live = Arc::new(Live {
            in_flight: AtomicUsize::new(0),
            session: Mutex::new(session),
        });
        Ok(self
            .lock_live()
            .entry(id.to_string())
            .or_insert(live)
            .clone())
    }

    /// Checks that the caller may send events to a stream and that it is
    /// live (a WebSocket checks once, when it connects).
    pub fn attach(&self, p: &Principal, id: &str) -> Result<StreamView, AppError> {
        let live = self.session(p, id)?;
        let s = live.session.lock().unwrap_or_else(|e| e.into_inner());
        Self::check_host(p, &s.view().stream)?;
        if s.is_stopped() {
            return Err(s.stopped_error());
        }
        Ok(s.view().clone())
    }

    /// Scores one event of a live stream and answers the action. A stop
    /// is stored before it is answered, then enforced.
    pub fn event(
        &self,
        p: &Principal,
        id: &str,
        event: StreamEvent,
        base: ImageBase<'_>,
    ) -> Result<StreamAction, AppError> {
        p.require(Permission::SubmitContent)?;
        event.validate()?;
        let live = self.session(p, id)?;
        if live.in_flight.fetch_add(1, Ordering::AcqRel) >= self.deps.config.stream.max_in_flight {
            live.in_flight.fetch_sub(1, Ordering::AcqRel);
            return Err(AppError::Busy(format!(
                "stream {id:?} has {} events being scored; wait for their actions",
                self.deps.config.stream.max_in_flight
            )));
        }
        let _slot = Slot(&live.in_flight);
        let frame = prepare_frame(&self.deps.registry, &self.deps.config, &event, base)?;
        let engine = self.deps.registry.engine();
        let mut s = live.session.lock().unwrap_or_else(|e| e.into_inner());
        Self::check_host(p, &s.view().stream)?;
        let quals = match &s.view().stream.shop_id {
            Some(shop) => self.deps.qualifications.qualifications(shop)?,
            None => Vec::new(),
        };
        let ctx = Scoring {
            engine: &engine,
            settings: &self.deps.config.stream,
            catalog: self.deps.catalog.as_ref(),
            qualifications: &quals,
            now: self.deps.clock.now(),
        };
        let before = s.view().clone();
        let action = s.apply(&ctx, &event, frame)?;
        if action.action != StreamActionKind::Continue
            && let Err(e) = self.store_view(s.view(), false)
        {
            // Not stored: the session goes back to what is stored.
            *s = Session::resume(before);
            if let AppError::Conflict(_) = e {
                drop(s);
                self.lock_live().remove(id);
                return Err(match self.read_view(id)? {
                    Some(v) => Session::resume(v).stopped_error(),
                    None => e,
                });
            }
            return Err(e);
        }
        if let Some(decision) = &action.decision {
            self.enforce(s.view(), decision);
        }
        Ok(action)
    }

    /// The stored stream, for the notices service (no access check).
    pub(crate) fn stored(&self, id: &str) -> Result<Option<StreamView>, AppError> {
        self.read_view(id)
    }

    /// Stops a stream on a notice: a decision with source `notice`, the
    /// notice's finding and `cause`, stored and enforced against the host
    /// like a stop of its own (a provisional one, on a self-service
    /// notice, records nothing). A stream already stopped stays as it is;
    /// the answer is then its stop decision. `None`: no such stream.
    pub(crate) fn stop_on_notice(
        &self,
        id: &str,
        violations: Vec<Violation>,
        cause: shopshield_model::Cause,
    ) -> Result<Option<String>, AppError> {
        let live = match self.lock_live().get(id) {
            Some(l) => l.clone(),
            None => {
                let Some(view) = self.read_view(id)? else {
                    return Ok(None);
                };
                Arc::new(Live {
                    in_flight: AtomicUsize::new(0),
                    session: Mutex::new(Session::resume(view)),
                })
            }
        };
        let mut s = live.session.lock().unwrap_or_else(|e| e.into_inner());
        if s.is_stopped() {
            return Ok(s.view().decision.as_ref().map(|d| d.decision_id.clone()));
        }
        let now = self.deps.clock.now();
        let subject_id = s.view().stream.subject_id();
        let decision = Decision {
            id: subject_id.clone(),
            decision_id: Decision::decision_id(&subject_id, 1),
            listing_version: 1,
            action: Action::Reject,
            score: violations
                .first()
                .map_or(1.0, |v| v.confidence.clamp(0.0, 1.0)),
            violations,
            registry_version: self.deps.registry.version(),
            policy_versions: BTreeMap::new(),
            decided_at: now,
            source: DecisionSource::Notice,
            cause: Some(Box::new(cause.clone())),
        };
        let before = s.view().clone();
        s.stop_with(decision.clone(), cause.why.clone(), now);
        if let Err(e) = self.store_view(s.view(), false) {
            *s = Session::resume(before);
            drop(s);
            if let AppError::Conflict(_) = e {
                // Stopped by another process meanwhile: that stop stands.
                self.lock_live().remove(id);
                return Ok(self
                    .read_view(id)?
                    .and_then(|v| v.decision)
                    .map(|d| d.decision_id));
            }
            return Err(e);
        }
        self.enforce(s.view(), &decision);
        Ok(Some(decision.decision_id))
    }

    fn enforce(&self, view: &StreamView, decision: &Decision) {
        let liable_shop = decision
            .violations
            .iter()
            .any(|v| v.detector == "showcase")
            .then_some(view.stream.shop_id.as_deref())
            .flatten();
        let subject = match shopshield_enforce::Subject::of_content(
            ContentKind::Stream.as_str(),
            &decision.id,
            &view.stream.creator_id,
            liable_shop,
            view.stream.region,
            decision,
        ) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(decision = %decision.decision_id, error = %e, "stream stop not enforceable");
                return;
            }
        };
        if let Err(e) = self.deps.review.ingest_subjects(&[(subject, decision)]) {
            tracing::error!(decision = %decision.decision_id, error = %e, "stream stop stored but not enforced");
        }
    }

    /// Replays a recorded stream against the engine in force, without
    /// storing or enforcing anything: the actions it would have got, up to
    /// its stop. Every event is checked before any is scored; an error
    /// names the event (its index in `events`).
    pub fn replay(
        &self,
        stream: NewStream,
        events: &[StreamEvent],
        base: ImageBase<'_>,
    ) -> Result<Vec<StreamAction>, ReplayError> {
        let at = |event: Option<usize>| move |error: AppError| ReplayError { event, error };
        stream.validate().map_err(|e| at(None)(e.into()))?;
        for (i, e) in events.iter().enumerate() {
            e.validate().map_err(|e| at(Some(i))(e.into()))?;
        }
        let engine = self.deps.registry.engine();
        let quals = match &stream.shop_id {
            Some(shop) => self
                .deps
                .qualifications
                .qualifications(shop)
                .map_err(|e| at(None)(e.into()))?,
            None => Vec::new(),
        };
        let mut session = Session::new(stream, self.deps.clock.now());
        let mut out = Vec::new();
        for (i, event) in events.iter().enumerate() {
            let frame = prepare_frame(&self.deps.registry, &self.deps.config, event, base)
                .map_err(at(Some(i)))?;
            let ctx = Scoring {
                engine: &engine,
                settings: &self.deps.config.stream,
                catalog: self.deps.catalog.as_ref(),
                qualifications: &quals,
                now: self.deps.clock.now(),
            };
            let action = session.apply(&ctx, event, frame).map_err(at(Some(i)))?;
            let stop = action.action == StreamActionKind::Stop;
            out.push(action);
            if stop {
                break;
            }
        }
        Ok(out)
    }
}

/// A replay that could not run: the event at fault (`None`: the stream's
/// metadata) and why.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct ReplayError {
    pub event: Option<usize>,
    pub error: AppError,
}
