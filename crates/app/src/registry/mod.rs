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

mod engine;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rayon::prelude::*;
use shopshield_gate::{Engine, Gate, ImageBanks, VideoBanks};
use shopshield_model::{
    NewRight, Permission, Principal, Right, RightKind, RightsHolder, Taxonomy, ValidationError,
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
        };
        registry.refresh()?;
        Ok(registry)
    }

    /// The engine in force.
    pub fn engine(&self) -> Arc<Engine> {
        self.gate.engine()
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
        let current = self.store.registry_version()?;
        if current == known.version && !force && current != 0 {
            return Ok(current);
        }
        let changes = self.store.rights_changed_since(known.version)?;
        let version = changes
            .iter()
            .map(|c| c.version)
            .max()
            .unwrap_or(current)
            .max(current);
        self.apply_to_banks(&changes);
        for c in changes {
            known.rights.insert(c.right.id.clone(), c.right);
        }
        known.version = version;
        let rights: Vec<Right> = known.rights.values().cloned().collect();
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
                Ok(v) if v != known => {
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
        let mut record = RightRecord {
            right: Right::from_new(new, holder.id, self.clock.now()),
            image,
            features: None,
        };
        self.prepare(&mut record)?;
        self.store.insert_right(&record)?;
        self.refresh()?;
        Ok(record.right)
    }

    /// Imports rights, all or nothing. Each entry's `holder` is a holder id
    /// or name; unknown names become new holders. Existing rights with the
    /// same id are replaced. Returns how many and the new registry version.
    pub fn import_rights(
        &self,
        p: &Principal,
        entries: Vec<(NewRight, Option<Vec<u8>>)>,
    ) -> Result<(usize, u64), AppError> {
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
        let n = records.len();
        let version = self.store.import_rights(&new_holders, &records)?;
        self.refresh()?;
        Ok((n, version))
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
