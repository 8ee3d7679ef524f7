//! The sweep service: detection after listing.
//!
//! A sweep rescreens the live (and pending) listings a change may affect:
//! a right created, enabled or disabled, a policy pack reloaded, a rule's
//! effective date passing. It never rescans the catalogue: the store keeps
//! an index from terms to listings, written with every listing version
//! ([`listing_terms`]), and a sweep looks the change's terms up in the
//! index's vocabulary (a new mark's words and the words within its fuzzy
//! budget; a new photo or logo's hashes, against the listings' `pdq:`
//! whole-image hashes; a rule's keywords; `cat:` categories; `right:ID`
//! for the listings a right's decisions named), then only those listings.
//!
//! Sweeps are durable: [`Sweeps::open_due`] turns registry changes (made by
//! any process) and passing rule dates into sweep records in the store,
//! moving a watermark in the same transaction; a process claims a sweep
//! for a lease and saves its cursor and counts after every page, so a
//! sweep whose process died is taken over where it stopped.
//!
//! A listing that now violates gets a new decision (the next version of
//! the listing, same content) with source `sweep` and a cause naming the
//! right or rules and their version; enforcement takes it like any other
//! decision. When a right is disabled, the open cases resting on it close
//! (the listing is screened again and goes live if nothing else is wrong),
//! and listings it removed go back to review. A right whose registration
//! expired, or that is held for review or refused on review, is taken out
//! the same way; an expiry needs no registry change: [`Sweeps::open_due`]
//! finds the rights whose registration lapsed since its last time check.
//!
//! A brand authorisation approved or revoked opens a sweep scoped to the
//! shop (`Cause::shop_id`): only that shop's listings are looked at, and
//! no catalogue-wide sweep of the right's mark is opened for it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use shopshield_model::{
    Action, Cause, Decision, DecisionSource, Listing, Permission, Principal, RightReviewState,
};
use shopshield_store::{
    AuthorizationStore, CatalogStore, Page, RegistryStore, Screened, SellerChange, StoreError,
    StoredListing, SweepCounts, SweepRecord, SweepState, SweepStore,
};

use crate::config::SweepConfig;
use crate::registry::Registry;
use crate::review::Review;
use crate::screening::Screening;
use crate::{AppError, Clock};

/// Most index terms one listing contributes.
const MAX_TERMS: usize = 96;
/// Longest indexed term, in bytes (longer words are cut at a character
/// boundary; a sweep's keys are matched by containment, so a cut word
/// still matches the keys at its start).
const MAX_TERM_LEN: usize = 48;
/// Vocabulary read per round trip.
const VOCABULARY_PAGE: usize = 50_000;
/// The rule check is written to the store at most this often when nothing
/// else changed.
const RULE_CHECK_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// Prefix of an image hash term: `pdq:` and the whole-image PDQ hash of
/// one of the listing's images, in hex.
const PDQ_TERM: &str = "pdq:";

/// The whole-image PDQ hashes (hex) of a listing's decoded images, for
/// [`listing_terms`]. Degenerate hashes (a blank image) are left out: they
/// would match every other blank image.
pub(crate) fn image_terms(images: &[shopshield_gate::ImageSignal]) -> Vec<String> {
    images
        .iter()
        .filter_map(|s| s.views.iter().find(|v| v.view == "full"))
        .map(|v| v.hashes.original())
        .filter(|h| !h.degenerate)
        .map(|h| h.hash.to_hex())
        .collect()
}

/// The index term of a listing whose search for logos inside its photos
/// was left for a sweep (`[images] logo_search = "after_listing"`). The
/// logo sweep looks it up, and removes it from the listing it handled.
pub(crate) const LOGO_PENDING: &str = "logo:pending";

/// The change of a logo sweep's cause.
pub(crate) const LOGO_SEARCH: &str = "logo_search";

/// [`listing_terms`] of a screened listing, with [`LOGO_PENDING`] when its
/// logo search was left for later and it may be live.
pub(crate) fn screened_terms(
    listing: &Listing,
    decision: &Decision,
    extra: &crate::screening::ExtraTerms,
) -> Vec<String> {
    let mut terms = listing_terms(listing, decision, &extra.image_hashes);
    if extra.logo_later && decision.action != Action::Reject {
        terms.push(LOGO_PENDING.to_string());
    }
    terms
}

/// The sweep index entries of a listing version with its decision: the
/// normalised words of its title, brand and description, its category
/// (`cat:ID`) and its images' hashes (`pdq:HEX`, from [`image_terms`])
/// while it may be live (not rejected), and `right:ID` for every right its
/// decision names.
pub(crate) fn listing_terms(
    listing: &Listing,
    decision: &Decision,
    image_hashes: &[String],
) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    if decision.action != Action::Reject {
        for h in image_hashes {
            out.insert(format!("{PDQ_TERM}{h}"));
        }
        for text in [
            Some(listing.title.as_str()),
            listing.brand.as_deref(),
            listing.description.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            let n = shopshield_text::normalize(text);
            for w in n.text().split(' ').filter(|w| !w.is_empty()) {
                if out.len() >= MAX_TERMS {
                    break;
                }
                out.insert(cut(w).to_string());
            }
        }
        out.insert(format!("cat:{}", listing.category));
    }
    for v in &decision.violations {
        if let Some(r) = &v.right_id {
            out.insert(format!("right:{r}"));
        }
    }
    out.into_iter().collect()
}

fn cut(w: &str) -> &str {
    if w.len() <= MAX_TERM_LEN {
        return w;
    }
    let mut end = MAX_TERM_LEN;
    while !w.is_char_boundary(end) {
        end -= 1;
    }
    &w[..end]
}

/// What a term must look like to name a listing a change may affect.
#[derive(Debug, Clone, Default)]
pub(crate) struct Keys {
    /// Terms that must be equal (`right:ID`, `cat:ID`).
    exact: BTreeSet<String>,
    /// Normalised words: a term containing one matches.
    contained: BTreeSet<String>,
    /// Normalised words with an edit budget: a term within it matches.
    fuzzy: Vec<(Vec<char>, usize)>,
    /// Categories a rule covers without a keyword.
    categories: Vec<String>,
    /// A registered image's hashes: a `pdq:` term within `image_distance`
    /// of one matches.
    images: Vec<shopshield_pdq::Hash256>,
    image_distance: u32,
}

impl Keys {
    fn is_empty(&self) -> bool {
        self.exact.is_empty()
            && self.contained.is_empty()
            && self.fuzzy.is_empty()
            && self.categories.is_empty()
            && self.images.is_empty()
    }

    /// The words of a mark or alias: each word, and the whole without
    /// spaces (a glued spelling); words of four letters or more also match
    /// inside longer terms, and within an edit budget (1 up to seven
    /// characters, 2 from eight), the same budget as the text detector's.
    fn add_mark(&mut self, mark: &str) {
        let n = shopshield_text::normalize(mark);
        let words: Vec<&str> = n.text().split(' ').filter(|w| !w.is_empty()).collect();
        let joined: String = words.concat();
        for w in words
            .iter()
            .copied()
            .chain(std::iter::once(joined.as_str()))
        {
            let chars = w.chars().count();
            if chars == 0 {
                continue;
            }
            if chars >= 4 {
                self.contained.insert(cut(w).to_string());
                let budget = if chars >= 8 { 2 } else { 1 };
                self.fuzzy.push((w.chars().collect(), budget));
            } else {
                self.exact.insert(w.to_string());
            }
        }
    }

    /// A rule's keywords and exceptions match without word boundaries, as
    /// the policy detector matches them: every word is a containment key.
    fn add_keyword(&mut self, keyword: &str) {
        let n = shopshield_text::normalize(keyword);
        for w in n.text().split(' ').filter(|w| !w.is_empty()) {
            self.contained.insert(cut(w).to_string());
        }
    }

    fn matches(&self, term: &str) -> bool {
        if self.exact.contains(term) {
            return true;
        }
        if let Some(cat) = term.strip_prefix("cat:") {
            return self.categories.iter().any(|c| category_in(c, cat));
        }
        if term.starts_with("right:") {
            return false;
        }
        if let Some(hex) = term.strip_prefix(PDQ_TERM) {
            let Ok(h) = shopshield_pdq::Hash256::from_hex(hex) else {
                return false;
            };
            return self
                .images
                .iter()
                .any(|k| k.distance(&h) <= self.image_distance);
        }
        if self.contained.iter().any(|k| term.contains(k.as_str())) {
            return true;
        }
        if self.fuzzy.is_empty() {
            return false;
        }
        let t: Vec<char> = term.chars().collect();
        self.fuzzy.iter().any(|(k, budget)| within(&t, k, *budget))
    }
}

/// `cat` is covered by `pattern` (`*`, `group/*` or an id), as pack rules
/// read categories.
fn category_in(pattern: &str, cat: &str) -> bool {
    pattern == "*"
        || pattern == cat
        || pattern
            .strip_suffix("/*")
            .is_some_and(|g| cat.split_once('/').is_some_and(|(cg, _)| cg == g))
}

/// Levenshtein distance of `a` and `b` is at most `k` (banded, early exit).
fn within(a: &[char], b: &[char], k: usize) -> bool {
    if a.len().abs_diff(b.len()) > k {
        return false;
    }
    let n = b.len();
    let mut prev: Vec<usize> = (0..=n).collect();
    let mut cur = vec![0usize; n + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut best = cur[0];
        for j in 1..=n {
            let cost = usize::from(*ca != b[j - 1]);
            cur[j] = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            best = best.min(cur[j]);
        }
        if best > k {
            return false;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[n] <= k
}

/// What one run of sweeps did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SweepReport {
    /// The sweeps worked on, as they stand now.
    pub sweeps: Vec<SweepRecord>,
    /// Totals over them.
    pub counts: SweepCounts,
    /// The decisions they took, in order.
    pub decisions: Vec<Decision>,
}

/// A live listing that holds a right's mark.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CatalogueHit {
    pub listing_id: String,
    pub shop_id: String,
    pub title: String,
    /// `live` or `pending_review`.
    pub status: &'static str,
    pub decision_id: String,
    /// The gate's action on the listing's latest version.
    pub action: Action,
    /// `exact` (a word of the mark as the gate normalises it) or
    /// `look_alike` (glued into a longer word, or within the edit budget).
    pub matched: &'static str,
    /// The listing's normalised words that matched.
    pub terms: Vec<String>,
}

/// The sweep service.
pub struct Sweeps {
    store: Arc<dyn SweepStore>,
    rights: Arc<dyn RegistryStore>,
    auths: Arc<dyn AuthorizationStore>,
    catalog: Arc<dyn CatalogStore>,
    registry: Arc<Registry>,
    screening: Arc<Screening>,
    review: Arc<Review>,
    clock: Arc<dyn Clock>,
    config: SweepConfig,
    /// The largest distance at which a listing image's hash is looked at
    /// for a registered image (the image banks' largest threshold).
    image_distance: u32,
    /// This process's name in sweep claims.
    claimer: String,
    /// The logo sweep this process opened last: another is opened only
    /// once it is done.
    logo_sweep: std::sync::Mutex<Option<String>>,
}

impl Sweeps {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: Arc<dyn SweepStore>,
        rights: Arc<dyn RegistryStore>,
        auths: Arc<dyn AuthorizationStore>,
        catalog: Arc<dyn CatalogStore>,
        registry: Arc<Registry>,
        screening: Arc<Screening>,
        review: Arc<Review>,
        clock: Arc<dyn Clock>,
        config: SweepConfig,
        image_distance: u32,
    ) -> Sweeps {
        let claimer = format!(
            "{}-{}-{:08x}",
            hostname(),
            std::process::id(),
            rand::random::<u32>()
        );
        Sweeps {
            store,
            rights,
            auths,
            catalog,
            registry,
            screening,
            review,
            clock,
            config,
            image_distance,
            claimer,
            logo_sweep: std::sync::Mutex::new(None),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    // ----------------------------------------------------------- opening

    /// Opens the sweeps due: one per right changed since the watermark
    /// (created, enabled or disabled, by any process), and one for the
    /// rules whose effective date passed since the last check. Safe in
    /// several processes at once: the watermark moves in the same
    /// transaction, and a process that lost the race opens nothing.
    /// Returns how many sweeps were opened.
    pub fn open_due(&self) -> Result<usize, AppError> {
        let logo = self.open_logo_sweep()?;
        let mark = self.store.sweep_watermark()?;
        let version = self.rights.registry_version()?;
        let now = self.now();
        let mut new = mark.clone();
        let mut sweeps = Vec::new();
        if version > mark.registry_version {
            let changed = self.rights.rights_changed_since(mark.registry_version)?;
            // Read after the rights: an authorisation's log entry is
            // written with its right's change, so every change seen above
            // has its entry here.
            let auths = self
                .auths
                .authorization_changes_since(mark.registry_version)?;
            let by_auth: BTreeSet<(&str, u64)> = auths
                .iter()
                .map(|a| (a.right_id.as_str(), a.registry_version))
                .collect();
            for a in &auths {
                sweeps.push(self.record(authorization_sweep_id(a), authorization_cause(a)));
            }
            for c in changed {
                // A right whose last change is an authorisation: its sweep,
                // scoped to the shop, is opened above.
                if by_auth.contains(&(c.right.id.as_str(), c.version)) {
                    continue;
                }
                let r = &c.right;
                let change = if !r.enabled {
                    "right_disabled"
                } else if r.is_held() {
                    match r.review.as_ref().map(|v| v.state) {
                        Some(RightReviewState::Refused) => "right_refused",
                        _ => "right_held",
                    }
                } else if r.is_expired(now) {
                    "right_expired"
                } else if r.created_at == r.updated_at {
                    "right_created"
                } else {
                    "right_enabled"
                };
                let id = format!("right:{}@{}", r.id, c.version);
                let what = r
                    .mark
                    .as_deref()
                    .map(|m| format!(" ({m:?})"))
                    .unwrap_or_default();
                let why = match change {
                    k if withdrawn(k).is_some() => format!(
                        "right {}{what} was {} at registry version {}: decisions resting on it are reviewed again",
                        r.id,
                        withdrawn(k).unwrap_or("disabled"),
                        c.version
                    ),
                    _ => format!(
                        "right {}{what} of holder {} came into force at registry version {} after this listing went live",
                        r.id, r.holder_id, c.version
                    ),
                };
                sweeps.push(self.record(
                    id,
                    Cause {
                        change: change.into(),
                        right_id: Some(r.id.clone()),
                        rule_ids: Vec::new(),
                        shop_id: None,
                        version: c.version.to_string(),
                        by: String::new(),
                        why,
                    },
                ));
            }
            new.registry_version = version;
        }
        match mark.rules_checked_at {
            None => new.rules_checked_at = Some(now),
            Some(prev) if now > prev => {
                let policy = self.registry.policy();
                let passed = |t: Option<DateTime<Utc>>| t.is_some_and(|t| prev < t && t <= now);
                let mut rules = Vec::new();
                let mut packs = BTreeSet::new();
                for pack in policy.packs() {
                    for rule in &pack.rules {
                        if passed(rule.effective_from) || passed(rule.effective_until) {
                            rules.push(rule.id.clone());
                            packs.insert(format!("{}@{}", pack.name, pack.version()));
                        }
                    }
                }
                let lapsed = self.rights_lapsed(prev, now)?;
                for r in &lapsed {
                    sweeps.push(self.expiry_record(r));
                }
                if !rules.is_empty() {
                    let id = format!("rules@{}", now.to_rfc3339());
                    sweeps.push(self.record(
                        id,
                        Cause {
                            change: "rule_effective".into(),
                            right_id: None,
                            why: format!(
                                "rule(s) {} came into or went out of force after this listing went live",
                                rules.join(", ")
                            ),
                            rule_ids: rules,
                            shop_id: None,
                            version: packs.into_iter().collect::<Vec<_>>().join(","),
                            by: String::new(),
                        },
                    ));
                    new.rules_checked_at = Some(now);
                } else if !lapsed.is_empty() || now - prev >= RULE_CHECK_EVERY {
                    new.rules_checked_at = Some(now);
                }
            }
            Some(_) => {}
        }
        if new == mark {
            return Ok(logo);
        }
        match self.store.open_sweeps(Some((&mark, &new)), &sweeps) {
            Ok(()) => {
                if !sweeps.is_empty() {
                    tracing::info!(sweeps = sweeps.len(), "sweeps opened");
                }
                Ok(sweeps.len() + logo)
            }
            // Another process opened them.
            Err(StoreError::Conflict(_)) => Ok(logo),
            Err(e) => Err(e.into()),
        }
    }

    /// Opens a logo sweep when listings wait for their logo search
    /// ([`LOGO_PENDING`]) and the last one this process opened is done.
    /// It handles every waiting listing, so one at a time suffices; two
    /// processes may each open one, and a listing both reach gets one new
    /// decision (a decision is stored only on the version it was made
    /// from).
    fn open_logo_sweep(&self) -> Result<usize, AppError> {
        let mut last = self
            .logo_sweep
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(id) = last.as_deref()
            && self
                .store
                .sweep(id)?
                .is_some_and(|r| r.state != SweepState::Done)
        {
            return Ok(0);
        }
        let waiting = self
            .store
            .listings_with_terms(&[LOGO_PENDING.to_string()], None, 1)?;
        if waiting.is_empty() {
            return Ok(0);
        }
        let now = self.now();
        let id = format!(
            "logo@{}-{:08x}",
            now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            rand::random::<u32>()
        );
        let rec = self.record(
            id.clone(),
            Cause {
                change: LOGO_SEARCH.into(),
                right_id: None,
                rule_ids: Vec::new(),
                shop_id: None,
                version: String::new(),
                by: String::new(),
                why: "this listing's photos were searched for registered logos after it was \
                      decided on its text and whole-image hashes ([images] logo_search = \
                      \"after_listing\")"
                    .into(),
            },
        );
        self.store.open_sweeps(None, &[rec])?;
        tracing::info!(sweep = %id, "logo sweep opened");
        *last = Some(id);
        Ok(1)
    }

    fn record(&self, id: String, cause: Cause) -> SweepRecord {
        new_record(id, cause, self.now())
    }

    /// The rights in force whose registration lapsed after `prev` and by
    /// `now` (a right expiring on day D lapses at 00:00 UTC on D+1), read
    /// by their expiry day from the store, so every process sees the same.
    fn rights_lapsed(
        &self,
        prev: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<shopshield_model::Right>, AppError> {
        let day = chrono::Duration::days(1);
        let (Some(from), Some(to)) = (
            prev.date_naive().checked_sub_signed(day),
            now.date_naive().checked_sub_signed(day),
        ) else {
            return Ok(Vec::new());
        };
        Ok(self
            .rights
            .rights_expiring(from, to)?
            .into_iter()
            .filter(|r| r.enabled && !r.is_held())
            .filter(|r| r.lapses_at().is_some_and(|t| prev < t && t <= now))
            .collect())
    }

    /// The sweep for a right whose registration lapsed: like a right
    /// disabled, its open cases close and listings it removed go back to
    /// review. One per right and expiry day, whichever process opens it.
    fn expiry_record(&self, r: &shopshield_model::Right) -> SweepRecord {
        let (registration, expires_on) = r
            .registration
            .as_ref()
            .map(|g| {
                (
                    format!("{} {}", g.office, g.number),
                    g.expires_on.to_string(),
                )
            })
            .unwrap_or_default();
        let what = r
            .mark
            .as_deref()
            .map(|m| format!(" ({m:?})"))
            .unwrap_or_default();
        self.record(
            format!("right-expired:{}@{expires_on}", r.id),
            Cause {
                change: "right_expired".into(),
                right_id: Some(r.id.clone()),
                shop_id: None,
                rule_ids: Vec::new(),
                version: format!("{registration} valid until {expires_on}"),
                by: String::new(),
                why: format!(
                    "right {}{what} of holder {} expired: its registration {registration} was valid until {expires_on} (UTC); decisions resting on it are reviewed again",
                    r.id, r.holder_id
                ),
            },
        )
    }

    // ----------------------------------------------------------- running

    /// Opens the sweeps due and runs every open sweep to its end (admins
    /// and the platform service; `shopshield sweep`, `POST /v1/sweeps`).
    /// `max_pages` bounds the work: a sweep cut short stays claimed by
    /// this process until its lease ends, then any process resumes it.
    pub fn run_now(
        &self,
        p: &Principal,
        max_pages: Option<usize>,
    ) -> Result<SweepReport, AppError> {
        p.require(Permission::RunSweeps)?;
        self.open_due()?;
        let mut report = SweepReport::default();
        let mut skip = Vec::new();
        let mut budget = max_pages;
        while budget != Some(0) {
            let Some(done) = self.run_one(&mut skip, &mut budget)? else {
                break;
            };
            let (rec, decisions) = done;
            add(&mut report.counts, &rec.counts);
            report.decisions.extend(decisions);
            report.sweeps.push(rec);
        }
        Ok(report)
    }

    /// Claims one open sweep and works on it until it is done or the page
    /// budget runs out. Returns the sweep (its counts: this run's work)
    /// and its new decisions, or `None` when nothing is open.
    fn run_one(
        &self,
        skip: &mut Vec<String>,
        budget: &mut Option<usize>,
    ) -> Result<Option<(SweepRecord, Vec<Decision>)>, AppError> {
        // The engine must know every change the sweeps are about.
        self.registry.refresh()?;
        let lease = chrono::Duration::seconds(i64::try_from(self.config.lease_secs).unwrap_or(60));
        let now = self.now();
        let Some(mut rec) = self
            .store
            .claim_sweep(now, &self.claimer, now + lease, skip)?
        else {
            return Ok(None);
        };
        // Policy packs live in each process: only one with the versions a
        // reload put in force runs its sweep.
        if rec.cause.change == "policy_reloaded" && !self.has_versions(&rec.cause.version) {
            skip.push(rec.id.clone());
            rec.claimed_by = None;
            rec.claim_until = None;
            self.store.save_sweep(&rec, &self.claimer)?;
            return self.run_one(skip, budget);
        }
        let keys = self.keys(&rec.cause)?;
        let terms = if keys.is_empty() || shop_scope(&rec.cause).is_some() {
            Vec::new()
        } else {
            self.matching_terms(&keys)?
        };
        let mut this_run = SweepCounts::default();
        let mut decisions = Vec::new();
        loop {
            if *budget == Some(0) {
                // Cut short: keep the claim; it lapses if this process
                // does not come back.
                let mut shown = rec.clone();
                shown.counts = this_run;
                return Ok(Some((shown, decisions)));
            }
            let ids = match shop_scope(&rec.cause) {
                Some(shop) => self.shop_page(shop, rec.cursor.clone())?,
                None => self.store.listings_with_terms(
                    &terms,
                    rec.cursor.as_deref(),
                    self.config.page,
                )?,
            };
            let Some(last) = ids.last().cloned() else {
                break;
            };
            let (counts, mut taken) = self.handle_page(&rec.cause, &keys, &ids)?;
            add(&mut this_run, &counts);
            add(&mut rec.counts, &counts);
            decisions.append(&mut taken);
            rec.cursor = Some(last);
            rec.claim_until = Some(self.now() + lease);
            self.store.save_sweep(&rec, &self.claimer)?;
            if let Some(b) = budget.as_mut() {
                *b -= 1;
            }
        }
        rec.state = SweepState::Done;
        rec.finished_at = Some(self.now());
        rec.claimed_by = None;
        rec.claim_until = None;
        self.store.save_sweep(&rec, &self.claimer)?;
        tracing::info!(
            sweep = %rec.id,
            looked_at = rec.counts.looked_at,
            rescreened = rec.counts.rescreened,
            taken_down = rec.counts.taken_down,
            "sweep done"
        );
        let mut shown = rec;
        shown.counts = this_run;
        Ok(Some((shown, decisions)))
    }

    fn has_versions(&self, version: &str) -> bool {
        let mine = self.registry.policy().versions();
        version.split(',').filter(|s| !s.is_empty()).all(|pv| {
            pv.split_once('@')
                .is_some_and(|(p, v)| mine.get(p).is_some_and(|m| m == v))
        })
    }

    /// The keys a change's listings carry in the index.
    fn keys(&self, cause: &Cause) -> Result<Keys, AppError> {
        let mut keys = Keys::default();
        match cause.change.as_str() {
            c if withdrawn(c).is_some() => {
                if let Some(id) = &cause.right_id {
                    keys.exact.insert(format!("right:{id}"));
                }
            }
            LOGO_SEARCH => {
                keys.exact.insert(LOGO_PENDING.to_string());
            }
            "right_created" | "right_enabled" | AUTHORIZATION_APPROVED | AUTHORIZATION_REVOKED => {
                let Some(id) = &cause.right_id else {
                    return Ok(keys);
                };
                let Some(rec) = self.rights.right(id)? else {
                    return Ok(keys);
                };
                let r = rec.right;
                if !r.in_force(self.now()) {
                    return Ok(keys);
                }
                if let Some(m) = &r.mark {
                    keys.add_mark(m);
                }
                for a in &r.aliases {
                    keys.add_mark(a);
                }
                // A registered photo or logo: listings whose images are
                // near copies of one of its views (a logo inside a larger
                // photo is not in the index; see docs).
                keys.image_distance = self.image_distance;
                for h in r.image_hashes.iter().filter(|h| !h.degenerate) {
                    match shopshield_pdq::Hash256::from_hex(&h.pdq) {
                        Ok(hash) => keys.images.push(hash),
                        Err(e) => {
                            tracing::warn!(right = %r.id, view = %h.view, error = %e, "a registered image hash does not parse; left out of the sweep")
                        }
                    }
                }
            }
            _ => {
                let policy = self.registry.policy();
                for id in &cause.rule_ids {
                    let Some((rule, _)) = policy.rule(id) else {
                        continue;
                    };
                    for k in rule.keywords.iter().chain(&rule.exceptions) {
                        keys.add_keyword(k);
                    }
                    keys.categories
                        .extend(rule.match_categories.iter().cloned());
                    for replaced in &rule.replaces {
                        if let Some((r, _)) = policy.rule(replaced) {
                            for k in r.keywords.iter().chain(&r.exceptions) {
                                keys.add_keyword(k);
                            }
                            keys.categories.extend(r.match_categories.iter().cloned());
                        }
                    }
                }
            }
        }
        Ok(keys)
    }

    /// The indexed terms that match the keys: the exact ones directly, the
    /// others by a pass over the vocabulary of distinct terms (not over
    /// listings).
    fn matching_terms(&self, keys: &Keys) -> Result<Vec<String>, AppError> {
        let mut out: Vec<String> = keys.exact.iter().cloned().collect();
        if keys.contained.is_empty()
            && keys.fuzzy.is_empty()
            && keys.categories.is_empty()
            && keys.images.is_empty()
        {
            return Ok(out);
        }
        let mut after: Option<String> = None;
        loop {
            let page = self.store.index_terms(after.as_deref(), VOCABULARY_PAGE)?;
            let Some(last) = page.last().cloned() else {
                break;
            };
            use rayon::prelude::*;
            let found: Vec<String> = page.into_par_iter().filter(|t| keys.matches(t)).collect();
            out.extend(found);
            after = Some(last);
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Rescreens one page of candidates.
    fn handle_page(
        &self,
        cause: &Cause,
        keys: &Keys,
        ids: &[String],
    ) -> Result<(SweepCounts, Vec<Decision>), AppError> {
        let rows = self.store.latest_decided(ids)?;
        let items: Vec<(&str, Action)> = rows
            .iter()
            .map(|(_, d)| (d.decision_id.as_str(), d.action))
            .collect();
        let standings = self.review.standings(&items)?;
        let mut counts = SweepCounts {
            looked_at: ids.len() as u64,
            ..SweepCounts::default()
        };
        let mut batch: Vec<Screened> = Vec::new();
        let mut to_close: Vec<(String, String)> = Vec::new();
        let disabled = withdrawn(&cause.change).is_some();
        let logo = cause.change == LOGO_SEARCH;
        let scoped = shop_scope(cause);
        for ((stored, decision), (status, open_case)) in rows.iter().zip(standings) {
            if let Some(shop) = scoped {
                if stored.listing.shop_id != shop {
                    continue;
                }
                self.after_authorization(
                    cause,
                    keys,
                    stored,
                    decision,
                    status,
                    open_case,
                    &mut counts,
                    &mut batch,
                    &mut to_close,
                )?;
                continue;
            }
            if disabled {
                self.after_disable(
                    cause,
                    stored,
                    decision,
                    status,
                    open_case,
                    &mut counts,
                    &mut batch,
                    &mut to_close,
                )?;
                continue;
            }
            // A logo sweep takes the listing out of its queue once handled
            // (a new decision's version has no such entry).
            let handled = || -> Result<(), AppError> {
                if logo {
                    self.store
                        .clear_term(LOGO_PENDING, &stored.listing.id, stored.version)?;
                }
                Ok(())
            };
            let current = status_action(status);
            if current == Action::Reject {
                handled()?;
                continue;
            }
            counts.rescreened += 1;
            let (screened, _) = self
                .screening
                .rescreen(stored, DecisionSource::Sweep, cause)?;
            if screened.decision.action <= current {
                handled()?;
                continue;
            }
            if open_case {
                to_close.push((
                    decision.decision_id.clone(),
                    format!(
                        "superseded by {} ({})",
                        screened.decision.decision_id, cause.by
                    ),
                ));
            }
            batch.push(screened);
        }
        let stored = self.screening.record_after_listing(batch)?;
        for s in &stored {
            match s.decision.action {
                Action::Reject => counts.taken_down += 1,
                Action::Review => counts.to_review += 1,
                Action::Approve => counts.restored += 1,
            }
        }
        // Old cases close once their listing's new decision is stored.
        let kept: BTreeSet<&str> = stored.iter().map(|s| s.listing.id.as_str()).collect();
        for (case_id, reason) in to_close {
            let listing = case_id.rsplit_once('@').map_or("", |(l, _)| l);
            if !kept.contains(listing) {
                continue;
            }
            match self.review.close_case(&case_id, &reason) {
                Ok(()) => counts.cases_closed += 1,
                // Decided by a reviewer meanwhile.
                Err(AppError::Conflict(e)) => {
                    tracing::info!(case = %case_id, reason = %e, "case not closed")
                }
                Err(e) => return Err(e),
            }
        }
        Ok((counts, stored.into_iter().map(|s| s.decision).collect()))
    }

    /// One page of a shop's listing ids, in id order, after `after`.
    fn shop_page(&self, shop: &str, after: Option<String>) -> Result<Vec<String>, AppError> {
        Ok(self
            .catalog
            .listings_by_shop(
                shop,
                &Page {
                    after,
                    limit: self.config.page,
                },
            )?
            .into_iter()
            .map(|s| s.listing.id)
            .collect())
    }

    /// Rescreens, now and in this process, the one shop's listings an
    /// authorisation change affects (what its durable sweep does; the
    /// sweep, run later by any process, then finds nothing left to do).
    /// Answers the counts and the decisions taken.
    pub(crate) fn rescreen_shop(
        &self,
        cause: &Cause,
    ) -> Result<(SweepCounts, Vec<Decision>), AppError> {
        let Some(shop) = shop_scope(cause) else {
            return Ok((SweepCounts::default(), Vec::new()));
        };
        self.registry.refresh()?;
        let keys = self.keys(cause)?;
        let mut total = SweepCounts::default();
        let mut decisions = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let ids = self.shop_page(shop, after.clone())?;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            let (counts, mut taken) = self.handle_page(cause, &keys, &ids)?;
            add(&mut total, &counts);
            decisions.append(&mut taken);
            after = Some(last);
        }
        Ok((total, decisions))
    }

    /// A shop was authorised on a right (or its authorisation revoked).
    /// Approved: a listing of the shop whose latest decision names the
    /// right is screened again and, when that comes out milder (the right
    /// no longer counts against it), gets the new decision and its open
    /// case closes; a notice's takedown is left to the notice. Revoked: a
    /// live or pending listing of the shop that holds the mark (or whose
    /// decision names the right) is screened again and, when that comes
    /// out stricter, gets the new decision.
    #[allow(clippy::too_many_arguments)]
    fn after_authorization(
        &self,
        cause: &Cause,
        keys: &Keys,
        stored: &StoredListing,
        decision: &Decision,
        status: &str,
        open_case: bool,
        counts: &mut SweepCounts,
        batch: &mut Vec<Screened>,
        to_close: &mut Vec<(String, String)>,
    ) -> Result<(), AppError> {
        let names_right = names_right(decision, cause);
        let current = status_action(status);
        let approved = cause.change == AUTHORIZATION_APPROVED;
        if approved {
            if !names_right
                || decision.source == DecisionSource::Notice
                || current == Action::Approve
            {
                return Ok(());
            }
        } else {
            if current == Action::Reject {
                return Ok(());
            }
            let holds_mark = listing_terms(&stored.listing, decision, &[])
                .iter()
                .any(|t| keys.matches(t));
            if !names_right && !holds_mark {
                return Ok(());
            }
        }
        counts.rescreened += 1;
        let (mut screened, images_read) =
            self.screening
                .rescreen(stored, DecisionSource::Sweep, cause)?;
        let d = &mut screened.decision;
        if approved {
            // Without its images the rescreen cannot clear a listing.
            if d.action == Action::Approve && !images_read && !stored.listing.images.is_empty() {
                d.action = Action::Review;
            }
            if d.action >= current {
                return Ok(());
            }
        } else if d.action <= current {
            return Ok(());
        }
        if open_case {
            to_close.push((
                decision.decision_id.clone(),
                format!("superseded by {} ({})", d.decision_id, cause.by),
            ));
        }
        batch.push(screened);
        Ok(())
    }

    /// A right was disabled: an open case resting on it closes and the
    /// listing is decided again without it (live if nothing else is
    /// wrong); a listing it removed goes back to review.
    #[allow(clippy::too_many_arguments)]
    fn after_disable(
        &self,
        cause: &Cause,
        stored: &StoredListing,
        decision: &Decision,
        status: &str,
        open_case: bool,
        counts: &mut SweepCounts,
        batch: &mut Vec<Screened>,
        to_close: &mut Vec<(String, String)>,
    ) -> Result<(), AppError> {
        let names_right = names_right(decision, cause);
        if !names_right || status == "live" {
            return Ok(());
        }
        counts.rescreened += 1;
        let (mut screened, images_read) =
            self.screening
                .rescreen(stored, DecisionSource::Sweep, cause)?;
        let d = &mut screened.decision;
        match status {
            "pending_review" => {
                // Without its image the rescreen cannot clear a listing.
                if d.action == Action::Approve && !images_read && !stored.listing.images.is_empty()
                {
                    d.action = Action::Review;
                }
                if open_case {
                    to_close.push((
                        decision.decision_id.clone(),
                        format!(
                            "right {} was {} ({})",
                            cause.right_id.as_deref().unwrap_or_default(),
                            withdrawn(&cause.change).unwrap_or("disabled"),
                            cause.by
                        ),
                    ));
                }
            }
            _ => {
                // Removed or rejected: still violating something else
                // stays as it is; otherwise a reviewer decides again.
                if d.action == Action::Reject {
                    return Ok(());
                }
                d.action = Action::Review;
                if d.violations.is_empty() {
                    d.violations = decision.violations.clone();
                }
            }
        }
        batch.push(screened);
        Ok(())
    }

    // ------------------------------------------------- the holder's view

    /// Live (or pending) listings whose text holds one of a right's marks
    /// or aliases, exactly or as a look-alike (glued, or a spelling within
    /// the text detector's edit budget), normalised as the gate normalises.
    /// For the right's holder, reviewers and admins.
    pub fn search_catalogue(
        &self,
        p: &Principal,
        right_id: &str,
        page: &Page,
    ) -> Result<Vec<CatalogueHit>, AppError> {
        p.require(Permission::SearchCatalogue)?;
        let right = self.registry.right(p, right_id)?;
        let mut keys = Keys::default();
        let mut exact: BTreeSet<String> = BTreeSet::new();
        for m in right.mark.iter().chain(&right.aliases) {
            keys.add_mark(m);
            let n = shopshield_text::normalize(m);
            exact.extend(
                n.text()
                    .split(' ')
                    .filter(|w| !w.is_empty())
                    .map(str::to_string),
            );
            exact.insert(n.text().replace(' ', ""));
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let terms = self.matching_terms(&keys)?;
        let mut out = Vec::new();
        let mut after = page.after.clone();
        let want = page.limit.clamp(1, 1_000);
        while out.len() < want {
            let ids = self
                .store
                .listings_with_terms(&terms, after.as_deref(), want)?;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            let rows = self.store.latest_decided(&ids)?;
            let items: Vec<(&str, Action)> = rows
                .iter()
                .map(|(_, d)| (d.decision_id.as_str(), d.action))
                .collect();
            let standings = self.review.standings(&items)?;
            for ((stored, decision), (status, _)) in rows.iter().zip(standings) {
                if !matches!(status, "live" | "pending_review") || out.len() >= want {
                    continue;
                }
                let own: BTreeSet<String> = listing_terms(&stored.listing, decision, &[])
                    .into_iter()
                    .filter(|t| terms.binary_search(t).is_ok())
                    .collect();
                let is_exact = own.iter().any(|t| exact.contains(t));
                out.push(CatalogueHit {
                    listing_id: stored.listing.id.clone(),
                    shop_id: stored.listing.shop_id.clone(),
                    title: stored.listing.title.clone(),
                    status,
                    decision_id: decision.decision_id.clone(),
                    action: decision.action,
                    matched: if is_exact { "exact" } else { "look_alike" },
                    terms: own.into_iter().collect(),
                });
            }
            after = Some(last);
        }
        Ok(out)
    }

    // ------------------------------------------------------------- reads

    /// Sweeps, newest first.
    pub fn list(&self, p: &Principal, page: &Page) -> Result<Vec<SweepRecord>, AppError> {
        p.require(Permission::ReadSweeps)?;
        Ok(self.store.sweeps(page)?)
    }

    pub fn get(&self, p: &Principal, id: &str) -> Result<SweepRecord, AppError> {
        p.require(Permission::ReadSweeps)?;
        self.store
            .sweep(id)?
            .ok_or_else(|| AppError::not_found("sweep", id))
    }

    /// Opens and runs sweeps until `stop` is set (servers and workers).
    /// Blocks: run it on a thread of its own.
    pub fn watch(&self, stop: &AtomicBool) {
        let every = Duration::from_millis(self.config.poll_interval_ms);
        let me = Principal::operator("sweeper");
        while !stop.load(Ordering::Relaxed) {
            match self.run_now(&me, None) {
                Ok(r) if !r.sweeps.is_empty() => tracing::info!(
                    sweeps = r.sweeps.len(),
                    looked_at = r.counts.looked_at,
                    taken_down = r.counts.taken_down,
                    "sweeps run"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "sweep round failed; retrying"),
            }
            crate::sleep_unless(stop, every);
        }
    }
}

/// The change kinds of an authorisation's sweep: scoped to one shop.
pub(crate) const AUTHORIZATION_APPROVED: &str = "authorization_approved";
pub(crate) const AUTHORIZATION_REVOKED: &str = "authorization_revoked";

/// What a listing's status stands for: live is approved, pending review
/// is under review, anything else (rejected, removed) is down.
fn status_action(status: &str) -> Action {
    match status {
        "live" => Action::Approve,
        "pending_review" => Action::Review,
        _ => Action::Reject,
    }
}

/// Whether a decision rests on the right a change is about.
fn names_right(decision: &Decision, cause: &Cause) -> bool {
    let right = cause.right_id.as_deref();
    right.is_some()
        && decision
            .violations
            .iter()
            .any(|v| v.right_id.as_deref() == right)
}

/// The shop a sweep is scoped to: an authorisation's.
fn shop_scope(cause: &Cause) -> Option<&str> {
    match cause.change.as_str() {
        AUTHORIZATION_APPROVED | AUTHORIZATION_REVOKED => cause.shop_id.as_deref(),
        _ => None,
    }
}

/// For a change that takes a right out of force, how it went: `disabled`,
/// `expired`, `held for review` or `refused on review`.
fn withdrawn(change: &str) -> Option<&'static str> {
    match change {
        "right_disabled" => Some("disabled"),
        "right_expired" => Some("expired"),
        "right_held" => Some("held for review"),
        "right_refused" => Some("refused on review"),
        _ => None,
    }
}

pub(crate) fn authorization_sweep_id(a: &shopshield_store::AuthorizationChange) -> String {
    format!(
        "authorization:{}@{}",
        a.authorization_id, a.registry_version
    )
}

/// The cause of an authorisation's sweep (its `by` is set when the sweep
/// record is made).
pub(crate) fn authorization_cause(a: &shopshield_store::AuthorizationChange) -> Cause {
    let (change, why) = match a.change {
        SellerChange::Add => (
            AUTHORIZATION_APPROVED,
            format!(
                "the holder of right {} authorised shop {} (authorisation {}) at registry version {}: the right no longer counts against this listing",
                a.right_id, a.shop_id, a.authorization_id, a.registry_version
            ),
        ),
        SellerChange::Remove => (
            AUTHORIZATION_REVOKED,
            format!(
                "the holder of right {} revoked shop {}'s authorisation {} at registry version {}",
                a.right_id, a.shop_id, a.authorization_id, a.registry_version
            ),
        ),
    };
    Cause {
        change: change.into(),
        right_id: Some(a.right_id.clone()),
        rule_ids: Vec::new(),
        shop_id: Some(a.shop_id.clone()),
        version: a.registry_version.to_string(),
        by: String::new(),
        why,
    }
}

/// The cause an authorisation's sweep carries, `by` included.
pub(crate) fn authorization_sweep_cause(a: &shopshield_store::AuthorizationChange) -> Cause {
    let mut c = authorization_cause(a);
    c.by = format!("sweep {}", authorization_sweep_id(a));
    c
}

fn new_record(id: String, mut cause: Cause, now: DateTime<Utc>) -> SweepRecord {
    cause.by = format!("sweep {id}");
    SweepRecord {
        id,
        cause,
        state: SweepState::Open,
        created_at: now,
        finished_at: None,
        cursor: None,
        counts: SweepCounts::default(),
        claimed_by: None,
        claim_until: None,
    }
}

/// The sweep a policy reload opens for the rules it added or changed (a
/// removed rule takes nothing down).
pub(crate) fn policy_sweep(
    rules: Vec<String>,
    versions: &std::collections::BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> Option<SweepRecord> {
    if rules.is_empty() {
        return None;
    }
    let version = versions
        .iter()
        .map(|(p, v)| format!("{p}@{v}"))
        .collect::<Vec<_>>()
        .join(",");
    let id = format!("policy:{}@{}", version, now.to_rfc3339());
    Some(new_record(
        id,
        Cause {
            change: "policy_reloaded".into(),
            right_id: None,
            why: format!(
                "policy packs were reloaded ({version}); rule(s) {} changed after this listing went live",
                rules.join(", ")
            ),
            rule_ids: rules,
            shop_id: None,
            version,
            by: String::new(),
        },
        now,
    ))
}

fn add(to: &mut SweepCounts, c: &SweepCounts) {
    to.looked_at += c.looked_at;
    to.rescreened += c.rescreened;
    to.taken_down += c.taken_down;
    to.to_review += c.to_review;
    to.cases_closed += c.cases_closed;
    to.restored += c.restored;
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_budget() {
        let c = |s: &str| s.chars().collect::<Vec<char>>();
        assert!(within(&c("zorbex"), &c("zorbex"), 0));
        assert!(within(&c("zorbez"), &c("zorbex"), 1));
        assert!(within(&c("zorbx"), &c("zorbex"), 1));
        assert!(!within(&c("zarbez"), &c("zorbex"), 1));
        assert!(within(&c("zarbez"), &c("zorbex"), 2));
        assert!(!within(&c("zo"), &c("zorbex"), 2));
    }

    #[test]
    fn keys_find_spellings_and_glued_words() {
        let mut k = Keys::default();
        k.add_mark("Zorbex Pro");
        for t in ["zorbex", "zorbexshoes", "zorbez", "zorbexpro", "pro"] {
            assert!(k.matches(t), "{t}");
        }
        for t in ["zebra", "right:zorbex", "cat:apparel/shoes", "prize"] {
            assert!(!k.matches(t), "{t}");
        }
        let mut r = Keys::default();
        r.add_keyword("Chewing gum");
        r.categories.push("food/*".into());
        assert!(r.matches("bubblegum") && r.matches("cat:food/groceries"));
        assert!(!r.matches("cat:apparel/shoes"));
    }
}
