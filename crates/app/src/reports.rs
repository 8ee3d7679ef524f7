//! The reports service: transparency reports and DSA statements of
//! reasons, folded (by `shopshield-report`) from the enforcement log and
//! the stored `review` and `reject` decisions. Admins only
//! ([`Permission::ReadReports`]).

use std::sync::Arc;

use shopshield_model::{Decision, Permission, Principal, Region, ValidationError};
use shopshield_report::sor::Statement;
use shopshield_report::{
    CONTENT_LISTING, CONTENT_LIVESTREAM, CONTENT_VIDEO, DecisionFact, Input, NoticeFact, Period,
    SOURCE_LIVE, SOURCE_SCREENING, TransparencyReport,
};
use shopshield_store::{CatalogStore, ContentStore};

use crate::{AppError, Review, StreamView};

/// Decisions read per page.
const PAGE: usize = 2_000;

/// What a report covers: whole UTC days `from` to `to` (`YYYY-MM-DD`,
/// both included), and optionally one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    pub from: String,
    pub to: String,
    pub region: Option<String>,
}

impl ReportQuery {
    fn parse(&self) -> Result<(Period, Option<Region>), ValidationError> {
        let period = Period::days(&self.from, &self.to)?;
        let region = match &self.region {
            None => None,
            Some(r) => {
                let g = Region::parse("region", r)?;
                if g.is_all() { None } else { Some(g) }
            }
        };
        Ok((period, region))
    }
}

/// Where a decision came from: its `source` field when it has one (later
/// detection and notices name themselves), else screening at submission.
pub fn decision_source(d: &Decision) -> String {
    serde_json::to_value(d)
        .ok()
        .and_then(|v| v.get("source").and_then(|s| s.as_str()).map(str::to_string))
        .unwrap_or_else(|| SOURCE_SCREENING.to_string())
}

/// The reports service.
pub struct Reports {
    catalog: Arc<dyn CatalogStore>,
    content: Arc<dyn ContentStore>,
    review: Arc<Review>,
    notices: Arc<crate::Notices>,
}

/// The log, the decisions and the notices a report is folded from.
pub struct ReportData {
    pub events: Vec<shopshield_enforce::Event>,
    pub decisions: Vec<DecisionFact>,
    pub notices: Vec<NoticeFact>,
    pub reporter_restrictions: Vec<chrono::DateTime<chrono::Utc>>,
}

impl ReportData {
    pub fn input(&self) -> Input<'_> {
        Input {
            events: &self.events,
            decisions: &self.decisions,
            notices: &self.notices,
            reporter_restrictions: &self.reporter_restrictions,
        }
    }
}

impl Reports {
    pub(crate) fn new(
        catalog: Arc<dyn CatalogStore>,
        content: Arc<dyn ContentStore>,
        review: Arc<Review>,
        notices: Arc<crate::Notices>,
    ) -> Reports {
        Reports {
            catalog,
            content,
            review,
            notices,
        }
    }

    /// Reads what a report is folded from: the whole log; every stored
    /// `review` and `reject` decision with its listing or video version;
    /// the stop decision of every stopped livestream; and every rights
    /// holder's notice (received, accepted, counter-noticed).
    pub fn data(&self, p: &Principal) -> Result<ReportData, AppError> {
        p.require(Permission::ReadReports)?;
        let events = self.review.all_events()?;
        let mut decisions = Vec::new();
        let mut after = 0;
        loop {
            let items = self.catalog.enforcement_backlog(after, PAGE)?;
            for it in &items {
                decisions.push(DecisionFact {
                    source: decision_source(&it.decision),
                    decision: it.decision.clone(),
                    listing_id: it.listing.id.clone(),
                    shop_id: it.listing.shop_id.clone(),
                    creator_id: it.listing.creator_id.clone(),
                    region: it.listing.region,
                    category: it.listing.category.clone(),
                    content_type: CONTENT_LISTING.to_string(),
                    title: it.listing.title.clone(),
                });
            }
            match items.last() {
                Some(it) if items.len() == PAGE => after = it.position,
                _ => break,
            }
        }
        self.video_facts(&mut decisions)?;
        self.stream_facts(&mut decisions)?;
        Ok(ReportData {
            events,
            decisions,
            notices: self.notices.report_facts()?,
            reporter_restrictions: self.notices.restriction_facts()?,
        })
    }

    /// Every stored video version decided `review` or `reject`, screened
    /// before it was shown.
    fn video_facts(&self, out: &mut Vec<DecisionFact>) -> Result<(), AppError> {
        let mut after: Option<(String, u32)> = None;
        loop {
            let page = self
                .content
                .video_versions_after(after.as_ref().map(|(id, v)| (id.as_str(), *v)), PAGE)?;
            for v in &page {
                if v.decision.action == shopshield_model::Action::Approve {
                    continue;
                }
                out.push(DecisionFact {
                    source: decision_source(&v.decision),
                    decision: v.decision.clone(),
                    listing_id: v.decision.id.clone(),
                    shop_id: v.video.shop_id.clone().unwrap_or_default(),
                    creator_id: Some(v.video.creator_id.clone()),
                    region: v.video.region,
                    category: CONTENT_VIDEO.to_string(),
                    content_type: CONTENT_VIDEO.to_string(),
                    title: v.video.caption.clone().unwrap_or_default(),
                });
            }
            match page.last() {
                Some(v) if page.len() == PAGE => after = Some((v.video.id.clone(), v.version)),
                _ => return Ok(()),
            }
        }
    }

    /// The stop decision of every stopped livestream, taken while it was
    /// live.
    fn stream_facts(&self, out: &mut Vec<DecisionFact>) -> Result<(), AppError> {
        let mut after: Option<String> = None;
        loop {
            let page = self.content.stopped_streams_after(after.as_deref(), PAGE)?;
            for s in &page {
                let view: StreamView = serde_json::from_value(s.doc.clone()).map_err(|e| {
                    AppError::Integrity(format!(
                        "stream {:?}: stored document unreadable: {e}",
                        s.id
                    ))
                })?;
                let Some(decision) = view.decision else {
                    continue;
                };
                out.push(DecisionFact {
                    source: SOURCE_LIVE.to_string(),
                    listing_id: decision.id.clone(),
                    decision,
                    shop_id: view.stream.shop_id.clone().unwrap_or_default(),
                    creator_id: Some(view.stream.creator_id.clone()),
                    region: view.stream.region,
                    category: CONTENT_LIVESTREAM.to_string(),
                    content_type: CONTENT_LIVESTREAM.to_string(),
                    title: view.stream.title.clone().unwrap_or_default(),
                });
            }
            match page.last() {
                Some(s) if page.len() == PAGE => after = Some(s.id.clone()),
                _ => return Ok(()),
            }
        }
    }

    /// The transparency report for a period (and region).
    pub fn transparency(
        &self,
        p: &Principal,
        q: &ReportQuery,
    ) -> Result<TransparencyReport, AppError> {
        p.require(Permission::ReadReports)?;
        let (period, region) = q.parse()?;
        let data = self.data(p)?;
        Ok(TransparencyReport::build(&data.input(), period, region))
    }

    /// Statements of reasons for the restrictions decided in the EU/EEA in
    /// a period (the query's region is ignored: the EU/EEA is the scope).
    pub fn statements(&self, p: &Principal, q: &ReportQuery) -> Result<Vec<Statement>, AppError> {
        p.require(Permission::ReadReports)?;
        let (period, _) = q.parse()?;
        let data = self.data(p)?;
        Ok(shopshield_report::sor::statements(&data.input(), &period))
    }
}
