//! The web console under `/console`: pages rendered on the server, plain
//! HTML forms, no JavaScript.
//!
//! Sign-in exchanges an API key for a session: a random id in a cookie
//! (`HttpOnly`, `SameSite=Strict`, path `/console`) naming a session kept
//! in this process's memory (8 hours; a restart signs everyone out). Every
//! form carries the session's CSRF token and every POST checks it (the
//! sign-in form uses a double-submit cookie, since there is no session
//! yet); a POST without it is refused with 403. Every page is one or a few
//! service calls as the signed-in principal, so the console sees exactly
//! what the API key would.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde::Deserialize;
use shopshield_app::enforce::{Party, Severity, Verdict};
use shopshield_app::report::render::{self, escape};
use shopshield_app::{
    App, AppError, ItemDecisionInput, ItemOutcome, Principal, ReportQuery, parse_queue,
};
use shopshield_model::{Decision, Listing, Permission, Role, ViolationType};

/// How long a console session lasts.
const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
const SESSION_COOKIE: &str = "ss_session";
const PRE_COOKIE: &str = "ss_signin";

struct Session {
    principal: Principal,
    csrf: String,
    expires: Instant,
}

/// The console's state: the application and the sessions.
pub struct Console {
    app: Arc<App>,
    sessions: Mutex<HashMap<String, Session>>,
}

fn token() -> String {
    shopshield_app::generate_key()
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(name: &str, value: &str, max_age: u64) -> (header::HeaderName, HeaderValue) {
    let v = format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}");
    (
        header::SET_COOKIE,
        HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("")),
    )
}

/// Constant-time comparison of two tokens.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The signed-in caller of a request.
#[derive(Clone)]
struct Signed {
    principal: Principal,
    csrf: String,
}

/// Sessions kept at once; a sign-in beyond them ends the oldest.
const MAX_SESSIONS: usize = 10_000;

impl Console {
    /// The console of `app`, with no sessions yet.
    pub fn new(app: Arc<App>) -> Console {
        Console {
            app,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// The principal signed in by a request's session cookie, if any (for
    /// the rate limits, which treat a session like its key).
    pub(crate) fn session_principal(&self, headers: &HeaderMap) -> Option<Principal> {
        self.session(headers).map(|s| s.principal)
    }

    fn session(&self, headers: &HeaderMap) -> Option<Signed> {
        let id = cookie(headers, SESSION_COOKIE)?;
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        sessions.get(&id).map(|s| Signed {
            principal: s.principal.clone(),
            csrf: s.csrf.clone(),
        })
    }

    /// Runs a service call as the signed-in principal.
    async fn run<T: Send + 'static>(
        &self,
        p: &Principal,
        f: impl FnOnce(&App, &Principal) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, Page> {
        let (app, p) = (self.app.clone(), p.clone());
        tokio::task::spawn_blocking(move || f(&app, &p))
            .await
            .map_err(|e| Page::error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()))?
            .map_err(Page::from_app)
    }
}

/// An answer: a page, or a redirect.
struct Page(Box<Response>);

impl Page {
    fn error(status: StatusCode, message: &str) -> Page {
        let body = format!(
            "<h1>{}</h1><p role=\"alert\">{}</p><p><a href=\"/console\">Back to the console</a></p>",
            status.canonical_reason().unwrap_or("Error"),
            escape(message)
        );
        Page(Box::new(
            (status, html_page("Error", None, &body)).into_response(),
        ))
    }

    fn from_app(e: AppError) -> Page {
        let status = match &e {
            AppError::Invalid(_) | AppError::Intake(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Busy(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Store(_) | AppError::Integrity(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Page::error(status, &e.to_string())
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        *self.0
    }
}

type PageResult = Result<Page, Page>;

fn ok(title: &str, who: &Signed, body: &str) -> PageResult {
    Ok(Page(Box::new(
        html_page(title, Some(who), body).into_response(),
    )))
}

fn see_other(to: &str) -> Page {
    Page(Box::new(Redirect::to(to).into_response()))
}

const CONSOLE_STYLE: &str = "a{color:#0b4f8a}a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #d35400;outline-offset:2px}\
nav ul{list-style:none;padding:0;display:flex;gap:1rem;flex-wrap:wrap;align-items:center}\
button{background:#1f4e79;color:#fff;border:0;padding:.45rem .9rem;border-radius:3px;font-size:1rem;cursor:pointer}\
label{display:block;margin:.5rem 0 .2rem;font-weight:600}input,select,textarea{font-size:1rem;padding:.3rem}\
mark{background:#ffe066;color:#000;padding:0 .1rem;border-bottom:2px solid #b8860b}\
.overdue{color:#a00000;font-weight:700}.imgs{display:flex;gap:1.5rem;flex-wrap:wrap}.imgs figure{border:1px solid #999;padding:.5rem}\
.imgs img,.imgs svg{max-width:280px;max-height:280px}.logo-box{fill:none;stroke:#d00000;stroke-width:3px}.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.3rem}\
form.inline{display:inline}.field{white-space:pre-wrap;border:1px solid #ccc;padding:.4rem;margin:.2rem 0}";

fn nav(who: &Signed) -> String {
    let p = &who.principal;
    let mut links = Vec::new();
    if p.can(Permission::WorkCases) {
        links.push(("/console/queues", "Review queues"));
    }
    if p.can(Permission::DecideAppeals) {
        links.push(("/console/appeals", "Appeals"));
    }
    if p.role == Role::Seller {
        links.push(("/console/seller", "Seller centre"));
    }
    if p.role == Role::RightsHolder {
        links.push(("/console/rights", "My rights"));
    }
    if p.can(Permission::ReviewNotices) || p.role == Role::RightsHolder {
        links.push(("/console/notices", "Notices"));
    }
    if p.can(Permission::ReadReports) {
        links.push(("/console/report", "Transparency report"));
    }
    let mut s = String::from("<nav aria-label=\"Console\"><ul>");
    for (href, text) in links {
        let _ = write!(s, "<li><a href=\"{href}\">{text}</a></li>");
    }
    let _ = write!(
        s,
        "<li>Signed in as <strong>{}</strong> ({})</li><li><form class=\"inline\" method=\"post\" action=\"/console/sign-out\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">Sign out</button></form></li></ul></nav>",
        escape(&p.id),
        p.role.as_str(),
        escape(&who.csrf)
    );
    s
}

fn html_page(title: &str, who: Option<&Signed>, body: &str) -> impl IntoResponse {
    let nav = who.map(nav).unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t} · shopshield</title><style>{}{CONSOLE_STYLE}</style></head><body><a class=\"skip\" href=\"#main\">Skip to content</a><header>{nav}</header><main id=\"main\"><h1>{t}</h1>{body}</main></body></html>",
        render::STYLE,
        t = escape(title),
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
}

fn csrf_field(who: &Signed) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(&who.csrf)
    )
}

/// The HTML error page of the console, for answers the guards make
/// (rate limits, deadlines, extractors' rejections) on console paths.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    Page::error(status, message).into_response()
}

/// The console's routes, served under `/console`.
pub fn router(console: Arc<Console>) -> Router<Arc<App>> {
    Router::new()
        .route("/", get(home))
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/queues", get(queues))
        .route("/queues/{type}/{region}", get(queue))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/{action}", post(case_action))
        .route("/appeals", get(appeals))
        .route("/appeals/{id}/decide", post(decide_appeal))
        .route("/seller", get(seller))
        .route("/violations/{id}/appeal", post(file_appeal))
        .route("/rights", get(rights))
        .route("/rights/{right}/notices", post(file_notice))
        .route("/notices", get(notices_page))
        .route(
            "/notices/{notice}/items/{item}/decide",
            post(decide_notice_item),
        )
        .route("/report", get(report))
        .with_state(console)
}

type C = State<Arc<Console>>;

/// The signed-in caller, or a redirect to the sign-in page.
fn signed(c: &Console, h: &HeaderMap) -> Result<Signed, Page> {
    c.session(h).ok_or_else(|| see_other("/console/sign-in"))
}

/// The signed-in caller of a form post whose CSRF token matches.
fn checked(c: &Console, h: &HeaderMap, csrf: Option<&str>) -> Result<Signed, Page> {
    let who = c.session(h).ok_or_else(|| {
        Page::error(
            StatusCode::FORBIDDEN,
            "you are not signed in; sign in and try again",
        )
    })?;
    match csrf {
        Some(t) if same(t, &who.csrf) => Ok(who),
        _ => Err(Page::error(
            StatusCode::FORBIDDEN,
            "this form was not sent from the console (missing or wrong CSRF token); nothing was changed",
        )),
    }
}

fn home_of(p: &Principal) -> &'static str {
    if p.can(Permission::ReadReports) {
        "/console/report"
    } else if p.can(Permission::WorkCases) {
        "/console/queues"
    } else if p.role == Role::Seller {
        "/console/seller"
    } else if p.role == Role::RightsHolder {
        "/console/rights"
    } else {
        "/console/nothing"
    }
}

async fn home(State(c): C, h: HeaderMap) -> PageResult {
    let who = signed(&c, &h)?;
    Ok(see_other(home_of(&who.principal)))
}

fn sign_in_form(token: &str, error: Option<&str>) -> String {
    format!(
        "{}<form method=\"post\" action=\"/console/sign-in\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><label for=\"key\">API key</label><input id=\"key\" name=\"key\" type=\"password\" autocomplete=\"off\" required size=\"50\"><p><button type=\"submit\">Sign in</button></p></form><p>Your key is exchanged for a session; it is not kept in the browser.</p>",
        error
            .map(|e| format!("<p role=\"alert\" class=\"overdue\">{}</p>", escape(e)))
            .unwrap_or_default(),
        escape(token)
    )
}

async fn sign_in_page() -> Response {
    let t = token();
    let mut r = html_page("Sign in", None, &sign_in_form(&t, None)).into_response();
    let (k, v) = set_cookie(PRE_COOKIE, &t, 3600);
    r.headers_mut().append(k, v);
    r
}

#[derive(Deserialize)]
struct SignInForm {
    key: Option<String>,
    csrf: Option<String>,
}

async fn sign_in(State(c): C, h: HeaderMap, Form(f): Form<SignInForm>) -> PageResult {
    let pre = cookie(&h, PRE_COOKIE);
    match (&pre, &f.csrf) {
        (Some(a), Some(b)) if same(a, b) => {}
        _ => {
            return Err(Page::error(
                StatusCode::FORBIDDEN,
                "this form was not sent from the console (missing or wrong CSRF token)",
            ));
        }
    }
    let key = f.key.unwrap_or_default();
    let key = key.trim().to_string();
    let app = c.app.clone();
    let principal = if key.is_empty() || key.len() > 200 {
        None
    } else {
        tokio::task::spawn_blocking(move || app.keys().authenticate(&key))
            .await
            .map_err(|e| Page::error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()))?
            .map_err(Page::from_app)?
    };
    let Some(principal) = principal else {
        let t = token();
        let mut r = (
            StatusCode::UNAUTHORIZED,
            html_page(
                "Sign in",
                None,
                &sign_in_form(&t, Some("That API key is not valid.")),
            ),
        )
            .into_response();
        let (k, v) = set_cookie(PRE_COOKIE, &t, 3600);
        r.headers_mut().append(k, v);
        return Ok(Page(Box::new(r)));
    };
    let id = token();
    let home = home_of(&principal);
    {
        let mut sessions = c.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        while sessions.len() >= MAX_SESSIONS {
            // The session that expires first is the oldest.
            let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            sessions.remove(&oldest);
        }
        sessions.insert(
            id.clone(),
            Session {
                principal,
                csrf: token(),
                expires: now + SESSION_TTL,
            },
        );
    }
    let mut r = Redirect::to(home).into_response();
    let (k, v) = set_cookie(SESSION_COOKIE, &id, SESSION_TTL.as_secs());
    r.headers_mut().append(k, v);
    let (k, v) = set_cookie(PRE_COOKIE, "", 0);
    r.headers_mut().append(k, v);
    Ok(Page(Box::new(r)))
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: Option<String>,
}

async fn sign_out(State(c): C, h: HeaderMap, Form(f): Form<CsrfOnly>) -> PageResult {
    checked(&c, &h, f.csrf.as_deref())?;
    if let Some(id) = cookie(&h, SESSION_COOKIE) {
        c.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }
    let mut r = Redirect::to("/console/sign-in").into_response();
    let (k, v) = set_cookie(SESSION_COOKIE, "", 0);
    r.headers_mut().append(k, v);
    Ok(Page(Box::new(r)))
}

/// `1 h 5 min`, `3 min`, `2 d 4 h`.
fn duration(secs: i64) -> String {
    let s = secs.max(0);
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", s / 60)
    } else if s < 86_400 {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    } else {
        format!("{} d {} h", s / 86_400, (s % 86_400) / 3600)
    }
}

// ----------------------------------------------------------------- queues

async fn queues(State(c): C, h: HeaderMap) -> PageResult {
    let who = signed(&c, &h)?;
    let qs = c.run(&who.principal, |a, p| a.review().queues(p)).await?;
    let mut b = String::from(
        "<table><caption>Open review queues</caption><thead><tr><th scope=\"col\">queue</th><th scope=\"col\">open</th><th scope=\"col\">unclaimed</th><th scope=\"col\">over SLA</th><th scope=\"col\">oldest case</th><th scope=\"col\">SLA</th></tr></thead><tbody>",
    );
    for q in &qs {
        let kind = q.queue.kind_str();
        let region = q.queue.region.as_str();
        let over = q.oldest_age_secs > q.sla_secs;
        let _ = write!(
            b,
            "<tr><th scope=\"row\"><a href=\"/console/queues/{kind}/{region}\">{kind} / {region}</a></th><td>{}</td><td>{}</td><td{}>{}</td><td{}>{}</td><td>{}</td></tr>",
            q.open,
            q.unclaimed,
            if q.overdue > 0 {
                " class=\"overdue\""
            } else {
                ""
            },
            q.overdue,
            if over { " class=\"overdue\"" } else { "" },
            duration(q.oldest_age_secs),
            duration(q.sla_secs),
        );
    }
    b.push_str("</tbody></table>");
    if qs.is_empty() {
        b.push_str("<p>No open cases.</p>");
    }
    ok("Review queues", &who, &b)
}

async fn queue(
    State(c): C,
    h: HeaderMap,
    Path((kind, region)): Path<(String, String)>,
) -> PageResult {
    let who = signed(&c, &h)?;
    let key = parse_queue(&kind, &region).map_err(|e| Page::from_app(AppError::Invalid(e)))?;
    let cases = c
        .run(&who.principal, move |a, p| a.review().queue(p, &key))
        .await?;
    let mut b = format!(
        "<p><a href=\"/console/queues\">All queues</a></p><table><caption>Open cases in {} / {}, oldest first</caption><thead><tr><th scope=\"col\">case</th><th scope=\"col\">shop</th><th scope=\"col\">age</th><th scope=\"col\">SLA</th><th scope=\"col\">due</th><th scope=\"col\">claimed by</th></tr></thead><tbody>",
        escape(&kind),
        escape(&region)
    );
    for cv in &cases {
        let _ = write!(
            b,
            "<tr><th scope=\"row\"><a href=\"/console/cases/{id}\">{id}</a></th><td>{}</td><td{}>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&cv.shop_id),
            if cv.overdue { " class=\"overdue\"" } else { "" },
            duration(cv.age_secs),
            if cv.overdue { " (over SLA)" } else { "" },
            duration(cv.sla_secs),
            cv.due_at.format("%Y-%m-%d %H:%M UTC"),
            cv.claimed_by
                .as_deref()
                .map(escape)
                .unwrap_or_else(|| "–".into()),
            id = escape(&cv.case_id),
        );
    }
    b.push_str("</tbody></table>");
    ok("Review queue", &who, &b)
}

// ------------------------------------------------------------------- case

/// `text` with the byte ranges `spans` wrapped in `<mark>`, everything
/// escaped. Overlapping spans are merged; spans off a character boundary
/// or past the end are ignored.
pub fn highlight(text: &str, spans: &[[usize; 2]]) -> String {
    let mut spans: Vec<[usize; 2]> = spans
        .iter()
        .copied()
        .filter(|[s, e]| {
            s < e && *e <= text.len() && text.is_char_boundary(*s) && text.is_char_boundary(*e)
        })
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<[usize; 2]> = Vec::new();
    for sp in spans {
        match merged.last_mut() {
            Some(last) if sp[0] <= last[1] => last[1] = last[1].max(sp[1]),
            _ => merged.push(sp),
        }
    }
    let mut out = String::new();
    let mut at = 0;
    for [s, e] in merged {
        out.push_str(&escape(&text[at..s]));
        out.push_str("<mark>");
        out.push_str(&escape(&text[s..e]));
        out.push_str("</mark>");
        at = e;
    }
    out.push_str(&escape(&text[at..]));
    out
}

/// The listing's text fields with the evidence spans highlighted.
fn listing_fields(listing: &Listing, decision: &Decision) -> String {
    let spans = |field: &str| -> Vec<[usize; 2]> {
        decision
            .violations
            .iter()
            .filter(|v| v.evidence.field.as_deref() == Some(field))
            .filter_map(|v| v.evidence.span)
            .collect()
    };
    let mut s = String::from("<dl>");
    let mut field = |name: &str, label: &str, text: Option<&str>| {
        if let Some(t) = text {
            let _ = write!(
                s,
                "<dt>{label}</dt><dd class=\"field\" data-field=\"{name}\">{}</dd>",
                highlight(t, &spans(name))
            );
        }
    };
    field("title", "Title", Some(&listing.title));
    field("brand", "Brand", listing.brand.as_deref());
    field("description", "Description", listing.description.as_deref());
    s.push_str("</dl>");
    s
}

fn findings(decision: &Decision) -> String {
    let mut s = String::from(
        "<table><caption>Findings</caption><thead><tr><th scope=\"col\">#</th><th scope=\"col\">type</th><th scope=\"col\">right or rule</th><th scope=\"col\">where</th><th scope=\"col\">how</th><th scope=\"col\">confidence</th><th scope=\"col\">why</th></tr></thead><tbody>",
    );
    for (i, v) in decision.violations.iter().enumerate() {
        let e = &v.evidence;
        let rule = match (&v.right_id, &v.rule_id) {
            (Some(r), _) => format!("right {}", escape(r)),
            (None, Some(r)) => format!(
                "rule {}{}{}",
                escape(r),
                e.pack
                    .as_deref()
                    .map(|p| format!(
                        " ({} {})",
                        escape(p),
                        escape(e.pack_version.as_deref().unwrap_or(""))
                    ))
                    .unwrap_or_default(),
                e.citation
                    .as_deref()
                    .map(|c| format!("<br><cite>{}</cite>", escape(c)))
                    .unwrap_or_default()
            ),
            _ => "–".into(),
        };
        let place = match (&e.field, e.span) {
            (Some(f), Some([a, b])) => format!("{} [{a}, {b})", escape(f)),
            (Some(f), None) => escape(f),
            _ => "–".into(),
        };
        let how = [
            e.mark.as_deref().map(|m| format!("mark “{}”", escape(m))),
            e.method.as_deref().map(escape),
            e.distance.map(|d| format!("Hamming distance {d} of 256")),
            e.qualification
                .as_deref()
                .map(|q| format!("needs {}", escape(q))),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ");
        let _ = write!(
            s,
            "<tr><td>{i}</td><td>{}</td><td>{rule}</td><td>{place}</td><td>{}</td><td>{:.2}</td><td>{}</td></tr>",
            v.kind.as_str(),
            if how.is_empty() { "–".into() } else { how },
            v.confidence,
            escape(&e.why)
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// The listing's photo with the place of a logo found inside it outlined:
/// an inline SVG holding the image and the match's four corners (in the
/// photo's own pixels, so they line up at any displayed size).
fn located_logo(
    url: &str,
    field: &str,
    right: &str,
    quad: [[f32; 2]; 4],
    size: [u32; 2],
) -> String {
    let [w, h] = size.map(|v| v.max(1));
    let points = quad
        .iter()
        .map(|[x, y]| {
            let clamp = |v: f32, max: u32| {
                if v.is_finite() {
                    v.clamp(0.0, max as f32)
                } else {
                    0.0
                }
            };
            format!("{:.1},{:.1}", clamp(*x, w), clamp(*y, h))
        })
        .collect::<Vec<_>>()
        .join(" ");
    // Shown 280 pixels wide at most, like the other images.
    let shown_w = w.min(280);
    let shown_h = (u64::from(h) * u64::from(shown_w) / u64::from(w)).max(1);
    format!(
        "<svg class=\"located\" viewBox=\"0 0 {w} {h}\" width=\"{shown_w}\" height=\"{shown_h}\" role=\"img\" aria-label=\"The listing's {f}, with the place of right {r}'s logo outlined\"><image href=\"{u}\" x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\"/><polygon class=\"logo-box\" data-right=\"{r}\" vector-effect=\"non-scaling-stroke\" points=\"{points}\"/></svg>",
        f = escape(field),
        r = escape(right),
        u = escape(url),
    )
}

fn data_url(bytes: &[u8]) -> String {
    let mime = if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
        "image/png"
    } else if bytes.starts_with(&[0xff, 0xd8]) {
        "image/jpeg"
    } else if bytes.starts_with(b"GIF8") {
        "image/gif"
    } else if bytes.starts_with(b"RIFF") {
        "image/webp"
    } else {
        "application/octet-stream"
    };
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

async fn case_page(State(c): C, h: HeaderMap, Path(id): Path<String>) -> PageResult {
    let who = signed(&c, &h)?;
    let case_id = id.clone();
    let (case, listing, images) = c
        .run(&who.principal, move |a, p| {
            let case = a.review().case(p, &case_id)?;
            let history = a.screening().listing_history(p, &case.subject.listing_id)?;
            let listing = history
                .into_iter()
                .find(|v| v.version == case.subject.listing_version)
                .map(|v| v.listing)
                .ok_or_else(|| AppError::NotFound {
                    what: "listing version",
                    id: case.case_id.clone(),
                })?;
            // The registered images of the rights the images matched.
            let mut images = Vec::new();
            for v in &case.decision.violations {
                if let (Some(r), Some(field)) = (&v.right_id, &v.evidence.field)
                    && field.starts_with("images[")
                    && let Ok(Some(img)) = a.registry().right_image(p, r)
                {
                    images.push((field.clone(), r.clone(), v.evidence.clone(), img));
                }
            }
            Ok((case, listing, images))
        })
        .await?;
    let d = &case.decision;
    let mut b = format!(
        "<p><a href=\"/console/queues/{k}/{r}\">Back to the queue</a></p><p>Listing <strong>{l}</strong>, version {v}, shop {shop}, region {r}; the gate said <strong>{act}</strong> (score {score:.2}) at {at}.</p><h2>The seller's text</h2>{fields}<h2>Evidence</h2>{find}",
        k = case.queue.kind_str(),
        r = case.subject.region.as_str(),
        l = escape(&case.subject.listing_id),
        v = case.subject.listing_version,
        shop = escape(&case.subject.shop_id),
        act = d.action.as_str(),
        score = d.score,
        at = d.decided_at.format("%Y-%m-%d %H:%M UTC"),
        fields = listing_fields(&listing, d),
        find = findings(d),
    );
    if !images.is_empty() {
        b.push_str("<h2>Images</h2>");
        for (field, right, evidence, registered) in &images {
            let idx: Option<usize> = field
                .strip_prefix("images[")
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse().ok());
            let listed = idx
                .and_then(|i| listing.images.get(i))
                .filter(|u| u.starts_with("data:image/"));
            let shown = match (listed, evidence.quad, evidence.image_size) {
                (Some(u), Some(quad), Some(size)) => located_logo(u, field, right, quad, size),
                (Some(u), _, _) => format!(
                    "<img src=\"{}\" alt=\"The listing's {}\">",
                    escape(u),
                    escape(field)
                ),
                (None, _, _) => "<p>(image not shown: not a data: URL)</p>".into(),
            };
            let _ = write!(
                b,
                "<div class=\"imgs\"><figure>{shown}<figcaption>The listing's {}{}</figcaption></figure><figure><img src=\"{}\" alt=\"Registered image of right {}\"><figcaption>Registered image of right {}{}</figcaption></figure></div>",
                escape(field),
                if evidence.quad.is_some() {
                    ", with the registered logo's place outlined"
                } else {
                    ""
                },
                data_url(registered),
                escape(right),
                escape(right),
                evidence
                    .distance
                    .map(|d| format!(", Hamming distance {d} of 256"))
                    .unwrap_or_default(),
            );
        }
    }
    let csrf = csrf_field(&who);
    let esc_id = escape(&case.case_id);
    match (&case.outcome, &case.claim) {
        (Some(o), _) => {
            let _ = write!(
                b,
                "<h2>Decided</h2><p id=\"outcome\">{} by {} at {}: {}</p>",
                match o.verdict {
                    Verdict::Clear => "Cleared".to_string(),
                    Verdict::Uphold { kind, .. } => format!("Upheld as {}", kind.as_str()),
                },
                escape(&o.reviewer),
                o.at.format("%Y-%m-%d %H:%M UTC"),
                escape(&o.note)
            );
        }
        (None, Some(cl)) if cl.reviewer == who.principal.id => {
            let kinds: String = ViolationType::ALL
                .iter()
                .map(|k| {
                    let sel = if d.violations.first().map(|v| v.kind) == Some(*k) {
                        " selected"
                    } else {
                        ""
                    };
                    format!("<option value=\"{0}\"{sel}>{0}</option>", k.as_str())
                })
                .collect();
            let _ = write!(
                b,
                "<h2>Decide</h2><p>You hold this case until {}.</p><form method=\"post\" action=\"/console/cases/{esc_id}/decide\">{csrf}<fieldset><legend>Outcome</legend><input type=\"radio\" id=\"o-uphold\" name=\"outcome\" value=\"uphold\" required><label for=\"o-uphold\" style=\"display:inline\">Uphold: remove the listing and record a violation</label><br><input type=\"radio\" id=\"o-clear\" name=\"outcome\" value=\"clear\"><label for=\"o-clear\" style=\"display:inline\">Clear: the listing goes live</label></fieldset><label for=\"kind\">Violation type (uphold)</label><select id=\"kind\" name=\"kind\">{kinds}</select><label for=\"severity\">Severity (uphold)</label><select id=\"severity\" name=\"severity\"><option>minor</option><option selected>moderate</option><option>severe</option><option>critical</option></select><label for=\"note\">Note for the seller</label><textarea id=\"note\" name=\"note\" rows=\"3\" cols=\"60\" required></textarea><p><button type=\"submit\">Decide</button></p></form><form method=\"post\" action=\"/console/cases/{esc_id}/release\">{csrf}<button type=\"submit\">Release the case</button></form>",
                cl.until.format("%Y-%m-%d %H:%M UTC"),
            );
        }
        (None, claim) => {
            let _ = write!(
                b,
                "<h2>Claim</h2>{}<form method=\"post\" action=\"/console/cases/{esc_id}/claim\">{csrf}<button type=\"submit\">Claim this case</button></form>",
                claim
                    .as_ref()
                    .map(|cl| format!(
                        "<p>Held by {} until {}.</p>",
                        escape(&cl.reviewer),
                        cl.until.format("%Y-%m-%d %H:%M UTC")
                    ))
                    .unwrap_or_default()
            );
        }
    }
    ok(&format!("Case {}", case.case_id), &who, &b)
}

#[derive(Deserialize)]
struct CaseForm {
    csrf: Option<String>,
    outcome: Option<String>,
    kind: Option<String>,
    severity: Option<String>,
    note: Option<String>,
}

fn invalid(field: &str, reason: &str) -> Page {
    Page::from_app(AppError::Invalid(shopshield_model::ValidationError::new(
        field, reason,
    )))
}

async fn case_action(
    State(c): C,
    h: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<CaseForm>,
) -> PageResult {
    let who = checked(&c, &h, f.csrf.as_deref())?;
    let back = format!("/console/cases/{}", id);
    match action.as_str() {
        "claim" => {
            c.run(&who.principal, move |a, p| a.review().claim(p, &id))
                .await?;
        }
        "release" => {
            c.run(&who.principal, move |a, p| a.review().release(p, &id))
                .await?;
        }
        "decide" => {
            let verdict = match f.outcome.as_deref() {
                Some("clear") => Verdict::Clear,
                Some("uphold") => {
                    let kind = ViolationType::ALL
                        .into_iter()
                        .find(|k| Some(k.as_str()) == f.kind.as_deref())
                        .ok_or_else(|| invalid("kind", "choose a violation type"))?;
                    let severity: Severity = serde_json::from_value(serde_json::Value::String(
                        f.severity.clone().unwrap_or_default(),
                    ))
                    .map_err(|_| invalid("severity", "choose a severity"))?;
                    Verdict::Uphold {
                        kind,
                        severity,
                        knock_off: false,
                    }
                }
                _ => return Err(invalid("outcome", "choose uphold or clear")),
            };
            let note = f.note.unwrap_or_default();
            c.run(&who.principal, move |a, p| {
                a.review().decide(p, &id, verdict, &note)
            })
            .await?;
        }
        _ => return Err(Page::error(StatusCode::NOT_FOUND, "no such action")),
    }
    Ok(see_other(&back))
}

// ---------------------------------------------------------------- appeals

async fn appeals(State(c): C, h: HeaderMap) -> PageResult {
    let who = signed(&c, &h)?;
    let list = c
        .run(&who.principal, |a, p| {
            let appeals = a.review().appeals(p, "pending")?;
            let mut out = Vec::new();
            for ap in appeals {
                let party = ap.appellant.clone();
                let record = a.review().record(p, &party)?;
                let v = record
                    .violations
                    .into_iter()
                    .find(|v| v.violation.record.violation_id == ap.violation_id);
                out.push((ap, v));
            }
            Ok(out)
        })
        .await?;
    let csrf = csrf_field(&who);
    let mut b = String::new();
    if list.is_empty() {
        b.push_str("<p>No appeals are waiting.</p>");
    }
    for (ap, v) in &list {
        let id = escape(&ap.appeal_id);
        let _ = write!(
            b,
            "<section aria-labelledby=\"h-{id}\"><h2 id=\"h-{id}\">Appeal {id}</h2><p>{} appeals violation {} (round {}), filed {}: “{}”</p>",
            escape(&ap.appellant.to_string()),
            escape(&ap.violation_id),
            ap.round,
            ap.filed_at.format("%Y-%m-%d %H:%M UTC"),
            escape(&ap.statement)
        );
        let mut evidence = String::new();
        if let Some(v) = v {
            let r = &v.violation.record;
            let _ = write!(
                b,
                "<p>{} ({}), {} points, decided {}.</p>",
                r.kind.as_str(),
                r.severity.as_str(),
                r.points,
                match r.source.reviewer() {
                    Some(rv) => format!("by reviewer {}", escape(rv)),
                    None => "automatically".into(),
                }
            );
            for (i, e) in r.evidence.iter().enumerate() {
                let _ = write!(
                    evidence,
                    "<input type=\"checkbox\" id=\"ev-{id}-{i}\" name=\"cite\" value=\"{i}\"><label for=\"ev-{id}-{i}\" style=\"display:inline\">#{i}: {}</label><br>",
                    escape(&e.evidence.why)
                );
            }
        }
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/console/appeals/{id}/decide\">{csrf}<fieldset><legend>Decision</legend><input type=\"radio\" id=\"up-{id}\" name=\"upheld\" value=\"true\" required><label for=\"up-{id}\" style=\"display:inline\">Uphold the appeal (reverse the violation)</label><br><input type=\"radio\" id=\"rej-{id}\" name=\"upheld\" value=\"false\"><label for=\"rej-{id}\" style=\"display:inline\">Reject the appeal (cite evidence below)</label></fieldset><fieldset><legend>Evidence cited</legend>{evidence}</fieldset><label for=\"reason-{id}\">Reason</label><textarea id=\"reason-{id}\" name=\"reason\" rows=\"3\" cols=\"60\" required></textarea><p><button type=\"submit\">Decide appeal</button></p></form></section>"
        );
    }
    ok("Appeals waiting for a decision", &who, &b)
}

async fn decide_appeal(
    State(c): C,
    h: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    // Repeated `cite` fields: parse the form by hand.
    let pairs: Vec<(String, String)> = url_pairs(&body);
    let get = |k: &str| pairs.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
    let who = checked(&c, &h, get("csrf").as_deref())?;
    let upheld = match get("upheld").as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(invalid("upheld", "choose uphold or reject")),
    };
    let cited: Vec<usize> = pairs
        .iter()
        .filter(|(k, _)| k == "cite")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let reason = get("reason").unwrap_or_default();
    c.run(&who.principal, move |a, p| {
        a.review().decide_appeal(p, &id, upheld, &reason, cited)
    })
    .await?;
    Ok(see_other("/console/appeals"))
}

fn url_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded_pairs(body)
}

/// `application/x-www-form-urlencoded` pairs, in order.
fn serde_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &str| -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                    match u8::from_str_radix(hex, 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(kv), String::new()),
        })
        .collect()
}

// ---------------------------------------------------------------- notices

/// Reviewers: the notice items waiting for a decision, oldest first, each
/// with the listing, the right, the holder's statements and our own
/// detectors' view, and a form to accept or reject it. Rights holders:
/// their notices and each item's state.
async fn notices_page(State(c): C, h: HeaderMap) -> PageResult {
    let who = signed(&c, &h)?;
    if who.principal.can(Permission::ReviewNotices) {
        let queue = c
            .run(&who.principal, |a, p| a.notices().queue(p, 100))
            .await?;
        let csrf = csrf_field(&who);
        let mut b = String::new();
        if queue.is_empty() {
            b.push_str("<p>No notice items are waiting.</p>");
        }
        for (k, e) in queue.iter().enumerate() {
            let nid = escape(&e.notice_id);
            let iid = escape(&e.item.item_id);
            let right = e
                .right
                .as_ref()
                .map(|r| {
                    format!(
                        "right {} ({}{}) of holder {}",
                        escape(&r.id),
                        r.kind.as_str(),
                        r.mark
                            .as_ref()
                            .map(|m| format!(", mark “{}”", escape(m)))
                            .unwrap_or_default(),
                        escape(&r.holder_id)
                    )
                })
                .unwrap_or_else(|| "a right no longer registered".into());
            let title = match (&e.listing, &e.video) {
                (Some(l), _) => escape(&l.title),
                (None, Some(v)) => format!(
                    "video by creator {}: {}",
                    escape(&v.creator_id),
                    escape(v.caption.as_deref().unwrap_or("(no caption)"))
                ),
                (None, None) => match &e.stream {
                    Some(st) => format!(
                        "livestream by creator {} ({})",
                        escape(&st.stream.creator_id),
                        st.status.as_str()
                    ),
                    None => "(not found)".into(),
                },
            };
            let ours = match &e.detectors {
                Some(d) => format!(
                    "{} (score {:.2}){}",
                    d.action.as_str(),
                    d.score,
                    d.violations
                        .first()
                        .map(|v| format!(": {}", escape(&v.evidence.why)))
                        .unwrap_or_default()
                ),
                None => "no decision of ours".into(),
            };
            let removed = if e.item.self_service {
                "<p class=\"self-service\"><strong>Already taken down at filing</strong> (the holder has self-service removal): accepting keeps it down, rejecting puts it back at once.</p>"
            } else {
                ""
            };
            let _ = write!(
                b,
                "<section aria-labelledby=\"nh-{k}\" data-notice=\"{nid}\" data-item=\"{iid}\"><h2 id=\"nh-{k}\">Notice {nid}: {kind} {iid}</h2><p>Received {}, relying on {right}; shop {}.</p>{removed}<dl><dt>Listing title</dt><dd>{title}</dd><dt>The work</dt><dd>{}</dd><dt>What infringes, says the holder</dt><dd>{}</dd><dt>The holder's explanation</dt><dd>{}</dd><dt>Our detectors</dt><dd>{ours}</dd></dl><form method=\"post\" action=\"/console/notices/{nid}/items/{iid}/decide\">{csrf}<fieldset><legend>Decision</legend><input type=\"radio\" id=\"acc-{k}\" name=\"outcome\" value=\"accept\" required><label for=\"acc-{k}\" style=\"display:inline\">Accept: take the listing down</label><br><input type=\"radio\" id=\"rej-{k}\" name=\"outcome\" value=\"reject\"><label for=\"rej-{k}\" style=\"display:inline\">Reject: the listing stays up</label></fieldset><label for=\"nreason-{k}\">Reason (both parties see it)</label><textarea id=\"nreason-{k}\" name=\"reason\" rows=\"3\" cols=\"60\" required></textarea><p><button type=\"submit\">Decide notice item</button></p></form></section>",
                e.received_at.format("%Y-%m-%d %H:%M UTC"),
                escape(&e.item.shop_id),
                escape(&e.work),
                escape(&e.material),
                escape(&e.explanation),
                kind = e.item.kind.as_str(),
            );
        }
        return ok("Notice items waiting for a decision", &who, &b);
    }
    let list = c
        .run(&who.principal, |a, p| a.notices().list(p, None, None, 200))
        .await?;
    let mut b = String::new();
    if let Some(holder) = who.principal.holder_id.clone() {
        let r = c
            .run(&who.principal, move |a, p| a.notices().standing(p, &holder))
            .await?;
        let _ = write!(
            b,
            "<section aria-labelledby=\"standing-h\" data-standing=\"{}\"><h2 id=\"standing-h\">Your standing as a reporter: {}</h2><p>{}</p></section>",
            r.record.standing.as_str(),
            r.record.standing.as_str().replace('_', "-"),
            escape(&r.record.why),
        );
    }
    if list.is_empty() {
        b.push_str("<p>You have filed no notices.</p>");
    } else {
        b.push_str("<table><caption>Your notices, one row per item</caption><thead><tr><th scope=\"col\">notice</th><th scope=\"col\">right</th><th scope=\"col\">listing</th><th scope=\"col\">state</th><th scope=\"col\">reason</th><th scope=\"col\">updated</th></tr></thead><tbody>");
        for n in &list {
            for i in &n.items {
                let _ = write!(
                    b,
                    "<tr data-notice=\"{nid}\" data-item=\"{iid}\"><th scope=\"row\">{nid}</th><td>{}</td><td>{iid}</td><td class=\"state\">{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&n.stored.notice.right_id),
                    i.state.as_str(),
                    i.review
                        .as_ref()
                        .map(|r| escape(&r.reason))
                        .unwrap_or_default(),
                    i.updated_at.format("%Y-%m-%d %H:%M UTC"),
                    nid = escape(&n.stored.notice.id),
                    iid = escape(&i.item_id),
                );
            }
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("<p>Notices are filed through the API (<code>POST /v1/notices</code>) or in bulk with <code>shopshield notices file</code>.</p>");
    ok("Notices", &who, &b)
}

#[derive(Deserialize)]
struct NoticeItemForm {
    csrf: Option<String>,
    outcome: Option<String>,
    reason: Option<String>,
}

async fn decide_notice_item(
    State(c): C,
    h: HeaderMap,
    Path((notice, item)): Path<(String, String)>,
    Form(f): Form<NoticeItemForm>,
) -> PageResult {
    let who = checked(&c, &h, f.csrf.as_deref())?;
    let outcome = match f.outcome.as_deref() {
        Some("accept") => ItemOutcome::Accept,
        Some("reject") => ItemOutcome::Reject,
        _ => return Err(invalid("outcome", "choose accept or reject")),
    };
    let input = ItemDecisionInput {
        outcome: Some(outcome),
        reason: f.reason.unwrap_or_default(),
    };
    c.run(&who.principal, move |a, p| {
        a.notices().decide(p, &notice, &item, input)
    })
    .await?;
    Ok(see_other("/console/notices"))
}

// ----------------------------------------------------------------- seller

async fn seller(State(c): C, h: HeaderMap) -> PageResult {
    let who = signed(&c, &h)?;
    let Some(shop) = who.principal.shop_id.clone() else {
        return Err(Page::error(
            StatusCode::FORBIDDEN,
            "this page is for sellers",
        ));
    };
    let shop2 = shop.clone();
    let (listings, record) = c
        .run(&who.principal, move |a, p| {
            let page = shopshield_store::Page {
                after: None,
                limit: 200,
            };
            let mut out = Vec::new();
            for l in a.screening().listings_by_shop(p, &shop2, &page)? {
                let status = a.screening().listing_status(p, &l.listing.id)?;
                let decision = a.screening().decision(p, &status.decision_id)?;
                out.push((l, status, decision));
            }
            let record = a.review().record(p, &Party::Shop(shop2.clone()))?;
            Ok((out, record))
        })
        .await?;
    let mut b = format!(
        "<p>Shop <strong>{}</strong>: <strong id=\"points\">{}</strong> points{}.</p>",
        escape(&shop),
        record.points,
        record
            .next_milestone
            .map(|m| format!(" (next milestone at {}: {})", m.points, m.penalty.as_str()))
            .unwrap_or_default()
    );
    b.push_str("<h2>Penalties</h2>");
    if record.penalties.is_empty() {
        b.push_str("<p>None.</p>");
    } else {
        b.push_str("<ul>");
        for p in &record.penalties {
            let _ = write!(
                b,
                "<li>{} from {}{}</li>",
                p.kind.as_str(),
                p.from.format("%Y-%m-%d"),
                p.until
                    .map(|u| format!(" until {}", u.format("%Y-%m-%d")))
                    .unwrap_or_else(|| " (no end date)".into())
            );
        }
        b.push_str("</ul>");
    }
    b.push_str("<h2>Listings</h2><table><caption>Your listings, their status and the reasons</caption><thead><tr><th scope=\"col\">listing</th><th scope=\"col\">version</th><th scope=\"col\">status</th><th scope=\"col\">reasons</th></tr></thead><tbody>");
    for (l, status, decision) in &listings {
        let reasons: Vec<String> = decision
            .violations
            .iter()
            .map(|v| format!("{}: {}", v.kind.as_str(), escape(&v.evidence.why)))
            .collect();
        let _ = write!(
            b,
            "<tr data-listing=\"{id}\"><th scope=\"row\">{id} — {title}</th><td>{}</td><td class=\"status\">{}</td><td>{}</td></tr>",
            l.version,
            status.status,
            if reasons.is_empty() {
                "–".into()
            } else {
                reasons.join("<br>")
            },
            id = escape(&l.listing.id),
            title = escape(&l.listing.title),
        );
    }
    b.push_str("</tbody></table><h2>Violations</h2>");
    let csrf = csrf_field(&who);
    if record.violations.is_empty() {
        b.push_str("<p>None.</p>");
    }
    for v in &record.violations {
        let r = &v.violation.record;
        let vid = escape(&r.violation_id);
        let _ = write!(
            b,
            "<section aria-labelledby=\"v-{vid}\"><h3 id=\"v-{vid}\">{vid}: {} ({} points{})</h3><ul>",
            r.kind.as_str(),
            r.points,
            if v.violation.reversed_by.is_some() {
                ", reversed on appeal"
            } else if !v.counts {
                ", no longer counting"
            } else {
                ""
            }
        );
        for e in &r.evidence {
            let _ = write!(b, "<li>{}</li>", escape(&e.evidence.why));
        }
        b.push_str("</ul>");
        for ap in &v.appeals {
            let _ = write!(
                b,
                "<p>Appeal {} filed {}: {}</p>",
                escape(&ap.appeal_id),
                ap.filed_at.format("%Y-%m-%d"),
                match &ap.decision {
                    None => "waiting for a decision".to_string(),
                    Some(d) if d.upheld => format!("upheld — {}", escape(&d.reason)),
                    Some(d) => format!("rejected — {}", escape(&d.reason)),
                }
            );
        }
        if let Some(deadline) = v.appeal_deadline {
            let _ = write!(
                b,
                "<form method=\"post\" action=\"/console/violations/{vid}/appeal\">{csrf}<label for=\"st-{vid}\">Appeal by {} — your statement</label><textarea id=\"st-{vid}\" name=\"statement\" rows=\"3\" cols=\"60\" required></textarea><p><button type=\"submit\">File appeal</button></p></form>",
                deadline.format("%Y-%m-%d %H:%M UTC")
            );
        }
        b.push_str("</section>");
    }
    ok("Seller centre", &who, &b)
}

#[derive(Deserialize)]
struct AppealForm {
    csrf: Option<String>,
    statement: Option<String>,
}

async fn file_appeal(
    State(c): C,
    h: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<AppealForm>,
) -> PageResult {
    let who = checked(&c, &h, f.csrf.as_deref())?;
    let statement = f.statement.unwrap_or_default();
    c.run(&who.principal, move |a, p| {
        a.review().file_appeal(p, &id, &statement)
    })
    .await?;
    Ok(see_other("/console/seller"))
}

// ----------------------------------------------------------------- rights

async fn rights(State(c): C, h: HeaderMap) -> PageResult {
    let who = signed(&c, &h)?;
    let holder = who.principal.role == Role::RightsHolder;
    let rights = c
        .run(&who.principal, move |a, p| {
            let mut out = Vec::new();
            for r in a.registry().rights(p, None)? {
                // A holder sees the live listings that hold its marks
                // (exact or look-alike, normalised as the gate does).
                let hits = if holder && r.enabled && r.mark.is_some() {
                    a.sweeps()
                        .search_catalogue(p, &r.id, &shopshield_store::Page::first(50))?
                } else {
                    Vec::new()
                };
                out.push((r, hits));
            }
            Ok(out)
        })
        .await?;
    let mut b = String::from(
        "<table><caption>Registered rights</caption><thead><tr><th scope=\"col\">id</th><th scope=\"col\">kind</th><th scope=\"col\">mark</th><th scope=\"col\">regions</th><th scope=\"col\">in force</th></tr></thead><tbody>",
    );
    for (r, _) in &rights {
        let v = serde_json::to_value(r).unwrap_or_default();
        let regions = v["regions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let _ = write!(
            b,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(v["id"].as_str().unwrap_or("")),
            escape(v["kind"].as_str().unwrap_or("")),
            escape(v["mark"].as_str().unwrap_or("–")),
            escape(&regions),
            if v["enabled"].as_bool().unwrap_or(true) {
                "yes"
            } else {
                "no"
            },
        );
    }
    b.push_str("</tbody></table>");
    if holder {
        let csrf = csrf_field(&who);
        for (k, (r, hits)) in rights.iter().enumerate().filter(|(_, (r, _))| r.enabled) {
            let rid = escape(&r.id);
            let _ = write!(
                b,
                "<section aria-labelledby=\"rh-{k}\" data-right=\"{rid}\"><h2 id=\"rh-{k}\">Right {rid}</h2>"
            );
            let mut boxes = String::new();
            if hits.is_empty() {
                b.push_str("<p>No live listing holds this right's marks.</p>");
            } else {
                b.push_str("<table><caption>Live listings that match this right's marks</caption><thead><tr><th scope=\"col\">listing</th><th scope=\"col\">shop</th><th scope=\"col\">title</th><th scope=\"col\">status</th><th scope=\"col\">match</th><th scope=\"col\">words</th></tr></thead><tbody>");
                for (i, hit) in hits.iter().enumerate() {
                    let lid = escape(&hit.listing_id);
                    let _ = write!(
                        b,
                        "<tr data-listing=\"{lid}\"><th scope=\"row\">{lid}</th><td>{}</td><td>{}</td><td>{}</td><td class=\"match\">{}</td><td>{}</td></tr>",
                        escape(&hit.shop_id),
                        escape(&hit.title),
                        hit.status,
                        hit.matched.replace('_', "-"),
                        escape(&hit.terms.join(", ")),
                    );
                    let _ = write!(
                        boxes,
                        "<input type=\"checkbox\" id=\"it-{k}-{i}\" name=\"item\" value=\"{lid}\"><label for=\"it-{k}-{i}\" style=\"display:inline\">{lid}: {}</label><br>",
                        escape(&hit.title)
                    );
                }
                b.push_str("</tbody></table>");
            }
            // Filing a notice: every element the law asks for is a field.
            let _ = write!(
                b,
                "<h3>File a notice on right {rid}</h3><form method=\"post\" action=\"/console/rights/{rid}/notices\">{csrf}<fieldset><legend>Listings reported</legend>{boxes}<label for=\"more-{k}\">Other listing ids (comma-separated)</label><input id=\"more-{k}\" name=\"more\" size=\"60\"></fieldset><label for=\"work-{k}\">The work or mark infringed</label><input id=\"work-{k}\" name=\"work\" size=\"60\" required><label for=\"material-{k}\">What infringes in each listing, and where</label><input id=\"material-{k}\" name=\"material\" size=\"60\" required><label for=\"explanation-{k}\">Why it infringes</label><textarea id=\"explanation-{k}\" name=\"explanation\" rows=\"3\" cols=\"60\" required></textarea><label for=\"name-{k}\">Your name</label><input id=\"name-{k}\" name=\"name\" required><label for=\"email-{k}\">Your email</label><input id=\"email-{k}\" name=\"email\" type=\"email\" required><label for=\"address-{k}\">Postal address</label><input id=\"address-{k}\" name=\"address\" size=\"60\"><label for=\"phone-{k}\">Phone</label><input id=\"phone-{k}\" name=\"phone\"><fieldset><legend>Statements</legend><input type=\"checkbox\" id=\"gf-{k}\" name=\"good_faith\" value=\"true\"><label for=\"gf-{k}\" style=\"display:inline\">I believe in good faith that this use is not authorised by the rights owner, its agent or the law</label><br><input type=\"checkbox\" id=\"acc-{k}\" name=\"accuracy\" value=\"true\"><label for=\"acc-{k}\" style=\"display:inline\">Under penalty of perjury, this notice is accurate and I am authorised to act for the owner</label><br><input type=\"checkbox\" id=\"bf-{k}\" name=\"bona_fide\" value=\"true\"><label for=\"bf-{k}\" style=\"display:inline\">The explanation and allegations in this notice are accurate and complete (bona fide)</label></fieldset><label for=\"sig-{k}\">Signature (your full name)</label><input id=\"sig-{k}\" name=\"signature\" required><p><button type=\"submit\">File notice</button></p></form></section>"
            );
        }
    }
    ok("My rights", &who, &b)
}

/// A notice filed from the console's rights page: the same checks as the
/// API (a missing element is refused, naming it).
async fn file_notice(
    State(c): C,
    h: HeaderMap,
    Path(right): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let pairs = url_pairs(&body);
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let who = checked(&c, &h, Some(&get("csrf")))?;
    let material = get("material");
    let mut ids: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "item")
        .map(|(_, v)| v.trim().to_string())
        .collect();
    ids.extend(
        get("more")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    );
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    let optional = |v: String| if v.is_empty() { None } else { Some(v) };
    let ticked = |k: &str| get(k) == "true";
    let notice = shopshield_model::NewNotice {
        id: format!("console-{}", c.app.now().format("%Y%m%d%H%M%S%3f")),
        right_id: right,
        work: get("work"),
        items: ids
            .into_iter()
            .map(|id| shopshield_model::NoticeItem {
                kind: Some(shopshield_model::NoticeItemKind::Listing),
                id,
                material: material.clone(),
            })
            .collect(),
        explanation: get("explanation"),
        complainant: shopshield_model::Complainant {
            name: get("name"),
            email: get("email"),
            address: optional(get("address")),
            phone: optional(get("phone")),
        },
        statements: shopshield_model::NoticeStatements {
            good_faith: ticked("good_faith"),
            accuracy_under_penalty_of_perjury: ticked("accuracy"),
            bona_fide: ticked("bona_fide"),
        },
        signature: get("signature"),
    };
    c.run(&who.principal, move |a, p| a.notices().file(p, notice))
        .await?;
    Ok(see_other("/console/notices"))
}

// ----------------------------------------------------------------- report

#[derive(Deserialize)]
struct ReportForm {
    from: Option<String>,
    to: Option<String>,
    region: Option<String>,
}

async fn report(State(c): C, h: HeaderMap, Query(q): Query<ReportForm>) -> PageResult {
    let who = signed(&c, &h)?;
    let today = c.app.now().date_naive();
    let from = q.from.filter(|s| !s.is_empty()).unwrap_or_else(|| {
        (today - chrono::Duration::days(29))
            .format("%Y-%m-%d")
            .to_string()
    });
    let to =
        q.to.filter(|s| !s.is_empty())
            .unwrap_or_else(|| today.format("%Y-%m-%d").to_string());
    let region = q.region.filter(|s| !s.is_empty());
    let query = ReportQuery {
        from: from.clone(),
        to: to.clone(),
        region: region.clone(),
    };
    let r = c
        .run(&who.principal, move |a, p| {
            a.reports().transparency(p, &query)
        })
        .await?;
    let b = format!(
        "<form method=\"get\" action=\"/console/report\"><label for=\"from\">From (YYYY-MM-DD)</label><input id=\"from\" name=\"from\" value=\"{}\" pattern=\"\\d{{4}}-\\d{{2}}-\\d{{2}}\"><label for=\"to\">To (YYYY-MM-DD)</label><input id=\"to\" name=\"to\" value=\"{}\" pattern=\"\\d{{4}}-\\d{{2}}-\\d{{2}}\"><label for=\"region\">Region (optional)</label><input id=\"region\" name=\"region\" value=\"{}\" size=\"4\"><p><button type=\"submit\">Show report</button></p></form>{}",
        escape(&from),
        escape(&to),
        escape(region.as_deref().unwrap_or("")),
        render::html_body(&r)
    );
    ok("Transparency report", &who, &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_marks_spans_and_escapes_everything() {
        assert_eq!(
            highlight("Nike <Air> Max", &[[0, 4], [5, 10]]),
            "<mark>Nike</mark> <mark>&lt;Air&gt;</mark> Max"
        );
        // Overlaps merge; spans off a boundary or past the end are dropped.
        assert_eq!(
            highlight("abcdef", &[[1, 3], [2, 5]]),
            "a<mark>bcde</mark>f"
        );
        assert_eq!(highlight("é", &[[0, 1], [0, 9]]), "é");
    }

    #[test]
    fn form_pairs_decode() {
        assert_eq!(
            serde_urlencoded_pairs(b"a=1&cite=0&cite=2&reason=a+b%21"),
            vec![
                ("a".into(), "1".into()),
                ("cite".into(), "0".into()),
                ("cite".into(), "2".into()),
                ("reason".into(), "a b!".into())
            ]
        );
    }
}
