//! Transparency reports over HTTP (admins).

use crate::extract::Query;
use axum::Json;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shopshield_app::ReportQuery;
use shopshield_app::report::{TransparencyReport, render};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

/// A report's format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    #[default]
    Json,
    Md,
    Html,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReportParams {
    /// First day, `YYYY-MM-DD` (UTC).
    pub from: String,
    /// Last day, `YYYY-MM-DD` (UTC), included.
    pub to: String,
    /// Only this region (ISO 3166-1 alpha-2).
    pub region: Option<String>,
    /// `json` (default), `md` or `html` (one page with inline SVG charts).
    pub format: Option<ReportFormat>,
}

#[utoipa::path(get, path = "/v1/reports/transparency", tag = "reports", params(ReportParams),
    description = "The transparency report for whole UTC days `from` to `to`: restrictions before and after listing, restricted and prohibited removals, videos and livestreams, revoked creators and deactivated shops, notices, appeals and the share overturned, median time to action, the proactive share; broken down by region, category, content type and kind of right or rule. Admins.",
    responses(
        (status = 200, description = "the report", content(
            (TransparencyReport = "application/json"),
            (String = "text/markdown"),
            (String = "text/html"))),
        (status = 400, description = "the query string is not valid (a parameter is missing or malformed; `field` names it)", body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn transparency(c: Caller, Query(q): Query<ReportParams>) -> Result<Response, ApiError> {
    let format = q.format.unwrap_or_default();
    let query = ReportQuery {
        from: q.from,
        to: q.to,
        region: q.region,
    };
    let r = c
        .run(move |a, p| a.reports().transparency(p, &query))
        .await?;
    Ok(match format {
        ReportFormat::Json => Json(r).into_response(),
        ReportFormat::Md => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            render::markdown(&r),
        )
            .into_response(),
        ReportFormat::Html => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            render::html(&r),
        )
            .into_response(),
    })
}
