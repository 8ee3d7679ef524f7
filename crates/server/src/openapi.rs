use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::enforcement::{AppealDecisionBody, CaseDecision, NewAppeal};
use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::{CreatedKey, ListingVersion, NewHolder, NewKey};
use shopshield_model::{
    Action, Category, Decision, Evidence, Listing, Money, NewRight, Right, RightKind, RightsHolder,
    Role, Violation, ViolationType,
};

/// The OpenAPI 3 document, generated from the handlers and model types.
#[derive(OpenApi)]
#[openapi(
    info(title = "shopshield", description = "Screens marketplace listings for IP infringement and unsafe goods, with evidence for every decision."),
    components(schemas(
        Action, Category, Decision, Evidence, Listing, Money, NewRight, Right, RightKind,
        RightsHolder, Role, Violation, ViolationType, ErrorBody, ErrorDetail,
        ListingVersion, NewHolder, NewKey, CreatedKey,
        crate::images::HashRequest, crate::images::HashResponse, crate::images::MatchRequest,
        crate::images::MatchResponse, crate::images::MatchHit, crate::images::LocatedHit, crate::images::HmaMatch,
        crate::policy::ReloadResponse, crate::policy::PackInfo, shopshield_model::Qualification,
        CaseDecision, NewAppeal, AppealDecisionBody,
        shopshield_app::report::TransparencyReport, shopshield_app::report::Totals, shopshield_app::report::Row,
        shopshield_app::report::AfterListing, shopshield_app::report::Sources, shopshield_app::report::Period,
        crate::sweeps::RunSweeps, crate::reports::ReportFormat,
        shopshield_model::DecisionSource, shopshield_model::Cause,
        shopshield_model::Video, shopshield_model::Segment, crate::content::VideoVersion,
        shopshield_model::NewStream, shopshield_model::StreamEvent, shopshield_model::StreamAction,
        shopshield_model::StreamActionKind, shopshield_app::StreamView, shopshield_app::StreamStatus,
        shopshield_model::NewNotice, shopshield_model::NoticeItem, shopshield_model::NoticeItemKind,
        shopshield_model::Complainant, shopshield_model::NoticeStatements, shopshield_model::CounterNotice,
        shopshield_model::CounterStatements, shopshield_model::CourtAction, shopshield_model::NoticeItemState,
        shopshield_app::NoticeReceipt, shopshield_app::ReceiptItem, shopshield_app::ReporterStanding,
        shopshield_app::ReporterRecord, shopshield_app::Standing, shopshield_app::QueueEntry,
        shopshield_app::RightSummary, shopshield_app::DetectorView, shopshield_app::ShopNoticeCount,
        shopshield_app::ItemDecisionInput, shopshield_app::ItemOutcome,
        shopshield_store::NoticeRecord, shopshield_store::NoticeItemRecord, shopshield_store::StoredNotice,
        shopshield_store::ItemReview, shopshield_store::FiledCounterNotice, shopshield_store::RecordedCourtAction,
        shopshield_model::NewAuthorization, shopshield_model::Authorization, shopshield_model::AuthorizationState,
        shopshield_model::AuthorizationDecision, shopshield_model::Relationship,
        shopshield_app::DecisionInput, shopshield_app::AuthorizationOutcome, shopshield_app::Decided,
        shopshield_store::SweepCounts,
        shopshield_model::Registration, shopshield_model::RightReview, shopshield_model::RightReviewState,
        shopshield_model::RightConflict, shopshield_model::RightReviewInput, shopshield_model::RightReviewOutcome,
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

/// The OpenAPI document: the operations of every route in
/// [`crate::api`], with the error answers every operation can give added
/// where they apply (401 and 403 for operations that need a key, 404 for
/// those with a path parameter, 422 for those that take a body or query
/// parameters).
pub fn document() -> utoipa::openapi::OpenApi {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let (_, mut doc) = crate::api().split_for_parts();
        add_error_answers(&mut doc);
        doc
    })
    .clone()
}

fn add_error_answers(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let answer = |why: &str| {
        ResponseBuilder::new()
            .description(why)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let takes_input = op.request_body.is_some()
                || op.parameters.as_ref().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| matches!(p.parameter_in, ParameterIn::Query))
                });
            let mut add = |code: &str, why: &str| {
                op.responses
                    .responses
                    .entry(code.to_string())
                    .or_insert_with(|| answer(why).into());
            };
            if secured {
                add("401", "No API key, or not a valid one");
                add("403", "The key's role may not do this");
            }
            if path.contains('{') {
                add("404", "Nothing by that id within the caller's scope");
            }
            if takes_input {
                add("422", "A field is wrong; `field` names it");
            }
        }
    }
}
