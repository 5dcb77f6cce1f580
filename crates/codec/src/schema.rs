//! The report schemas, once for both formats: which fields exist, how lenient values become
//! model types, and how known status and error names are borrowed from the code tables.
//!
//! Each format implements [`Source`], a pull reader over one object at a time; the
//! functions here walk a report through it. Unknown fields are skipped by the source.

use std::borrow::Cow;
use std::collections::BTreeMap;

use ivr_reports_model::{
    AnsweredBy, ApiError, CallReport, Decimal, Direction, ErrorGroup, IvrData, Price, ReportError,
    Status, StatusGroup, Timestamp, VoiceCall, VoiceReport, error_info, status_info,
};

use crate::{Error, ErrorKind};

/// The deepest nesting a decoder follows (objects, arrays or elements, envelope included).
pub(crate) const MAX_DEPTH: usize = 64;

/// A scalar as the wire had it. XML only ever produces `Str` (an empty element is `Str("")`).
// XML only produces strings.
#[cfg_attr(not(feature = "json"), allow(dead_code))]
#[derive(Debug)]
pub(crate) enum Val<'a> {
    Null,
    Str(Cow<'a, str>),
    /// A JSON number, as its source text.
    Num(&'a str),
    Bool(bool),
}

/// A pull reader positioned inside an object (a JSON object, an XML element).
pub(crate) trait Source<'a> {
    /// Advances to the next field whose name is in `names` and returns its index there,
    /// skipping unknown fields; `None` when the object ends (its end is consumed). `hint`
    /// is where the caller expects the next name (fields usually come in one order); it is
    /// tried first and moved past the field found.
    fn next_field(&mut self, names: &[&str], hint: &mut usize) -> Result<Option<usize>, Error>;
    /// Advances to the next field, whatever its name; `None` when the object ends.
    fn next_key(&mut self) -> Result<Option<String>, Error>;
    /// Reads the current field's value as a scalar.
    fn value(&mut self) -> Result<Val<'a>, Error>;
    /// Enters the current field's value as an object: `false` (and consumed) when it is
    /// null or empty, i.e. absent.
    fn enter(&mut self) -> Result<bool, Error>;
    /// Reads the current field's value as a list of strings (a JSON array or a single
    /// string; the text or child elements of an XML element).
    fn strings(&mut self) -> Result<Vec<String>, Error>;
    /// Skips the current field's value (only the JSON page decoder needs it).
    #[cfg_attr(not(feature = "json"), allow(dead_code))]
    fn skip(&mut self) -> Result<(), Error>;
    /// The byte offset where the last value read started.
    fn value_offset(&self) -> usize;
}

fn invalid(what: &str, found: &str, at: usize) -> Error {
    Error::expected(ErrorKind::InvalidValue, what, found).at(at)
}

fn found_text<'v>(v: &'v Val<'_>) -> &'v str {
    match v {
        Val::Null => "null",
        Val::Str(s) => s,
        Val::Num(n) => n,
        Val::Bool(true) => "true",
        Val::Bool(false) => "false",
    }
}

/// A string field: null is absent, numbers and booleans are taken as their text.
fn cow<'a, S: Source<'a>>(src: &mut S) -> Result<Option<Cow<'a, str>>, Error> {
    Ok(match src.value()? {
        Val::Null => None,
        Val::Str(s) => Some(s),
        Val::Num(n) => Some(Cow::Borrowed(n)),
        Val::Bool(b) => Some(Cow::Borrowed(if b { "true" } else { "false" })),
    })
}

fn string<'a, S: Source<'a>>(src: &mut S) -> Result<Option<String>, Error> {
    Ok(cow(src)?.map(Cow::into_owned))
}

/// The text of a non-string field: null and empty (or blank) text are absent.
fn text<'a, S: Source<'a>>(src: &mut S) -> Result<Option<(Val<'a>, usize)>, Error> {
    let v = src.value()?;
    let at = src.value_offset();
    Ok(match &v {
        Val::Null => None,
        Val::Str(s) if s.trim().is_empty() => None,
        _ => Some((v, at)),
    })
}

fn parse_u32(text: &str) -> Option<u32> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits_only(whole)
        || !digits_only(frac)
        || frac.bytes().any(|b| b != b'0')
    {
        return None;
    }
    if text.contains('.') && frac.is_empty() {
        return None;
    }
    let mut n: u32 = 0;
    for b in whole.bytes() {
        n = n.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
    }
    Some(n)
}

pub(crate) fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    if text.is_empty() || text.contains('_') {
        return None;
    }
    if text.contains(['e', 'E']) {
        return Decimal::from_scientific(text).ok();
    }
    // Exact when it fits 28 digits; longer fractions are rounded to fit (never via f64).
    Decimal::from_str_exact(text)
        .or_else(|_| text.parse::<Decimal>())
        .ok()
}

fn opt_u32<'a, S: Source<'a>>(src: &mut S, what: &str) -> Result<Option<u32>, Error> {
    match text(src)? {
        None => Ok(None),
        Some((Val::Bool(_), at)) => Err(invalid(what, found_text(&Val::Bool(true)), at)),
        Some((v, at)) => parse_u32(found_text(&v))
            .map(Some)
            .ok_or_else(|| invalid(what, found_text(&v), at)),
    }
}

fn opt_decimal<'a, S: Source<'a>>(src: &mut S) -> Result<Option<Decimal>, Error> {
    match text(src)? {
        None => Ok(None),
        Some((v, at)) => match &v {
            Val::Bool(_) => Err(invalid("a decimal", found_text(&v), at)),
            _ => parse_decimal(found_text(&v))
                .map(Some)
                .ok_or_else(|| invalid("a decimal", found_text(&v), at)),
        },
    }
}

fn opt_timestamp<'a, S: Source<'a>>(src: &mut S) -> Result<Option<Timestamp>, Error> {
    match text(src)? {
        None => Ok(None),
        Some((v, at)) => {
            let t = found_text(&v);
            if matches!(v, Val::Bool(_)) {
                return Err(invalid("a timestamp", t, at));
            }
            Timestamp::parse(t)
                .map(Some)
                .map_err(|e| invalid("a timestamp", t, at).with_source(e))
        }
    }
}

fn opt_bool<'a, S: Source<'a>>(src: &mut S) -> Result<Option<bool>, Error> {
    match text(src)? {
        None => Ok(None),
        Some((Val::Bool(b), _)) => Ok(Some(b)),
        Some((v, at)) => {
            let t = found_text(&v).trim();
            if t.eq_ignore_ascii_case("true") || t == "1" {
                Ok(Some(true))
            } else if t.eq_ignore_ascii_case("false") || t == "0" {
                Ok(Some(false))
            } else {
                Err(invalid("a boolean", t, at))
            }
        }
    }
}

/// `Some(Cow::Borrowed(known))` when the sent text equals a known static name.
fn name_like(sent: Cow<'_, str>, known: Option<&'static str>) -> Cow<'static, str> {
    match known {
        Some(k) if k == sent => Cow::Borrowed(k),
        _ => Cow::Owned(sent.into_owned()),
    }
}

const PRICE_FIELDS: &[&str] = &["pricePerSecond", "pricePerMessage", "currency"];

fn price<'a, S: Source<'a>>(src: &mut S) -> Result<Option<Price>, Error> {
    if !src.enter()? {
        return Ok(None);
    }
    let (mut amount, mut currency, mut any) = (None, None, false);
    let mut hint = 0;
    while let Some(i) = src.next_field(PRICE_FIELDS, &mut hint)? {
        any = true;
        let r = match i {
            0 | 1 => opt_decimal(src).map(|v| amount = v.or(amount)),
            _ => string(src).map(|v| currency = v),
        };
        r.map_err(|e| e.in_field(PRICE_FIELDS[i]))?;
    }
    Ok(match amount {
        Some(amount) => Some(Price::new(amount, currency.unwrap_or_default())),
        // No amount: a price that says nothing (an empty element, or only a currency).
        None => {
            let _ = any;
            None
        }
    })
}

const STATUS_FIELDS: &[&str] = &[
    "groupId",
    "groupName",
    "id",
    "name",
    "description",
    "permanent",
];

/// What a status or error object said, before the code tables fill the gaps.
#[derive(Default)]
struct Code<'a> {
    group_id: Option<u32>,
    group_name: Option<Cow<'a, str>>,
    id: Option<u32>,
    name: Option<Cow<'a, str>>,
    description: Option<Cow<'a, str>>,
    permanent: Option<bool>,
}

fn code<'a, S: Source<'a>>(src: &mut S, fields: usize) -> Result<Option<Code<'a>>, Error> {
    if !src.enter()? {
        return Ok(None);
    }
    let at = src.value_offset();
    let mut c = Code::default();
    let mut any = false;
    let names = &STATUS_FIELDS[..fields];
    let mut hint = 0;
    while let Some(i) = src.next_field(names, &mut hint)? {
        any = true;
        let r = match i {
            0 => opt_u32(src, "a whole number").map(|v| c.group_id = v),
            1 => cow(src).map(|v| c.group_name = v),
            2 => opt_u32(src, "a whole number").map(|v| c.id = v),
            3 => cow(src).map(|v| c.name = v),
            4 => cow(src).map(|v| c.description = v),
            _ => opt_bool(src).map(|v| c.permanent = v),
        };
        r.map_err(|e| e.in_field(names[i]))?;
    }
    if !any {
        return Ok(None);
    }
    if c.id.is_none() {
        return Err(Error::new(ErrorKind::MissingField, "missing field")
            .in_field("id")
            .at(at));
    }
    Ok(Some(c))
}

fn status<'a, S: Source<'a>>(src: &mut S) -> Result<Option<Status>, Error> {
    let Some(c) = code(src, 5)? else {
        return Ok(None);
    };
    let id = c.id.unwrap_or_default();
    let info = status_info(id);
    let group = match (c.group_id, &c.group_name, info) {
        (Some(g), _, _) => StatusGroup::from_id(g),
        (None, Some(name), _) if StatusGroup::from_name(name).is_some() => {
            StatusGroup::from_name(name).unwrap_or(StatusGroup::Unknown(0))
        }
        (None, _, Some(info)) => info.group,
        _ => StatusGroup::Unknown(0),
    };
    let mut s = Status::new(id, group, "");
    s.group_name = match c.group_name {
        Some(sent) => name_like(sent, group.name()),
        None => Cow::Borrowed(group.name().unwrap_or("")),
    };
    s.name = match c.name {
        Some(sent) => name_like(sent, info.map(|i| i.name)),
        None => Cow::Borrowed(info.map_or("", |i| i.name)),
    };
    s.description = match c.description {
        Some(sent) => name_like(sent, info.map(|i| i.description)),
        None => Cow::Borrowed(info.map_or("", |i| i.description)),
    };
    Ok(Some(s))
}

/// The group of an error that named no group the tables know (no `groupId`, no known
/// `groupName`, an unknown `id`). On the wire `groupId` 0 means OK ("no error, the call was
/// answered"), so the writers leave `groupId` out for it: written as 0 it would come back
/// as [`ErrorGroup::Ok`], and a stored report would claim a group the API never sent.
pub(crate) const NO_ERROR_GROUP: ErrorGroup = ErrorGroup::Unknown(0);

fn report_error<'a, S: Source<'a>>(src: &mut S) -> Result<Option<ReportError>, Error> {
    let Some(c) = code(src, 6)? else {
        return Ok(None);
    };
    let id = c.id.unwrap_or_default();
    let info = error_info(id);
    let group = match (c.group_id, &c.group_name, info) {
        (Some(g), _, _) => ErrorGroup::from_id(g),
        (None, Some(name), _) if ErrorGroup::from_name(name).is_some() => {
            ErrorGroup::from_name(name).unwrap_or(NO_ERROR_GROUP)
        }
        (None, _, Some(info)) => info.group,
        _ => NO_ERROR_GROUP,
    };
    let mut e = ReportError::new(id, group, "");
    e.group_name = match c.group_name {
        Some(sent) => name_like(sent, group.name()),
        None => Cow::Borrowed(group.name().unwrap_or("")),
    };
    e.name = match c.name {
        Some(sent) => name_like(sent, info.map(|i| i.name)),
        None => Cow::Borrowed(info.map_or("", |i| i.name)),
    };
    e.description = match c.description {
        Some(sent) => name_like(sent, info.map(|i| i.description)),
        None => Cow::Borrowed(info.map_or("", |i| i.description)),
    };
    e.permanent = c.permanent.or(info.map(|i| i.permanent)).unwrap_or(false);
    Ok(Some(e))
}

fn missing(name: &str) -> Error {
    Error::new(ErrorKind::MissingField, "missing field").in_field(name)
}

/// The wire names of a v1 report's fields, in the API's order.
pub(crate) const V1_FIELDS: &[&str] = &[
    "bulkId",
    "messageId",
    "to",
    "sentAt",
    "doneAt",
    "startTime",
    "endTime",
    "answerTime",
    "duration",
    "fileDuration",
    "mccMnc",
    "callbackData",
    "dtmfCodes",
    "recordedAudioFileUrl",
    "scenarioId",
    "scenarioName",
    "price",
    "status",
    "error",
    "dtmfCodesAsJson",
    "transcribedAudioFileUrl",
];

/// Reads a v1 report from an entered object. `messageId` is required; `to` defaults to "".
pub(crate) fn v1<'a, S: Source<'a>>(src: &mut S) -> Result<VoiceReport, Error> {
    let mut r = VoiceReport::new(String::new(), String::new());
    let mut message_id = None;
    let mut hint = 0;
    while let Some(i) = src.next_field(V1_FIELDS, &mut hint)? {
        let res = match i {
            0 => string(src).map(|v| r.bulk_id = v),
            1 => string(src).map(|v| message_id = v),
            2 => string(src).map(|v| r.to = v.unwrap_or_default()),
            3 => opt_timestamp(src).map(|v| r.sent_at = v),
            4 => opt_timestamp(src).map(|v| r.done_at = v),
            5 => opt_timestamp(src).map(|v| r.start_time = v),
            6 => opt_timestamp(src).map(|v| r.end_time = v),
            7 => opt_timestamp(src).map(|v| r.answer_time = v),
            8 => opt_u32(src, "a whole number of seconds").map(|v| r.duration = v),
            9 => opt_decimal(src).map(|v| r.file_duration = v),
            10 => string(src).map(|v| r.mcc_mnc = v),
            11 => string(src).map(|v| r.callback_data = v),
            12 => string(src).map(|v| r.dtmf_codes = v),
            13 => string(src).map(|v| r.recorded_audio_file_url = v),
            14 => string(src).map(|v| r.scenario_id = v),
            15 => string(src).map(|v| r.scenario_name = v),
            16 => price(src).map(|v| r.price = v),
            17 => status(src).map(|v| r.status = v),
            18 => report_error(src).map(|v| r.error = v),
            19 => string(src).map(|v| r.dtmf_codes_as_json = v),
            _ => string(src).map(|v| r.transcribed_audio_file_url = v),
        };
        res.map_err(|e| e.in_field(V1_FIELDS[i]))?;
    }
    r.message_id = message_id.ok_or_else(|| missing("messageId"))?;
    Ok(r)
}

/// The wire names of a v2 report's fields, in the API's order.
pub(crate) const V2_FIELDS: &[&str] = &[
    "bulkId",
    "messageId",
    "from",
    "to",
    "sentAt",
    "mccMnc",
    "callbackData",
    "price",
    "status",
    "error",
    "voiceCall",
];

/// Reads a v2 report from an entered object. `messageId` is required; `to` defaults to "".
pub(crate) fn v2<'a, S: Source<'a>>(src: &mut S) -> Result<CallReport, Error> {
    let mut r = CallReport::new(String::new(), String::new());
    let mut message_id = None;
    let mut hint = 0;
    while let Some(i) = src.next_field(V2_FIELDS, &mut hint)? {
        let res = match i {
            0 => string(src).map(|v| r.bulk_id = v),
            1 => string(src).map(|v| message_id = v),
            2 => string(src).map(|v| r.from = v),
            3 => string(src).map(|v| r.to = v.unwrap_or_default()),
            4 => opt_timestamp(src).map(|v| r.sent_at = v),
            5 => string(src).map(|v| r.mcc_mnc = v),
            6 => string(src).map(|v| r.callback_data = v),
            7 => price(src).map(|v| r.price = v),
            8 => status(src).map(|v| r.status = v),
            9 => report_error(src).map(|v| r.error = v),
            _ => voice_call(src).map(|v| r.voice_call = v),
        };
        res.map_err(|e| e.in_field(V2_FIELDS[i]))?;
    }
    r.message_id = message_id.ok_or_else(|| missing("messageId"))?;
    Ok(r)
}

pub(crate) const CALL_FIELDS: &[&str] = &[
    "feature",
    "startTime",
    "answerTime",
    "endTime",
    "duration",
    "chargedDuration",
    "fileDuration",
    "direction",
    "dtmfCodes",
    "answeredBy",
    "callRecordingFileId",
    "ivr",
];

fn voice_call<'a, S: Source<'a>>(src: &mut S) -> Result<Option<VoiceCall>, Error> {
    if !src.enter()? {
        return Ok(None);
    }
    let mut c = VoiceCall::new();
    let mut hint = 0;
    while let Some(i) = src.next_field(CALL_FIELDS, &mut hint)? {
        let res = match i {
            0 => string(src).map(|v| c.feature = v),
            1 => opt_timestamp(src).map(|v| c.start_time = v),
            2 => opt_timestamp(src).map(|v| c.answer_time = v),
            3 => opt_timestamp(src).map(|v| c.end_time = v),
            4 => opt_u32(src, "a whole number of seconds").map(|v| c.duration = v),
            5 => opt_u32(src, "a whole number of seconds").map(|v| c.charged_duration = v),
            6 => opt_decimal(src).map(|v| c.file_duration = v),
            7 => cow(src).map(|v| c.direction = v.map(|s| Direction::from_wire(&s))),
            8 => string(src).map(|v| c.dtmf_codes = v),
            9 => cow(src).map(|v| c.answered_by = v.map(|s| AnsweredBy::from_wire(&s))),
            10 => string(src).map(|v| c.call_recording_file_id = v),
            _ => ivr(src).map(|v| c.ivr = v),
        };
        res.map_err(|e| e.in_field(CALL_FIELDS[i]))?;
    }
    // An empty object carries nothing: absent, as an empty XML element is.
    Ok((c != VoiceCall::new()).then_some(c))
}

pub(crate) const IVR_FIELDS: &[&str] = &[
    "scenarioId",
    "scenarioName",
    "collectedDtmfs",
    "collectedMappedDtmfs",
    "spokenInput",
    "matchedSpokenInput",
];

fn ivr<'a, S: Source<'a>>(src: &mut S) -> Result<Option<IvrData>, Error> {
    if !src.enter()? {
        return Ok(None);
    }
    let mut d = IvrData::new();
    let mut hint = 0;
    while let Some(i) = src.next_field(IVR_FIELDS, &mut hint)? {
        let v = string(src).map_err(|e| e.in_field(IVR_FIELDS[i]))?;
        match i {
            0 => d.scenario_id = v,
            1 => d.scenario_name = v,
            2 => d.collected_dtmfs = v,
            3 => d.collected_mapped_dtmfs = v,
            4 => d.spoken_input = v,
            _ => d.matched_spoken_input = v,
        }
    }
    Ok((d != IvrData::new()).then_some(d))
}

/// Reads the API error body from its entered outermost object (JSON root object, XML root
/// element): `requestError.serviceException`.
pub(crate) fn api_error<'a, S: Source<'a>>(src: &mut S) -> Result<ApiError, Error> {
    let mut found = None;
    while src.next_field(&["requestError"], &mut 0)?.is_some() {
        if !src.enter()? {
            continue;
        }
        while src.next_field(&["serviceException"], &mut 0)?.is_some() {
            if src.enter()? {
                let e = service_exception(src)
                    .map_err(|e| e.in_field("serviceException").in_field("requestError"))?;
                found = Some(e);
            } else {
                found = Some(ApiError::default());
            }
        }
    }
    found.ok_or_else(|| {
        Error::new(
            ErrorKind::Envelope,
            "expected an error body with requestError.serviceException",
        )
    })
}

const EXCEPTION_FIELDS: &[&str] = &["messageId", "text", "validationErrors"];

fn service_exception<'a, S: Source<'a>>(src: &mut S) -> Result<ApiError, Error> {
    let mut e = ApiError::default();
    let mut hint = 0;
    while let Some(i) = src.next_field(EXCEPTION_FIELDS, &mut hint)? {
        match i {
            0 => {
                e.message_id = string(src)
                    .map_err(|e| e.in_field("messageId"))?
                    .unwrap_or_default()
            }
            1 => {
                e.text = string(src)
                    .map_err(|e| e.in_field("text"))?
                    .unwrap_or_default()
            }
            _ => {
                e.validation_errors =
                    validation_errors(src).map_err(|e| e.in_field("validationErrors"))?
            }
        }
    }
    Ok(e)
}

fn validation_errors<'a, S: Source<'a>>(
    src: &mut S,
) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if !src.enter()? {
        return Ok(map);
    }
    while let Some(key) = src.next_key()? {
        let messages = src.strings().map_err(|e| e.in_field(&key))?;
        map.entry(key).or_default().extend(messages);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_numbers() {
        assert_eq!(parse_u32("10"), Some(10));
        assert_eq!(parse_u32(" 10.00 "), Some(10));
        assert_eq!(parse_u32("10."), None);
        assert_eq!(parse_u32("10.5"), None);
        assert_eq!(parse_u32("-1"), None);
        assert_eq!(parse_u32("4294967296"), None);
        assert_eq!(parse_u32(""), None);
        assert_eq!(
            parse_decimal("0.01").map(|d| d.to_string()),
            Some("0.01".into())
        );
        assert_eq!(
            parse_decimal("15.0").map(|d| d.to_string()),
            Some("15.0".into())
        );
        assert_eq!(
            parse_decimal("1e-2").map(|d| d.to_string()),
            Some("0.01".into())
        );
        assert_eq!(parse_decimal("1_0"), None);
        assert_eq!(parse_decimal("abc"), None);
        assert_eq!(parse_decimal("1e999999"), None);
        for hostile in [
            "1e4294967296",
            "1e-99999999999999999999",
            "-1E+2147483648",
            "0.0000000000000000000000000000000000000001",
            "99999999999999999999999999999999999999",
            &"9".repeat(5000),
            &format!("0.{}", "1".repeat(5000)),
            ".",
            "-",
            "1.2.3",
            "e5",
        ] {
            let _ = parse_decimal(hostile);
        }
    }
}
