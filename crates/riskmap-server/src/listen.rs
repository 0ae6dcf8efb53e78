//! The accept loop: HTTP/1.1 connections with read timeouts, a connection
//! cap, eviction of idle connections and load shedding.
//!
//! `axum::serve` has no header or body read timeout and no connection
//! limit, so a few thousand clients that send half a request head can use
//! up the process's file descriptors. Here:
//! - the request head must arrive within [`ConnLimits::header_timeout`],
//!   which is also how long an idle keep-alive connection is kept (hyper
//!   starts that timer whenever the connection waits for a request);
//! - the body must keep flowing ([`ConnLimits::body_idle_timeout`] between
//!   chunks) and end within [`ConnLimits::body_deadline`]: else 408;
//! - at most [`ConnLimits::max_connections`] are open. At the cap a new
//!   connection closes the oldest connection that has no request in
//!   flight (a slow or idle client), and when every connection is busy the
//!   newcomer gets `503 Service Unavailable` with `Retry-After` and is
//!   closed (load shedding);
//! - when `accept` fails for want of file descriptors the loop pauses
//!   briefly instead of spinning, and keeps serving open connections.
//!
//! HTTP/2 is not offered: browsers use it only over TLS, which a reverse
//! proxy in front of riskmap ends, and it would need its own limits.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tower::ServiceExt;
use tower_http::timeout::{DeadlineBody, TimeoutBody};

/// Limits on connections; see the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// Time to send a whole request head, and to start the next request on
    /// a kept-alive connection.
    pub header_timeout: Duration,
    /// Longest pause between two chunks of a request body.
    pub body_idle_timeout: Duration,
    /// Longest time to send a whole request body.
    pub body_deadline: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self {
            max_connections: 2048,
            header_timeout: Duration::from_secs(10),
            body_idle_timeout: Duration::from_secs(10),
            body_deadline: Duration::from_secs(120),
        }
    }
}

/// The answer to a connection over the cap when none can be evicted.
const SHED_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: text/plain; charset=utf-8\r\nretry-after: 1\r\nconnection: close\r\n\
content-length: 58\r\n\r\nthe server is at its connection limit; retry in a second\r\n";

/// Serves `router` on `listener` within `limits` until `shutdown`
/// completes; then stops accepting, lets requests in flight finish and
/// returns once every connection has closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let conns = Arc::new(Registry::default());
    // Sent once on shutdown; every connection watches it.
    let (stop_tx, stop_rx) = watch::channel(false);
    // Held by every connection: closed when the last one ends.
    let (done_tx, done_rx) = watch::channel(());
    tokio::pin!(shutdown);
    let mut fd_warned = false;
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // EMFILE/ENFILE and friends: wait for connections to close.
                if !fd_warned {
                    tracing::warn!("accept failed ({e}); pausing new connections briefly");
                    fd_warned = true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        fd_warned = false;
        let _ = stream.set_nodelay(true);
        if conns.open.load(Ordering::Relaxed) >= limits.max_connections && !conns.evict_oldest() {
            tokio::spawn(shed(stream));
            continue;
        }
        let conn = conns.open_conn();
        let router = router.clone();
        let stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            serve_conn(stream, router, limits, conn, stop).await;
            drop(done);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(done_rx);
    done_tx.closed().await;
    Ok(())
}

/// Answers 503 and closes without parsing the request (bounded in time).
/// The close lingers: what the client sent is read and dropped until it
/// closes too (at most 250 ms, 64 KiB), since closing a socket with unread
/// data resets the connection, and a reset can destroy the 503 before the
/// client reads it.
async fn shed(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(SHED_RESPONSE).await?;
        stream.shutdown().await
    })
    .await;
    let _ = tokio::time::timeout(Duration::from_millis(250), async {
        let mut buf = [0u8; 4096];
        let mut total = 0usize;
        while total < 64 * 1024 {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    })
    .await;
}

async fn serve_conn(
    stream: TcpStream,
    router: Router,
    limits: ConnLimits,
    conn: Arc<Conn>,
    mut stop: watch::Receiver<bool>,
) {
    let peer = stream.peer_addr().ok();
    let service = {
        let conn = conn.clone();
        hyper::service::service_fn(move |mut req: Request<Incoming>| {
            if let Some(peer) = peer {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
            }
            let busy = Busy::begin(conn.clone());
            let req = req.map(|b| {
                if hyper::body::Body::is_end_stream(&b) {
                    Body::new(b)
                } else {
                    Body::new(DeadlineBody::new(
                        limits.body_deadline,
                        TimeoutBody::new(limits.body_idle_timeout, b),
                    ))
                }
            });
            let router = router.clone();
            async move {
                let res = match router.oneshot(req).await {
                    Ok(res) => res,
                    Err(never) => match never {},
                };
                Ok::<_, Infallible>(res.map(|body| Body::new(BusyBody { body, _busy: busy })))
            }
        })
    };
    let http = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(http);
    let mut stopping = *stop.borrow();
    if stopping {
        http.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            r = http.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!("connection ended: {e}");
                }
                break;
            }
            () = conn.evicted.notified() => {
                tracing::debug!("connection evicted at the connection limit");
                break;
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    http.as_mut().graceful_shutdown();
                }
            }
        }
    }
    conn.registry.close(&conn);
}

/// Open connections, and which of them have no request in flight.
#[derive(Default)]
struct Registry {
    open: AtomicUsize,
    next: AtomicU64,
    /// Connections without a request in flight, oldest first (by the
    /// sequence number taken when they became idle).
    idle: Mutex<BTreeMap<u64, Arc<Conn>>>,
}

struct Conn {
    registry: Arc<Registry>,
    /// Requests in flight, and the key in `idle` while there are none.
    state: Mutex<ConnState>,
    evicted: Notify,
}

#[derive(Default)]
struct ConnState {
    in_flight: usize,
    idle_key: Option<u64>,
    closed: bool,
}

impl Registry {
    fn open_conn(self: &Arc<Self>) -> Arc<Conn> {
        self.open.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            registry: self.clone(),
            state: Mutex::new(ConnState::default()),
            evicted: Notify::new(),
        });
        self.mark_idle(&conn);
        conn
    }

    fn mark_idle(&self, conn: &Arc<Conn>) {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        lock(&conn.state).idle_key = Some(key);
        lock(&self.idle).insert(key, conn.clone());
    }

    /// Closes the oldest idle connection; false when every one is busy.
    fn evict_oldest(&self) -> bool {
        let Some((_, conn)) = lock(&self.idle).pop_first() else {
            return false;
        };
        lock(&conn.state).idle_key = None;
        // Stored if the task is not waiting yet: it sees it at its next poll.
        conn.evicted.notify_one();
        true
    }

    fn close(&self, conn: &Arc<Conn>) {
        let key = {
            let mut s = lock(&conn.state);
            s.closed = true;
            s.idle_key.take()
        };
        if let Some(key) = key {
            lock(&self.idle).remove(&key);
        }
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A request in flight on a connection, from its head until its response
/// body is sent or dropped: the connection cannot be evicted meanwhile.
struct Busy(Arc<Conn>);

impl Busy {
    fn begin(conn: Arc<Conn>) -> Self {
        let key = {
            let mut s = lock(&conn.state);
            s.in_flight += 1;
            s.idle_key.take()
        };
        if let Some(key) = key {
            lock(&conn.registry.idle).remove(&key);
        }
        Self(conn)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let now_idle = {
            let mut s = lock(&self.0.state);
            s.in_flight = s.in_flight.saturating_sub(1);
            s.in_flight == 0 && s.idle_key.is_none() && !s.closed
        };
        if now_idle {
            self.0.registry.mark_idle(&self.0);
        }
    }
}

/// A response body that keeps its connection busy until it is done.
struct BusyBody {
    body: Body,
    _busy: Busy,
}

impl hyper::body::Body for BusyBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
