//! The connection loop: HTTP/1.1 over hyper with a header-read timeout,
//! an idle keep-alive timeout and a cap on connections (`[server]` in the
//! configuration).
//!
//! When `max_connections` are open, a new connection closes the one idle
//! the longest to make room; an idle socket is cheap to open, so a client
//! holding thousands of them only ever pushes out its own. Idle means
//! waiting for a request: no request in flight, and the socket's last read
//! found nothing to read. A connection not yet read at all may carry a
//! request already sent (a burst of connections is accepted faster than
//! their tasks first run), so it is never closed to make room; the loop
//! lets those tasks run and looks again. When every connection is busy, the new one is answered by
//! the overflow service: `/healthz` as usual, anything else 503 with
//! `Retry-After`, then closed. Beyond `overflow_connections` more, new
//! connections are closed unanswered, so the process never runs out of
//! descriptors: at start the soft descriptor limit is raised to the hard
//! one, and both caps are lowered to fit under it with
//! [`RESERVED_DESCRIPTORS`] to spare (the store, webhooks, listeners).
//!
//! A connection holds its place in the registry for as long as its socket
//! lives, not only while hyper serves HTTP on it: an upgraded connection
//! (the livestream WebSocket) keeps counting against `max_connections`,
//! and counts as busy, so it is never closed to make room; the idle timeout
//! (no message either way) and shutdown close it, by failing its socket's
//! next read (its handler then ends and drops it).

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use shopshield_app::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tower::ServiceExt;

/// What one open connection shares with the loop.
struct Conn {
    /// Requests being answered on it.
    inflight: AtomicUsize,
    /// Milliseconds since the server started, when it last read or wrote.
    last_active: AtomicU64,
    /// Its last read found nothing: it waits for a request (or for the
    /// rest of one). False until its socket is first read.
    waiting: AtomicBool,
    /// Told to close (it was idle the longest when room was needed).
    close: Notify,
    /// Set when the socket must end: its reads and writes fail from then on.
    shut: AtomicBool,
    /// The task last waiting to read the socket, woken when it is shut.
    reader: Mutex<Option<Waker>>,
    /// Notified (once, with a stored permit) when the socket is dropped.
    gone: Notify,
}

impl Conn {
    /// Makes the socket's reads and writes fail, waking a pending read,
    /// so whoever holds it (hyper, or an upgraded connection's handler)
    /// ends and drops it.
    fn shut_down(&self) {
        self.shut.store(true, Ordering::Release);
        let waker = self.reader.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// A connection's place in the registry, held by its socket and given
/// back when the socket is dropped.
struct Slot {
    registry: Arc<Registry>,
    id: u64,
    conn: Arc<Conn>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.conn.gone.notify_one();
        self.registry.remove(self.id);
    }
}

/// What [`Registry::admit`] found.
enum Admission {
    /// The connection has its place (another may have been closed for it).
    Admitted(u64, Arc<Conn>),
    /// The cap is reached and some connections have not yet been read:
    /// look again once their tasks have run.
    Unsettled,
    /// The cap is reached and every connection is busy.
    Busy,
}

struct Registry {
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Notified when a connection ends (for shutdown).
    ended: Notify,
}

impl Registry {
    fn new() -> Registry {
        Registry {
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
            ended: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes room for a new connection, closing the connection idle the
    /// longest when the cap is reached.
    fn admit(&self, max: usize) -> Admission {
        let mut open = self.open();
        if open.len() >= max {
            let idle = |c: &Conn| c.inflight.load(Ordering::Acquire) == 0;
            let idlest = open
                .iter()
                .filter(|(_, c)| idle(c) && c.waiting.load(Ordering::Acquire))
                .min_by_key(|(_, c)| c.last_active.load(Ordering::Relaxed))
                .map(|(id, _)| *id);
            let Some(idlest) = idlest else {
                return if open.values().any(|c| idle(c)) {
                    Admission::Unsettled
                } else {
                    Admission::Busy
                };
            };
            if let Some(c) = open.remove(&idlest) {
                c.close.notify_one();
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            inflight: AtomicUsize::new(0),
            last_active: AtomicU64::new(self.now_ms()),
            waiting: AtomicBool::new(false),
            close: Notify::new(),
            shut: AtomicBool::new(false),
            reader: Mutex::new(None),
            gone: Notify::new(),
        });
        open.insert(id, conn.clone());
        Admission::Admitted(id, conn)
    }

    fn remove(&self, id: u64) {
        self.open().remove(&id);
        self.ended.notify_waiters();
    }
}

/// Times the accept loop yields to let just-accepted connections be read
/// before a newcomer is sent to the overflow service.
const UNSETTLED_TURNS: usize = 8;

/// Descriptors kept free of connections: the database and its journal,
/// webhook deliveries, ffmpeg pipes, the listener itself.
pub(crate) const RESERVED_DESCRIPTORS: u64 = 64;

/// The process's descriptor limit after raising the soft limit as far as
/// the hard one allows; `None` when it cannot be read.
#[cfg(unix)]
fn descriptor_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct
    // passed by pointer, which lives on this stack frame.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    if lim.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    // rlim_t is u64 on Linux, but not on every unix.
    #[allow(clippy::unnecessary_cast)]
    Some(lim.rlim_cur as u64)
}

#[cfg(not(unix))]
fn descriptor_limit() -> Option<u64> {
    None
}

/// Lowers the connection caps so that connections alone cannot use up
/// `limit` descriptors: at most three quarters of what is left after the
/// reserve go to served connections, the rest to overflow answers.
pub(crate) fn fit_caps(config: &mut ServerConfig, limit: Option<u64>) {
    let Some(limit) = limit else { return };
    let room = limit.saturating_sub(RESERVED_DESCRIPTORS).max(2) as usize;
    if config.max_connections + config.overflow_connections <= room {
        return;
    }
    let max = config.max_connections.min(room * 3 / 4).max(1);
    let overflow = config.overflow_connections.min(room - max);
    tracing::warn!(
        descriptors = limit,
        max_connections = max,
        overflow_connections = overflow,
        "the descriptor limit is lower than the configured connection caps; they are lowered to fit"
    );
    config.max_connections = max;
    config.overflow_connections = overflow;
}

/// Serves `router` on `listener` until `shutdown` completes, then lets
/// open requests finish (for at most the request timeout).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    overflow: Router,
    mut config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    fit_caps(&mut config, descriptor_limit());
    let registry = Arc::new(Registry::new());
    let overflow_permits = Arc::new(Semaphore::new(config.overflow_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let config = Arc::new(config);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a connection reset before it
                    // was accepted: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let mut admission = registry.admit(config.max_connections);
        // Connections accepted in a burst may not have been read yet; let
        // their tasks run (a few turns at most) before judging the cap.
        for _ in 0..UNSETTLED_TURNS {
            if !matches!(admission, Admission::Unsettled) {
                break;
            }
            tokio::task::yield_now().await;
            admission = registry.admit(config.max_connections);
        }
        match admission {
            Admission::Admitted(id, conn) => {
                let slot = Slot {
                    registry: registry.clone(),
                    id,
                    conn,
                };
                let (router, config, stop) = (router.clone(), config.clone(), stop_rx.clone());
                tokio::spawn(async move {
                    serve_one(stream, peer, router, &config, slot, stop).await;
                });
            }
            Admission::Unsettled | Admission::Busy => {
                match overflow_permits.clone().try_acquire_owned() {
                    Ok(permit) => {
                        let (overflow, config) = (overflow.clone(), config.clone());
                        tokio::spawn(async move {
                            serve_overflow(stream, peer, overflow, &config).await;
                            drop(permit);
                        });
                    }
                    Err(_) => drop(stream),
                }
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let deadline = Instant::now() + Duration::from_secs(config.request_timeout_secs);
    loop {
        let ended = registry.ended.notified();
        if registry.open().is_empty() || Instant::now() >= deadline {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_millis(100), ended).await;
    }
    Ok(())
}

fn builder(config: &ServerConfig) -> hyper::server::conn::http1::Builder {
    let mut b = hyper::server::conn::http1::Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(config.header_read_timeout_ms))
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    b
}

/// Largest request head (request line and headers) read, in bytes.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;

async fn serve_one(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    config: &ServerConfig,
    slot: Slot,
    mut stop: watch::Receiver<bool>,
) {
    let conn = slot.conn.clone();
    let epoch = Instant::now();
    let base_ms = conn.last_active.load(Ordering::Relaxed);
    let idle = Duration::from_secs(config.idle_timeout_secs);
    let quiet = || {
        Duration::from_millis(
            (base_ms + epoch.elapsed().as_millis() as u64)
                .saturating_sub(conn.last_active.load(Ordering::Relaxed)),
        )
    };
    let io = TokioIo::new(Guarded {
        inner: stream,
        conn: Some((conn.clone(), epoch, base_ms)),
        slot: Some(slot),
        pending: Vec::new(),
        written: 0,
    });
    serve_http(io, peer, router, config, &conn, &mut stop, &quiet).await;
    // The socket is dropped by now, unless the connection was upgraded and
    // its handler holds it. A live upgraded connection counts as busy (it
    // is never closed to make room) and is closed when it falls idle or at
    // shutdown.
    conn.inflight.fetch_add(1, Ordering::AcqRel);
    loop {
        let wait = idle.saturating_sub(quiet()).max(Duration::from_millis(50));
        tokio::select! {
            () = conn.gone.notified() => return,
            () = conn.close.notified() => break,
            _ = stop.changed() => break,
            () = tokio::time::sleep(wait) => {
                if quiet() >= idle {
                    break;
                }
            }
        }
    }
    conn.shut_down();
    let _ = tokio::time::timeout(Duration::from_secs(5), conn.gone.notified()).await;
}

/// Serves HTTP on one connection until it closes, is upgraded, or is
/// closed for being idle, evicted or at shutdown.
async fn serve_http(
    io: TokioIo<Guarded>,
    peer: SocketAddr,
    router: Router,
    config: &ServerConfig,
    conn: &Arc<Conn>,
    stop: &mut watch::Receiver<bool>,
    quiet: &impl Fn() -> Duration,
) {
    let service = {
        let conn = conn.clone();
        hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            let conn = conn.clone();
            conn.inflight.fetch_add(1, Ordering::AcqRel);
            req.extensions_mut().insert(ConnectInfo(peer));
            let call = router.clone().oneshot(req.map(Body::new));
            async move {
                let resp = call.await;
                conn.inflight.fetch_sub(1, Ordering::AcqRel);
                resp
            }
        })
    };
    // Upgrades (the livestream WebSocket) are handed over to their handler;
    // once one is, this connection's HTTP part is done and `served` ends.
    let served = builder(config)
        .serve_connection(io, service)
        .with_upgrades();
    tokio::pin!(served);
    let idle = Duration::from_secs(config.idle_timeout_secs);
    let mut closing = false;
    loop {
        let since = quiet();
        // While a request is in flight the connection is not idle: look
        // again a whole idle period later.
        let wait = if conn.inflight.load(Ordering::Acquire) > 0 {
            idle
        } else {
            idle.saturating_sub(since)
        };
        let idle_check = tokio::time::sleep(wait.max(Duration::from_millis(50)));
        tokio::select! {
            _ = served.as_mut() => return,
            () = conn.close.notified(), if !closing => {
                closing = true;
                served.as_mut().graceful_shutdown();
            }
            _ = stop.changed(), if !closing => {
                closing = true;
                served.as_mut().graceful_shutdown();
            }
            () = idle_check, if !closing => {
                if conn.inflight.load(Ordering::Acquire) == 0 && quiet() >= idle {
                    closing = true;
                    served.as_mut().graceful_shutdown();
                }
            }
        }
        if closing {
            // A request in flight gets its answer; then the socket goes.
            let limit = Duration::from_secs(config.request_timeout_secs + 5);
            let _ = tokio::time::timeout(limit, served.as_mut()).await;
            return;
        }
    }
}

async fn serve_overflow(
    stream: TcpStream,
    peer: SocketAddr,
    overflow: Router,
    config: &ServerConfig,
) {
    let io = TokioIo::new(Guarded {
        inner: stream,
        conn: None,
        slot: None,
        pending: Vec::new(),
        written: 0,
    });
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        overflow.clone().oneshot(req.map(Body::new))
    });
    let mut b = builder(config);
    b.keep_alive(false)
        .header_read_timeout(Duration::from_millis(
            config.header_read_timeout_ms.min(2_000),
        ));
    let served = b.serve_connection(io, service);
    let _ = tokio::time::timeout(Duration::from_secs(5), served).await;
}

/// The socket of one connection: notes when it was last active, and
/// turns hyper's own answers to unparsable requests (400, 414, 431 with
/// an empty body, written before any handler runs) into JSON error
/// answers like every other.
struct Guarded {
    inner: TcpStream,
    conn: Option<(Arc<Conn>, Instant, u64)>,
    /// The connection's place in the registry, given back on drop.
    #[allow(dead_code)]
    slot: Option<Slot>,
    /// A rewritten answer still to be written, and how much of it is.
    pending: Vec<u8>,
    written: usize,
}

impl Guarded {
    fn touch(&self) {
        if let Some((conn, epoch, base)) = &self.conn {
            conn.last_active
                .store(base + epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        }
    }

    /// An error once the connection is shut; before that, notes the task
    /// reading so a shut can wake it.
    fn check_open(&self, cx: &mut Context<'_>, reading: bool) -> io::Result<()> {
        let Some((conn, _, _)) = &self.conn else {
            return Ok(());
        };
        if reading {
            let mut w = conn.reader.lock().unwrap_or_else(|p| p.into_inner());
            if !w.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *w = Some(cx.waker().clone());
            }
        }
        if conn.shut.load(Ordering::Acquire) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the connection was closed by the server",
            ));
        }
        Ok(())
    }

    fn set_waiting(&self, waiting: bool) {
        if let Some((conn, _, _)) = &self.conn {
            conn.waiting.store(waiting, Ordering::Release);
        }
    }

    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n = std::task::ready!(
                Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..])
            )?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        Poll::Ready(Ok(()))
    }
}

/// The JSON answer for one of hyper's automatic error heads, if `buf` is
/// one: a status line of 400, 414 or 431 with `content-length: 0`. (The
/// API's own answers of those codes always carry a JSON body.)
pub(crate) fn rewrite_automatic(buf: &[u8]) -> Option<Vec<u8>> {
    let head = buf.strip_prefix(b"HTTP/1.1 ")?;
    let (code, message) = match head.get(..3)? {
        b"400" => (
            "malformed_request",
            "the request line or a header is not valid HTTP",
        ),
        b"414" => ("uri_too_long", "the request target is too long"),
        b"431" => ("headers_too_large", "the request's headers are too large"),
        _ => return None,
    };
    // Only the head is looked at, and only a head with nothing after it.
    let text = std::str::from_utf8(buf).ok()?;
    let (head_text, rest) = text.split_once("\r\n\r\n")?;
    if !rest.is_empty()
        || !format!("{}\r\n", head_text.to_ascii_lowercase()).contains("\r\ncontent-length: 0\r\n")
    {
        return None;
    }
    let status = std::str::from_utf8(&head[..3]).ok()?;
    let reason = match status {
        "400" => "Bad Request",
        "414" => "URI Too Long",
        _ => "Request Header Fields Too Large",
    };
    let body = serde_json::json!({"error": {"code": code, "message": message}}).to_string();
    Some(
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check_open(cx, true)?;
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.touch();
            self.set_waiting(false);
        } else if r.is_pending() {
            self.set_waiting(true);
        }
        r
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check_open(cx, false)?;
        std::task::ready!(self.drain(cx))?;
        self.touch();
        if let Some(json) = rewrite_automatic(buf) {
            self.pending = json;
            self.written = 0;
            // The rewritten answer is written by the next drain.
            let _ = self.drain(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Writes come one buffer at a time, so a head is seen whole.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_fit_under_the_descriptor_limit() {
        let mut c = ServerConfig::default();
        fit_caps(&mut c, Some(1_000_000));
        assert_eq!((c.max_connections, c.overflow_connections), (2_048, 128));
        fit_caps(&mut c, None);
        assert_eq!((c.max_connections, c.overflow_connections), (2_048, 128));
        fit_caps(&mut c, Some(1_024));
        assert_eq!(c.max_connections, 720);
        assert_eq!(c.overflow_connections, 128);
        assert!(c.max_connections + c.overflow_connections <= 1_024 - 64);
        let mut c = ServerConfig::default();
        fit_caps(&mut c, Some(10));
        assert!(c.max_connections >= 1);
        assert!(c.max_connections + c.overflow_connections <= 2);
    }

    fn admitted(a: Admission) -> (u64, Arc<Conn>) {
        match a {
            Admission::Admitted(id, conn) => (id, conn),
            Admission::Unsettled => panic!("unsettled"),
            Admission::Busy => panic!("busy"),
        }
    }

    #[test]
    fn only_a_connection_waiting_for_a_request_is_closed_to_make_room() {
        let r = Registry::new();
        let (a_id, a) = admitted(r.admit(2));
        let (_, b) = admitted(r.admit(2));
        // Neither socket has been read: either may hold a request already
        // sent, so neither is closed for a newcomer.
        assert!(matches!(r.admit(2), Admission::Unsettled));
        // `a` read nothing more (waits for a request), `b` has one in flight.
        a.waiting.store(true, Ordering::Release);
        b.inflight.store(1, Ordering::Release);
        let (_, c) = admitted(r.admit(2));
        assert!(
            !r.open().contains_key(&a_id),
            "the idle connection was not closed"
        );
        assert_eq!(r.open().len(), 2);
        // `c` is not read yet and `b` is busy: unsettled, then busy once
        // `c` has a request in flight too.
        assert!(matches!(r.admit(2), Admission::Unsettled));
        c.inflight.store(1, Ordering::Release);
        assert!(matches!(r.admit(2), Admission::Busy));
        // A connection that read bytes (part of a head) and then found
        // nothing more is waiting: a slow client can be closed for room.
        c.inflight.store(0, Ordering::Release);
        c.waiting.store(true, Ordering::Release);
        admitted(r.admit(2));
    }

    #[test]
    fn only_hyper_automatic_errors_are_rewritten() {
        let auto = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Mon, 30 Nov 2026 08:00:00 GMT\r\n\r\n";
        let json = String::from_utf8(rewrite_automatic(auto).unwrap()).unwrap();
        assert!(json.starts_with("HTTP/1.1 414 URI Too Long\r\n"));
        assert!(json.contains("content-type: application/json"));
        let body = json.split("\r\n\r\n").nth(1).unwrap();
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "uri_too_long");
        assert!(json.contains(&format!("content-length: {}\r\n", body.len())));
        // The API's own 400s carry bodies and pass untouched.
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 52\r\n\r\n";
        assert!(rewrite_automatic(ours).is_none());
        assert!(rewrite_automatic(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(rewrite_automatic(b"{\"a\":1}").is_none());
    }
}
