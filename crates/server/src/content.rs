//! Content beyond listings: short videos (`/v1/videos`). Each handler is
//! one service call.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::Serialize;
use shopshield_intake::ImageBase;
use shopshield_model::{Decision, Video};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::body;

type ApiResult<T> = Result<T, ApiError>;

/// A stored version of a video with its decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct VideoVersion {
    pub video: Video,
    pub version: u32,
    pub content_hash: String,
    pub decision: Decision,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
}

impl From<shopshield_store::StoredVideo> for VideoVersion {
    fn from(s: shopshield_store::StoredVideo) -> Self {
        VideoVersion {
            video: s.video,
            version: s.version,
            content_hash: s.content_hash,
            decision: s.decision,
            submitted_at: s.submitted_at,
        }
    }
}

#[utoipa::path(post, path = "/v1/videos", tag = "content", request_body = Video,
    description = "Screens a short video (caption, hashtags, transcript segments with times, showcased products, and its media: a data: URL of an MP4 or WebM file, or its vPDQ hash list) and answers the decision once it is stored. The same content again answers the stored decision (200); changed content is a new version (201). Evidence points at times (`time`, `reference_time`).",
    responses((status = 201, body = Decision), (status = 200, body = Decision), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn submit_video(
    c: Caller,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Decision>)> {
    let video: Video = body(b)?;
    if let Some(m) = &video.media
        && !m.starts_with("data:")
    {
        return Err(ApiError::from(shopshield_intake::IntakeError::Image {
            field: "media".into(),
            reason: "over HTTP, media is a data: URL".into(),
        }));
    }
    let s = c
        .run(move |a, p| a.videos().submit(p, video, ImageBase::DataOnly))
        .await?;
    let status = if s.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(s.decision)))
}

#[utoipa::path(get, path = "/v1/videos/{id}", tag = "content",
    responses((status = 200, body = VideoVersion), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub async fn get_video(c: Caller, Path(id): Path<String>) -> ApiResult<Json<VideoVersion>> {
    let v = c.run(move |a, p| a.videos().video(p, &id)).await?;
    Ok(Json(v.into()))
}

#[utoipa::path(get, path = "/v1/videos/{id}/history", tag = "content",
    responses((status = 200, body = Vec<VideoVersion>), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub async fn video_history(
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<VideoVersion>>> {
    let v = c.run(move |a, p| a.videos().video_history(p, &id)).await?;
    Ok(Json(v.into_iter().map(Into::into).collect()))
}
