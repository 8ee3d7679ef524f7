//! The videos service: short videos screened before they are shown.
//!
//! A video is validated; its media (an MP4 or WebM file, or a vPDQ hash
//! list) is decoded with ffmpeg and hashed; its caption, hashtags and
//! transcript segments (with their times), its frames (with their times)
//! and its frame hashes go through the same engine as listings
//! ([`Engine::screen_content`]); the showcased products' own decisions are
//! read from the catalogue. The video version and its decision are stored
//! before anyone is told, and enforcement gets the decision: a removal
//! records a violation against the creator, and against the shop when a
//! product it showcased infringes.

use shopshield_gate::{ContentInput, ContentKind, Frame, Parties, TextField, Verdict};
use shopshield_intake::{ImageBase, read_video};
use shopshield_model::{
    Action, Decision, Evidence, Permission, Principal, Role, ValidationError, Video, Violation,
};
use shopshield_store::{StoreError, StoredVideo};
use shopshield_vpdq::FrameHash;

use crate::AppError;
use crate::content::ContentDeps;

/// How often a submission is retried when another writer stored a version
/// of the same video first.
const VERSION_RETRIES: usize = 5;

/// The result of submitting a video.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SubmittedVideo {
    pub decision: Decision,
    /// False when an identical earlier submission's decision was returned.
    pub created: bool,
    /// Frames hashed from the media (or read from the hash list).
    pub frames: usize,
}

/// The videos service.
pub struct Videos {
    deps: ContentDeps,
}

/// A video's media, decoded: frame hashes, and the frames checked against
/// the logo and photo banks.
struct Media {
    hashes: Vec<FrameHash>,
    frames: Vec<Frame>,
}

/// The texts of a video, with their fields, labels and times.
fn texts(video: &Video) -> Vec<TextField> {
    let mut out = Vec::new();
    if let Some(c) = &video.caption {
        out.push(TextField {
            field: "caption".into(),
            label: "the caption".into(),
            text: c.clone(),
            time: None,
        });
    }
    if !video.hashtags.is_empty() {
        let tags: Vec<String> = video
            .hashtags
            .iter()
            .map(|h| format!("#{}", h.trim_start_matches('#')))
            .collect();
        out.push(TextField {
            field: "hashtags".into(),
            label: "the hashtags".into(),
            text: tags.join(" "),
            time: None,
        });
    }
    for (i, s) in video.transcript.iter().enumerate() {
        out.push(TextField {
            field: format!("transcript[{i}]"),
            label: "the transcript".into(),
            text: s.text.clone(),
            time: Some([s.start, s.end]),
        });
    }
    out
}

impl Videos {
    pub(crate) fn new(deps: ContentDeps) -> Videos {
        Videos { deps }
    }

    fn check_submitter(p: &Principal, video: &Video) -> Result<(), AppError> {
        p.require(Permission::SubmitContent)?;
        match p.role {
            Role::Seller => match (&video.shop_id, &p.shop_id) {
                (Some(shop), Some(own)) if shop == own => Ok(()),
                _ => Err(ValidationError::new(
                    "shop_id",
                    "sellers submit videos that showcase their own shop only",
                )
                .into()),
            },
            _ => Ok(()),
        }
    }

    /// Decodes (or parses) a video's media, hashing every sampled frame,
    /// and keeps every `frame_check_every`-th frame's pixel views for the
    /// logo and photo banks (only when any image right is registered).
    fn media(&self, video: &Video, base: ImageBase<'_>) -> Result<Media, AppError> {
        let settings = &self.deps.config.video;
        if let Some(text) = &video.vpdq {
            let hashes = crate::video::parse_hash_list("vpdq", text, settings.max_hash_frames)?;
            return Ok(Media {
                hashes,
                frames: Vec::new(),
            });
        }
        let Some(reference) = &video.media else {
            return Ok(Media {
                hashes: Vec::new(),
                frames: Vec::new(),
            });
        };
        let bytes = read_video("media", reference, base)?;
        if crate::video::is_hash_list(&bytes) {
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| ValidationError::new("media", "the hash list is not UTF-8 text"))?;
            let hashes = crate::video::parse_hash_list("media", text, settings.max_hash_frames)?;
            return Ok(Media {
                hashes,
                frames: Vec::new(),
            });
        }
        let (check_images, keypoints) = {
            let banks = self.deps.registry.image_banks();
            (
                !banks.is_empty() && settings.frame_check_every > 0,
                self.deps.config.images.logo_keypoints && banks.wants_local_features(),
            )
        };
        let file = crate::video::spool("media", &bytes)?;
        let (_, reader) = shopshield_media::open_video(file.path(), &settings.media())
            .map_err(|e| crate::video::media_error("media", e))?;
        let mut hasher = shopshield_media::FrameHasher::new();
        let mut out = Media {
            hashes: Vec::new(),
            frames: Vec::new(),
        };
        for (i, frame) in reader.enumerate() {
            let frame = frame.map_err(|e| crate::video::media_error("media", e))?;
            out.hashes.push(
                hasher
                    .hash(&frame)
                    .map_err(|e| crate::video::media_error("media", e))?,
            );
            if check_images && i % settings.frame_check_every == 0 {
                let field = format!("frames[{}]", out.frames.len());
                let signal = crate::images::pixels_signal(
                    &field,
                    &frame.rgb,
                    frame.width as usize,
                    frame.height as usize,
                    self.deps.config.images.logo_tiles,
                    keypoints,
                )?;
                out.frames.push(Frame {
                    signal,
                    time: frame.timestamp,
                });
            }
        }
        Ok(out)
    }

    /// The showcased products that were themselves rejected: each becomes
    /// a violation of the video, and its shop answers for the video too.
    fn showcased(&self, video: &Video) -> Result<(Vec<Violation>, Option<String>), AppError> {
        let mut found = Vec::new();
        let mut liable = None;
        for (i, id) in video.products.iter().enumerate() {
            let Some(stored) = self.deps.catalog.latest_listing(id)? else {
                continue;
            };
            if let Some(shop) = &video.shop_id
                && shop != &stored.listing.shop_id
            {
                return Err(ValidationError::new(
                    format!("products[{i}]"),
                    format!(
                        "listing {id:?} belongs to shop {:?}, not the video's shop {shop:?}",
                        stored.listing.shop_id
                    ),
                )
                .into());
            }
            let decision_id = Decision::decision_id(id, stored.version);
            let Some(d) = self.deps.catalog.decision(&decision_id)? else {
                continue;
            };
            if d.action != Action::Reject {
                continue;
            }
            let Some(top) = d.violations.first() else {
                continue;
            };
            liable.get_or_insert_with(|| stored.listing.shop_id.clone());
            found.push(Violation {
                kind: top.kind,
                right_id: top.right_id.clone(),
                rule_id: top.rule_id.clone(),
                detector: "showcase".into(),
                confidence: top.confidence,
                evidence: Evidence {
                    field: Some(format!("products[{i}]")),
                    why: format!(
                        "The video showcases listing {id} of shop {}, rejected by decision {decision_id}: {}",
                        stored.listing.shop_id, top.evidence.why
                    ),
                    ..Evidence::default()
                },
            });
        }
        Ok((found, liable))
    }

    fn verdict(
        &self,
        video: &Video,
        media: &Media,
        showcased: Vec<Violation>,
    ) -> Result<Verdict, AppError> {
        let texts = texts(video);
        let quals = match &video.shop_id {
            Some(shop) => self.deps.qualifications.qualifications(shop)?,
            None => Vec::new(),
        };
        let id = video.subject_id();
        let engine = self.deps.registry.engine();
        let mut verdict = engine.screen_content(&ContentInput {
            kind: ContentKind::Video,
            id: &id,
            parties: Parties {
                shop: video.shop_id.as_deref(),
                creator: Some(&video.creator_id),
            },
            region: video.region,
            texts: &texts,
            frames: &media.frames,
            video: (!media.hashes.is_empty()).then_some(media.hashes.as_slice()),
            qualifications: &quals,
            now: self.deps.clock.now(),
        });
        let config = engine.config();
        for v in showcased {
            if v.confidence >= config.review {
                verdict.violations.push(v);
            }
        }
        verdict
            .violations
            .sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        verdict.score = verdict
            .violations
            .first()
            .map_or(0.0, |v| v.confidence.clamp(0.0, 1.0));
        verdict.action = config.action(verdict.score);
        Ok(verdict)
    }

    /// Screens a short video and stores it with its decision before
    /// returning. Re-submitting identical content returns the stored
    /// decision; changed content is screened as a new version.
    pub fn submit(
        &self,
        p: &Principal,
        video: Video,
        base: ImageBase<'_>,
    ) -> Result<SubmittedVideo, AppError> {
        Self::check_submitter(p, &video)?;
        video.validate()?;
        self.deps.review.admit_creator(&video.creator_id)?;
        let hash = video.content_hash();
        let subject_id = video.subject_id();
        let mut decoded: Option<Media> = None;
        for _ in 0..VERSION_RETRIES {
            let prior = self.deps.content.latest_video(&video.id)?;
            if let Some(prior) = &prior {
                if prior.video.creator_id != video.creator_id {
                    return Err(AppError::Conflict(format!(
                        "video {:?} belongs to another creator; video ids are unique per platform",
                        video.id
                    )));
                }
                if prior.content_hash == hash {
                    return Ok(SubmittedVideo {
                        decision: prior.decision.clone(),
                        created: false,
                        frames: 0,
                    });
                }
            }
            let version = prior.as_ref().map_or(1, |p| p.version + 1);
            if decoded.is_none() {
                decoded = Some(self.media(&video, base)?);
            }
            let media = decoded
                .as_ref()
                .ok_or_else(|| AppError::Conflict("the video's media was not decoded".into()))?;
            let (showcased, liable_shop) = self.showcased(&video)?;
            let verdict = self.verdict(&video, media, showcased)?;
            let decision = Decision {
                id: subject_id.clone(),
                decision_id: Decision::decision_id(&subject_id, version),
                listing_version: version,
                action: verdict.action,
                score: verdict.score,
                violations: verdict.violations,
                registry_version: verdict.registry_version,
                policy_versions: verdict.versions,
                decided_at: self.deps.clock.now(),
                source: shopshield_model::DecisionSource::Screen,
                cause: None,
            };
            let stored = StoredVideo {
                video: video.clone(),
                version,
                content_hash: hash.clone(),
                decision: decision.clone(),
                submitted_at: decision.decided_at,
            };
            match self.deps.content.record_video(&stored) {
                Ok(()) => {
                    self.enforce(&video, &decision, liable_shop.as_deref());
                    return Ok(SubmittedVideo {
                        decision,
                        created: true,
                        frames: media.hashes.len(),
                    });
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict(format!(
            "video {:?} is being changed concurrently; try again",
            video.id
        )))
    }

    /// Hands a stored decision to enforcement. A failure loses nothing
    /// that matters to the caller: the decision is stored.
    fn enforce(&self, video: &Video, decision: &Decision, liable_shop: Option<&str>) {
        if decision.action == Action::Approve {
            return;
        }
        let subject = match shopshield_enforce::Subject::of_content(
            ContentKind::Video.as_str(),
            &decision.id,
            &video.creator_id,
            liable_shop,
            video.region,
            decision,
        ) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(decision = %decision.decision_id, error = %e, "video decision not enforceable");
                return;
            }
        };
        if let Err(e) = self.deps.review.ingest_subjects(&[(subject, decision)]) {
            tracing::error!(decision = %decision.decision_id, error = %e, "video decision stored but not enforced");
        }
    }

    /// The latest version of a video with its decision.
    pub fn video(&self, p: &Principal, id: &str) -> Result<StoredVideo, AppError> {
        match self.deps.content.latest_video(id)? {
            Some(v) if Self::sees(p, &v.video) => Ok(v),
            _ => Err(AppError::not_found("video", id)),
        }
    }

    /// Every version of a video, oldest first.
    pub fn video_history(&self, p: &Principal, id: &str) -> Result<Vec<StoredVideo>, AppError> {
        self.video(p, id)?;
        Ok(self.deps.content.video_history(id)?)
    }

    fn sees(p: &Principal, v: &Video) -> bool {
        p.can(Permission::ReadListings)
            && match p.role {
                Role::Seller => v.shop_id.as_deref().is_some_and(|s| p.sees_shop(s)),
                _ => true,
            }
    }
}
