//! Behaviour tests of ivr-reports-transport: real hyper on 127.0.0.1, port 0, on both sides.

// Helpers outside #[test] functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client_retry;
mod custom_transport;
mod secrets;
mod server_limits;
mod support;
mod tls;
