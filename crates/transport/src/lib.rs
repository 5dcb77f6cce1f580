//! HTTP exchange for ivr-reports on hyper: moves `http` requests and responses as bytes.
//!
//! Infobip hands each delivery report out **once**: a `GET /tts/3/reports` whose response is
//! lost has consumed its reports all the same. This crate is the HTTP layer built around that
//! fact:
//!
//! - [`Client`] (feature `client`, default) is a pooled HTTP/1.1 and HTTP/2 client on hyper
//!   that retries a request only while the server provably did not process it (connection
//!   refused, DNS or TLS handshake failure, connect timeout, 429/503 honouring `Retry-After`,
//!   HTTP/2 `REFUSED_STREAM`), with exponential backoff, full jitter and a total deadline
//!   ([`RetryPolicy`]). Once a request may have been written, a failure is
//!   [`ErrorKind::ResponseLost`] and is never retried. TLS is rustls (feature `rustls`,
//!   default) with the bundled Mozilla roots, plus roots you add.
//! - [`Auth`] holds the four Infobip authorization schemes (`App`, `Basic`, `IBSSO`,
//!   `Bearer`) in [`Secret`]s that print as `***`; [`redact_url`] shows any URL (HTTP or
//!   `postgres://`) without its password, secret query values or fragment.
//! - [`HttpTransport`] is the small object-safe trait the layers above talk to, and
//!   [`SharedTransport`] the cheap handle that carries any implementation.
//! - [`Server`] (feature `server`) serves an async handler with safe limits: header read
//!   timeout, header size, body size (413), connection cap, keep-alive idle timeout,
//!   500 for a failing or panicking handler, graceful shutdown with a deadline; HTTP/1.1 and
//!   HTTP/2 (prior knowledge) on one port. Credentials come before bodies: an
//!   [`authorize`](ServerBuilder::authorize) check judges each request's head and a
//!   [`Rejection`] is answered before a body byte is read; HTTP/2 streams per connection and
//!   concurrent body reads are bounded, so body memory stays under body size × reads. A
//!   flood of idle or slowloris connections cannot lock real clients out: at the connection
//!   cap (and at a per-peer cap) the oldest connection with no request in flight is shed,
//!   and the server binds with an explicit, deep listen backlog.
//!
//! What it does **not** do: it knows nothing of reports, JSON or XML (that is
//! `ivr-reports-codec` and the `ivr-reports` facade), follows no redirects, speaks through
//! no proxy, and keeps no cookies. hyper, hyper-util, tokio and rustls types stay out of its
//! public API: requests and responses are `http::Request<Bytes>` / `http::Response<Bytes>`.
//! Everything runs on a tokio runtime.
//!
//! # Example
//! ```
//! # #[cfg(all(feature = "client", feature = "server"))]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use bytes::Bytes;
//! use ivr_reports_transport::{Auth, Client, HttpTransport, Server, SharedTransport};
//!
//! // A server answering every request with its own path.
//! let server = Server::builder().bind("127.0.0.1:0".parse()?, |req: http::Request<Bytes>| async move {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(Bytes::from(req.uri().path().to_owned())))
//! })?;
//!
//! let client = Client::builder().auth(Auth::app("api-key")).build()?;
//! let transport = SharedTransport::new(client);
//! let url = format!("http://{}/tts/3/reports", server.local_addr());
//! let response = transport.send(http::Request::get(url).body(Bytes::new())?).await?;
//! assert_eq!(response.body().as_ref(), b"/tts/3/reports");
//!
//! server.shutdown(std::time::Duration::from_secs(5)).await?;
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "client", feature = "server")))]
//! # fn main() {}
//! ```
//!
//! # Features
//! - `client` (default): [`Client`], [`ClientBuilder`], [`RetryPolicy`].
//! - `rustls` (default, implies `client`): `https://` by rustls with the ring provider and
//!   the `webpki-roots` bundle; [`ClientBuilder::add_root_certificate_der`] and friends.
//! - `server`: [`Server`], [`ServerBuilder`], [`ServerHandle`], [`Rejection`], [`AbortConnection`].
//!
//! Without features the crate still offers [`Error`], [`Auth`], [`redact_url`] and the
//! [`HttpTransport`] trait, for crates that bring their own transport.

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// The crate docs name items of every feature. Docs built with some features off render those
// names as plain text; the all-features build (docs.rs, `cargo xtask ci doc`) checks every link.
#![cfg_attr(
    not(all(feature = "client", feature = "rustls", feature = "server")),
    allow(rustdoc::broken_intra_doc_links)
)]

mod auth;
#[cfg(feature = "client")]
mod client;
mod error;
mod redact;
#[cfg(feature = "server")]
mod server;
mod transport;

// The public API, in one place.
pub use crate::auth::{Auth, Secret, is_loopback_host};
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use crate::client::{Client, ClientBuilder, RetryPolicy};
pub use crate::error::{Error, ErrorKind};
pub use crate::redact::{SECRET_SEGMENT_MIN_LEN, redact_path, redact_url};
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use crate::server::{AbortConnection, Rejection, Server, ServerBuilder, ServerHandle};
pub use crate::transport::{BoxFuture, HttpTransport, ReplaySafe, SharedTransport, Throttled};

/// This crate's README.md example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadmeDoctests;
