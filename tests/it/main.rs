//! Tests across every layer: the facade against a real sandbox over HTTP on 127.0.0.1.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod drain;
mod errors;
mod extend;
mod logs;
mod queries;
mod roundtrip;
#[path = "../../crates/codec/tests/it/strategies.rs"]
#[allow(dead_code, unreachable_pub)]
mod strategies;

use ivr_reports::{Auth, Client, Format, RetryPolicy};
use ivr_reports_sandbox::{Sandbox, SandboxHandle};

pub(crate) const KEY: &str = "cross-layer-key";

pub(crate) async fn sandbox() -> SandboxHandle {
    Sandbox::builder().api_key(KEY).start().await.unwrap()
}

/// A facade client of `sandbox` in `format`.
pub(crate) fn client(sandbox: &SandboxHandle, format: Format) -> Client {
    Client::builder()
        .base_url(sandbox.base_url())
        .auth(Auth::app(KEY))
        .format(format)
        .build()
        .unwrap()
}

/// A facade client with a retry policy of its own.
pub(crate) fn client_with(sandbox: &SandboxHandle, retry: RetryPolicy) -> Client {
    Client::builder()
        .base_url(sandbox.base_url())
        .auth(Auth::app(KEY))
        .retry(retry)
        .build()
        .unwrap()
}

/// `n` plain v1 reports with ids `{prefix}-{i}`.
pub(crate) fn v1_reports(
    prefix: &str,
    bulk: Option<&str>,
    n: usize,
) -> Vec<ivr_reports::VoiceReport> {
    (0..n)
        .map(|i| {
            let mut r =
                ivr_reports::VoiceReport::new(format!("{prefix}-{i}"), format!("4179{i:07}"));
            r.bulk_id = bulk.map(str::to_string);
            r.status = ivr_reports::Status::known(5);
            r
        })
        .collect()
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<ivr_reports::Client>();
    check::<ivr_reports::Error>();
    check::<ivr_reports::Page<ivr_reports::VoiceReport>>();
    check::<ivr_reports::VoiceReport>();
    check::<ivr_reports::CallReport>();
    check::<ivr_reports::ApiError>();
    check::<ivr_reports::Timestamp>();
    check::<ivr_reports::Rejected>();
    // A stream is moved between tasks, not shared: Send is what matters.
    fn send<T: Send>() {}
    send::<ivr_reports::Drain<ivr_reports::Reports<ivr_reports::CallReport>>>();
}
