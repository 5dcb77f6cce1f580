//! The hardened server: serve an async handler with limits, and shut it down gracefully.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use crate::error::{BoxError, Error, ErrorKind};
use crate::transport::BoxFuture;

fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |e| {
        Error::of(ErrorKind::Io)
            .with_context(context)
            .with_source(e)
    }
}

/// hyper refuses a read buffer below this size.
const MIN_BUF_SIZE: usize = 8192;

type Handler =
    dyn Fn(Request<Bytes>) -> BoxFuture<'static, Result<Response<Bytes>, BoxError>> + Send + Sync;

/// The pre-body check: sees a request's head, answers it at once or lets it through.
type HeadCheck = dyn Fn(&http::request::Parts) -> Result<(), Rejection> + Send + Sync;

/// The largest HTTP/2 flow-control window of one stream: what a stream may have in flight
/// before its body is read. The connection window is this times the stream limit, so streams
/// waiting for a body-read permit can never starve the ones reading.
const STREAM_WINDOW: u32 = 64 * 1024;

/// The shutdown signal: `None` while serving, then the instant by which to be done.
type Signal = watch::Receiver<Option<Instant>>;

/// The entry point of the server: [`Server::builder`] for limits, [`Server::bind`] for the
/// defaults.
///
/// A handler takes the whole request (`http::Request<Bytes>`, body already read within the
/// limit) and returns a response or an error. An error or a panic becomes a bare `500` for
/// that request; the connection and the server go on.
#[derive(Debug)]
#[non_exhaustive]
pub struct Server;

impl Server {
    /// A builder with safe default limits.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new()
    }

    /// Serves `handler` on `addr` with the default limits. See [`ServerBuilder::bind`].
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when the address cannot be bound or no tokio runtime is running.
    pub fn bind<H, F, E>(addr: SocketAddr, handler: H) -> Result<ServerHandle, Error>
    where
        H: Fn(Request<Bytes>) -> F + Send + Sync + 'static,
        F: Future<Output = Result<Response<Bytes>, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        ServerBuilder::new().bind(addr, handler)
    }
}

/// Limits and timeouts of a [`Server`]. Every setter documents its default.
///
/// The memory a server may spend on request bodies is bounded by
/// [`max_body_bytes`](ServerBuilder::max_body_bytes) times
/// [`max_concurrent_body_reads`](ServerBuilder::max_concurrent_body_reads) (by default
/// 8 MiB × 64), plus one small flow-control window per HTTP/2 stream; a request rejected by
/// [`authorize`](ServerBuilder::authorize) costs no body memory at all.
#[derive(Clone)]
#[must_use]
pub struct ServerBuilder {
    header_read_timeout: Duration,
    max_header_bytes: usize,
    max_body_bytes: u64,
    max_connections: usize,
    idle_timeout: Duration,
    body_read_timeout: Duration,
    max_concurrent_streams: u32,
    max_concurrent_body_reads: usize,
    max_connections_per_peer: usize,
    listen_backlog: u32,
    authorize: Option<Arc<HeadCheck>>,
}

impl Default for ServerBuilder {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 16 * 1024,
            max_body_bytes: 8 * 1024 * 1024,
            max_connections: 1024,
            idle_timeout: Duration::from_secs(60),
            body_read_timeout: Duration::from_secs(30),
            max_concurrent_streams: 32,
            max_concurrent_body_reads: 64,
            max_connections_per_peer: 256,
            listen_backlog: 1024,
            authorize: None,
        }
    }
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("header_read_timeout", &self.header_read_timeout)
            .field("max_header_bytes", &self.max_header_bytes)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_connections", &self.max_connections)
            .field("idle_timeout", &self.idle_timeout)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("max_concurrent_streams", &self.max_concurrent_streams)
            .field("max_concurrent_body_reads", &self.max_concurrent_body_reads)
            .field("max_connections_per_peer", &self.max_connections_per_peer)
            .field("listen_backlog", &self.listen_backlog)
            .field("authorize", &self.authorize.as_ref().map(|_| "<check>"))
            .finish()
    }
}

impl ServerBuilder {
    /// A builder with the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The time a client has to send a request's complete head; slower clients (slowloris)
    /// are disconnected. Default 10 s. A new connection must deliver its first request head
    /// (HTTP/1.1) or start its first stream (HTTP/2) within it too. hyper also runs this
    /// timer while an HTTP/1.1 connection waits for its next request.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// The largest request head accepted, in bytes (HTTP/1.1 read buffer, at least 8 KiB;
    /// HTTP/2 header list). Default 16 KiB. Larger heads get `431` (HTTP/1.1) or a stream
    /// error (HTTP/2).
    pub fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.max_header_bytes = bytes;
        self
    }

    /// The largest request body accepted, in bytes. Default 8 MiB. A larger body gets `413`
    /// without being read to its end (at once when `Content-Length` announces it), and the
    /// HTTP/1.1 connection is closed.
    pub fn max_body_bytes(mut self, bytes: u64) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// The most connections served at once. When a new connection arrives at the cap, the
    /// oldest connection with no request in flight (idle between requests, or still sending
    /// its first head, as a slowloris does) is closed to make room, so a flood of idle
    /// connections cannot lock out a real client. Only when every connection has a request
    /// in flight do new ones wait in the listen backlog. Default 1024; 0 counts as 1.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// The most connections one peer IP address may hold. A new connection beyond it closes
    /// that peer's oldest connection with no request in flight, or, when all of them are
    /// busy, is closed at once. Default 256; 0 counts as 1.
    pub fn max_connections_per_peer(mut self, max: usize) -> Self {
        self.max_connections_per_peer = max.max(1);
        self
    }

    /// The listen backlog (connections the kernel completes before they are accepted) when
    /// the server binds the address itself ([`bind`](ServerBuilder::bind),
    /// [`listen`](ServerBuilder::listen)); the kernel may cap it (`net.core.somaxconn`).
    /// Default 1024.
    pub fn listen_backlog(mut self, backlog: u32) -> Self {
        self.listen_backlog = backlog.max(1);
        self
    }

    /// Binds `addr` with this builder's [`listen_backlog`](ServerBuilder::listen_backlog),
    /// for callers that need the bound address before they [`serve`](ServerBuilder::serve).
    /// Call within a tokio runtime.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when the address cannot be bound or no tokio runtime is running.
    pub fn listen(&self, addr: SocketAddr) -> Result<std::net::TcpListener, Error> {
        let bind = || -> std::io::Result<std::net::TcpListener> {
            let socket = if addr.is_ipv4() {
                tokio::net::TcpSocket::new_v4()?
            } else {
                tokio::net::TcpSocket::new_v6()?
            };
            // As std's TcpListener::bind does: a restarted server can take its port back
            // while old connections linger in TIME_WAIT.
            #[cfg(unix)]
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(self.listen_backlog)?.into_std()
        };
        let _runtime = tokio::runtime::Handle::try_current().map_err(|e| {
            Error::of(ErrorKind::Io)
                .with_context("the server needs a running tokio runtime")
                .with_source(e)
        })?;
        bind().map_err(|e| {
            Error::of(ErrorKind::Io)
                .with_context("could not bind the address")
                .with_source(e)
        })
    }

    /// How long a connection may stay open with no request in flight before it is closed.
    /// Default 60 s.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The time a request's body may take to arrive once its read has begun; a slower one
    /// gets `408` (and the HTTP/1.1 connection is closed), so a trickling upload cannot hold
    /// a [body-read permit](ServerBuilder::max_concurrent_body_reads) for ever. Default 30 s.
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// How many HTTP/2 streams (requests) one connection may have open at once; the client
    /// is told in its SETTINGS and further streams are refused (`REFUSED_STREAM`, safe to
    /// retry). Default 32; 0 counts as 1.
    pub fn max_concurrent_streams(mut self, max: u32) -> Self {
        self.max_concurrent_streams = max.max(1);
        self
    }

    /// How many request bodies are read at once, over all connections; further requests
    /// wait (their bodies unread, held back by TCP or HTTP/2 flow control) until a read
    /// finishes. With [`max_body_bytes`](ServerBuilder::max_body_bytes) this caps the memory
    /// bodies can take. Requests without a body never wait. Default 64; 0 counts as 1.
    pub fn max_concurrent_body_reads(mut self, max: usize) -> Self {
        self.max_concurrent_body_reads = max.max(1);
        self
    }

    /// A check run on each request's head (method, URI, version, headers) **before any
    /// body byte is read**, typically authorization. `Ok(())` lets the request through to
    /// the body limit and the handler; `Err(`[`Rejection`]`)` is sent at once and the body is
    /// never read: on HTTP/1.1 with `Connection: close` (the unread body cannot be
    /// skipped), on HTTP/2 followed by a reset of the stream. Default: no check.
    ///
    /// The check runs on the connection's task: keep it quick and non-blocking.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use bytes::Bytes;
    /// use http::{StatusCode, header};
    /// use ivr_reports_transport::{Rejection, Server};
    ///
    /// let server = Server::builder()
    ///     .authorize(|head: &http::request::Parts| {
    ///         match head.headers.get(header::AUTHORIZATION) {
    ///             Some(v) if v == "App secret" => Ok(()),
    ///             _ => Err(Rejection::status(StatusCode::UNAUTHORIZED)),
    ///         }
    ///     })
    ///     .bind("127.0.0.1:0".parse()?, |req: http::Request<Bytes>| async move {
    ///         Ok::<_, std::convert::Infallible>(http::Response::new(req.into_body()))
    ///     })?;
    /// # server.shutdown(std::time::Duration::from_secs(1)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn authorize<C>(mut self, check: C) -> Self
    where
        C: Fn(&http::request::Parts) -> Result<(), Rejection> + Send + Sync + 'static,
    {
        self.authorize = Some(Arc::new(check));
        self
    }

    /// Binds `addr` and serves `handler` on it. Call within a tokio runtime.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when the address cannot be bound or no tokio runtime is running.
    pub fn bind<H, F, E>(self, addr: SocketAddr, handler: H) -> Result<ServerHandle, Error>
    where
        H: Fn(Request<Bytes>) -> F + Send + Sync + 'static,
        F: Future<Output = Result<Response<Bytes>, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let listener = self.listen(addr)?;
        self.serve(listener, handler)
    }

    /// Serves `handler` on an already bound listener. Call within a tokio runtime.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when the listener cannot be made non-blocking or no tokio runtime
    /// is running.
    pub fn serve<H, F, E>(
        self,
        listener: std::net::TcpListener,
        handler: H,
    ) -> Result<ServerHandle, Error>
    where
        H: Fn(Request<Bytes>) -> F + Send + Sync + 'static,
        F: Future<Output = Result<Response<Bytes>, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| {
            Error::of(ErrorKind::Io)
                .with_context("the server needs a running tokio runtime")
                .with_source(e)
        })?;
        listener
            .set_nonblocking(true)
            .map_err(io("could not make the listener non-blocking"))?;
        let local_addr = listener
            .local_addr()
            .map_err(io("could not read the listener's address"))?;
        let listener = {
            let _entered = runtime.enter();
            TcpListener::from_std(listener).map_err(io("could not register the listener"))?
        };
        let handler: Arc<Handler> = Arc::new(move |req| {
            let fut = handler(req);
            Box::pin(async move { fut.await.map_err(Into::into) })
        });
        let mut http = auto::Builder::new(TokioExecutor::new());
        http.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_buf_size(self.max_header_bytes.max(MIN_BUF_SIZE))
            .keep_alive(true);
        http.http2()
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(self.max_header_bytes).unwrap_or(u32::MAX))
            .max_concurrent_streams(self.max_concurrent_streams)
            .initial_stream_window_size(STREAM_WINDOW)
            .initial_connection_window_size(
                STREAM_WINDOW.saturating_mul(self.max_concurrent_streams),
            );
        let shared = Arc::new(Shared {
            http,
            handler,
            authorize: self.authorize,
            body_reads: Arc::new(Semaphore::new(self.max_concurrent_body_reads)),
            max_body_bytes: self.max_body_bytes,
            idle_timeout: self.idle_timeout,
            body_read_timeout: self.body_read_timeout,
            header_read_timeout: self.header_read_timeout,
            slots: Arc::new(Semaphore::new(self.max_connections)),
            max_connections_per_peer: self.max_connections_per_peer,
            registry: Mutex::new(Registry::default()),
        });
        let (signal_tx, signal_rx) = watch::channel(None);
        let task = runtime.spawn(accept_loop(listener, shared, signal_rx));
        Ok(ServerHandle {
            local_addr,
            signal: signal_tx,
            task: Some(task),
        })
    }
}

/// The answer of an [`authorize`](ServerBuilder::authorize) check that turns a request away
/// before its body is read: any response, e.g. a `401` in the API's own error format.
///
/// ```
/// use http::StatusCode;
/// use ivr_reports_transport::Rejection;
///
/// let bare = Rejection::status(StatusCode::UNAUTHORIZED);
/// assert_eq!(bare.response().status(), StatusCode::UNAUTHORIZED);
/// let custom = Rejection::from(http::Response::new(bytes::Bytes::from_static(b"{}")));
/// assert_eq!(custom.into_response().body().as_ref(), b"{}");
/// ```
#[derive(Debug)]
pub struct Rejection(Box<Response<Bytes>>);

impl Rejection {
    /// Rejects with `response`.
    #[must_use]
    pub fn new(response: Response<Bytes>) -> Self {
        Self(Box::new(response))
    }

    /// Rejects with `status` and its reason as a plain-text body.
    #[must_use]
    pub fn status(status: StatusCode) -> Self {
        Self::new(plain_bytes(status, false))
    }

    /// The response that will be sent.
    #[must_use]
    pub fn response(&self) -> &Response<Bytes> {
        &self.0
    }

    /// The response that will be sent, by value.
    #[must_use]
    pub fn into_response(self) -> Response<Bytes> {
        *self.0
    }
}

impl From<Response<Bytes>> for Rejection {
    fn from(response: Response<Bytes>) -> Self {
        Self::new(response)
    }
}

/// The error a handler returns to drop the connection without answering: the client sees
/// the connection close (HTTP/1.1) or the stream reset (HTTP/2), never a response.
///
/// For test servers that simulate a lost response, such as a sandbox whose reports were
/// taken but never delivered. Any other handler error becomes a 500.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AbortConnection;

impl fmt::Display for AbortConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the handler dropped the connection without a response")
    }
}

impl std::error::Error for AbortConnection {}

/// A running server. Dropping it stops the server at once (in-flight requests are cut);
/// [`shutdown`](ServerHandle::shutdown) stops it gracefully.
pub struct ServerHandle {
    local_addr: SocketAddr,
    signal: watch::Sender<Option<Instant>>,
    task: Option<JoinHandle<bool>>,
}

impl ServerHandle {
    /// The address the server listens on (the real port when bound to port 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections, lets in-flight requests finish within `grace`, closes
    /// idle connections, and waits until every connection is closed.
    ///
    /// # Errors
    /// [`ErrorKind::ShutdownTimedOut`] when requests were still running at the deadline (they
    /// were cut).
    pub async fn shutdown(mut self, grace: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + grace;
        self.signal.send_replace(Some(deadline));
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        match task.await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::of(ErrorKind::ShutdownTimedOut)),
            Err(e) => Err(Error::of(ErrorKind::Io)
                .with_context("the server task failed")
                .with_source(e)),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

struct Shared {
    http: auto::Builder<TokioExecutor>,
    handler: Arc<Handler>,
    authorize: Option<Arc<HeadCheck>>,
    /// Permits to read a body: bounds the memory bodies take.
    body_reads: Arc<Semaphore>,
    max_body_bytes: u64,
    idle_timeout: Duration,
    body_read_timeout: Duration,
    header_read_timeout: Duration,
    slots: Arc<Semaphore>,
    max_connections_per_peer: usize,
    /// The open connections, for shedding the oldest idle one.
    registry: Mutex<Registry>,
}

/// One open connection as the accept loop sees it.
struct Tracked {
    peer: IpAddr,
    activity: Arc<Activity>,
    /// Told when the connection is to be closed to make room.
    shed: Arc<Notify>,
}

/// The open connections in accept order (oldest first), and how many each peer holds.
/// A shed connection leaves the registry at once, before its task has ended.
#[derive(Default)]
struct Registry {
    next: u64,
    open: BTreeMap<u64, Tracked>,
    per_peer: HashMap<IpAddr, usize>,
}

impl Registry {
    fn add(&mut self, peer: IpAddr, activity: Arc<Activity>, shed: Arc<Notify>) -> u64 {
        let id = self.next;
        self.next += 1;
        self.open.insert(
            id,
            Tracked {
                peer,
                activity,
                shed,
            },
        );
        *self.per_peer.entry(peer).or_insert(0) += 1;
        id
    }

    fn remove(&mut self, id: u64) -> Option<Tracked> {
        let gone = self.open.remove(&id)?;
        if let Some(n) = self.per_peer.get_mut(&gone.peer) {
            *n -= 1;
            if *n == 0 {
                self.per_peer.remove(&gone.peer);
            }
        }
        Some(gone)
    }

    fn count(&self, peer: IpAddr) -> usize {
        self.per_peer.get(&peer).copied().unwrap_or(0)
    }

    /// Tells the oldest connection with no request in flight (of `peer`, or of anyone) to
    /// close; returns whether there was one.
    fn shed_oldest_idle(&mut self, peer: Option<IpAddr>) -> bool {
        let victim = self
            .open
            .iter()
            .find(|(_, t)| {
                peer.is_none_or(|p| t.peer == p)
                    && t.activity.in_flight.load(Ordering::Acquire) == 0
            })
            .map(|(id, _)| *id);
        match victim.and_then(|id| self.remove(id)) {
            Some(t) => {
                t.shed.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Takes a connection out of the registry when its task ends, however it ends.
struct Registered {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Ok(mut registry) = self.shared.registry.lock() {
            registry.remove(self.id);
        }
    }
}

/// Accepts connections until the signal; returns whether every connection finished in time.
///
/// At the connection cap (or a peer's cap) the oldest connection with no request in flight
/// is shed to make room; only when none is idle does accepting wait for a slot.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut signal: Signal) -> bool {
    let mut connections = JoinSet::new();
    let deadline = loop {
        while connections.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors or a connection reset before accept: pause
                    // briefly rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            changed = signal.changed() => break stop_at(changed, &signal),
        };
        let peer = peer.ip();
        if let Ok(mut registry) = shared.registry.lock()
            && registry.count(peer) >= shared.max_connections_per_peer
            && !registry.shed_oldest_idle(Some(peer))
        {
            // Every connection of this peer is busy: refuse this one rather than stall
            // everyone else's accepts.
            drop(stream);
            continue;
        }
        let permit = tokio::select! {
            permit = make_room(&shared) => match permit {
                Some(permit) => permit,
                None => break Instant::now(),
            },
            changed = signal.changed() => break stop_at(changed, &signal),
        };
        let activity = Arc::new(Activity {
            in_flight: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
            seen: AtomicBool::new(false),
        });
        let shed = Arc::new(Notify::new());
        let Ok(mut registry) = shared.registry.lock() else {
            break Instant::now();
        };
        let id = registry.add(peer, activity.clone(), shed.clone());
        drop(registry);
        let registered = Registered {
            shared: shared.clone(),
            id,
        };
        connections.spawn(serve_connection(
            stream,
            shared.clone(),
            signal.clone(),
            (permit, registered),
            activity,
            shed,
        ));
    };
    drop(listener);
    let all_closed = async { while connections.join_next().await.is_some() {} };
    // On timeout `connections` is dropped, which aborts what is left.
    tokio::time::timeout_at(deadline, all_closed).await.is_ok()
}

/// A connection slot: at once if one is free, else by shedding the oldest idle connection;
/// while every connection is busy, looks again every 50 ms (one may have gone idle).
/// `None` when the semaphore is closed.
async fn make_room(shared: &Shared) -> Option<OwnedSemaphorePermit> {
    loop {
        if let Ok(permit) = shared.slots.clone().try_acquire_owned() {
            return Some(permit);
        }
        if let Ok(mut registry) = shared.registry.lock() {
            registry.shed_oldest_idle(None);
        }
        tokio::select! {
            permit = shared.slots.clone().acquire_owned() => return permit.ok(),
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
}

fn stop_at(changed: Result<(), watch::error::RecvError>, signal: &Signal) -> Instant {
    match changed {
        Ok(()) => signal.borrow().unwrap_or_else(Instant::now),
        Err(_) => Instant::now(),
    }
}

/// What a connection's watchdog needs: requests in flight and the last activity.
struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
    /// Whether a request head ever arrived.
    seen: AtomicBool,
}

impl Activity {
    fn touch(&self) {
        if let Ok(mut last) = self.last.lock() {
            *last = Instant::now();
        }
    }

    fn idle_since(&self) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        self.last.lock().map(|last| *last).ok()
    }
}

/// Counts a request in flight for as long as it lives.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.seen.store(true, Ordering::Release);
        Self(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn serve_connection(
    stream: TcpStream,
    shared: Arc<Shared>,
    mut signal: Signal,
    _slot: (OwnedSemaphorePermit, Registered),
    activity: Arc<Activity>,
    shed: Arc<Notify>,
) {
    // Responses go out at once; failure here only costs latency.
    let _ = stream.set_nodelay(true);
    let service = {
        let shared = shared.clone();
        let activity = activity.clone();
        service_fn(move |req| handle(req, shared.clone(), InFlight::new(&activity)))
    };
    let conn = shared.http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut closing = false;
    if signal.borrow().is_some() {
        conn.as_mut().graceful_shutdown();
        closing = true;
    }
    loop {
        // Until a first request head arrives, the connection gets the header read timeout
        // (covers the HTTP/1-or-2 detection hyper's own timer does not); then the idle one.
        let limit = if activity.seen.load(Ordering::Acquire) {
            shared.idle_timeout
        } else {
            shared.idle_timeout.min(shared.header_read_timeout)
        };
        let idle_deadline = activity
            .idle_since()
            .map_or_else(|| Instant::now() + limit, |since| since + limit);
        tokio::select! {
            _ = conn.as_mut() => break,
            () = shed.notified(), if !closing => {
                // Shed to make room: with nothing in flight, close at once; a request
                // that started meanwhile is finished first.
                if activity.in_flight.load(Ordering::Acquire) == 0 {
                    break;
                }
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            changed = signal.changed(), if !closing => {
                // A closed channel means the server is gone: close too.
                let _ = changed;
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            () = tokio::time::sleep_until(idle_deadline), if !closing => {
                if activity
                    .idle_since()
                    .is_some_and(|since| since + limit <= Instant::now())
                {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    _in_flight: InFlight,
) -> Result<Response<Full<Bytes>>, AbortConnection> {
    let (parts, body) = req.into_parts();
    // Logged without the query (it may carry filters or secrets), without headers, and
    // without path segments that may be a secret token (a webhook's secret path).
    let method = parts.method.clone();
    let path = crate::redact_path(parts.uri.path()).into_owned();
    // HTTP/1.1 cannot skip an unread body: close the connection. HTTP/2 resets the stream
    // when the body is dropped, and forbids a `connection` header.
    let close = parts.version < http::Version::HTTP_2;
    if let Some(check) = &shared.authorize {
        // A panicking check is a failed request, like a panicking handler.
        let rejection = std::panic::catch_unwind(AssertUnwindSafe(|| check(&parts).err()));
        match rejection {
            Ok(None) => {}
            Ok(Some(rejection)) => {
                let close = close && !body.is_end_stream();
                return Ok(unread(rejection.into_response(), close));
            }
            Err(_) => return Ok(plain(StatusCode::INTERNAL_SERVER_ERROR, close)),
        }
    }
    // Only a body to read takes a permit: a bodiless GET never waits behind uploads.
    let _permit = if body.is_end_stream() {
        None
    } else {
        match shared.body_reads.clone().acquire_owned().await {
            Ok(permit) => Some(permit),
            Err(_) => return Ok(plain(StatusCode::SERVICE_UNAVAILABLE, close)),
        }
    };
    let read = read_body(&parts.headers, body, shared.max_body_bytes);
    let body = match tokio::time::timeout(shared.body_read_timeout, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(status)) => {
            tracing::warn!(%method, path, status = status.as_u16(), "request body refused");
            return Ok(plain(status, close));
        }
        Err(_) => {
            tracing::warn!(%method, path, "request body too slow: answered 408");
            return Ok(plain(StatusCode::REQUEST_TIMEOUT, close));
        }
    };
    drop(_permit);
    let request = Request::from_parts(parts, body);
    let outcome = CatchUnwind((shared.handler)(request)).await;
    let response = match outcome {
        Ok(Ok(response)) => response.map(Full::new),
        Ok(Err(e)) if e.is::<AbortConnection>() => {
            tracing::debug!(%method, path, "connection dropped without a response, as asked");
            return Err(AbortConnection);
        }
        // The error or panic stays on the server: the client learns only that it failed.
        Ok(Err(e)) => {
            tracing::error!(%method, path, error = %e, "the handler failed: answered 500");
            plain(StatusCode::INTERNAL_SERVER_ERROR, false)
        }
        Err(()) => {
            tracing::error!(%method, path, "the handler panicked: answered 500");
            plain(StatusCode::INTERNAL_SERVER_ERROR, false)
        }
    };
    tracing::debug!(%method, path, status = response.status().as_u16(), "served");
    Ok(response)
}

/// Reads a request body within `cap`; `Err(413)` without reading the rest when it is larger.
async fn read_body(
    headers: &http::HeaderMap,
    mut body: Incoming,
    cap: u64,
) -> Result<Bytes, StatusCode> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > cap) {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    // The announced length (within the cap) is reserved once, rather than grown by doubling.
    let mut buf =
        BytesMut::with_capacity(declared.map_or(0, |len| usize::try_from(len).unwrap_or(0)));
    let mut first: Option<Bytes> = None;
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| StatusCode::BAD_REQUEST)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len() as u64);
        if total > cap {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        }
        match first.take() {
            None if buf.is_empty() => first = Some(data),
            None => buf.extend_from_slice(&data),
            Some(head) => {
                buf.reserve(head.len() + data.len());
                buf.extend_from_slice(&head);
                buf.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
}

/// A rejection sent before the body was read: on HTTP/1.1 the connection then closes.
fn unread(response: Response<Bytes>, close: bool) -> Response<Full<Bytes>> {
    let mut response = response.map(Full::new);
    if close {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

fn plain(status: StatusCode, close: bool) -> Response<Full<Bytes>> {
    plain_bytes(status, close).map(Full::new)
}

/// A bare plain-text response: the status and its reason.
fn plain_bytes(status: StatusCode, close: bool) -> Response<Bytes> {
    let text = status
        .canonical_reason()
        .unwrap_or("error")
        .to_ascii_lowercase();
    let mut response = Response::new(Bytes::from(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if close {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Polls a boxed future, turning a panic into `Err(())`.
struct CatchUnwind<T>(BoxFuture<'static, T>);

impl<T> Future for CatchUnwind<T> {
    type Output = Result<T, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(move || inner.poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn catch_unwind_turns_a_panic_into_an_error() {
        let ok: BoxFuture<'static, u8> = Box::pin(async { 7 });
        assert_eq!(CatchUnwind(ok).await, Ok(7));
        let boom: BoxFuture<'static, u8> = Box::pin(async { panic!("handler bug") });
        assert_eq!(CatchUnwind(boom).await, Err(()));
    }

    #[test]
    fn serving_without_a_runtime_is_an_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let err = Server::builder()
            .serve(listener, |_req| async {
                Ok::<_, std::convert::Infallible>(Response::new(Bytes::new()))
            })
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
    }

    #[test]
    fn defaults_are_safe() {
        let b = ServerBuilder::new();
        assert_eq!(b.max_body_bytes, 8 * 1024 * 1024);
        assert_eq!(b.header_read_timeout, Duration::from_secs(10));
        assert_eq!(ServerBuilder::new().max_connections(0).max_connections, 1);
        assert_eq!(b.max_concurrent_streams, 32);
        assert_eq!(b.max_concurrent_body_reads, 64);
        assert_eq!(b.max_connections_per_peer, 256);
        assert_eq!(b.listen_backlog, 1024);
        assert_eq!(b.body_read_timeout, Duration::from_secs(30));
        assert!(b.authorize.is_none());
    }
}
