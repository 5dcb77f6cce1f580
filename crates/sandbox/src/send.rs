//! The send endpoints' request bodies: parsed, validated, and turned into a plan of calls.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::outcomes::Feature;
use crate::store::Generation;

/// Which send endpoint a body came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SendKind {
    /// `POST /tts/3/single`.
    Single,
    /// `POST /tts/3/multi`.
    Multi,
    /// `POST /tts/3/advanced`.
    Advanced,
    /// `POST /voice/ivr/1/messages`.
    Ivr,
}

/// The wire format of pushed reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PushFormat {
    Json,
    Xml,
}

/// Where and how a message's reports are pushed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Notify {
    pub(crate) url: String,
    pub(crate) format: PushFormat,
    pub(crate) generation: Generation,
}

/// One destination of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Destination {
    pub(crate) to: String,
    pub(crate) message_id: Option<String>,
}

/// One message of a send request: the same content to one or more destinations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Message {
    pub(crate) from: Option<String>,
    pub(crate) destinations: Vec<Destination>,
    pub(crate) feature: Feature,
    pub(crate) notify: Option<Notify>,
    pub(crate) callback_data: Option<String>,
    /// The text spoken (TTS), as the logs show it.
    pub(crate) text: Option<String>,
}

/// A validated send request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) bulk_id: Option<String>,
    pub(crate) messages: Vec<Message>,
}

impl Plan {
    /// How many calls the plan places.
    pub(crate) fn call_count(&self) -> usize {
        self.messages.iter().map(|m| m.destinations.len()).sum()
    }
}

/// What is wrong with a request: field path -> problems (the API's `validationErrors`).
pub(crate) type Invalid = BTreeMap<String, Vec<String>>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDestination {
    to: Option<Value>,
    message_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    from: Option<String>,
    to: Option<Value>,
    destinations: Option<Vec<RawDestination>>,
    text: Option<String>,
    audio_file_url: Option<String>,
    scenario_id: Option<Value>,
    notify_url: Option<String>,
    notify_content_type: Option<String>,
    notify_content_version: Option<Value>,
    callback_data: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRequest {
    bulk_id: Option<String>,
    messages: Option<Vec<RawMessage>>,
}

fn add(invalid: &mut Invalid, field: impl Into<String>, problem: &str) {
    invalid
        .entry(field.into())
        .or_default()
        .push(problem.to_string());
}

/// The largest number of calls one request may place.
const MAX_CALLS: usize = 10_000;

/// Parses and validates a send request body (JSON).
pub(crate) fn parse(kind: SendKind, body: &[u8]) -> Result<Plan, Invalid> {
    let mut invalid = Invalid::new();
    let (bulk_id, raw_messages, prefix) = match kind {
        SendKind::Single => {
            let message: RawMessage = serde_json::from_slice(body).map_err(|e| json_problem(&e))?;
            (None, vec![message], None)
        }
        _ => {
            let request: RawRequest = serde_json::from_slice(body).map_err(|e| json_problem(&e))?;
            match request.messages {
                Some(messages) if !messages.is_empty() => {
                    (request.bulk_id, messages, Some("messages"))
                }
                _ => {
                    add(&mut invalid, "messages", "must not be empty");
                    return Err(invalid);
                }
            }
        }
    };

    let mut messages = Vec::with_capacity(raw_messages.len());
    for (i, mut raw) in raw_messages.into_iter().enumerate() {
        let path = |field: &str| match prefix {
            Some(p) => format!("{p}[{i}].{field}"),
            None => field.to_string(),
        };
        let destinations = match kind {
            SendKind::Single | SendKind::Multi => {
                recipients(raw.to.as_ref(), &path("to"), &mut invalid)
            }
            SendKind::Advanced | SendKind::Ivr => {
                destinations(raw.destinations.take(), &path("destinations"), &mut invalid)
            }
        };
        let feature = match kind {
            SendKind::Ivr => match raw.scenario_id.take() {
                Some(Value::String(s)) if !s.trim().is_empty() => Feature::Ivr {
                    scenario_id: s.into(),
                },
                Some(Value::Number(n)) => Feature::Ivr {
                    scenario_id: n.to_string().into(),
                },
                _ => {
                    add(&mut invalid, path("scenarioId"), "must not be empty");
                    Feature::Tts
                }
            },
            _ => match (&raw.text, &raw.audio_file_url) {
                (Some(t), _) if !t.trim().is_empty() => Feature::Tts,
                (_, Some(u)) if !u.trim().is_empty() => Feature::Audio,
                _ => {
                    add(
                        &mut invalid,
                        path("text"),
                        "must not be empty without audioFileUrl",
                    );
                    Feature::Tts
                }
            },
        };
        // Only advanced and IVR messages have a `notifyUrl` in the real API; on single and
        // multi the notify fields are unknown fields, ignored like any other, and the reports
        // wait to be pulled.
        let notify = match kind {
            SendKind::Advanced | SendKind::Ivr => notify(&raw, &path, &mut invalid),
            SendKind::Single | SendKind::Multi => None,
        };
        messages.push(Message {
            from: raw.from,
            destinations,
            feature,
            notify,
            callback_data: raw.callback_data,
            text: raw.text,
        });
    }
    let plan = Plan { bulk_id, messages };
    if plan.call_count() > MAX_CALLS {
        add(
            &mut invalid,
            "messages",
            &format!("at most {MAX_CALLS} destinations per request"),
        );
    }
    if invalid.is_empty() {
        Ok(plan)
    } else {
        Err(invalid)
    }
}

fn json_problem(e: &serde_json::Error) -> Invalid {
    let mut invalid = Invalid::new();
    add(
        &mut invalid,
        "body",
        &format!(
            "not a valid request: {} at line {}, column {}",
            match e.classify() {
                serde_json::error::Category::Data => "unexpected value",
                serde_json::error::Category::Eof => "unexpected end",
                _ => "malformed JSON",
            },
            e.line(),
            e.column()
        ),
    );
    invalid
}

/// `to` of single and multi: a string or an array of strings.
fn recipients(to: Option<&Value>, field: &str, invalid: &mut Invalid) -> Vec<Destination> {
    let numbers: Option<Vec<&str>> = match to {
        Some(Value::String(s)) => Some(vec![s.as_str()]),
        Some(Value::Array(items)) => items.iter().map(Value::as_str).collect(),
        _ => None,
    };
    let numbers = match numbers {
        Some(n) if !n.is_empty() && n.iter().all(|x| !x.trim().is_empty()) => n,
        _ => {
            add(
                invalid,
                field,
                "must be a destination number or a list of them",
            );
            return Vec::new();
        }
    };
    numbers
        .into_iter()
        .map(|to| Destination {
            to: to.trim().to_string(),
            message_id: None,
        })
        .collect()
}

fn destinations(
    raw: Option<Vec<RawDestination>>,
    field: &str,
    invalid: &mut Invalid,
) -> Vec<Destination> {
    let raw = raw.unwrap_or_default();
    if raw.is_empty() {
        add(invalid, field, "must not be empty");
    }
    let mut out = Vec::with_capacity(raw.len());
    for (j, d) in raw.into_iter().enumerate() {
        match d.to {
            Some(Value::String(to)) if !to.trim().is_empty() => out.push(Destination {
                to: to.trim().to_string(),
                message_id: d.message_id.filter(|m| !m.is_empty()),
            }),
            _ => add(invalid, format!("{field}[{j}].to"), "must not be empty"),
        }
    }
    out
}

fn notify(
    raw: &RawMessage,
    path: &dyn Fn(&str) -> String,
    invalid: &mut Invalid,
) -> Option<Notify> {
    let format = match raw.notify_content_type.as_deref().map(str::trim) {
        None | Some("") => PushFormat::Json,
        Some(t) if t.eq_ignore_ascii_case("application/json") => PushFormat::Json,
        Some(t) if t.eq_ignore_ascii_case("application/xml") => PushFormat::Xml,
        Some(_) => {
            add(
                invalid,
                path("notifyContentType"),
                "must be application/json or application/xml",
            );
            PushFormat::Json
        }
    };
    let generation = match &raw.notify_content_version {
        None | Some(Value::Null) => Generation::V2,
        Some(v) if v.as_u64() == Some(1) || v.as_str() == Some("1") => Generation::V1,
        Some(v) if v.as_u64() == Some(2) || v.as_str() == Some("2") => Generation::V2,
        Some(_) => {
            add(invalid, path("notifyContentVersion"), "must be 1 or 2");
            Generation::V2
        }
    };
    let url = raw.notify_url.as_deref()?.trim();
    if url.is_empty() {
        return None;
    }
    let is_http = url.starts_with("http://") || url.starts_with("https://");
    if !is_http || url.parse::<http::Uri>().is_err() {
        add(
            invalid,
            path("notifyUrl"),
            "must be an absolute http(s) URL",
        );
        return None;
    }
    Some(Notify {
        url: url.to_string(),
        format,
        generation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(kind: SendKind, body: &str) -> Invalid {
        parse(kind, body.as_bytes()).unwrap_err()
    }

    #[test]
    fn single_with_one_or_many_numbers() {
        let plan = parse(
            SendKind::Single,
            br#"{"from":"41790000100","to":"41790000001","text":"Hi","language":"en"}"#,
        )
        .unwrap();
        assert_eq!(plan.call_count(), 1);
        assert_eq!(plan.messages[0].feature, Feature::Tts);
        let plan = parse(
            SendKind::Single,
            br#"{"to":["1","2"],"audioFileUrl":"https://example.com/a.mp3"}"#,
        )
        .unwrap();
        assert_eq!(plan.call_count(), 2);
        assert_eq!(plan.messages[0].feature, Feature::Audio);
    }

    #[test]
    fn advanced_keeps_ids_and_notify_settings() {
        let plan = parse(
            SendKind::Advanced,
            br#"{"bulkId":"b-1","messages":[{"from":"x","destinations":[{"to":"41790000001","messageId":"m-1"},{"to":"41790000002"}],
                "text":"Hi","notifyUrl":"http://127.0.0.1:9/hook","notifyContentType":"application/xml",
                "notifyContentVersion":1,"callbackData":"cb"}]}"#,
        )
        .unwrap();
        assert_eq!(plan.bulk_id.as_deref(), Some("b-1"));
        let m = &plan.messages[0];
        assert_eq!(m.destinations[0].message_id.as_deref(), Some("m-1"));
        assert_eq!(m.destinations[1].message_id, None);
        let notify = m.notify.as_ref().unwrap();
        assert_eq!(
            (notify.format, notify.generation),
            (PushFormat::Xml, Generation::V1)
        );
        assert_eq!(m.callback_data.as_deref(), Some("cb"));
    }

    #[test]
    fn single_and_multi_ignore_notify_fields() {
        let hook = r#""notifyUrl":"ftp://not-checked","notifyContentType":"text/plain","notifyContentVersion":9"#;
        let single = format!(r#"{{"to":"1","text":"Hi",{hook}}}"#);
        let multi = format!(r#"{{"messages":[{{"to":["1"],"text":"Hi",{hook}}}]}}"#);
        for (kind, body) in [(SendKind::Single, single), (SendKind::Multi, multi)] {
            let plan = parse(kind, body.as_bytes()).unwrap();
            assert_eq!(plan.messages[0].notify, None, "{kind:?}");
        }
    }

    #[test]
    fn validation_errors_name_the_field() {
        let e = errors(SendKind::Single, r#"{"text":"Hi"}"#);
        assert_eq!(e.keys().collect::<Vec<_>>(), ["to"]);
        let e = errors(SendKind::Single, r#"{"to":"1"}"#);
        assert!(e.contains_key("text"));
        let e = errors(
            SendKind::Advanced,
            r#"{"messages":[{"destinations":[{"to":""}],"text":"x","notifyContentType":"text/plain","notifyUrl":"ftp://x"}]}"#,
        );
        assert!(e.contains_key("messages[0].destinations[0].to"), "{e:?}");
        assert!(e.contains_key("messages[0].notifyContentType"), "{e:?}");
        assert!(e.contains_key("messages[0].notifyUrl"), "{e:?}");
        let e = errors(
            SendKind::Ivr,
            r#"{"messages":[{"destinations":[{"to":"1"}]}]}"#,
        );
        assert!(e.contains_key("messages[0].scenarioId"), "{e:?}");
        let e = errors(SendKind::Multi, r#"{"messages":[]}"#);
        assert!(e.contains_key("messages"));
        let e = errors(
            SendKind::Advanced,
            r#"{"messages":[{"destinations":[{"to":"1"}],"text":"x","notifyContentVersion":3}]}"#,
        );
        assert!(e.contains_key("messages[0].notifyContentVersion"), "{e:?}");
        let e = errors(SendKind::Multi, "{not json");
        assert!(e["body"][0].contains("line 1"), "{e:?}");
    }
}
