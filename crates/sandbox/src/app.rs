//! The sandbox's HTTP application: routing, auth, the report, send and admin endpoints.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use ivr_reports_codec::Format;
use ivr_reports_model::{ApiError, CallReport, Report, Status, VoiceReport};
use ivr_reports_transport::{AbortConnection, Rejection, Server, ServerBuilder, ServerHandle};

use crate::auth::{Credentials, same};
use crate::faults::{Counters, Dice, Faults, Injected, LiveCounters, Record, Records};
use crate::logs::{Clock, LogBook, Logged, RETENTION_MS, Throttle};
use crate::outcomes::Call;
use crate::pieces::{Compact, Pieces};
use crate::push::{PushJob, Pusher};
use crate::send::{self, Plan, SendKind};
use crate::store::{Entry, Filter, Generation, Store};
use crate::wire::{self, Codecs};

/// What the application answers: a response, or "drop the connection without one".
#[derive(Debug)]
pub(crate) enum Reply {
    Respond(Response<Bytes>),
    /// The `dropAfterTake` fault: reports were taken, and the client gets no response.
    Drop,
}

impl From<Response<Bytes>> for Reply {
    fn from(r: Response<Bytes>) -> Self {
        Self::Respond(r)
    }
}

/// Everything the endpoints share.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) store: Mutex<Store>,
    pub(crate) counters: Arc<LiveCounters>,
    pub(crate) faults: RwLock<Faults>,
    pub(crate) dice: Dice,
    pub(crate) credentials: Credentials,
    pub(crate) admin_token: String,
    pub(crate) base_url: String,
    pub(crate) pusher: Pusher,
    pub(crate) codecs: Codecs,
    /// Distinguishes this sandbox's generated ids from another's.
    pub(crate) id_prefix: u64,
    pub(crate) next_id: AtomicU64,
    /// Sandbox time: sends and the logs' retention go by it.
    pub(crate) clock: Clock,
    /// Every message placed in the last 48 hours of sandbox time.
    pub(crate) logbook: Mutex<LogBook>,
    /// The rate limit of `GET /tts/3/logs`, per credential.
    pub(crate) logs_throttle: Throttle,
    /// The members injected reports share, stored once (see [`Compact`]).
    pub(crate) pieces: RwLock<Pieces>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves the store consistent (every operation on it is
    // a single push or drain), so a poisoned lock is still safe to use.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl State {
    pub(crate) fn counters(&self) -> Counters {
        let (pending, held) = {
            let store = lock(&self.store);
            (store.len(), store.held_len())
        };
        let logged = self.logbook_now().len();
        self.counters.snapshot(pending, held, logged)
    }

    pub(crate) fn records(&self) -> Records {
        self.counters.records()
    }

    /// The log book, with the entries older than the retention forgotten.
    pub(crate) fn logbook_now(&self) -> std::sync::MutexGuard<'_, LogBook> {
        let cutoff = self.clock.now_ms().saturating_sub(RETENTION_MS);
        let mut book = lock(&self.logbook);
        book.prune(cutoff);
        book
    }

    /// Moves sandbox time forward; returns sandbox time now (epoch milliseconds).
    pub(crate) fn advance_clock(&self, by: Duration) -> i64 {
        self.clock.advance(by);
        drop(self.logbook_now());
        self.clock.now_ms()
    }

    /// Holds back the pending reports of the given messages (or of every message of the
    /// given bulks): they stay PENDING in the logs until released. Returns how many.
    pub(crate) fn hold(&self, message_ids: &[String], bulk_ids: &[String]) -> usize {
        let ids: std::collections::HashSet<&str> = message_ids.iter().map(String::as_str).collect();
        let bulks: std::collections::HashSet<&str> = bulk_ids.iter().map(String::as_str).collect();
        lock(&self.store).hold(|e| {
            ids.contains(e.message_id()) || e.bulk_id().is_some_and(|b| bulks.contains(b))
        })
    }

    /// Makes held messages final: their reports become pending (fetchable). With no ids
    /// and no bulks, releases every held report. Returns how many.
    /// With `lost`, the reports are not made fetchable but lost, as if handed out in a
    /// response that never arrived: only the logs know them (records: lost in transit).
    pub(crate) fn release(&self, message_ids: &[String], bulk_ids: &[String], lost: bool) -> usize {
        let all = message_ids.is_empty() && bulk_ids.is_empty();
        let ids: std::collections::HashSet<&str> = message_ids.iter().map(String::as_str).collect();
        let bulks: std::collections::HashSet<&str> = bulk_ids.iter().map(String::as_str).collect();
        let pick = |e: &Entry| {
            all || ids.contains(e.message_id()) || e.bulk_id().is_some_and(|b| bulks.contains(b))
        };
        if !lost {
            return lock(&self.store).release(pick);
        }
        let gone = lock(&self.store).unhold(pick);
        self.counters
            .record(Record::LostInTransit, gone.iter().map(Entry::message_id));
        LiveCounters::add(&self.counters.lost_in_transit, gone.len());
        gone.len()
    }

    /// Writes placed calls into the log book.
    fn log(&self, entries: impl IntoIterator<Item = Logged>) {
        let mut book = lock(&self.logbook);
        for e in entries {
            book.push(e);
        }
    }

    pub(crate) fn faults(&self) -> Faults {
        self.faults
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_faults(&self, faults: Faults) {
        *self.faults.write().unwrap_or_else(PoisonError::into_inner) = faults;
    }

    pub(crate) fn reset(&self) {
        lock(&self.store).clear();
        lock(&self.logbook).clear();
        self.clock.reset();
        self.logs_throttle.reset();
        self.counters.reset();
        self.set_faults(Faults::default());
    }

    /// A fresh id shaped like the API's UUIDs.
    pub(crate) fn new_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let p = self.id_prefix;
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            (p >> 32) as u32,
            (p >> 16) as u16,
            (p & 0xfff) as u16,
            (n >> 48) & 0xfff,
            n & 0xffff_ffff_ffff
        )
    }

    pub(crate) fn inject<R: Report>(&self, reports: impl IntoIterator<Item = R>) -> usize {
        let now = self.clock.now_ms();
        let mut logged = Vec::new();
        let entries: Vec<Entry> = reports
            .into_iter()
            .map(|r| {
                let json = self.codecs.json_of(&r);
                let report = Arc::new(Compact::new(
                    &mut self.pieces.write().unwrap_or_else(PoisonError::into_inner),
                    R::GENERATION,
                    &json,
                    r.message_id(),
                    r.bulk_id(),
                ));
                logged.push(Logged::Injected {
                    report: Arc::clone(&report),
                    at_ms: now,
                });
                Entry::Encoded(report)
            })
            .collect();
        // Logged first: a report never leaves the sandbox before its log entry exists.
        self.log(logged);
        self.push_entries(entries)
    }

    /// Places `calls` simulated TTS calls in `bulk_id`, to numbers whose last digit cycles
    /// through every outcome; returns their message ids.
    pub(crate) fn simulate_campaign(&self, bulk_id: &str, calls: usize) -> Vec<String> {
        let now = self.clock.now_ms();
        let mut ids = Vec::with_capacity(calls);
        let mut logged = Vec::with_capacity(calls);
        // One copy of the texts every call of the campaign shares.
        let bulk_id: Arc<str> = Arc::from(bulk_id);
        let from: Arc<str> = Arc::from("41790000100");
        let entries: Vec<Entry> = (0..calls)
            .map(|i| {
                let message_id = self.new_id();
                ids.push(message_id.clone());
                let call = Call {
                    message_id: message_id.into_boxed_str(),
                    bulk_id: Some(Arc::clone(&bulk_id)),
                    from: Some(Arc::clone(&from)),
                    to: format!("4179{i:07}").into_boxed_str(),
                    callback_data: None,
                    feature: crate::outcomes::Feature::Tts,
                    sent_at_ms: now,
                };
                let call = Arc::new(call);
                logged.push(Logged::placed(Arc::clone(&call), None));
                Entry::Call(call)
            })
            .collect();
        // Logged first: a report never leaves the sandbox before its log entry exists.
        self.log(logged);
        let mut store = lock(&self.store);
        for e in entries {
            store.push(e);
        }
        drop(store);
        LiveCounters::add(&self.counters.calls_placed, calls);
        ids
    }

    fn push_entries(&self, entries: Vec<Entry>) -> usize {
        let n = entries.len();
        let mut store = lock(&self.store);
        for e in entries {
            store.push(e);
        }
        drop(store);
        LiveCounters::add(&self.counters.injected, n);
        n
    }

    /// Places the calls of a validated plan: stores their reports, or queues their pushes.
    /// Returns the send response body (JSON).
    fn place(&self, plan: Plan) -> serde_json::Value {
        let bulk_id = plan
            .bulk_id
            .clone()
            .or_else(|| (plan.call_count() > 1).then(|| self.new_id()));
        let now = self.clock.now_ms();
        let mut out = Vec::with_capacity(plan.call_count());
        let mut entries = Vec::new();
        let mut logged = Vec::with_capacity(plan.call_count());
        let mut pushes = Vec::new();
        // Texts shared by the calls of a send are stored once.
        let shared_bulk: Option<Arc<str>> = bulk_id.as_deref().map(Arc::from);
        for message in plan.messages {
            let text: Option<Arc<str>> = message.text.as_deref().map(Arc::from);
            let from: Option<Arc<str>> = message.from.as_deref().map(Arc::from);
            let callback_data: Option<Arc<str>> = message.callback_data.as_deref().map(Arc::from);
            for dest in message.destinations {
                let message_id = dest.message_id.unwrap_or_else(|| self.new_id());
                let call = Call {
                    message_id: message_id.as_str().into(),
                    bulk_id: shared_bulk.clone(),
                    from: from.clone(),
                    to: dest.to.as_str().into(),
                    callback_data: callback_data.clone(),
                    feature: message.feature.clone(),
                    sent_at_ms: now,
                };
                let status = if call.outcome().is_rejected_at_send() {
                    Status::known(100)
                } else {
                    Status::known(26)
                };
                out.push(serde_json::json!({
                    "to": dest.to,
                    "status": status.map(|s| serde_json::json!({
                        "groupId": s.group.id(),
                        "groupName": s.group_name,
                        "id": s.id,
                        "name": s.name,
                        "description": s.description,
                    })),
                    "messageId": message_id,
                }));
                let call = Arc::new(call);
                logged.push(Logged::placed(Arc::clone(&call), text.clone()));
                match &message.notify {
                    Some(notify) => {
                        pushes.push(PushJob::new(&self.codecs, notify, &call, &self.base_url));
                    }
                    None => entries.push(Entry::Call(call)),
                }
            }
        }
        // Logged first: a report never leaves the sandbox before its log entry exists.
        self.log(logged);
        for job in pushes {
            self.pusher.push(job);
        }
        LiveCounters::add(&self.counters.calls_placed, out.len());
        let mut store = lock(&self.store);
        for e in entries {
            store.push(e);
        }
        drop(store);
        let mut body = serde_json::Map::new();
        if let Some(b) = bulk_id {
            body.insert("bulkId".into(), b.into());
        }
        body.insert("messages".into(), out.into());
        body.into()
    }
}

pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Routes one request.
pub(crate) async fn handle(state: Arc<State>, req: Request<Bytes>) -> Reply {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    match (method.clone(), path.as_str()) {
        (Method::GET, path) if path == Generation::V1.path() => {
            reports(&state, &req, Generation::V1).await
        }
        (Method::GET, path) if path == Generation::V2.path() => {
            reports(&state, &req, Generation::V2).await
        }
        (Method::GET, "/tts/3/logs") => logs(&state, &req).into(),
        (Method::POST, "/tts/3/single") => send(&state, &req, SendKind::Single).into(),
        (Method::POST, "/tts/3/multi") => send(&state, &req, SendKind::Multi).into(),
        (Method::POST, "/tts/3/advanced") => send(&state, &req, SendKind::Advanced).into(),
        (Method::POST, "/voice/ivr/1/messages") => send(&state, &req, SendKind::Ivr).into(),
        (Method::GET, p) if p.starts_with("/tts/3/files/") => recording(&state, &req).into(),
        (_, p) if p.starts_with("/sandbox/") => admin(&state, &req, p).into(),
        (_, p) if known_path(p) => {
            let format = accept_or_json(&req);
            error(
                &state.codecs,
                format,
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "Method not allowed",
            )
            .into()
        }
        _ => {
            let format = accept_or_json(&req);
            error(
                &state.codecs,
                format,
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "Not found",
            )
            .into()
        }
    }
}

fn known_path(p: &str) -> bool {
    matches!(
        p,
        "/tts/3/reports"
            | "/voice/1/reports"
            | "/tts/3/logs"
            | "/tts/3/single"
            | "/tts/3/multi"
            | "/tts/3/advanced"
            | "/voice/ivr/1/messages"
    )
}

/// Judges a request from its head alone, before its body is read: everything that can be
/// refused without the body (authorization, unknown routes, unacceptable formats) is, so an
/// unauthenticated upload never costs memory. The handler repeats these checks.
pub(crate) fn check_head(state: &State, head: &http::request::Parts) -> Result<(), Rejection> {
    let headers = &head.headers;
    let path = head.uri.path();
    let authorized = || {
        state.credentials.accepts(
            headers
                .get(header::AUTHORIZATION)
                .map(HeaderValue::as_bytes),
        )
    };
    let format = accept_or_json_in(headers);
    let refusal = match (&head.method, path) {
        (&Method::GET, "/tts/3/reports" | "/voice/1/reports" | "/tts/3/logs") => {
            match negotiate_in(headers) {
                None => Some(error(
                    &state.codecs,
                    Format::Json,
                    StatusCode::NOT_ACCEPTABLE,
                    "NOT_ACCEPTABLE",
                    "Only application/json and application/xml can be served",
                )),
                Some(format) => (!authorized()).then(|| unauthorized(&state.codecs, format)),
            }
        }
        (
            &Method::POST,
            "/tts/3/single" | "/tts/3/multi" | "/tts/3/advanced" | "/voice/ivr/1/messages",
        ) => (!authorized()).then(|| unauthorized(&state.codecs, Format::Json)),
        (&Method::GET, p) if p.starts_with("/tts/3/files/") => {
            (!authorized()).then(|| unauthorized(&state.codecs, Format::Json))
        }
        (_, p) if p.starts_with("/sandbox/") => {
            (!admin_authorized(state, headers)).then(|| admin_unauthorized(&state.codecs))
        }
        (_, p) if known_path(p) => Some(error(
            &state.codecs,
            format,
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "Method not allowed",
        )),
        _ => Some(error(
            &state.codecs,
            format,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Not found",
        )),
    };
    match refusal {
        Some(response) => Err(Rejection::from(response)),
        None => Ok(()),
    }
}

fn header(req: &Request<Bytes>, name: header::HeaderName) -> Option<&str> {
    header_in(req.headers(), name)
}

fn header_in(headers: &http::HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The negotiated format, JSON when nothing acceptable was asked for (error bodies only).
fn accept_or_json(req: &Request<Bytes>) -> Format {
    accept_or_json_in(req.headers())
}

fn accept_or_json_in(headers: &http::HeaderMap) -> Format {
    negotiate_in(headers).unwrap_or(Format::Json)
}

fn negotiate(req: &Request<Bytes>) -> Option<Format> {
    negotiate_in(req.headers())
}

fn negotiate_in(headers: &http::HeaderMap) -> Option<Format> {
    match header_in(headers, header::ACCEPT) {
        None => Some(Format::Json),
        Some(accept) if accept.trim().is_empty() => Some(Format::Json),
        Some(accept) => Format::negotiate(accept),
    }
}

fn respond(status: StatusCode, format: Format, body: Vec<u8>) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.mime()),
    );
    response
}

fn error(c: &Codecs, format: Format, status: StatusCode, id: &str, text: &str) -> Response<Bytes> {
    respond(
        status,
        format,
        c.api_error(format, &ApiError::new(id, text)),
    )
}

fn invalid(c: &Codecs, format: Format, problems: send::Invalid) -> Response<Bytes> {
    let mut e = ApiError::new("BAD_REQUEST", "Bad request");
    e.validation_errors = problems;
    respond(StatusCode::BAD_REQUEST, format, c.api_error(format, &e))
}

fn unauthorized(c: &Codecs, format: Format) -> Response<Bytes> {
    error(
        c,
        format,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "Invalid login details",
    )
}

fn with_retry_after(mut response: Response<Bytes>, secs: u64) -> Response<Bytes> {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    response
}

async fn reports(state: &State, req: &Request<Bytes>, generation: Generation) -> Reply {
    let Some(format) = negotiate(req) else {
        return error(
            &state.codecs,
            Format::Json,
            StatusCode::NOT_ACCEPTABLE,
            "NOT_ACCEPTABLE",
            "Only application/json and application/xml can be served",
        )
        .into();
    };
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    if !state.credentials.accepts(authorization) {
        return unauthorized(&state.codecs, format).into();
    }
    let query = match wire::parse_query(req.uri().query().unwrap_or("")) {
        Ok(q) => q,
        Err((field, problem)) => {
            let mut problems = send::Invalid::new();
            problems.insert(field, vec![problem]);
            return invalid(&state.codecs, format, problems).into();
        }
    };

    let faults = state.faults();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let injected = state.dice.injected(&faults);
    if injected != Injected::None {
        LiveCounters::add(&state.counters.faults_injected, 1);
    }
    match injected {
        Injected::None => {}
        Injected::TooManyRequests => {
            let r = error(
                &state.codecs,
                format,
                StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_REQUESTS",
                "Too many requests",
            );
            return with_retry_after(r, faults.retry_after_secs).into();
        }
        Injected::ServerError => {
            return error(
                &state.codecs,
                format,
                StatusCode::INTERNAL_SERVER_ERROR,
                "GENERAL_ERROR",
                "Something went wrong",
            )
            .into();
        }
        Injected::Unavailable => {
            let r = error(
                &state.codecs,
                format,
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "Service unavailable",
            );
            return with_retry_after(r, faults.retry_after_secs).into();
        }
    }

    let filter = Filter {
        generation,
        bulk_id: query.bulk_id.clone(),
        message_id: query.message_id.clone(),
    };
    let limit = usize::from(query.effective_limit().get());
    let taken = lock(&state.store).take(&filter, limit);
    if !taken.is_empty() && state.dice.chance(faults.drop_after_take) {
        state
            .counters
            .record(Record::LostInTransit, taken.iter().map(Entry::message_id));
        LiveCounters::add(&state.counters.lost_in_transit, taken.len());
        return Reply::Drop;
    }
    let page = state.codecs.page(
        format,
        generation,
        &taken,
        &state.base_url,
        &state.pieces.read().unwrap_or_else(PoisonError::into_inner),
    );
    match page {
        Ok(body) => {
            state
                .counters
                .record(Record::HandedOut, taken.iter().map(Entry::message_id));
            LiveCounters::add(&state.counters.handed_out, taken.len());
            respond(StatusCode::OK, format, body).into()
        }
        Err(problem) => {
            // Our own encoding failed: put the reports back rather than lose them.
            let mut store = lock(&state.store);
            for entry in taken.into_iter().rev() {
                store.push_front(entry);
            }
            drop(store);
            error(
                &state.codecs,
                format,
                StatusCode::INTERNAL_SERVER_ERROR,
                "GENERAL_ERROR",
                &problem,
            )
            .into()
        }
    }
}

/// `GET /tts/3/logs`: every message placed in the last 48 hours of sandbox time that the
/// query asks for, newest first, at most `limit` (default 50); never consumes. Throttled
/// per credential.
fn logs(state: &State, req: &Request<Bytes>) -> Response<Bytes> {
    let Some(format) = negotiate(req) else {
        return error(
            &state.codecs,
            Format::Json,
            StatusCode::NOT_ACCEPTABLE,
            "NOT_ACCEPTABLE",
            "Only application/json and application/xml can be served",
        );
    };
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    let Some(who) = state.credentials.identify(authorization) else {
        return unauthorized(&state.codecs, format);
    };
    if let Err(secs) = state.logs_throttle.check(who) {
        LiveCounters::add(&state.counters.logs_throttled, 1);
        let r = error(
            &state.codecs,
            format,
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many requests",
        );
        return with_retry_after(r, secs);
    }
    let query = match wire::parse_logs_query(req.uri().query().unwrap_or("")) {
        Ok(q) => q,
        Err((field, problem)) => {
            let mut problems = send::Invalid::new();
            problems.insert(field, vec![problem]);
            return invalid(&state.codecs, format, problems);
        }
    };
    // Held ids first, then the log book: never both locks at once.
    let held = {
        let store = lock(&state.store);
        if store.held_len() == 0 {
            None
        } else {
            Some(store.held_ids())
        }
    };
    let is_held = |id: &str| held.as_ref().is_some_and(|h| h.contains(id));
    let entries = {
        let pieces = state.pieces.read().unwrap_or_else(PoisonError::into_inner);
        let injected = |r: &Compact| state.codecs.log_entry_of(r, &pieces);
        state
            .logbook_now()
            .select(&query, is_held, &state.base_url, &injected)
    };
    respond(
        StatusCode::OK,
        format,
        state.codecs.logs_page(format, &entries),
    )
}

fn send(state: &State, req: &Request<Bytes>, kind: SendKind) -> Response<Bytes> {
    let format = Format::Json;
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    if !state.credentials.accepts(authorization) {
        return unauthorized(&state.codecs, format);
    }
    let content_type = header(req, header::CONTENT_TYPE).unwrap_or("application/json");
    if Format::from_content_type(content_type) != Some(Format::Json) {
        return error(
            &state.codecs,
            format,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "Send requests must be application/json",
        );
    }
    match send::parse(kind, req.body()) {
        Ok(plan) => {
            let body = state.place(plan);
            respond(StatusCode::OK, format, body.to_string().into_bytes())
        }
        Err(problems) => invalid(&state.codecs, format, problems),
    }
}

/// `GET /tts/3/files/{messageId}/{to}`: a short silent WAV stands in for the recording.
fn recording(state: &State, req: &Request<Bytes>) -> Response<Bytes> {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    if !state.credentials.accepts(authorization) {
        return unauthorized(&state.codecs, Format::Json);
    }
    let mut response = Response::new(Bytes::from_static(SILENT_WAV));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    response
}

/// 8 kHz mono 8-bit PCM, 8 samples of silence.
const SILENT_WAV: &[u8] = b"RIFF\x2c\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x40\x1f\x00\x00\x01\x00\x08\x00data\x08\x00\x00\x00\x80\x80\x80\x80\x80\x80\x80\x80";

fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response<Bytes> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    respond(status, Format::Json, body)
}

fn admin_authorized(state: &State, headers: &http::HeaderMap) -> bool {
    let token = header_in(headers, header::AUTHORIZATION)
        .and_then(|h| h.trim().strip_prefix("Bearer "))
        .map(str::trim);
    token.is_some_and(|t| same(t, &state.admin_token))
}

fn admin_unauthorized(c: &Codecs) -> Response<Bytes> {
    error(
        c,
        Format::Json,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "Invalid admin token",
    )
}

fn admin(state: &State, req: &Request<Bytes>, path: &str) -> Response<Bytes> {
    let format = Format::Json;
    if !admin_authorized(state, req.headers()) {
        return admin_unauthorized(&state.codecs);
    }
    match (req.method().clone(), path) {
        (Method::POST, "/sandbox/reports/v1" | "/sandbox/reports/v2") => {
            let generation = if path.ends_with("v1") {
                Generation::V1
            } else {
                Generation::V2
            };
            let body_format = header(req, header::CONTENT_TYPE)
                .and_then(Format::from_content_type)
                .unwrap_or(Format::Json);
            match inject(state, generation, body_format, req.body()) {
                Ok((injected, rejected)) => json_response(
                    StatusCode::OK,
                    &serde_json::json!({"injected": injected, "rejected": rejected}),
                ),
                Err(problem) => {
                    let mut problems = send::Invalid::new();
                    problems.insert("body".into(), vec![problem]);
                    invalid(&state.codecs, format, problems)
                }
            }
        }
        (Method::GET, "/sandbox/counters") => json_response(StatusCode::OK, &state.counters()),
        (Method::GET, "/sandbox/faults") => json_response(StatusCode::OK, &state.faults()),
        (Method::PUT, "/sandbox/faults") => {
            let parsed = serde_json::from_slice::<Faults>(req.body())
                .map_err(|e| e.to_string())
                .and_then(|f| f.validate().map(|()| f));
            match parsed {
                Ok(faults) => {
                    state.set_faults(faults);
                    json_response(StatusCode::OK, &state.faults())
                }
                Err(problem) => {
                    let mut problems = send::Invalid::new();
                    problems.insert("body".into(), vec![problem]);
                    invalid(&state.codecs, format, problems)
                }
            }
        }
        (Method::GET, "/sandbox/records") => json_response(StatusCode::OK, &state.records()),
        (Method::GET, "/sandbox/clock") => json_response(StatusCode::OK, &clock_body(state)),
        (Method::POST, "/sandbox/clock/advance") => {
            match serde_json::from_slice::<Advance>(req.body()) {
                Ok(a) if a.seconds <= MAX_ADVANCE_SECS => {
                    state.advance_clock(Duration::from_secs(a.seconds));
                    json_response(StatusCode::OK, &clock_body(state))
                }
                Ok(a) => body_invalid(
                    state,
                    format!("seconds: at most {MAX_ADVANCE_SECS}, got {}", a.seconds),
                ),
                Err(e) => body_invalid(state, e.to_string()),
            }
        }
        (Method::POST, "/sandbox/hold" | "/sandbox/release") => {
            match serde_json::from_slice::<Pick>(req.body()) {
                Ok(pick) if path.ends_with("hold") => {
                    let n = state.hold(&pick.message_ids, &pick.bulk_ids);
                    json_response(StatusCode::OK, &serde_json::json!({ "held": n }))
                }
                Ok(pick) => {
                    let n = state.release(&pick.message_ids, &pick.bulk_ids, pick.lost);
                    json_response(StatusCode::OK, &serde_json::json!({ "released": n }))
                }
                Err(e) => body_invalid(state, e.to_string()),
            }
        }
        (Method::POST, "/sandbox/reset") => {
            state.reset();
            json_response(StatusCode::OK, &state.counters())
        }
        _ => error(
            &state.codecs,
            format,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Not found",
        ),
    }
}

/// The largest clock advance accepted at once: ten years.
const MAX_ADVANCE_SECS: u64 = 10 * 365 * 24 * 3600;

/// `POST /sandbox/clock/advance`: `{"seconds": N}`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: u64,
}

/// `POST /sandbox/hold` and `/sandbox/release`: `{"messageIds": [...], "bulkIds": [...]}`,
/// both optional; release also takes `"lost": true`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Pick {
    #[serde(default)]
    message_ids: Vec<String>,
    #[serde(default)]
    bulk_ids: Vec<String>,
    /// Release only: the reports are lost instead of made fetchable.
    #[serde(default)]
    lost: bool,
}

/// `{"nowMs": 1764640000000, "now": "2025-12-02T01:46:40.000+0000"}`: sandbox time.
fn clock_body(state: &State) -> serde_json::Value {
    let now = state.clock.now_ms();
    let text = ivr_reports_model::Timestamp::from_unix_millis(now)
        .map(|t| t.to_string())
        .unwrap_or_default();
    serde_json::json!({ "nowMs": now, "now": text })
}

fn body_invalid(state: &State, problem: String) -> Response<Bytes> {
    let mut problems = send::Invalid::new();
    problems.insert("body".into(), vec![problem]);
    invalid(&state.codecs, Format::Json, problems)
}

/// Injects a page posted to the admin API; returns (injected, rejected).
fn inject(
    state: &State,
    generation: Generation,
    format: Format,
    body: &[u8],
) -> Result<(usize, usize), String> {
    fn of<R: Report>(state: &State, format: Format, body: &[u8]) -> Result<(usize, usize), String> {
        let (reports, rejected) = state.codecs.decode::<R>(format, body)?;
        Ok((state.inject(reports), rejected))
    }
    match generation {
        Generation::V1 => of::<VoiceReport>(state, format, body),
        Generation::V2 => of::<CallReport>(state, format, body),
    }
}

/// The limits the sandbox's server runs with.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) max_body_bytes: u64,
    pub(crate) max_concurrent_body_reads: usize,
}

/// Transport's hardened server with the sandbox's limits.
pub(crate) fn server_builder(limits: Limits) -> ServerBuilder {
    Server::builder()
        .max_body_bytes(limits.max_body_bytes)
        .max_concurrent_body_reads(limits.max_concurrent_body_reads)
}

/// Serves the application on `listener` with transport's hardened server.
pub(crate) fn serve(
    listener: std::net::TcpListener,
    state: Arc<State>,
    limits: Limits,
) -> Result<ServerHandle, crate::Error> {
    let judge = Arc::clone(&state);
    server_builder(limits)
        .authorize(move |head| check_head(&judge, head))
        .serve(listener, move |req| {
            let state = Arc::clone(&state);
            async move {
                match handle(state, req).await {
                    Reply::Respond(response) => Ok(response),
                    Reply::Drop => Err(AbortConnection),
                }
            }
        })
        .map_err(|e| crate::Error::with_source(crate::ErrorKind::Bind, "cannot serve", e))
}
