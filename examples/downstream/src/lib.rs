//! An example downstream crate: it extends `ivr-reports` at each of its extension points,
//! through public API only, as a crate outside this repository would.
//!
//! - [`MiniHttp`]: an [`HttpTransport`](ivr_reports::HttpTransport) of its own (plain
//!   HTTP/1.1 on a tokio `TcpStream`, one connection per request), which reports a lost
//!   response as `ResponseLost` and a response timeout as a timed-out `ResponseLost`.
//! - [`MemorySink`]: a [`Sink`](ivr_reports_collector::Sink) in memory that passes the
//!   shipped conformance suite (`ivr_reports_collector::testing::check_sink`).
//! - [`Recording`]: a custom [`Endpoint`](ivr_reports::Endpoint), `GET /tts/3/files/{id}`,
//!   that asks for audio (`Accept: audio/wav`, through `Endpoint::headers`) and whose body
//!   is audio, not a report page.
//!
//! Its tests (`tests/extend.rs`) run them against the sandbox and raw TCP servers on
//! 127.0.0.1; `cargo xtask ci` runs them with the workspace's.

mod endpoint;
mod sink;
mod transport;

pub use crate::endpoint::Recording;
pub use crate::sink::MemorySink;
pub use crate::transport::MiniHttp;
