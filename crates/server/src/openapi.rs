use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::enforcement::{self as enf, AppealDecisionBody, CaseDecision, NewAppeal};
use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::{self, CreatedKey, ListingVersion, NewHolder, NewKey};
use shopshield_model::{
    Action, Category, Decision, Evidence, Listing, Money, NewRight, Right, RightKind, RightsHolder,
    Role, Violation, ViolationType,
};

/// The OpenAPI 3 document, generated from the handlers and model types.
#[derive(OpenApi)]
#[openapi(
    info(title = "shopshield", description = "Screens marketplace listings for IP infringement and unsafe goods, with evidence for every decision."),
    paths(
        routes::create_holder, routes::list_holders, routes::get_holder,
        routes::create_right, routes::list_rights, routes::get_right,
        routes::disable_right, routes::enable_right,
        routes::submit_listing, routes::get_listing, routes::listing_history,
        routes::listing_decisions, routes::shop_listings,
        routes::list_decisions, routes::get_decision,
        routes::categories, routes::create_key,
        crate::images::hash, crate::images::match_image, crate::images::hma_lookup,
        crate::policy::reload, crate::policy::packs, crate::policy::put_qualification,
        crate::policy::shop_qualifications,
        enf::list_queues, enf::get_queue, enf::get_case, enf::claim_case,
        enf::release_case, enf::decide_case, enf::shop_record, enf::creator_record,
        enf::listing_status, enf::file_appeal, enf::get_appeal, enf::decide_appeal,
        enf::event_log, enf::outbox, enf::tick,
        crate::content::submit_video, crate::content::get_video, crate::content::video_history,
    ),
    components(schemas(
        Action, Category, Decision, Evidence, Listing, Money, NewRight, Right, RightKind,
        RightsHolder, Role, Violation, ViolationType, ErrorBody, ErrorDetail,
        ListingVersion, NewHolder, NewKey, CreatedKey,
        crate::images::HashRequest, crate::images::HashResponse, crate::images::MatchRequest,
        crate::images::MatchResponse, crate::images::MatchHit, crate::images::LocatedHit, crate::images::HmaMatch,
        crate::policy::ReloadResponse, crate::policy::PackInfo, shopshield_model::Qualification,
        CaseDecision, NewAppeal, AppealDecisionBody,
        shopshield_model::Video, shopshield_model::Segment, crate::content::VideoVersion,
    )),
    modifiers(&SecurityAddon),
)]
pub struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
