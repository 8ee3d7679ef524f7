//! Livestreams (`/v1/streams`): a session is opened, then its events come
//! over a WebSocket or one by one over HTTP, and each is answered with the
//! action the engine takes. Each handler is one service call.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::Response;
use shopshield_app::StreamView;
use shopshield_intake::{ImageBase, parse_json, read_image};
use shopshield_model::{NewStream, Permission, StreamAction, StreamActionKind, StreamEvent};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::routes::body;

type ApiResult<T> = Result<T, ApiError>;

#[utoipa::path(post, path = "/v1/streams", tag = "streams", request_body = NewStream,
    description = "Opens a livestream session for its host (a creator), shop and region (admin, service, seller for its own shop). A suspended or revoked creator is refused (403); a stream id is used once (409).",
    responses((status = 201, body = StreamView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn open_stream(
    c: Caller,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<StreamView>)> {
    let new: NewStream = body(b)?;
    let v = c.run(move |a, p| a.streams().open(p, new)).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

#[utoipa::path(get, path = "/v1/streams/{id}", tag = "streams",
    description = "The stream session as stored: live or stopped, its warnings, and the stop decision with its evidence.",
    responses((status = 200, body = StreamView), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub async fn get_stream(c: Caller, Path(id): Path<String>) -> ApiResult<Json<StreamView>> {
    c.json(move |a, p| a.streams().stream(p, &id)).await
}

fn check_media(event: &StreamEvent) -> Result<(), ApiError> {
    if let StreamEvent::Frame { image: Some(i), .. } = event
        && !i.starts_with("data:")
    {
        return Err(ApiError::from(shopshield_intake::IntakeError::Image {
            field: "image".into(),
            reason: "over HTTP, a frame's image is a data: URL".into(),
        }));
    }
    Ok(())
}

async fn score(c: &Caller, id: String, event: StreamEvent) -> Result<StreamAction, ApiError> {
    check_media(&event)?;
    // A frame's image counts against the principal's pixel budget before
    // anything decodes it, as every other image does.
    if let StreamEvent::Frame { image: Some(i), .. } = &event {
        let bytes = read_image("image", i, ImageBase::DataOnly).map_err(ApiError::from)?;
        c.charge_pixels(Permission::SubmitContent, &[("image".into(), &bytes)])?;
    }
    let (app, principal) = (c.app.clone(), c.principal.clone());
    tokio::task::spawn_blocking(move || {
        app.streams()
            .event(&principal, &id, event, ImageBase::DataOnly)
    })
    .await
    .map_err(|e| ApiError::internal(format!("task failed: {e}")))?
    .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/v1/streams/{id}/events", tag = "streams", request_body = StreamEvent,
    description = "Scores one event of a live stream (a transcript segment, a frame as a data: URL image or a PDQ hash, a pinned product) and answers the action: continue, warn (with the reason), unpin (the product), or stop (with the decision). A stopped stream answers 409; too many of one stream's events in flight answer 429.",
    responses((status = 200, body = StreamAction), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn stream_event(
    c: Caller,
    Path(id): Path<String>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<StreamAction>> {
    let event: StreamEvent = body(b)?;
    Ok(Json(score(&c, id, event).await?))
}

#[utoipa::path(get, path = "/v1/streams/{id}/ws", tag = "streams",
    description = "Upgrades to a WebSocket for a live stream's events. Each text message is one event (as for POST /v1/streams/{id}/events) and is answered, in order, by one message: the action, or an error body. After a stop the socket is closed; connecting to a stopped stream answers 409.",
    responses((status = 101, body = StreamAction, description = "Switching to the WebSocket protocol; each message answered is a StreamAction (or an ErrorBody)"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn stream_ws(
    c: Caller,
    Path(id): Path<String>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    let caller = c.clone();
    let checked = id.clone();
    c.run(move |a, p| a.streams().attach(p, &checked)).await?;
    Ok(ws.on_upgrade(move |socket| websocket(caller, id, socket)))
}

fn error_json(e: ApiError) -> String {
    let body = ErrorBody {
        error: ErrorDetail {
            code: e.code,
            message: e.message,
            field: e.field,
        },
    };
    serde_json::to_string(&body)
        .unwrap_or_else(|_| r#"{"error":{"code":"internal","message":"unencodable error"}}"#.into())
}

/// One stream's events, answered one at a time in order: a client that
/// sends faster than it is answered is held back by the socket itself.
async fn websocket(caller: Caller, id: String, mut socket: WebSocket) {
    while let Some(msg) = socket.recv().await {
        let text = match msg {
            Ok(Message::Text(t)) => t,
            Ok(Message::Binary(_)) => {
                let e = ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    "send each event as a JSON text message",
                );
                if socket
                    .send(Message::Text(error_json(e).into()))
                    .await
                    .is_err()
                {
                    return;
                }
                continue;
            }
            Ok(Message::Close(_)) | Err(_) => return,
            Ok(_) => continue,
        };
        let answer = match parse_json::<StreamEvent>(text.as_bytes()) {
            Ok(event) => score(&caller, id.clone(), event).await,
            Err(e) => Err(ApiError::from(e)),
        };
        let (json, end) = match answer {
            Ok(a) => (
                serde_json::to_string(&a).unwrap_or_default(),
                a.action == StreamActionKind::Stop,
            ),
            Err(e) => {
                let gone = e.status == StatusCode::CONFLICT;
                (error_json(e), gone)
            }
        };
        if socket.send(Message::Text(json.into())).await.is_err() {
            return;
        }
        if end {
            let _ = socket
                .send(Message::Close(Some(CloseFrame {
                    code: 1000,
                    reason: "stream stopped".into(),
                })))
                .await;
            return;
        }
    }
}
