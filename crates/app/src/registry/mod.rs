//! The registry service: rights holders, rights, the image banks, the
//! policy packs, and the engine built from them.
//!
//! The store is the truth; this service keeps an in-memory copy of what
//! screening needs (every right, the image banks, the policy packs) and the
//! [`Engine`] built from it, swapped atomically. It brings that copy up to
//! date from the registry version alone: [`Registry::refresh`] reads the
//! rights changed since the version it knows, updates the banks in place
//! and rebuilds the engine. Changes made here refresh at once; changes made
//! by another process (a `rights import` beside a running server, another
//! server, a worker) arrive through the store's change feed, which
//! [`Registry::watch`] follows.
//!
//! The engine holds only the rights in force: enabled, not expired (a right
//! whose registration expires on day D is in force through D, UTC, and not
//! from 00:00 UTC on D+1) and not held for review. Time moves without any
//! registry change, so the registry remembers the earliest lapse among the
//! rights in force and rebuilds when the clock passes it.
//!
//! A trademark whose mark or an alias, normalised as the gate normalises
//! text, equals an in-force trademark's of another holder in overlapping
//! Nice classes and regions is stored but held for review
//! ([`Registry::review_right`]).

mod engine;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use shopshield_gate::{Engine, Gate, ImageBanks, VideoBanks};
use shopshield_model::{
    NewRight, Permission, Principal, Right, RightConflict, RightKind, RightReview,
    RightReviewInput, RightReviewOutcome, RightReviewState, RightsHolder, Taxonomy,
    ValidationError,
};
use shopshield_pdq::{BankMatch, QueryView};
use shopshield_store::{ChangeFeed, RegistryStore, RightChange, RightRecord, SweepStore};

use crate::{AppConfig, AppError, Clock, Metrics};

/// What a policy reload put in force.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PolicyReload {
    /// Every pack's version now in force.
    pub versions: BTreeMap<String, String>,
    /// The rules added, removed or changed.
    pub changed_rules: Vec<String>,
    /// The sweep opened for live listings the added or changed rules may
    /// affect, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep: Option<String>,
}

/// An image's PDQ hash with its quality and eight dihedral variants.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageHashes {
    pub hashes: shopshield_pdq::DihedralHashes,
    pub width: usize,
    pub height: usize,
}

/// What the banks hold that looks like an image or a hash.
#[derive(Debug, Clone, Default)]
pub struct ImageMatches {
    /// Whole-image matches against registered logos and photos.
    pub matches: Vec<BankMatch>,
    /// Registered logos found inside the image by local features.
    pub located: Vec<shopshield_keypoints::LocalMatch>,
}

/// The rights this process has in memory, and the registry version they
/// are current to.
#[derive(Default)]
struct Known {
    version: u64,
    rights: BTreeMap<String, Right>,
    /// The rights in force in the engine last built.
    enforced: BTreeSet<String>,
}

/// What an import stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportOutcome {
    /// Rights stored (added or replaced).
    pub imported: usize,
    /// Of those, rights held for review: another holder's right carries
    /// the same mark in overlapping classes and regions.
    pub held_for_review: usize,
    /// The ids of the rights held.
    pub held: Vec<String>,
    /// The registry version now in force.
    pub registry_version: u64,
}

/// Loads the policy packs named by the configuration.
fn load_policy(config: &AppConfig) -> Result<shopshield_policy::PolicySet, AppError> {
    let taxonomy = Taxonomy::builtin();
    let loaded = match &config.policy.dir {
        Some(dir) => shopshield_policy::PolicySet::load_dir(dir, &taxonomy),
        None => shopshield_policy::PolicySet::builtin(&taxonomy),
    };
    loaded.map_err(|e| ValidationError::new("policy", e.to_string()).into())
}

/// The registry service.
pub struct Registry {
    store: Arc<dyn RegistryStore>,
    sweeps: Arc<dyn SweepStore>,
    feed: Arc<dyn ChangeFeed>,
    config: AppConfig,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    gate: Gate,
    /// Registered logos and photos, shared by every engine and updated in
    /// place as rights change.
    banks: Arc<RwLock<ImageBanks>>,
    /// Registered clips (`copyright_video`), shared the same way.
    videos: Arc<RwLock<VideoBanks>>,
    policy: RwLock<Arc<shopshield_policy::PolicySet>>,
    /// Serialises refreshes; holds what they are current to.
    known: Mutex<Known>,
    /// When the next right in force lapses (milliseconds since the epoch;
    /// `i64::MAX` when none does): the engine is rebuilt once the clock
    /// passes it.
    next_lapse: AtomicI64,
}

impl Registry {
    pub(crate) fn open(
        store: Arc<dyn RegistryStore>,
        sweeps: Arc<dyn SweepStore>,
        feed: Arc<dyn ChangeFeed>,
        config: AppConfig,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Result<Registry, AppError> {
        let registry = Registry {
            store,
            sweeps,
            feed,
            gate: Gate::new(Engine::empty(config.gate)),
            banks: Arc::new(RwLock::new(config.images.banks())),
            videos: Arc::new(RwLock::new(
                VideoBanks::new(&config.video.matching)
                    .map_err(|e| ValidationError::new("video.matching", e))?,
            )),
            policy: RwLock::new(Arc::new(load_policy(&config)?)),
            config,
            clock,
            metrics,
            known: Mutex::new(Known::default()),
            next_lapse: AtomicI64::new(i64::MAX),
        };
        registry.refresh()?;
        Ok(registry)
    }

    /// The engine in force. Rebuilt first when a right's registration
    /// lapsed since it was built.
    pub fn engine(&self) -> Arc<Engine> {
        if self.lapse_due()
            && let Err(e) = self.refresh()
        {
            tracing::error!(error = %e, "registry refresh after a right's expiry failed");
        }
        self.gate.engine()
    }

    /// True once the clock passed the earliest lapse among the rights in
    /// force.
    fn lapse_due(&self) -> bool {
        self.clock.now().timestamp_millis() >= self.next_lapse.load(Ordering::Relaxed)
    }

    /// When the next right in force lapses, if one has a registration.
    pub fn next_lapse(&self) -> Option<DateTime<Utc>> {
        match self.next_lapse.load(Ordering::Relaxed) {
            i64::MAX => None,
            ms => DateTime::from_timestamp_millis(ms),
        }
    }

    /// The registry version the engine in force was built from.
    pub fn version(&self) -> u64 {
        self.engine().registry_version()
    }

    /// The image banks (read-only view).
    pub fn image_banks(&self) -> std::sync::RwLockReadGuard<'_, ImageBanks> {
        self.banks.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The registered clips (read-only view).
    pub fn video_banks(&self) -> std::sync::RwLockReadGuard<'_, VideoBanks> {
        self.videos.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The policy packs in force.
    pub fn policy(&self) -> Arc<shopshield_policy::PolicySet> {
        self.policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    // ------------------------------------------------------------ refresh

    /// Brings the in-memory registry up to the store's: reads the rights
    /// changed since the version it knows, updates the image banks in
    /// place, rebuilds the engine and swaps it in. Returns the version now
    /// in force. Cheap when nothing changed (one read of the version).
    pub fn refresh(&self) -> Result<u64, AppError> {
        self.refresh_inner(false)
    }

    fn refresh_inner(&self, force: bool) -> Result<u64, AppError> {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.clock.now();
        let current = self.store.registry_version()?;
        let lapsed = now.timestamp_millis() >= self.next_lapse.load(Ordering::Relaxed);
        if current == known.version && !force && current != 0 && !lapsed {
            return Ok(current);
        }
        let changes = self.store.rights_changed_since(known.version)?;
        let version = changes
            .iter()
            .map(|c| c.version)
            .max()
            .unwrap_or(current)
            .max(current);
        for c in &changes {
            known.rights.insert(c.right.id.clone(), c.right.clone());
        }
        // The banks and the engine see a right as enabled only while it is
        // in force: the disabled-right path takes out an expired or held
        // one.
        let mut to_banks: Vec<RightChange> = changes
            .into_iter()
            .map(|mut c| {
                c.right.enabled = c.right.in_force(now);
                c
            })
            .collect();
        let changed: BTreeSet<String> = to_banks.iter().map(|c| c.right.id.clone()).collect();
        for id in &known.enforced {
            if changed.contains(id) {
                continue;
            }
            if let Some(r) = known.rights.get(id)
                && !r.in_force(now)
            {
                tracing::info!(right = %id, "right no longer in force: its registration lapsed");
                let mut right = r.clone();
                right.enabled = false;
                to_banks.push(RightChange {
                    right,
                    features: None,
                    has_image: false,
                    version,
                });
            }
        }
        self.apply_to_banks(&to_banks);
        let rights: Vec<Right> = known
            .rights
            .values()
            .map(|r| {
                let mut e = r.clone();
                e.enabled = r.in_force(now);
                e
            })
            .collect();
        known.enforced = rights
            .iter()
            .filter(|r| r.enabled)
            .map(|r| r.id.clone())
            .collect();
        let next = rights
            .iter()
            .filter(|r| r.enabled)
            .filter_map(Right::lapses_at)
            .min()
            .map_or(i64::MAX, |t| t.timestamp_millis());
        self.next_lapse.store(next, Ordering::Relaxed);
        known.version = version;
        self.rebuild_engine(version, &rights)?;
        Ok(version)
    }

    /// Puts changed image rights into the banks (or takes them out).
    fn apply_to_banks(&self, changes: &[RightChange]) {
        let clips: Vec<&RightChange> = changes
            .iter()
            .filter(|c| c.right.kind == RightKind::CopyrightVideo)
            .collect();
        if !clips.is_empty() {
            let mut videos = self.videos.write().unwrap_or_else(|p| p.into_inner());
            for c in clips {
                // A disabled right is taken out.
                if let Err(e) = videos.upsert(&c.right) {
                    tracing::warn!(right = %c.right.id, error = %e, "clip not indexed");
                }
            }
        }
        let images: Vec<&RightChange> = changes
            .iter()
            .filter(|c| matches!(c.right.kind, RightKind::Logo | RightKind::CopyrightImage))
            .collect();
        if images.is_empty() {
            return;
        }
        // Local features of enabled logos: decoded in parallel, outside the
        // banks' lock.
        let prepared: Vec<(&Right, Option<shopshield_keypoints::Reference>)> = images
            .par_iter()
            .map(|c| (&c.right, self.local_reference(c)))
            .collect();
        let mut banks = self.banks.write().unwrap_or_else(|p| p.into_inner());
        for (right, local) in prepared {
            // A disabled right is taken out.
            if let Err(e) = banks.upsert(right, local) {
                tracing::warn!(right = %right.id, error = %e, "image not indexed");
            }
        }
        // The logos just inserted: their descriptors, stored word by word.
        banks.local.lay_out();
    }

    /// Hashes a new right's image and extracts a logo's features, from one
    /// decode, before it is stored.
    fn prepare(&self, rec: &mut RightRecord) -> Result<(), AppError> {
        if rec.right.kind == RightKind::CopyrightVideo {
            return self.prepare_clip(rec);
        }
        let cfg = &self.config.images;
        crate::images::prepare_image_right(rec, cfg.logo_keypoints, cfg.keypoints.negatives)?;
        Ok(())
    }

    /// A clip's frame hashes, from its inline hash list or from the bytes
    /// given (a video file, hashed with ffmpeg, or a hash list), stored in
    /// Meta's line format. The video itself is not kept.
    fn prepare_clip(&self, rec: &mut RightRecord) -> Result<(), AppError> {
        let settings = &self.config.video;
        let frames = match (rec.right.vpdq.as_deref(), rec.image.as_deref()) {
            (Some(text), _) => {
                crate::video::parse_hash_list("vpdq", text, settings.max_hash_frames)?
            }
            (None, Some(bytes)) => crate::video::frames_of("video", bytes, settings)?,
            (None, None) => {
                return Err(ValidationError::new(
                    "video",
                    "the video could not be read or is empty",
                )
                .into());
            }
        };
        let usable = frames
            .iter()
            .filter(|f| f.quality >= settings.matching.quality_threshold)
            .count();
        if usable == 0 {
            return Err(ValidationError::new(
                "video",
                format!(
                    "none of the clip's {} hashed frames reaches PDQ quality {}; a flat or blank clip cannot be matched",
                    frames.len(),
                    settings.matching.quality_threshold
                ),
            )
            .into());
        }
        rec.right.vpdq = Some(shopshield_vpdq::format_hash_list(&frames));
        rec.image = None;
        rec.features = None;
        Ok(())
    }

    /// A logo's keypoints for the logo-inside-a-photo search, when that
    /// search is on: read from the features stored with the right; for a
    /// right stored without them, computed once from its image and stored.
    fn local_reference(&self, c: &RightChange) -> Option<shopshield_keypoints::Reference> {
        let cfg = &self.config.images;
        if !cfg.logo_keypoints
            || c.right.kind != RightKind::Logo
            || !c.right.enabled
            || !c.has_image
        {
            return None;
        }
        if let Some(bytes) = &c.features {
            match shopshield_keypoints::Reference::from_bytes(bytes) {
                Ok(r) => return Some(r),
                Err(e) => {
                    tracing::warn!(right = %c.right.id, error = %e, "stored features unreadable; recomputing");
                }
            }
        }
        let image = match self.store.right_image(&c.right.id) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(right = %c.right.id, error = %e, "stored image cannot be read");
                None
            }
        };
        let reference =
            crate::images::logo_reference(&c.right, image.as_deref(), cfg.keypoints.negatives)?;
        if let Err(e) = self
            .store
            .set_right_features(&c.right.id, &reference.to_bytes())
        {
            tracing::warn!(right = %c.right.id, error = %e, "features not stored");
        }
        Some(reference)
    }

    fn rebuild_engine(&self, version: u64, rights: &[Right]) -> Result<(), AppError> {
        let enabled = rights.iter().filter(|r| r.enabled).count();
        let engine = engine::build_engine(
            version,
            &self.config,
            rights,
            self.banks.clone(),
            self.videos.clone(),
            self.policy(),
        )
        .map_err(|e| ValidationError::new("text", e.to_string()))?;
        tracing::info!(
            registry_version = version,
            rights = enabled,
            "rights snapshot rebuilt"
        );
        self.gate.swap(engine);
        self.metrics.registry_rebuilds.inc();
        self.metrics
            .rights_enabled
            .set(i64::try_from(enabled).unwrap_or(i64::MAX));
        Ok(())
    }

    /// Follows the store's change feed until `stop` is set, refreshing
    /// whenever another process changed the registry. Blocks: run it on a
    /// thread of its own. A failed refresh is logged and tried again.
    pub fn watch(&self, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            let known = self.known.lock().unwrap_or_else(|p| p.into_inner()).version;
            match self
                .feed
                .wait_registry_change(known, Duration::from_millis(500))
            {
                Ok(v) if v != known || self.lapse_due() => {
                    if let Err(e) = self.refresh() {
                        tracing::error!(error = %e, "registry refresh failed; retrying");
                        std::thread::sleep(Duration::from_millis(200));
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "registry change feed failed; retrying");
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
    }

    // ------------------------------------------------------------ holders

    pub fn create_holder(
        &self,
        p: &Principal,
        id: Option<String>,
        name: &str,
    ) -> Result<RightsHolder, AppError> {
        p.require(Permission::CreateHolders)?;
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(ValidationError::new("name", "must be 1 to 200 bytes").into());
        }
        let id = id.unwrap_or_else(|| slug(name));
        shopshield_model::validate_id("id", &id)?;
        let h = RightsHolder {
            id,
            name: name.to_string(),
            created_at: self.clock.now(),
        };
        self.store.insert_holder(&h)?;
        Ok(h)
    }

    pub fn holder(&self, p: &Principal, id: &str) -> Result<RightsHolder, AppError> {
        match self.store.holder(id)? {
            Some(h) if p.can(Permission::ReadRights) && p.sees_holder(&h.id) => Ok(h),
            _ => Err(AppError::not_found("holder", id)),
        }
    }

    /// The holders the caller may see (none for roles that see none).
    pub fn holders(&self, p: &Principal) -> Result<Vec<RightsHolder>, AppError> {
        Ok(self
            .store
            .holders()?
            .into_iter()
            .filter(|h| p.sees_holder(&h.id))
            .collect())
    }

    // ------------------------------------------------------------- rights

    /// Registers one right for an existing holder (`holder` is its id).
    pub fn create_right(
        &self,
        p: &Principal,
        new: NewRight,
        image: Option<Vec<u8>>,
    ) -> Result<Right, AppError> {
        p.require(Permission::ManageRights)?;
        new.validate()?;
        let no_holder = || -> AppError {
            ValidationError::new("holder", format!("no holder with id {:?}", new.holder)).into()
        };
        let holder = match self.store.holder(&new.holder)? {
            Some(h) if p.manages_holder(&h.id) => h,
            _ => return Err(no_holder()),
        };
        check_image(&new, image.as_deref())?;
        let now = self.clock.now();
        let mut record = RightRecord {
            right: Right::from_new(new, holder.id, now),
            image,
            features: None,
        };
        self.prepare(&mut record)?;
        let index = self.mark_index(now)?;
        hold_if_conflicting(&mut record.right, &index, None, now);
        self.store.insert_right(&record)?;
        if record.right.is_held() {
            tracing::info!(right = %record.right.id, "right held for review: another holder's right carries the same mark");
        }
        self.refresh()?;
        Ok(record.right)
    }

    /// The trademarks in force, by normalised name (after a refresh).
    fn mark_index(&self, now: DateTime<Utc>) -> Result<MarkIndex, AppError> {
        self.refresh()?;
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let mut index = MarkIndex::default();
        for r in known.rights.values() {
            index.add(r, now);
        }
        Ok(index)
    }

    /// The stored rights this process knows, by id (after a refresh).
    fn known_right(&self, id: &str) -> Option<Right> {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .rights
            .get(id)
            .cloned()
    }

    /// A reviewer approves or refuses a right held for review (admins).
    /// Approval puts it in force (a registry change: a sweep looks at the
    /// live listings carrying its mark); refusal keeps it out of force.
    /// The reason is kept on the right, for its holder to read.
    pub fn review_right(
        &self,
        p: &Principal,
        id: &str,
        input: RightReviewInput,
    ) -> Result<Right, AppError> {
        p.require(Permission::ReviewRights)?;
        let outcome = input.validate()?;
        let current = self.right(p, id)?;
        let Some(review) = current.review.clone() else {
            return Err(AppError::Conflict(format!(
                "right {id:?} is not held for review: no other holder's right carries its mark"
            )));
        };
        let now = self.clock.now();
        let decided = RightReview {
            state: match outcome {
                RightReviewOutcome::Approve => RightReviewState::Approved,
                RightReviewOutcome::Refuse => RightReviewState::Refused,
            },
            reason: Some(input.reason.trim().to_string()),
            reviewed_by: Some(p.id.clone()),
            reviewed_at: Some(now),
            ..review
        };
        let (right, version) = match self.store.set_right_review(id, &decided, now) {
            Ok(Some(done)) => done,
            Ok(None) => return Err(AppError::not_found("right", id)),
            Err(shopshield_store::StoreError::Conflict(e)) => return Err(AppError::Conflict(e)),
            Err(e) => return Err(e.into()),
        };
        tracing::info!(right = %id, outcome = decided.state.as_str(), registry_version = version, "right reviewed");
        self.refresh()?;
        Ok(right)
    }

    /// Imports rights, all or nothing. Each entry's `holder` is a holder id
    /// or name; unknown names become new holders. Existing rights with the
    /// same id are replaced. Returns how many and the new registry version.
    pub fn import_rights(
        &self,
        p: &Principal,
        entries: Vec<(NewRight, Option<Vec<u8>>)>,
    ) -> Result<(usize, u64), AppError> {
        let done = self.import(p, entries)?;
        Ok((done.imported, done.registry_version))
    }

    /// Imports rights, all or nothing, as [`Registry::import_rights`], and
    /// tells which were held for review: an entry whose mark collides with
    /// an in-force trademark of another holder (stored, or earlier in the
    /// same import) is stored held. A replaced right keeps a reviewer's
    /// decision that covered the conflicts it has now.
    pub fn import(
        &self,
        p: &Principal,
        entries: Vec<(NewRight, Option<Vec<u8>>)>,
    ) -> Result<ImportOutcome, AppError> {
        p.require(Permission::ImportRights)?;
        let now = self.clock.now();
        let mut new_holders: Vec<RightsHolder> = Vec::new();
        let mut resolved: HashMap<String, String> = HashMap::new();
        let mut records = Vec::with_capacity(entries.len());
        for (new, image) in entries {
            new.validate()?;
            check_image(&new, image.as_deref())?;
            let key = new.holder.trim().to_string();
            let holder_id = match resolved.get(&key) {
                Some(id) => id.clone(),
                None => {
                    let id = self.resolve_holder(&key, &new_holders)?;
                    if !new_holders.iter().any(|h| h.id == id.id) && id.is_new {
                        new_holders.push(RightsHolder {
                            id: id.id.clone(),
                            name: key.clone(),
                            created_at: now,
                        });
                    }
                    resolved.insert(key, id.id.clone());
                    id.id
                }
            };
            records.push(RightRecord {
                right: Right::from_new(new, holder_id, now),
                image,
                features: None,
            });
        }
        // Hash the registered images and extract the logos' features in
        // parallel; a bad image fails the import.
        records
            .par_iter_mut()
            .map(|rec| {
                self.prepare(rec).map_err(|e| {
                    AppError::from(ValidationError::new(
                        "image",
                        format!("right {}: {e}", rec.right.id),
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut index = self.mark_index(now)?;
        let mut held = Vec::new();
        for rec in &mut records {
            let previous = self.known_right(&rec.right.id);
            hold_if_conflicting(&mut rec.right, &index, previous.as_ref(), now);
            if rec.right.is_held() {
                held.push(rec.right.id.clone());
            } else {
                index.add(&rec.right, now);
            }
        }
        let n = records.len();
        let version = self.store.import_rights(&new_holders, &records)?;
        self.refresh()?;
        if !held.is_empty() {
            tracing::info!(held = held.len(), "imported rights held for review");
        }
        Ok(ImportOutcome {
            imported: n,
            held_for_review: held.len(),
            held,
            registry_version: version,
        })
    }

    fn resolve_holder(&self, key: &str, pending: &[RightsHolder]) -> Result<Resolved, AppError> {
        if let Some(h) = self.store.holder(key)? {
            return Ok(Resolved {
                id: h.id,
                is_new: false,
            });
        }
        if let Some(h) = self.store.holder_by_name(key)? {
            return Ok(Resolved {
                id: h.id,
                is_new: false,
            });
        }
        let base = slug(key);
        let mut id = base.clone();
        let mut n = 2;
        while self.store.holder(&id)?.is_some() || pending.iter().any(|h| h.id == id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        Ok(Resolved { id, is_new: true })
    }

    pub fn right(&self, p: &Principal, id: &str) -> Result<Right, AppError> {
        match self.store.right(id)? {
            Some(r) if p.can(Permission::ReadRights) && p.sees_holder(&r.right.holder_id) => {
                Ok(r.right)
            }
            _ => Err(AppError::not_found("right", id)),
        }
    }

    /// The registered image of a right the caller may see (`None` for a
    /// right without one), to show it beside a matched listing image.
    pub fn right_image(&self, p: &Principal, id: &str) -> Result<Option<Vec<u8>>, AppError> {
        self.right(p, id)?;
        Ok(self.store.right_image(id)?)
    }

    /// Rights the caller may see, optionally of one holder, optionally
    /// only those in one review state.
    pub fn rights_in_review(
        &self,
        p: &Principal,
        holder: Option<&str>,
        review: Option<RightReviewState>,
    ) -> Result<Vec<Right>, AppError> {
        let mut all = self.rights(p, holder)?;
        if let Some(state) = review {
            all.retain(|r| r.review.as_ref().is_some_and(|v| v.state == state));
        }
        Ok(all)
    }

    /// Rights the caller may see, optionally of one holder.
    pub fn rights(&self, p: &Principal, holder: Option<&str>) -> Result<Vec<Right>, AppError> {
        p.require(Permission::ReadRights)?;
        let holder = match (p.holder_id.as_deref(), holder) {
            (Some(own), None) => Some(own),
            (_, h) => h,
        };
        Ok(self
            .store
            .rights(holder)?
            .into_iter()
            .filter(|r| p.sees_holder(&r.holder_id))
            .collect())
    }

    /// Disables (or re-enables) a right; in force for the next listing.
    pub fn set_right_enabled(
        &self,
        p: &Principal,
        id: &str,
        enabled: bool,
    ) -> Result<Right, AppError> {
        let current = self.right(p, id)?;
        if !p.manages_holder(&current.holder_id) {
            return Err(shopshield_model::Denied {
                role: p.role,
                permission: Permission::ManageRights,
            }
            .into());
        }
        let (right, _) = self
            .store
            .set_right_enabled(id, enabled, self.clock.now())?
            .ok_or_else(|| AppError::not_found("right", id))?;
        self.refresh()?;
        Ok(right)
    }

    // ------------------------------------------------------------- policy

    /// Re-reads the policy packs (from `[policy] dir`, or the built-in
    /// packs) and puts them in force for the next listing. A broken pack
    /// changes nothing: the error lists every problem with file and line.
    pub fn reload_policy(&self, p: &Principal) -> Result<PolicyReload, AppError> {
        p.require(Permission::ReloadPolicy)?;
        let new = load_policy(&self.config)?;
        let old = self.policy();
        let diff = old.diff(&new);
        let changed_rules: Vec<String> = diff.iter().map(|c| format!("{c:?}")).collect();
        let swept: Vec<String> = diff
            .iter()
            .filter(|c| c.change != shopshield_policy::ChangeKind::Removed)
            .map(|c| c.rule_id.clone())
            .collect();
        let versions = new.versions();
        *self.policy.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(new);
        self.refresh_inner(true)?;
        let sweep = crate::sweep::policy_sweep(swept, &versions, self.clock.now());
        if let Some(rec) = &sweep {
            self.sweeps.open_sweeps(None, std::slice::from_ref(rec))?;
        }
        tracing::info!(changes = changed_rules.len(), "policy packs reloaded");
        Ok(PolicyReload {
            versions,
            changed_rules,
            sweep: sweep.map(|s| s.id),
        })
    }

    /// Pack versions in force (any key).
    pub fn policy_packs(&self, p: &Principal) -> Result<BTreeMap<String, String>, AppError> {
        p.require(Permission::ReadPolicy)?;
        Ok(self.policy().versions())
    }

    // ------------------------------------------------------------- images

    /// PDQ hash, quality and dihedral hashes of an image.
    pub fn hash_image(&self, p: &Principal, bytes: &[u8]) -> Result<ImageHashes, AppError> {
        p.require(Permission::HashImages)?;
        crate::images::hash_image("image", bytes).map_err(Into::into)
    }

    /// Looks hash views up in the banks.
    pub fn match_views(
        &self,
        p: &Principal,
        views: &[QueryView],
    ) -> Result<Vec<BankMatch>, AppError> {
        p.require(Permission::MatchImages)?;
        Ok(self.image_banks().match_views(views))
    }

    /// Looks an image up in the banks: whole-image matches, and registered
    /// logos found inside it.
    pub fn match_image(&self, p: &Principal, bytes: &[u8]) -> Result<ImageMatches, AppError> {
        p.require(Permission::MatchImages)?;
        let cfg = &self.config.images;
        let signal = crate::images::listing_image_signal(
            "image",
            bytes,
            cfg.logo_tiles,
            cfg.logo_keypoints,
        )?;
        let banks = self.image_banks();
        Ok(ImageMatches {
            matches: banks.match_views(&signal.views),
            located: signal
                .local
                .as_ref()
                .map(|q| banks.local.find(q))
                .unwrap_or_default(),
        })
    }
}

struct Resolved {
    id: String,
    is_new: bool,
}

/// In-force trademarks by normalised name (mark and aliases), to find
/// another holder's right carrying the same mark.
#[derive(Default)]
struct MarkIndex {
    by_name: HashMap<String, Vec<Right>>,
}

/// A right's mark and aliases, normalised as the gate normalises text.
fn normalised_names(r: &Right) -> BTreeSet<String> {
    r.names()
        .map(|n| shopshield_text::normalize(n).text().to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

impl MarkIndex {
    /// Adds a trademark in force.
    fn add(&mut self, r: &Right, now: DateTime<Utc>) {
        if r.kind != RightKind::Trademark || !r.in_force(now) {
            return;
        }
        for name in normalised_names(r) {
            self.by_name.entry(name).or_default().push(r.clone());
        }
    }

    /// The in-force trademarks of other holders that carry one of the
    /// right's names in an overlapping Nice class and region. A right whose
    /// approved review already weighed this right's holder is no conflict
    /// (a reviewer's decision is about two holders' coexistence).
    fn conflicts(&self, r: &Right) -> Vec<RightConflict> {
        let mut out: Vec<RightConflict> = Vec::new();
        if r.kind != RightKind::Trademark {
            return out;
        }
        for name in normalised_names(r) {
            for other in self.by_name.get(&name).into_iter().flatten() {
                if other.holder_id == r.holder_id
                    || other.id == r.id
                    || out.iter().any(|c| c.right_id == other.id)
                    || !overlaps(r, other)
                    || other
                        .review
                        .as_ref()
                        .is_some_and(|v| v.conflicts.iter().any(|c| c.holder_id == r.holder_id))
                {
                    continue;
                }
                out.push(RightConflict {
                    right_id: other.id.clone(),
                    holder_id: other.holder_id.clone(),
                    name: name.clone(),
                });
            }
        }
        out.sort_by(|a, b| a.right_id.cmp(&b.right_id));
        out
    }
}

/// Two trademarks share a Nice class and a region (`*` overlaps every
/// region).
fn overlaps(a: &Right, b: &Right) -> bool {
    let classes = a.nice_classes.iter().any(|c| b.nice_classes.contains(c));
    let regions = a.regions.iter().any(|r| r.is_all())
        || b.regions.iter().any(|r| r.is_all())
        || a.regions.iter().any(|r| b.regions.contains(r));
    classes && regions
}

/// Holds a right for review when it conflicts with another holder's right
/// in force. A replaced right (same id, same holder) keeps a reviewer's
/// decision that weighed every holder it conflicts with now.
fn hold_if_conflicting(
    right: &mut Right,
    index: &MarkIndex,
    previous: Option<&Right>,
    now: DateTime<Utc>,
) {
    let conflicts = index.conflicts(right);
    if conflicts.is_empty() {
        right.review = None;
        return;
    }
    if let Some(prev) = previous
        && prev.holder_id == right.holder_id
        && let Some(review) = &prev.review
        && review.state != RightReviewState::Pending
        && conflicts
            .iter()
            .all(|c| review.conflicts.iter().any(|o| o.holder_id == c.holder_id))
    {
        right.review = Some(review.clone());
        return;
    }
    right.review = Some(RightReview {
        state: RightReviewState::Pending,
        conflicts,
        held_at: now,
        reason: None,
        reviewed_by: None,
        reviewed_at: None,
    });
}

fn check_image(new: &NewRight, image: Option<&[u8]>) -> Result<(), AppError> {
    match (new.kind, image) {
        (RightKind::Trademark, _) => Ok(()),
        (RightKind::CopyrightVideo, _) if new.vpdq.is_some() => Ok(()),
        (_, Some(b)) if !b.is_empty() => Ok(()),
        _ => Err(ValidationError::new("image", "the image could not be read or is empty").into()),
    }
}

/// A holder id made from a name: `Nike, Inc.` → `nike-inc`.
pub(crate) fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    let s = s.trim_end_matches('-');
    if s.is_empty() {
        use sha2::Digest;
        format!(
            "holder-{}",
            &hex::encode(sha2::Sha256::digest(name.as_bytes()))[..12]
        )
    } else {
        s.chars().take(100).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Nike, Inc."), "nike-inc");
        assert_eq!(slug("  LVMH Moët Hennessy "), "lvmh-mo-t-hennessy");
        assert!(slug("ソニー").starts_with("holder-"));
    }
}
