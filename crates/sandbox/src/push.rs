//! Webhook pushes: reports of calls sent with `notifyUrl`, retried until the receiver says 200.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, StatusCode};
use ivr_reports_codec::Format;
use ivr_reports_transport::{Client, RetryPolicy};
use tokio::task::JoinSet;

use crate::faults::{LiveCounters, Record};
use crate::outcomes::Call;
use crate::send::{Notify, PushFormat};
use crate::store::Generation;
use crate::wire::Codecs;

/// How pushes are retried: every answer other than 200, and every failure to connect or to
/// read an answer, is tried again after a backoff that doubles from `initial_backoff` up to
/// `max_backoff`, until `max_attempts` attempts were made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PushPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) timeout: Duration,
}

impl Default for PushPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            timeout: Duration::from_secs(10),
        }
    }
}

/// One report to push.
#[derive(Debug)]
pub(crate) struct PushJob {
    url: String,
    format: Format,
    body: Bytes,
    /// For the sandbox's records of what was pushed.
    message_id: String,
}

impl PushJob {
    pub(crate) fn new(codecs: &Codecs, notify: &Notify, call: &Call, base_url: &str) -> Self {
        let format = match notify.format {
            PushFormat::Json => Format::Json,
            PushFormat::Xml => Format::Xml,
        };
        let body = match notify.generation {
            Generation::V1 => codecs.push_page(format, &call.v1_push_report(base_url)),
            Generation::V2 => codecs.push_page(format, &call.v2_report()),
        };
        Self {
            url: notify.url.clone(),
            format,
            body: Bytes::from(body),
            message_id: call.message_id.to_string(),
        }
    }
}

/// Runs pushes in the background and counts how they end.
#[derive(Debug)]
pub(crate) struct Pusher {
    client: Option<Client>,
    policy: PushPolicy,
    counters: Arc<LiveCounters>,
    tasks: Mutex<JoinSet<()>>,
}

impl Pusher {
    pub(crate) fn new(policy: PushPolicy, counters: Arc<LiveCounters>) -> Self {
        // Push-level retries cover every failure, so the client itself never retries.
        let client = Client::builder()
            .retry(RetryPolicy::never())
            .response_timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            .build()
            .ok();
        Self {
            client,
            policy,
            counters,
            tasks: Mutex::new(JoinSet::new()),
        }
    }

    /// Starts pushing `job` in the background.
    pub(crate) fn push(&self, job: PushJob) {
        let Some(client) = self.client.clone() else {
            LiveCounters::add(&self.counters.push_failures, 1);
            return;
        };
        let policy = self.policy;
        let counters = Arc::clone(&self.counters);
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        // Reap finished pushes so the set does not grow with every call ever pushed.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            let delivered = deliver(&client, &job, policy).await;
            let counter: &AtomicU64 = if delivered {
                counters.record(Record::Pushed, [job.message_id.as_str()]);
                &counters.pushed
            } else {
                &counters.push_failures
            };
            LiveCounters::add(counter, 1);
        });
    }

    /// Stops every push still retrying.
    pub(crate) fn abort_all(&self) {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .abort_all();
    }
}

async fn deliver(client: &Client, job: &PushJob, policy: PushPolicy) -> bool {
    let mut backoff = policy.initial_backoff;
    for attempt in 1..=policy.max_attempts.max(1) {
        let request = Request::builder()
            .method(Method::POST)
            .uri(job.url.as_str())
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static(job.format.mime()),
            )
            .body(job.body.clone());
        let Ok(request) = request else {
            return false;
        };
        if let Ok(response) = client.send(request).await
            && response.status() == StatusCode::OK
        {
            return true;
        }
        if attempt < policy.max_attempts {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(policy.max_backoff);
        }
    }
    false
}
