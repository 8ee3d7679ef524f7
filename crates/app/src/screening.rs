//! The screening service: intake → engine → store.
//!
//! A submission is validated, read against the store once (its latest
//! version, an identical earlier submission's decision, the shop's
//! qualifications: one round trip for a whole batch), screened by the
//! engine in force, and stored with its decision in one transaction before
//! anyone is told. Then enforcement gets the decision. A version another
//! writer stored meanwhile (another process, another thread) makes the
//! store refuse the write, and the submission is screened again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use shopshield_gate::{Engine, ImageSignal, ScreenInput, Verdict};
use shopshield_intake::{ImageBase, read_image};
use shopshield_model::{
    Decision, Listing, Permission, Principal, Qualification, Role, Taxonomy, ValidationError,
};
use shopshield_store::{
    CatalogStore, ContextKey, Page, Prior, QualificationStore, Screened, ScreeningContext,
    StoreError, StoredListing,
};

use crate::metrics::ActionLabel;
use crate::registry::Registry;
use crate::review::{ListingStatusView, Review};
use crate::{AppConfig, AppError, Clock, Metrics};

/// How often a submission is retried when a concurrent writer stored a
/// newer version of the same listing first.
const VERSION_RETRIES: usize = 5;

/// The result of submitting a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    pub decision: Decision,
    /// False when an identical earlier submission's decision was returned.
    pub created: bool,
}

/// The screening service.
pub struct Screening {
    catalog: Arc<dyn CatalogStore>,
    /// The sweep index, for a rights holder's view of its matches.
    index: Arc<dyn shopshield_store::SweepStore>,
    qualifications: Arc<dyn QualificationStore>,
    registry: Arc<Registry>,
    review: Arc<Review>,
    taxonomy: Arc<Taxonomy>,
    config: AppConfig,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
}

/// What the stored latest version says about a submission.
enum Prospect {
    /// Identical content was decided before.
    Decided(Submitted),
    /// Screen it as this version.
    Screen(u32),
}

/// A batch screened but not yet stored: see [`Screening::screen_batch`].
/// Sweep index terms a verdict adds to those of the decision itself.
pub(crate) struct ExtraTerms {
    /// Whole-image PDQ hashes (hex) of the listing's images.
    pub image_hashes: Vec<String>,
    /// The logo search was left for a sweep.
    pub logo_later: bool,
}

pub struct ScreenedBatch {
    plans: Vec<Plan>,
    items: Vec<Item>,
}

impl ScreenedBatch {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// One listing of a batch after screening.
enum Item {
    Screened(Screened),
    Failed(Listing, AppError),
    /// Nothing to screen (invalid, unchanged, or repeated in the batch).
    Unscreened(Listing),
}

/// What to do with one item of a batch.
enum Plan {
    Done(Result<Submitted, AppError>),
    Screen {
        version: u32,
        hash: String,
    },
    /// The same listing earlier in the batch, with the same content.
    SameAs(usize),
}

impl Screening {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        catalog: Arc<dyn CatalogStore>,
        index: Arc<dyn shopshield_store::SweepStore>,
        qualifications: Arc<dyn QualificationStore>,
        registry: Arc<Registry>,
        review: Arc<Review>,
        taxonomy: Arc<Taxonomy>,
        config: AppConfig,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Screening {
        Screening {
            catalog,
            index,
            qualifications,
            registry,
            review,
            taxonomy,
            config,
            clock,
            metrics,
        }
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    fn check_listing(&self, listing: &Listing) -> Result<(), AppError> {
        listing.validate()?;
        self.taxonomy.resolve("category", &listing.category)?;
        Ok(())
    }

    fn check_submitter(p: &Principal, listing: &Listing) -> Result<(), AppError> {
        p.require(Permission::SubmitContent)?;
        if p.submits_for(&listing.shop_id) {
            return Ok(());
        }
        Err(match p.role {
            Role::Seller => {
                ValidationError::new("shop_id", "sellers submit listings for their own shop only")
                    .into()
            }
            role => AppError::Forbidden(format!(
                "{role} keys cannot submit listings for shop {:?}",
                listing.shop_id
            )),
        })
    }

    /// Reads, decodes and hashes a listing's images. Every image is hashed
    /// (its whole-image PDQ hash goes into the sweep index, so a photo
    /// registered later finds it); tiles and local features only when
    /// image rights are registered for them to match.
    ///
    /// With `logos` false (the submit path in `logo_search =
    /// "after_listing"` mode) the search for logos inside the photos is
    /// left for a sweep when every image is a `data:` URL, which the sweep
    /// can read again; the second value says it was left.
    fn load_images(
        &self,
        listing: &Listing,
        base: ImageBase<'_>,
        logos: bool,
    ) -> Result<(Vec<ImageSignal>, bool), AppError> {
        let (banks, wanted) = {
            let banks = self.registry.image_banks();
            (
                !banks.is_empty(),
                self.config.images.logo_keypoints && banks.wants_local_features(),
            )
        };
        let later = wanted
            && !logos
            && !listing.images.is_empty()
            && listing.images.iter().all(|r| r.starts_with("data:"));
        let keypoints = wanted && !later;
        let mut out = Vec::new();
        for (i, reference) in listing.images.iter().enumerate() {
            let field = format!("images[{i}]");
            let bytes = read_image(&field, reference, base)?;
            match crate::images::listing_image_signal(
                &field,
                &bytes,
                banks && self.config.images.logo_tiles,
                keypoints,
            ) {
                Ok(signal) => out.push(signal),
                Err(e) if banks => return Err(e.into()),
                // With no image rights an image that does not decode
                // could match nothing: it is only checked to exist, as
                // before, and the index gets no hash for it.
                Err(_) => {}
            }
        }
        Ok((out, later))
    }

    /// The whole-image PDQ hashes (hex) of a stored listing's images that
    /// can be read again (`data:` URLs), for the sweep index of a decision
    /// taken without screening (a notice's takedown or restoration).
    pub(crate) fn image_hashes(&self, listing: &Listing) -> Vec<String> {
        let mut signals = Vec::new();
        for (i, reference) in listing.images.iter().enumerate() {
            let field = format!("images[{i}]");
            let Ok(bytes) = read_image(&field, reference, ImageBase::DataOnly) else {
                continue;
            };
            if let Ok(s) = crate::images::listing_image_signal(&field, &bytes, false, false) {
                signals.push(s);
            }
        }
        crate::sweep::image_terms(&signals)
    }

    /// The engine's verdict on a listing, and its sweep index terms beyond
    /// the decision's own: the whole-image PDQ hashes of its images and,
    /// when the logo search was left for later, the term that queues it
    /// (see [`crate::sweep::listing_terms`]). `logos` false leaves the
    /// search for later when it can be done later (see `load_images`).
    fn verdict(
        &self,
        engine: &Engine,
        listing: &Listing,
        qualifications: &[Qualification],
        base: ImageBase<'_>,
        logos: bool,
    ) -> Result<(Verdict, ExtraTerms), AppError> {
        let category = self.taxonomy.resolve("category", &listing.category)?;
        let (images, logo_later) = self.load_images(listing, base, logos)?;
        let hashes = ExtraTerms {
            image_hashes: crate::sweep::image_terms(&images),
            logo_later,
        };
        let start = Instant::now();
        let normalized = shopshield_text::NormalizedFields::new(listing);
        let verdict = engine.screen(&ScreenInput {
            listing,
            category,
            normalized: &normalized,
            images: &images,
            qualifications,
            now: self.now(),
        });
        self.metrics
            .screen_seconds
            .observe(start.elapsed().as_secs_f64());
        Ok((verdict, hashes))
    }

    /// Whether the submit path searches photos for logos itself.
    fn logos_inline(&self) -> bool {
        self.config.images.logo_search == crate::images::LogoSearch::Inline
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
            source: Default::default(),
            cause: None,
        }
    }

    /// Screens a stored listing again with the engine in force, as the next
    /// version of it (same content), for a decision after listing. Images
    /// are read from `data:` URLs; when one cannot be read (a path of a
    /// bulk file), the listing is screened on its text and the second value
    /// is false. Nothing is stored.
    pub(crate) fn rescreen(
        &self,
        stored: &StoredListing,
        source: shopshield_model::DecisionSource,
        cause: &shopshield_model::Cause,
    ) -> Result<(Screened, bool), AppError> {
        let listing = &stored.listing;
        let quals = self.qualifications.qualifications(&listing.shop_id)?;
        let engine = self.registry.engine();
        let ((verdict, hashes), images_read) =
            match self.verdict(&engine, listing, &quals, ImageBase::DataOnly, true) {
                Ok(v) => (v, true),
                Err(AppError::Intake(_)) => {
                    let mut text_only = listing.clone();
                    text_only.images.clear();
                    (
                        self.verdict(&engine, &text_only, &quals, ImageBase::DataOnly, true)?,
                        false,
                    )
                }
                Err(e) => return Err(e),
            };
        let version = stored.version + 1;
        let mut decision = self.make_decision(listing, version, verdict);
        decision.source = source;
        decision.cause = Some(Box::new(cause.clone()));
        Ok((
            Screened {
                terms: crate::sweep::screened_terms(listing, &decision, &hashes),
                listing: listing.clone(),
                version,
                content_hash: stored.content_hash.clone(),
                decision,
            },
            images_read,
        ))
    }

    /// Stores decisions taken after listing (sweeps, notices) and hands
    /// them to enforcement. Entries whose listing changed meanwhile (a
    /// newer version was stored) are left out. Returns the stored ones.
    pub(crate) fn record_after_listing(
        &self,
        batch: Vec<Screened>,
    ) -> Result<Vec<Screened>, AppError> {
        if batch.is_empty() {
            return Ok(batch);
        }
        let stored = match self.catalog.record_screenings(&batch) {
            Ok(_) => batch,
            Err(StoreError::Conflict(_)) => {
                let mut kept = Vec::with_capacity(batch.len());
                for s in batch {
                    match self.catalog.record_screenings(std::slice::from_ref(&s)) {
                        Ok(_) => kept.push(s),
                        Err(StoreError::Conflict(e)) => {
                            tracing::info!(listing = %s.listing.id, reason = %e, "listing changed during a decision after listing; left to its new version");
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                kept
            }
            Err(e) => return Err(e.into()),
        };
        self.review.after_commit(&stored);
        for s in &stored {
            self.count(&s.decision);
            if s.decision.action == shopshield_model::Action::Reject {
                self.metrics
                    .takedowns_after_listing
                    .get_or_create(&crate::metrics::SourceLabel {
                        source: s.decision.source.as_str().to_string(),
                    })
                    .inc();
            }
        }
        Ok(stored)
    }

    fn count(&self, d: &Decision) {
        self.metrics
            .decisions
            .get_or_create(&ActionLabel {
                action: d.action.as_str().to_string(),
            })
            .inc();
    }

    /// What to do given the stored latest version: screen it as a new
    /// version, or answer the stored decision of identical content.
    fn prospect(listing: &Listing, prior: Option<&Prior>) -> Result<Prospect, AppError> {
        let Some(prior) = prior else {
            return Ok(Prospect::Screen(1));
        };
        if prior.shop_id != listing.shop_id {
            return Err(AppError::Conflict(format!(
                "listing {:?} belongs to another shop; listing ids are unique per platform",
                listing.id
            )));
        }
        if let Some(d) = &prior.same_content_decision {
            return Ok(Prospect::Decided(Submitted {
                decision: d.clone(),
                created: false,
            }));
        }
        Ok(Prospect::Screen(prior.version + 1))
    }

    fn context(
        &self,
        listings: &[&Listing],
        hashes: &[&str],
    ) -> Result<ScreeningContext, AppError> {
        let keys: Vec<ContextKey<'_>> = listings
            .iter()
            .zip(hashes)
            .map(|(l, h)| ContextKey {
                id: &l.id,
                shop_id: &l.shop_id,
                content_hash: h,
            })
            .collect();
        Ok(self.catalog.screening_context(&keys)?)
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
        Self::check_submitter(p, &listing)?;
        self.check_listing(&listing)?;
        let hash = listing.content_hash();
        for _ in 0..VERSION_RETRIES {
            let ctx = self.context(&[&listing], &[&hash])?;
            let prior = ctx.priors.get(&listing.id);
            self.review.admit(&listing, prior.is_some())?;
            let version = match Self::prospect(&listing, prior)? {
                Prospect::Decided(done) => {
                    self.metrics.idempotent_hits.inc();
                    return Ok(done);
                }
                Prospect::Screen(version) => version,
            };
            let quals = ctx
                .qualifications
                .get(&listing.shop_id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let engine = self.registry.engine();
            let (verdict, hashes) =
                self.verdict(&engine, &listing, quals, base, self.logos_inline())?;
            let decision = self.make_decision(&listing, version, verdict);
            let screened = Screened {
                terms: crate::sweep::screened_terms(&listing, &decision, &hashes),
                listing: listing.clone(),
                version,
                content_hash: hash.clone(),
                decision: decision.clone(),
            };
            match self
                .catalog
                .record_screenings(std::slice::from_ref(&screened))
            {
                Ok(_) => {
                    self.review.after_commit(std::slice::from_ref(&screened));
                    self.count(&decision);
                    return Ok(Submitted {
                        decision,
                        created: true,
                    });
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict(format!(
            "listing {:?} is being changed concurrently; try again",
            listing.id
        )))
    }

    /// Screens many listings (in parallel) and stores them all in one
    /// transaction, for bulk scans and workers. Results are in input order;
    /// an invalid listing gets its error and the others go on. Nothing is
    /// returned as decided before it is stored.
    pub fn submit_batch(
        &self,
        p: &Principal,
        listings: Vec<Listing>,
        base: ImageBase<'_>,
    ) -> Result<Vec<Result<Submitted, AppError>>, AppError> {
        let batch = self.screen_batch(p, listings, base)?;
        self.commit_batch(p, batch, base)
    }

    /// The first half of [`Screening::submit_batch`]: reads what the store
    /// knows about the batch and screens it, storing nothing. A bulk scan
    /// screens the next batch while the previous one commits.
    pub fn screen_batch(
        &self,
        p: &Principal,
        listings: Vec<Listing>,
        base: ImageBase<'_>,
    ) -> Result<ScreenedBatch, AppError> {
        let engine = self.registry.engine();
        let hashes: Vec<String> = listings.par_iter().map(Listing::content_hash).collect();
        let valid: Vec<Result<(), AppError>> = listings
            .iter()
            .map(|l| Self::check_submitter(p, l).and_then(|()| self.check_listing(l)))
            .collect();
        let (checked, checked_hashes): (Vec<&Listing>, Vec<&str>) = listings
            .iter()
            .zip(&hashes)
            .zip(&valid)
            .filter(|(_, v)| v.is_ok())
            .map(|((l, h), _)| (l, h.as_str()))
            .unzip();
        let ctx = self.context(&checked, &checked_hashes)?;
        // Versions are assigned in order, so the same id twice in a batch
        // becomes two versions (or one, when the content repeats).
        let mut pending: HashMap<&str, (u32, &str, usize)> = HashMap::new();
        let mut plans = Vec::with_capacity(listings.len());
        for (i, ((l, hash), valid)) in listings.iter().zip(&hashes).zip(valid).enumerate() {
            if let Err(e) = valid {
                plans.push(Plan::Done(Err(e)));
                continue;
            }
            if let Some(&(version, prev_hash, at)) = pending.get(l.id.as_str()) {
                if listings[at].shop_id != l.shop_id {
                    plans.push(Plan::Done(Err(AppError::Conflict(format!(
                        "listing {:?} belongs to another shop",
                        l.id
                    )))));
                } else if prev_hash == hash {
                    plans.push(Plan::SameAs(at));
                } else {
                    pending.insert(&l.id, (version + 1, hash, i));
                    plans.push(Plan::Screen {
                        version: version + 1,
                        hash: hash.clone(),
                    });
                }
                continue;
            }
            let prior = ctx.priors.get(&l.id);
            let plan = match self
                .review
                .admit(l, prior.is_some())
                .and_then(|()| Self::prospect(l, prior))
            {
                Ok(Prospect::Decided(done)) => Plan::Done(Ok(done)),
                Ok(Prospect::Screen(version)) => Plan::Screen {
                    version,
                    hash: hash.clone(),
                },
                Err(e) => Plan::Done(Err(e)),
            };
            match &plan {
                Plan::Screen { version, .. } => {
                    pending.insert(&l.id, (*version, hash, i));
                }
                Plan::Done(Ok(_)) => {
                    self.metrics.idempotent_hits.inc();
                }
                _ => {}
            }
            plans.push(plan);
        }
        // Screen in parallel, moving each listing into its screening (or
        // keeping it beside its plan when there is nothing to screen).
        let items: Vec<Item> = listings
            .into_par_iter()
            .zip(plans.par_iter())
            .map(|(l, plan)| match plan {
                Plan::Screen { version, hash } => {
                    let quals = ctx
                        .qualifications
                        .get(&l.shop_id)
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    match self.verdict(&engine, &l, quals, base, self.logos_inline()) {
                        Ok((v, hashes)) => {
                            let decision = self.make_decision(&l, *version, v);
                            Item::Screened(Screened {
                                terms: crate::sweep::screened_terms(&l, &decision, &hashes),
                                decision,
                                listing: l,
                                version: *version,
                                content_hash: hash.clone(),
                            })
                        }
                        Err(e) => Item::Failed(l, e),
                    }
                }
                _ => Item::Unscreened(l),
            })
            .collect();
        Ok(ScreenedBatch { plans, items })
    }

    /// The second half of [`Screening::submit_batch`]: stores a screened
    /// batch in one transaction, hands it to enforcement, and answers in
    /// input order. If another writer stored a version of one of its
    /// listings meanwhile, the batch is submitted again one by one.
    pub fn commit_batch(
        &self,
        p: &Principal,
        batch: ScreenedBatch,
        base: ImageBase<'_>,
    ) -> Result<Vec<Result<Submitted, AppError>>, AppError> {
        let ScreenedBatch { plans, items } = batch;
        // Move the screened items out (no copies): `slots[i]` is the place
        // of item i's screening in `to_store`, or its error; `kept` holds the
        // listings that were not screened.
        let mut to_store: Vec<Screened> = Vec::new();
        let mut slots: Vec<Option<Result<usize, AppError>>> = Vec::with_capacity(items.len());
        let mut kept: Vec<Option<Listing>> = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Item::Screened(s) => {
                    slots.push(Some(Ok(to_store.len())));
                    kept.push(None);
                    to_store.push(s);
                }
                Item::Failed(l, e) => {
                    slots.push(Some(Err(e)));
                    kept.push(Some(l));
                }
                Item::Unscreened(l) => {
                    slots.push(None);
                    kept.push(Some(l));
                }
            }
        }
        match self.catalog.record_screenings(&to_store) {
            Ok(_) => self.review.after_commit(&to_store),
            Err(StoreError::Conflict(_)) => {
                // Another writer touched one of these listings meanwhile:
                // submit them one by one, which re-reads and retries.
                let mut screened = to_store.into_iter().map(|s| s.listing);
                let listings: Vec<Listing> = kept
                    .into_iter()
                    .filter_map(|k| k.or_else(|| screened.next()))
                    .collect();
                return Ok(listings
                    .into_iter()
                    .map(|l| self.submit(p, l, base))
                    .collect());
            }
            Err(e) => return Err(e.into()),
        }
        let mut decisions: Vec<Option<Decision>> =
            to_store.into_iter().map(|s| Some(s.decision)).collect();
        let mut results: Vec<Result<Submitted, AppError>> = Vec::with_capacity(plans.len());
        for (i, (plan, slot)) in plans.into_iter().zip(slots).enumerate() {
            let r = match (plan, slot) {
                (Plan::Done(r), _) => r,
                (Plan::Screen { .. }, Some(Ok(at))) => {
                    match decisions.get_mut(at).and_then(Option::take) {
                        Some(decision) => {
                            self.count(&decision);
                            Ok(Submitted {
                                decision,
                                created: true,
                            })
                        }
                        None => Err(AppError::Conflict(format!("listing {i} was not screened"))),
                    }
                }
                (Plan::Screen { .. }, Some(Err(e))) => Err(e),
                (Plan::Screen { .. }, None) => {
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

    // -------------------------------------------------------------- reads

    /// The latest version of a listing, if the caller may see its shop.
    pub fn listing(&self, p: &Principal, id: &str) -> Result<StoredListing, AppError> {
        match self.catalog.latest_listing(id)? {
            Some(l) if p.can(Permission::ReadListings) && p.sees_shop(&l.listing.shop_id) => Ok(l),
            _ => Err(AppError::not_found("listing", id)),
        }
    }

    pub fn listing_history(&self, p: &Principal, id: &str) -> Result<Vec<StoredListing>, AppError> {
        self.listing(p, id)?;
        Ok(self.catalog.listing_history(id)?)
    }

    pub fn listings_by_shop(
        &self,
        p: &Principal,
        shop_id: &str,
        page: &Page,
    ) -> Result<Vec<StoredListing>, AppError> {
        if !(p.can(Permission::ReadListings) && p.sees_shop(shop_id)) {
            return Err(AppError::not_found("shop", shop_id));
        }
        Ok(self.catalog.listings_by_shop(shop_id, page)?)
    }

    pub fn decision(&self, p: &Principal, decision_id: &str) -> Result<Decision, AppError> {
        let d = self
            .catalog
            .decision(decision_id)?
            .ok_or_else(|| AppError::not_found("decision", decision_id))?;
        // Decisions are visible to whoever sees the listing's shop.
        self.listing(p, &d.id)
            .map_err(|_| AppError::not_found("decision", decision_id))?;
        Ok(d)
    }

    /// Every decision in storage order (admins, reviewers, platform
    /// services); for a rights holder, the latest decisions that name one
    /// of its rights, by listing id (`page.after` is a listing id).
    pub fn decisions(&self, p: &Principal, page: &Page) -> Result<Vec<Decision>, AppError> {
        p.require(Permission::ListDecisions)?;
        if p.role == Role::RightsHolder {
            return self.holder_decisions(p, page);
        }
        Ok(self.catalog.decisions(page)?)
    }

    /// The listings a holder's rights matched, found through the sweep
    /// index's `right:` terms (written with every listing version).
    fn holder_decisions(&self, p: &Principal, page: &Page) -> Result<Vec<Decision>, AppError> {
        let rights: Vec<String> = self
            .registry
            .rights(p, None)?
            .into_iter()
            .map(|r| r.id)
            .collect();
        if rights.is_empty() {
            return Ok(Vec::new());
        }
        let terms: Vec<String> = rights.iter().map(|r| format!("right:{r}")).collect();
        let ids = self.index.listings_with_terms(
            &terms,
            page.after.as_deref(),
            page.limit.clamp(1, 1_000),
        )?;
        Ok(self
            .index
            .latest_decided(&ids)?
            .into_iter()
            .map(|(_, d)| d)
            .filter(|d| {
                d.violations
                    .iter()
                    .any(|v| v.right_id.as_ref().is_some_and(|r| rights.contains(r)))
            })
            .collect())
    }

    pub fn decisions_for_listing(
        &self,
        p: &Principal,
        listing_id: &str,
    ) -> Result<Vec<Decision>, AppError> {
        self.listing(p, listing_id)?;
        Ok(self.catalog.decisions_for_listing(listing_id)?)
    }

    /// Where a listing's latest version stands on the platform.
    pub fn listing_status(&self, p: &Principal, id: &str) -> Result<ListingStatusView, AppError> {
        let stored = self.listing(p, id)?;
        self.review.listing_status(&stored)
    }

    // ------------------------------------------------------ qualifications

    /// Records a shop's qualification (admins and platform services, which
    /// verify the evidence document first).
    pub fn put_qualification(
        &self,
        p: &Principal,
        q: Qualification,
    ) -> Result<Qualification, AppError> {
        p.require(Permission::RecordQualifications)?;
        q.validate()?;
        self.qualifications.put_qualification(&q, self.now())?;
        Ok(q)
    }

    /// A shop's qualifications, for whoever may see the shop.
    pub fn qualifications(
        &self,
        p: &Principal,
        shop_id: &str,
    ) -> Result<Vec<Qualification>, AppError> {
        if !(p.can(Permission::ReadQualifications) && p.sees_shop(shop_id)) {
            return Err(AppError::not_found("shop", shop_id));
        }
        Ok(self.qualifications.qualifications(shop_id)?)
    }
}
