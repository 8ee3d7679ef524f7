use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use rayon::prelude::*;
use shopshield_gate::{Engine, Gate, ImageBanks, ImageSignal, ScreenInput, Verdict};
use shopshield_intake::{ImageBase, read_image};

use crate::engine::build_engine;
use shopshield_model::{
    Decision, Listing, NewRight, Qualification, Right, RightKind, RightsHolder, Role, Taxonomy,
    ValidationError,
};
use shopshield_store::{ApiKey, Page, RightRecord, Screened, Store, StoredListing};

use crate::metrics::ActionLabel;
use crate::{AppConfig, AppError, Clock, Metrics, Principal};

/// How often a submission is retried when a concurrent writer stored a
/// newer version of the same listing first.
const VERSION_RETRIES: usize = 5;

/// What a policy reload put in force.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PolicyReload {
    /// Every pack's version now in force.
    pub versions: std::collections::BTreeMap<String, String>,
    /// The rules added, removed or changed.
    pub changed_rules: Vec<String>,
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

/// The result of submitting a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    pub decision: Decision,
    /// False when an identical earlier submission's decision was returned.
    pub created: bool,
}

/// The application: store, gate, taxonomy, configuration and metrics.
pub struct App {
    store: Arc<dyn Store>,
    gate: Gate,
    taxonomy: Taxonomy,
    config: AppConfig,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
    rebuild_lock: Mutex<()>,
    pub(crate) enforcement: crate::enforcement::Enforcement,
    /// Registered logos and photos, shared by every engine and updated in
    /// place as rights change.
    banks: Arc<RwLock<ImageBanks>>,
    /// The region policy packs in force.
    policy: RwLock<Arc<shopshield_policy::PolicySet>>,
}

impl App {
    /// Opens the application on a store and builds the engine from the
    /// registry it holds.
    pub fn new(
        store: Arc<dyn Store>,
        config: AppConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<App, AppError> {
        let enforcement =
            crate::enforcement::Enforcement::open(store.as_ref(), &config.enforcement)?;
        let app = App {
            store,
            gate: Gate::new(Engine::empty(config.gate)),
            taxonomy: Taxonomy::builtin(),
            banks: Arc::new(RwLock::new(config.images.banks())),
            policy: RwLock::new(Arc::new(load_policy(&config)?)),
            config,
            clock,
            metrics: Metrics::new(),
            rebuild_lock: Mutex::new(()),
            enforcement,
        };
        app.load_banks()?;
        app.rebuild()?;
        app.enforcement_catch_up()?;
        Ok(app)
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The engine in force.
    pub fn engine(&self) -> Arc<Engine> {
        self.gate.engine()
    }

    /// Loads every enabled image right into the banks (start-up).
    fn load_banks(&self) -> Result<(), AppError> {
        let mut banks = self.banks.write().unwrap_or_else(|p| p.into_inner());
        for rec in self.store.right_records()? {
            let mut right = rec.right;
            if let Err(e) = crate::images::ensure_hashed(&mut right, rec.image.as_deref()) {
                tracing::warn!(right = %right.id, error = %e, "stored image cannot be hashed; not matched");
                continue;
            }
            let local = self.local_reference(&right, rec.image.as_deref());
            if let Err(e) = banks.upsert(&right, local) {
                tracing::warn!(right = %right.id, error = %e, "image not indexed");
            }
        }
        Ok(())
    }

    /// A logo's keypoints for the logo-inside-a-photo search, when it is on.
    fn local_reference(
        &self,
        right: &Right,
        image: Option<&[u8]>,
    ) -> Option<shopshield_keypoints::Reference> {
        let cfg = &self.config.images;
        if !cfg.logo_keypoints {
            return None;
        }
        crate::images::logo_reference(right, image, cfg.keypoints.negatives)
    }

    fn update_banks(&self, right: &Right, image: Option<&[u8]>) {
        let local = self.local_reference(right, image);
        let mut banks = self.banks.write().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = banks.upsert(right, local) {
            tracing::warn!(right = %right.id, error = %e, "image not indexed");
        }
    }

    /// The image banks (for `/v1/match` and HMA lookups).
    pub fn image_banks(&self) -> std::sync::RwLockReadGuard<'_, ImageBanks> {
        self.banks.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Matches image views against the banks (admins, reviewers and
    /// platform services; the registry's images are not a seller's to probe).
    pub fn match_image_views(
        &self,
        p: &Principal,
        views: &[shopshield_pdq::QueryView],
    ) -> Result<Vec<shopshield_pdq::BankMatch>, AppError> {
        if !matches!(p.role, Role::Admin | Role::Reviewer | Role::Service) {
            return Err(AppError::Forbidden(format!(
                "{} keys cannot query the image banks",
                p.role
            )));
        }
        Ok(self.image_banks().match_views(views))
    }

    /// Searches a photo for registered logos by local features (same roles
    /// as [`App::match_image_views`]).
    pub fn locate_logos(
        &self,
        p: &Principal,
        query: &shopshield_keypoints::Query,
    ) -> Result<Vec<shopshield_keypoints::LocalMatch>, AppError> {
        if !matches!(p.role, Role::Admin | Role::Reviewer | Role::Service) {
            return Err(AppError::Forbidden(format!(
                "{} keys cannot query the image banks",
                p.role
            )));
        }
        Ok(self.image_banks().local.find(query))
    }

    /// The policy packs in force.
    pub fn policy(&self) -> Arc<shopshield_policy::PolicySet> {
        self.policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Re-reads the policy packs (from `[policy] dir`, or the built-in
    /// packs) and puts them in force for the next listing. A broken pack
    /// changes nothing: the error lists every problem with file and line.
    pub fn reload_policy(&self, p: &Principal) -> Result<PolicyReload, AppError> {
        if !p.is_admin() {
            return Err(AppError::Forbidden(
                "only admins reload policy packs".into(),
            ));
        }
        let new = load_policy(&self.config)?;
        let old = self.policy();
        let changes = old.diff(&new);
        let changed_rules: Vec<String> = changes.iter().map(|c| format!("{c:?}")).collect();
        let versions = new.versions();
        *self.policy.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(new);
        self.rebuild_engine(true)?;
        tracing::info!(changes = changed_rules.len(), "policy packs reloaded");
        Ok(PolicyReload {
            versions,
            changed_rules,
        })
    }

    /// Records a shop's qualification (admins and platform services, which
    /// verify the evidence document first).
    pub fn put_qualification(
        &self,
        p: &Principal,
        q: Qualification,
    ) -> Result<Qualification, AppError> {
        if !matches!(p.role, Role::Admin | Role::Service) {
            return Err(AppError::Forbidden(format!(
                "{} keys cannot record qualifications",
                p.role
            )));
        }
        q.validate()?;
        self.store.put_qualification(&q, self.now())?;
        Ok(q)
    }

    /// A shop's qualifications, for whoever may see the shop.
    pub fn qualifications(
        &self,
        p: &Principal,
        shop_id: &str,
    ) -> Result<Vec<Qualification>, AppError> {
        if !p.sees_shop(shop_id) {
            return Err(AppError::not_found("shop", shop_id));
        }
        Ok(self.store.qualifications(shop_id)?)
    }

    /// Rebuilds the engine from the registry and swaps it in. Rebuilds are
    /// serialised, and an engine never replaces a newer one.
    pub fn rebuild(&self) -> Result<(), AppError> {
        self.rebuild_engine(false)
    }

    fn rebuild_engine(&self, force: bool) -> Result<(), AppError> {
        let _guard = self.rebuild_lock.lock().unwrap_or_else(|p| p.into_inner());
        let version = self.store.registry_version()?;
        if !force && version != 0 && version <= self.gate.engine().registry_version() {
            return Ok(());
        }
        let records = self.store.right_records()?;
        let rights: Vec<Right> = records.into_iter().map(|r| r.right).collect();
        let enabled = rights.iter().filter(|r| r.enabled).count();
        let policy = self
            .policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let engine = build_engine(version, &self.config, &rights, self.banks.clone(), policy)
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

    // ---------------------------------------------------------------- keys

    /// Creates an API key and returns its secret (shown once) and record.
    pub fn create_key(
        &self,
        role: Role,
        holder_id: Option<String>,
        shop_id: Option<String>,
        label: &str,
    ) -> Result<(String, ApiKey), AppError> {
        self.create_key_for(role, holder_id, shop_id, None, label)
    }

    /// Like [`App::create_key`], also for `creator` keys (scoped to
    /// `creator_id`).
    pub fn create_key_for(
        &self,
        role: Role,
        holder_id: Option<String>,
        shop_id: Option<String>,
        creator_id: Option<String>,
        label: &str,
    ) -> Result<(String, ApiKey), AppError> {
        match (role, &creator_id) {
            (Role::Creator, None) => {
                return Err(
                    ValidationError::new("creator", "a creator key needs --creator").into(),
                );
            }
            (Role::Creator, Some(c)) => {
                shopshield_model::validate_id("creator", c)?;
                if holder_id.is_some() || shop_id.is_some() {
                    return Err(ValidationError::new(
                        "creator",
                        "creator keys are scoped to one creator only",
                    )
                    .into());
                }
            }
            (_, Some(_)) => {
                return Err(
                    ValidationError::new("creator", "only creator keys name a creator").into(),
                );
            }
            (_, None) => {}
        }
        match role {
            Role::RightsHolder => {
                let Some(h) = &holder_id else {
                    return Err(ValidationError::new(
                        "holder",
                        "a rights_holder key needs --holder",
                    )
                    .into());
                };
                if self.store.holder(h)?.is_none() {
                    return Err(
                        ValidationError::new("holder", format!("no holder with id {h:?}")).into(),
                    );
                }
                if shop_id.is_some() {
                    return Err(ValidationError::new("shop", "only seller keys name a shop").into());
                }
            }
            Role::Seller => {
                let Some(s) = &shop_id else {
                    return Err(ValidationError::new("shop", "a seller key needs --shop").into());
                };
                shopshield_model::validate_id("shop", s)?;
                if holder_id.is_some() {
                    return Err(ValidationError::new(
                        "holder",
                        "only rights_holder keys name a holder",
                    )
                    .into());
                }
            }
            Role::Creator => {}
            _ => {
                if holder_id.is_some() || shop_id.is_some() {
                    return Err(ValidationError::new(
                        "role",
                        format!("{role} keys are not scoped to a holder or a shop"),
                    )
                    .into());
                }
            }
        }
        let secret = crate::generate_key();
        let key = ApiKey {
            key_hash: crate::hash_key(&secret),
            role,
            holder_id,
            shop_id,
            label: label.to_string(),
            created_at: self.now(),
            creator_id,
        };
        self.store.insert_api_key(&key)?;
        Ok((secret, key))
    }

    /// The principal a key secret stands for, if the key exists.
    pub fn authenticate(&self, secret: &str) -> Result<Option<Principal>, AppError> {
        Ok(self
            .store
            .api_key(&crate::hash_key(secret))?
            .map(Principal::from))
    }

    // ------------------------------------------------------------- holders

    pub fn create_holder(
        &self,
        p: &Principal,
        id: Option<String>,
        name: &str,
    ) -> Result<RightsHolder, AppError> {
        if !p.is_admin() {
            return Err(AppError::Forbidden(
                "only admins create rights holders".into(),
            ));
        }
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(ValidationError::new("name", "must be 1 to 200 bytes").into());
        }
        let id = id.unwrap_or_else(|| slug(name));
        shopshield_model::validate_id("id", &id)?;
        let h = RightsHolder {
            id,
            name: name.to_string(),
            created_at: self.now(),
        };
        self.store.insert_holder(&h)?;
        Ok(h)
    }

    pub fn holder(&self, p: &Principal, id: &str) -> Result<RightsHolder, AppError> {
        match self.store.holder(id)? {
            Some(h) if p.sees_holder(&h.id) => Ok(h),
            _ => Err(AppError::not_found("holder", id)),
        }
    }

    pub fn holders(&self, p: &Principal) -> Result<Vec<RightsHolder>, AppError> {
        Ok(self
            .store
            .holders()?
            .into_iter()
            .filter(|h| p.sees_holder(&h.id))
            .collect())
    }

    // -------------------------------------------------------------- rights

    /// Registers one right for an existing holder (`holder` is its id).
    pub fn create_right(
        &self,
        p: &Principal,
        new: NewRight,
        image: Option<Vec<u8>>,
    ) -> Result<Right, AppError> {
        if !matches!(p.role, Role::Admin | Role::RightsHolder) {
            return Err(AppError::Forbidden(
                "only admins and rights holders register rights".into(),
            ));
        }
        new.validate()?;
        let holder = match self.store.holder(&new.holder)? {
            Some(h) if p.sees_holder(&h.id) => h,
            _ => {
                return Err(ValidationError::new(
                    "holder",
                    format!("no holder with id {:?}", new.holder),
                )
                .into());
            }
        };
        if !p.manages_holder(&holder.id) {
            return Err(ValidationError::new(
                "holder",
                format!("no holder with id {:?}", new.holder),
            )
            .into());
        }
        check_image(&new, image.as_deref())?;
        let mut right = Right::from_new(new, holder.id, self.now());
        crate::images::ensure_hashed(&mut right, image.as_deref())?;
        self.store.insert_right(&RightRecord {
            right: right.clone(),
            image: image.clone(),
        })?;
        self.update_banks(&right, image.as_deref());
        self.rebuild()?;
        Ok(right)
    }

    /// Imports rights, all or nothing. Each entry's `holder` is a holder id
    /// or name; unknown names become new holders. Existing rights with the
    /// same id are replaced. Admin only.
    pub fn import_rights(
        &self,
        p: &Principal,
        entries: Vec<(NewRight, Option<Vec<u8>>)>,
    ) -> Result<(usize, u64), AppError> {
        if !p.is_admin() {
            return Err(AppError::Forbidden("only admins import rights".into()));
        }
        let now = self.now();
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
                    let id = if let Some(h) = self.store.holder(&key)? {
                        h.id
                    } else if let Some(h) = self.store.holder_by_name(&key)? {
                        h.id
                    } else {
                        let mut id = slug(&key);
                        let mut n = 2;
                        while self.store.holder(&id)?.is_some()
                            || new_holders.iter().any(|h| h.id == id)
                        {
                            id = format!("{}-{n}", slug(&key));
                            n += 1;
                        }
                        new_holders.push(RightsHolder {
                            id: id.clone(),
                            name: key.clone(),
                            created_at: now,
                        });
                        id
                    };
                    resolved.insert(key, id.clone());
                    id
                }
            };
            records.push(RightRecord {
                right: Right::from_new(new, holder_id, now),
                image,
            });
        }
        // Hash the registered images in parallel; a bad one fails the import.
        records
            .par_iter_mut()
            .map(|rec| {
                crate::images::ensure_hashed(&mut rec.right, rec.image.as_deref()).map_err(|e| {
                    ValidationError::new("image", format!("right {}: {e}", rec.right.id))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let n = records.len();
        let version = self.store.import_rights(&new_holders, &records)?;
        for rec in &records {
            self.update_banks(&rec.right, rec.image.as_deref());
        }
        self.rebuild()?;
        Ok((n, version))
    }

    pub fn right(&self, p: &Principal, id: &str) -> Result<Right, AppError> {
        match self.store.right(id)? {
            Some(r) if p.sees_holder(&r.right.holder_id) => Ok(r.right),
            _ => Err(AppError::not_found("right", id)),
        }
    }

    /// Rights the caller may see, optionally of one holder.
    pub fn rights(&self, p: &Principal, holder: Option<&str>) -> Result<Vec<Right>, AppError> {
        if !matches!(p.role, Role::Admin | Role::Reviewer | Role::RightsHolder) {
            return Err(AppError::Forbidden(format!(
                "{} keys cannot list rights",
                p.role
            )));
        }
        let holder = match (p.role, holder) {
            (Role::RightsHolder, None) => p.holder_id.as_deref(),
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
            return Err(AppError::Forbidden(format!(
                "{} keys cannot change rights",
                p.role
            )));
        }
        let (right, _) = self
            .store
            .set_right_enabled(id, enabled, self.now())?
            .ok_or_else(|| AppError::not_found("right", id))?;
        let image = if right.enabled && right.kind == shopshield_model::RightKind::Logo {
            self.store.right(id)?.and_then(|r| r.image)
        } else {
            None
        };
        self.update_banks(&right, image.as_deref());
        self.rebuild()?;
        Ok(right)
    }

    // ------------------------------------------------------------ listings

    fn check_listing(&self, listing: &Listing) -> Result<(), AppError> {
        listing.validate()?;
        self.taxonomy.resolve("category", &listing.category)?;
        Ok(())
    }

    /// Reads, decodes and hashes a listing's images. With no image rights
    /// registered nothing could match, so images are only checked to exist.
    fn load_images(
        &self,
        listing: &Listing,
        base: ImageBase<'_>,
    ) -> Result<Vec<ImageSignal>, AppError> {
        let (hash, keypoints) = {
            let banks = self.image_banks();
            (
                !banks.is_empty(),
                self.config.images.logo_keypoints && banks.wants_local_features(),
            )
        };
        let mut out = Vec::new();
        for (i, reference) in listing.images.iter().enumerate() {
            let field = format!("images[{i}]");
            let bytes = read_image(&field, reference, base)?;
            if hash {
                out.push(crate::images::listing_image_signal(
                    &field,
                    &bytes,
                    self.config.images.logo_tiles,
                    keypoints,
                )?);
            }
        }
        Ok(out)
    }

    fn verdict(
        &self,
        engine: &Engine,
        listing: &Listing,
        base: ImageBase<'_>,
    ) -> Result<Verdict, AppError> {
        let category = self.taxonomy.resolve("category", &listing.category)?;
        let images = self.load_images(listing, base)?;
        let qualifications = self.store.qualifications(&listing.shop_id)?;
        let start = Instant::now();
        let normalized = shopshield_text::NormalizedFields::new(listing);
        let verdict = engine.screen(&ScreenInput {
            listing,
            category,
            normalized: &normalized,
            images: &images,
            qualifications: &qualifications,
            now: self.now(),
        });
        self.metrics
            .screen_seconds
            .observe(start.elapsed().as_secs_f64());
        Ok(verdict)
    }

    fn make_decision(&self, listing: &Listing, version: u32, v: Verdict) -> Decision {
        Decision {
            id: listing.id.clone(),
            decision_id: Decision::decision_id(&listing.id, version),
            listing_version: version,
            action: v.action,
            score: v.score,
            violations: v.violations,
            registry_version: v.registry_version,
            policy_versions: v.versions,
            decided_at: self.now(),
        }
    }

    fn count(&self, d: &Decision) {
        self.metrics
            .decisions
            .get_or_create(&ActionLabel {
                action: d.action.as_str().to_string(),
            })
            .inc();
    }

    /// What to do with a listing given its stored latest version: `Ok(None)`
    /// to screen it as `version`, `Ok(Some(decision))` when it is unchanged.
    fn prior(
        &self,
        listing: &Listing,
        hash: &str,
        latest: Option<&StoredListing>,
    ) -> Result<(u32, Option<Decision>), AppError> {
        let Some(latest) = latest else {
            return Ok((1, None));
        };
        if latest.listing.shop_id != listing.shop_id {
            return Err(AppError::Conflict(format!(
                "listing {:?} belongs to another shop; listing ids are unique per platform",
                listing.id
            )));
        }
        if latest.content_hash == hash {
            let d = self
                .store
                .decision(&Decision::decision_id(&listing.id, latest.version))?
                .ok_or_else(|| AppError::not_found("decision", &listing.id))?;
            return Ok((latest.version, Some(d)));
        }
        Ok((latest.version + 1, None))
    }

    /// Screens a listing and stores it with its decision before returning.
    /// Re-submitting identical content returns the stored decision; changed
    /// content is screened as a new version, keeping the history.
    pub fn submit(
        &self,
        p: &Principal,
        listing: Listing,
        base: ImageBase<'_>,
    ) -> Result<Submitted, AppError> {
        if !p.submits_for(&listing.shop_id) {
            return Err(match p.role {
                Role::Seller => ValidationError::new(
                    "shop_id",
                    "sellers submit listings for their own shop only",
                )
                .into(),
                role => AppError::Forbidden(format!("{role} keys cannot submit listings")),
            });
        }
        self.check_listing(&listing)?;
        self.enforcement_admit(&listing)?;
        let hash = listing.content_hash();
        for _ in 0..VERSION_RETRIES {
            let latest = self.store.latest_listing(&listing.id)?;
            let (version, existing) = self.prior(&listing, &hash, latest.as_ref())?;
            if let Some(decision) = existing {
                self.metrics.idempotent_hits.inc();
                return Ok(Submitted {
                    decision,
                    created: false,
                });
            }
            let engine = self.gate.engine();
            let decision =
                self.make_decision(&listing, version, self.verdict(&engine, &listing, base)?);
            let screened = Screened {
                listing: listing.clone(),
                version,
                content_hash: hash.clone(),
                decision: decision.clone(),
            };
            match self
                .store
                .record_screenings(std::slice::from_ref(&screened))
            {
                Ok(()) => {
                    self.enforcement_ingest(std::slice::from_ref(&screened));
                    self.count(&decision);
                    return Ok(Submitted {
                        decision,
                        created: true,
                    });
                }
                Err(shopshield_store::StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict(format!(
            "listing {:?} is being changed concurrently; try again",
            listing.id
        )))
    }

    /// Screens many listings (in parallel) and stores them all in one
    /// transaction, for bulk scans. Results are in input order; an invalid
    /// listing gets its error and the others go on. Nothing is returned as
    /// decided before it is stored.
    pub fn submit_batch(
        &self,
        p: &Principal,
        listings: Vec<Listing>,
        base: ImageBase<'_>,
    ) -> Result<Vec<Result<Submitted, AppError>>, AppError> {
        let engine = self.gate.engine();
        // Versions are assigned in order, so the same id twice in a batch
        // becomes two versions (or one, when the content repeats).
        let mut pending: HashMap<String, (u32, String, usize)> = HashMap::new();
        enum Plan {
            Done(Result<Submitted, AppError>),
            Screen(u32, String),
            SameAs(usize),
        }
        let mut plans = Vec::with_capacity(listings.len());
        for (i, l) in listings.iter().enumerate() {
            if !p.submits_for(&l.shop_id) {
                plans.push(Plan::Done(Err(AppError::Forbidden(format!(
                    "this key cannot submit listings for shop {:?}",
                    l.shop_id
                )))));
                continue;
            }
            if let Err(e) = self.check_listing(l) {
                plans.push(Plan::Done(Err(e)));
                continue;
            }
            let hash = l.content_hash();
            if let Some((version, prev_hash, at)) = pending.get(&l.id).cloned() {
                if listings[at].shop_id != l.shop_id {
                    plans.push(Plan::Done(Err(AppError::Conflict(format!(
                        "listing {:?} belongs to another shop",
                        l.id
                    )))));
                } else if prev_hash == hash {
                    plans.push(Plan::SameAs(at));
                } else {
                    pending.insert(l.id.clone(), (version + 1, hash.clone(), i));
                    plans.push(Plan::Screen(version + 1, hash));
                }
                continue;
            }
            let latest = self.store.latest_listing(&l.id)?;
            match self.prior(l, &hash, latest.as_ref()) {
                Ok((_, Some(decision))) => {
                    self.metrics.idempotent_hits.inc();
                    plans.push(Plan::Done(Ok(Submitted {
                        decision,
                        created: false,
                    })));
                }
                Ok((version, None)) => {
                    pending.insert(l.id.clone(), (version, hash.clone(), i));
                    plans.push(Plan::Screen(version, hash));
                }
                Err(e) => plans.push(Plan::Done(Err(e))),
            }
        }
        let screened: Vec<Option<Result<Screened, AppError>>> = plans
            .par_iter()
            .zip(listings.par_iter())
            .map(|(plan, l)| match plan {
                Plan::Screen(version, hash) => {
                    Some(self.verdict(&engine, l, base).map(|v| Screened {
                        decision: self.make_decision(l, *version, v),
                        listing: l.clone(),
                        version: *version,
                        content_hash: hash.clone(),
                    }))
                }
                _ => None,
            })
            .collect();
        let to_store: Vec<Screened> = screened
            .iter()
            .flatten()
            .filter_map(|r| r.as_ref().ok())
            .cloned()
            .collect();
        match self.store.record_screenings(&to_store) {
            Ok(()) => self.enforcement_ingest(&to_store),
            Err(shopshield_store::StoreError::Conflict(_)) => {
                // Another writer touched one of these listings meanwhile:
                // fall back to one-by-one submission, which retries.
                return Ok(listings
                    .into_iter()
                    .map(|l| self.submit(p, l, base))
                    .collect());
            }
            Err(e) => return Err(e.into()),
        }
        let mut results: Vec<Result<Submitted, AppError>> = Vec::with_capacity(plans.len());
        for (i, (plan, s)) in plans.into_iter().zip(screened).enumerate() {
            let r = match (plan, s) {
                (Plan::Done(r), _) => r,
                (Plan::Screen(..), Some(Ok(s))) => {
                    self.count(&s.decision);
                    Ok(Submitted {
                        decision: s.decision,
                        created: true,
                    })
                }
                (Plan::Screen(..), Some(Err(e))) => Err(e),
                (Plan::Screen(..), None) => {
                    Err(AppError::Conflict(format!("listing {i} was not screened")))
                }
                (Plan::SameAs(at), _) => match &results[at] {
                    Ok(s) => Ok(Submitted {
                        decision: s.decision.clone(),
                        created: false,
                    }),
                    Err(e) => Err(AppError::Conflict(format!(
                        "an earlier line with this listing failed: {e}"
                    ))),
                },
            };
            results.push(r);
        }
        Ok(results)
    }

    /// The latest version of a listing, if the caller may see its shop.
    pub fn listing(&self, p: &Principal, id: &str) -> Result<StoredListing, AppError> {
        match self.store.latest_listing(id)? {
            Some(l) if p.sees_shop(&l.listing.shop_id) => Ok(l),
            _ => Err(AppError::not_found("listing", id)),
        }
    }

    pub fn listing_history(&self, p: &Principal, id: &str) -> Result<Vec<StoredListing>, AppError> {
        self.listing(p, id)?;
        Ok(self.store.listing_history(id)?)
    }

    pub fn listings_by_shop(
        &self,
        p: &Principal,
        shop_id: &str,
        page: &Page,
    ) -> Result<Vec<StoredListing>, AppError> {
        if !p.sees_shop(shop_id) {
            return Err(AppError::not_found("shop", shop_id));
        }
        Ok(self.store.listings_by_shop(shop_id, page)?)
    }

    pub fn decision(&self, p: &Principal, decision_id: &str) -> Result<Decision, AppError> {
        let d = self
            .store
            .decision(decision_id)?
            .ok_or_else(|| AppError::not_found("decision", decision_id))?;
        // Decisions are visible to whoever sees the listing's shop.
        self.listing(p, &d.id)
            .map_err(|_| AppError::not_found("decision", decision_id))?;
        Ok(d)
    }

    /// Every decision in storage order (admins, reviewers, platform services).
    pub fn decisions(&self, p: &Principal, page: &Page) -> Result<Vec<Decision>, AppError> {
        if !matches!(p.role, Role::Admin | Role::Reviewer | Role::Service) {
            return Err(AppError::Forbidden(format!(
                "{} keys cannot list all decisions",
                p.role
            )));
        }
        Ok(self.store.decisions(page)?)
    }

    pub fn decisions_for_listing(
        &self,
        p: &Principal,
        listing_id: &str,
    ) -> Result<Vec<Decision>, AppError> {
        self.listing(p, listing_id)?;
        Ok(self.store.decisions_for_listing(listing_id)?)
    }
}

fn check_image(new: &NewRight, image: Option<&[u8]>) -> Result<(), AppError> {
    match (new.kind, image) {
        (RightKind::Trademark, _) => Ok(()),
        (_, Some(b)) if !b.is_empty() => Ok(()),
        _ => Err(ValidationError::new("image", "the image could not be read or is empty").into()),
    }
}

/// A holder id made from a name: `Nike, Inc.` → `nike-inc`.
fn slug(name: &str) -> String {
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
