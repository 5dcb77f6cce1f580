//! Query strings: the `QueryString` builder, and the report endpoints' `ReportsQuery` to
//! `bulkId=..&limit=..` and back.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use ivr_reports_model::{Limit, ReportsQuery};

use crate::{Error, ErrorKind};

/// A query string being built, without the leading `?`: `name=value` pairs joined by `&`,
/// in the order pushed, names and values percent-encoded (everything but
/// `A-Z a-z 0-9 - . _ ~`, so a space is `%20`, never `+`). The report endpoints' query
/// ([`encode_query`]) is built with it; custom endpoints use it for theirs.
///
/// ```
/// use ivr_reports_codec::QueryString;
///
/// let page: Option<u32> = Some(2);
/// let cursor: Option<&str> = None;
/// let q = QueryString::new()
///     .push("bulkId", "bulk 1/2")
///     .push_opt("page", page)
///     .push_opt("cursor", cursor);
/// assert_eq!(q.as_str(), "bulkId=bulk%201%2F2&page=2");
/// assert_eq!(q.into_query().as_deref(), Some("bulkId=bulk%201%2F2&page=2"));
/// assert_eq!(QueryString::new().into_query(), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[must_use]
pub struct QueryString {
    text: String,
}

impl QueryString {
    /// An empty query string.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `name=value`, both percent-encoded; `value` is written through its
    /// [`Display`](fmt::Display) form (a `&str`, a number, a [`Limit`], ...).
    pub fn push(mut self, name: &str, value: impl fmt::Display) -> Self {
        if !self.text.is_empty() {
            self.text.push('&');
        }
        percent_encode(name, &mut self.text);
        self.text.push('=');
        // Writing into a `String` cannot fail.
        let _ = write!(Encoder(&mut self.text), "{value}");
        self
    }

    /// Appends `name=value` when `value` is `Some`; nothing when it is `None`.
    pub fn push_opt(self, name: &str, value: Option<impl fmt::Display>) -> Self {
        match value {
            Some(value) => self.push(name, value),
            None => self,
        }
    }

    /// Whether nothing was pushed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The query string so far (empty when nothing was pushed).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The query string, `None` when nothing was pushed: what
    /// `Endpoint::query` of the `ivr-reports` crate returns.
    #[must_use]
    pub fn into_query(self) -> Option<String> {
        (!self.text.is_empty()).then_some(self.text)
    }
}

impl fmt::Display for QueryString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<QueryString> for String {
    fn from(query: QueryString) -> Self {
        query.text
    }
}

/// A [`fmt::Write`] that percent-encodes what is written into a `String`.
struct Encoder<'a>(&'a mut String);

impl fmt::Write for Encoder<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        percent_encode(s, self.0);
        Ok(())
    }
}

/// The query string for a report request, without the leading `?`: `bulkId`, `messageId`
/// and `limit` in that order, each only when set, values percent-encoded by
/// [`QueryString`]. Empty when nothing is set.
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
    QueryString::new()
        .push_opt("bulkId", query.bulk_id.as_deref())
        .push_opt("messageId", query.message_id.as_deref())
        .push_opt("limit", query.limit)
        .into()
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

    #[test]
    fn query_strings_encode_names_and_values_alike() {
        let q = QueryString::new()
            .push("a b", "x&y=z")
            .push("n", 42)
            .push_opt("none", None::<&str>)
            .push("€", "");
        assert_eq!(q.to_string(), "a%20b=x%26y%3Dz&n=42&%E2%82%AC=");
        assert!(!q.is_empty());
        assert!(QueryString::new().is_empty());
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
