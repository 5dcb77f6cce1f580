//! Query strings of the report endpoints: `ReportsQuery` to `bulkId=..&limit=..` and back.

use std::borrow::Cow;

use ivr_reports_model::{Limit, ReportsQuery};

use crate::{Error, ErrorKind};

/// The query string for a report request, without the leading `?`: `bulkId`, `messageId`
/// and `limit` in that order, each only when set, values percent-encoded (everything but
/// `A-Z a-z 0-9 - . _ ~`). Empty when nothing is set.
///
/// ```
/// use ivr_reports_codec::encode_query;
/// use ivr_reports_codec::model::{Limit, ReportsQuery};
///
/// let q = ReportsQuery::new().bulk_id("bulk 1/2").limit(Limit::MAX);
/// assert_eq!(encode_query(&q), "bulkId=bulk%201%2F2&limit=1000");
/// assert_eq!(encode_query(&ReportsQuery::new()), "");
/// ```
#[must_use]
pub fn encode_query(query: &ReportsQuery) -> String {
    let mut out = String::new();
    let mut param = |name: &str, value: &str| {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        percent_encode(value, &mut out);
    };
    if let Some(bulk_id) = &query.bulk_id {
        param("bulkId", bulk_id);
    }
    if let Some(message_id) = &query.message_id {
        param("messageId", message_id);
    }
    if let Some(limit) = query.limit {
        param("limit", &limit.to_string());
    }
    out
}

/// Parses a report request's query string (with or without the leading `?`), as the
/// sandbox receives it.
///
/// `bulkId`, `messageId` and `limit` are read (percent-decoding, `+` as a space); unknown
/// parameters are ignored; a repeated parameter keeps its last value; an empty `bulkId` or
/// `messageId` counts as absent.
///
/// ```
/// use ivr_reports_codec::{ErrorKind, parse_query};
///
/// let q = parse_query("?bulkId=bulk%201&limit=10&foo=bar")?;
/// assert_eq!((q.bulk_id.as_deref(), q.limit.map(|l| l.get())), (Some("bulk 1"), Some(10)));
///
/// let err = parse_query("limit=0").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidQuery);
/// assert_eq!(err.path(), "limit");
/// assert_eq!(err.to_string(), "limit: invalid limit 0: must be between 1 and 1000");
/// # Ok::<(), ivr_reports_codec::Error>(())
/// ```
///
/// # Errors
/// [`ErrorKind::InvalidQuery`] with path `limit` when `limit` is not a whole number from 1
/// to 1000 (the message is the model's [`Limit`] message).
pub fn parse_query(query: &str) -> Result<ReportsQuery, Error> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut out = ReportsQuery::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(name);
        let value = percent_decode(value);
        match name.as_ref() {
            "bulkId" => out.bulk_id = (!value.is_empty()).then(|| value.into_owned()),
            "messageId" => out.message_id = (!value.is_empty()).then(|| value.into_owned()),
            "limit" => {
                let limit = value.parse::<Limit>().map_err(|e| {
                    Error::new(ErrorKind::InvalidQuery, e.to_string()).in_field("limit")
                })?;
                out.limit = Some(limit);
            }
            _ => {}
        }
    }
    Ok(out)
}

fn percent_encode(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// Percent-decodes (and `+` to space); malformed escapes are kept literally, invalid UTF-8
/// is replaced.
fn percent_decode(value: &str) -> Cow<'_, str> {
    if !value.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(value);
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |j: usize| bytes.get(j).and_then(|&h| char::from(h).to_digit(16));
                match (hex(i + 1), hex(i + 2)) {
                    (Some(hi), Some(lo)) => {
                        // Two hex digits: at most 255.
                        out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decoding_is_lenient() {
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("a%zz+b"), "a%zz b");
        assert_eq!(percent_decode("%E2%82%AC"), "€");
        assert_eq!(percent_decode("%FF"), "\u{fffd}");
        let q = parse_query("messageId=&bulkId=x&bulkId=y&limit").unwrap_err();
        assert_eq!(
            q.to_string(),
            "limit: invalid limit \"\": not a whole number"
        );
        let q = parse_query("bulkId=x&bulkId=y").unwrap();
        assert_eq!(q.bulk_id.as_deref(), Some("y"));
        assert_eq!(q.message_id, None);
    }

    proptest! {
        #[test]
        fn round_trips(bulk in proptest::option::of("\\PC{1,12}"),
                       message in proptest::option::of("\\PC{1,12}"),
                       limit in proptest::option::of(1u16..=1000)) {
            let mut q = ReportsQuery::new();
            q.bulk_id = bulk;
            q.message_id = message;
            q.limit = limit.and_then(Limit::new);
            let text = encode_query(&q);
            prop_assert_eq!(parse_query(&text).unwrap(), q);
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse_query(&s);
        }
    }
}
