//! Query strings: the `QueryString` builder, the report endpoints' `ReportsQuery` to
//! `bulkId=..&limit=..` and back, and the logs endpoint's `LogsQuery`.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use ivr_reports_model::{Limit, LogsQuery, ReportsQuery, StatusGroup, Timestamp};

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

/// A time as the logs endpoint's query takes it, `yyyy-MM-dd'T'HH:mm:ss.SSSXXX`:
/// milliseconds (further digits truncated), the offset the timestamp carries written
/// `+01:00`, or `Z` for UTC (as Java's `XXX` writes it).
struct QueryTime<'a>(&'a Timestamp);

impl fmt::Display for QueryTime<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day, hour, minute, second) = self.0.local_date_time();
        let millis = self.0.subsec_nanos() / 1_000_000;
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}"
        )?;
        let offset = self.0.offset_minutes();
        if offset == 0 {
            return f.write_str("Z");
        }
        let sign = if offset < 0 { '-' } else { '+' };
        let abs = offset.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)
    }
}

/// A status group as `generalStatus` names it: its name, `ACCEPTED` for group 0, the number
/// of any other group the tables do not know.
struct GroupName(StatusGroup);

impl fmt::Display for GroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.name(), self.0) {
            (Some(name), _) => f.write_str(name),
            (None, StatusGroup::Unknown(0)) => f.write_str("ACCEPTED"),
            (None, group) => write!(f, "{}", group.id()),
        }
    }
}

/// The query string for a logs request (`GET /tts/3/logs`), without the leading `?`:
/// `from`, `to`, each `bulkId`, each `messageId`, `generalStatus`, `sentSince`,
/// `sentUntil`, `limit`, `mcc`, `mnc`, in that order and each only when set; values
/// percent-encoded by [`QueryString`] (so the `+` of an offset is `%2B`). Times are written
/// `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in the offset they carry, milliseconds only.
///
/// ```
/// use ivr_reports_codec::encode_logs_query;
/// use ivr_reports_codec::model::{Limit, LogsQuery, StatusGroup, Timestamp};
///
/// let q = LogsQuery::new()
///     .bulk_id("b 1")
///     .bulk_id("b2")
///     .message_id("m1")
///     .general_status(StatusGroup::Delivered)
///     .sent_since(Timestamp::parse("2026-12-01T10:00:00.000+0100")?)
///     .sent_until(Timestamp::parse("2026-12-01T10:30:00Z")?)
///     .limit(Limit::MAX);
/// assert_eq!(
///     encode_logs_query(&q),
///     "bulkId=b%201&bulkId=b2&messageId=m1&generalStatus=DELIVERED\
///      &sentSince=2026-12-01T10%3A00%3A00.000%2B01%3A00\
///      &sentUntil=2026-12-01T10%3A30%3A00.000Z&limit=1000"
/// );
/// assert_eq!(encode_logs_query(&LogsQuery::new()), "");
/// # Ok::<(), ivr_reports_codec::model::Error>(())
/// ```
#[must_use]
pub fn encode_logs_query(query: &LogsQuery) -> String {
    let mut q = QueryString::new()
        .push_opt("from", query.from.as_deref())
        .push_opt("to", query.to.as_deref());
    for bulk_id in &query.bulk_id {
        q = q.push("bulkId", bulk_id);
    }
    for message_id in &query.message_id {
        q = q.push("messageId", message_id);
    }
    q.push_opt("generalStatus", query.general_status.map(GroupName))
        .push_opt("sentSince", query.sent_since.as_ref().map(QueryTime))
        .push_opt("sentUntil", query.sent_until.as_ref().map(QueryTime))
        .push_opt("limit", query.limit)
        .push_opt("mcc", query.mcc.as_deref())
        .push_opt("mnc", query.mnc.as_deref())
        .into()
}

/// Parses a logs request's query string (with or without the leading `?`), as the sandbox
/// receives it.
///
/// Every parameter of [`LogsQuery`] is read (percent-decoding, `+` as a space, so an
/// unencoded offset `+01:00` arrives as a space and is refused); `bulkId` and `messageId`
/// collect every value in order; other repeated parameters keep their last value; empty
/// values count as absent; unknown parameters are ignored. Times take every form
/// [`Timestamp::parse`] accepts and are kept to milliseconds (as they are sent);
/// `generalStatus` takes a group name (any case), `ACCEPTED` (group 0) or a group number.
///
/// ```
/// use ivr_reports_codec::{ErrorKind, parse_logs_query};
/// use ivr_reports_codec::model::StatusGroup;
///
/// let q = parse_logs_query("?bulkId=b1&bulkId=b2&generalStatus=pending&sentSince=2026-12-01T10%3A00%3A00.000%2B01%3A00")?;
/// assert_eq!(q.bulk_id, ["b1", "b2"]);
/// assert_eq!(q.general_status, Some(StatusGroup::Pending));
/// assert_eq!(q.sent_since.unwrap().to_string(), "2026-12-01T10:00:00.000+0100");
///
/// let err = parse_logs_query("sentSince=2026-12-01T10:00:00.000+01:00").unwrap_err();
/// assert_eq!((err.kind(), err.path()), (ErrorKind::InvalidQuery, "sentSince"));
/// # Ok::<(), ivr_reports_codec::Error>(())
/// ```
///
/// # Errors
/// [`ErrorKind::InvalidQuery`] with the parameter's name as path: a `limit` that is not a
/// whole number from 1 to 1000, a time [`Timestamp::parse`] refuses, an unknown
/// `generalStatus`.
pub fn parse_logs_query(query: &str) -> Result<LogsQuery, Error> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut out = LogsQuery::new();
    let invalid =
        |name: &str, message: String| Error::new(ErrorKind::InvalidQuery, message).in_field(name);
    let time = |name: &str, value: &str| {
        Timestamp::parse(value)
            .and_then(|t| t.with_precision(3))
            .map_err(|e| invalid(name, e.to_string()))
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(name);
        let value = percent_decode(value);
        let text = || (!value.is_empty()).then(|| value.clone().into_owned());
        match name.as_ref() {
            "from" => out.from = text(),
            "to" => out.to = text(),
            "bulkId" => out.bulk_id.extend(text()),
            "messageId" => out.message_id.extend(text()),
            "mcc" => out.mcc = text(),
            "mnc" => out.mnc = text(),
            _ if value.is_empty() && name != "limit" => {}
            "generalStatus" => {
                out.general_status = Some(parse_group(&value).ok_or_else(|| {
                    invalid(
                        "generalStatus",
                        format!(
                            "unknown status group {value:?}: expected ACCEPTED, PENDING, \
                             UNDELIVERABLE, DELIVERED, EXPIRED or REJECTED"
                        ),
                    )
                })?);
            }
            "sentSince" => out.sent_since = Some(time("sentSince", &value)?),
            "sentUntil" => out.sent_until = Some(time("sentUntil", &value)?),
            "limit" => {
                let limit = value
                    .parse::<Limit>()
                    .map_err(|e| invalid("limit", e.to_string()))?;
                out.limit = Some(limit);
            }
            _ => {}
        }
    }
    Ok(out)
}

fn parse_group(value: &str) -> Option<StatusGroup> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u32>().ok().map(StatusGroup::from_id);
    }
    let upper = value.to_ascii_uppercase();
    if upper == "ACCEPTED" {
        return Some(StatusGroup::Unknown(0));
    }
    StatusGroup::from_name(&upper)
}

/// What a query name or value keeps as is: RFC 3986's unreserved characters.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn percent_encode(value: &str, out: &mut String) {
    out.extend(percent_encoding::utf8_percent_encode(value, UNRESERVED));
}

/// Percent-decodes (and `+` to space); malformed escapes are kept literally, invalid UTF-8
/// is replaced.
fn percent_decode(value: &str) -> Cow<'_, str> {
    if !value.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(value);
    }
    // `+` first: an encoded plus (`%2B`) is still encoded here, so it stays a plus.
    let spaced = value.replace('+', " ");
    Cow::Owned(
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned(),
    )
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
    fn logs_query_times_and_groups() {
        let t = |s: &str| Timestamp::parse(s).unwrap();
        let q = LogsQuery::new()
            .sent_since(t("0001-01-01T00:00:00.123456-0930"))
            .sent_until(t("2026-12-01T10:00:00+01:00"))
            .general_status(StatusGroup::Unknown(0))
            .from("41 79")
            .to("385981178")
            .mcc("219")
            .mnc("01");
        let text = encode_logs_query(&q);
        assert_eq!(
            text,
            "from=41%2079&to=385981178&generalStatus=ACCEPTED\
             &sentSince=0001-01-01T00%3A00%3A00.123-09%3A30\
             &sentUntil=2026-12-01T10%3A00%3A00.000%2B01%3A00&mcc=219&mnc=01"
        );
        let back = parse_logs_query(&text).unwrap();
        assert_eq!(
            back.sent_since.unwrap().to_string(),
            "0001-01-01T00:00:00.123-0930"
        );
        assert_eq!(back.general_status, Some(StatusGroup::Unknown(0)));
        assert_eq!(
            encode_logs_query(&LogsQuery::new().general_status(StatusGroup::Unknown(9))),
            "generalStatus=9"
        );
        for (input, path, message) in [
            (
                "limit=0",
                "limit",
                "limit: invalid limit 0: must be between 1 and 1000",
            ),
            (
                "generalStatus=GONE",
                "generalStatus",
                "generalStatus: unknown status group \"GONE\": expected ACCEPTED, PENDING, UNDELIVERABLE, DELIVERED, EXPIRED or REJECTED",
            ),
            ("sentUntil=yesterday", "sentUntil", ""),
        ] {
            let err = parse_logs_query(input).unwrap_err();
            assert_eq!(
                (err.kind(), err.path()),
                (ErrorKind::InvalidQuery, path),
                "{input}"
            );
            assert!(err.to_string().starts_with(message), "{err}");
        }
        let q = parse_logs_query("bulkId=&messageId=a&messageId=b&mcc=&sentSince=&x=1").unwrap();
        assert_eq!(q, LogsQuery::new().message_id("a").message_id("b"));
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
            let _ = parse_logs_query(&s);
        }

        #[test]
        fn logs_queries_round_trip(
            from in proptest::option::of("\\PC{1,8}"),
            to in proptest::option::of("[0-9+ ]{1,8}"),
            bulk in proptest::collection::vec("\\PC{1,8}", 0..3),
            message in proptest::collection::vec("\\PC{1,8}", 0..3),
            group in proptest::option::of(0u32..8),
            since in proptest::option::of((0i64..4_000_000_000_000, -1439i16..=1439)),
            until in proptest::option::of((0i64..4_000_000_000_000, -1439i16..=1439)),
            limit in proptest::option::of(1u16..=1000),
            mcc in proptest::option::of("[0-9]{3}"),
            mnc in proptest::option::of("[0-9]{2,3}"),
        ) {
            let time = |(millis, offset): (i64, i16)| {
                Timestamp::from_unix_millis(millis).unwrap().with_offset(offset).unwrap()
            };
            let mut q = LogsQuery::new();
            q.from = from;
            q.to = to;
            q.bulk_id = bulk;
            q.message_id = message;
            q.general_status = group.map(StatusGroup::from_id);
            q.sent_since = since.map(time);
            q.sent_until = until.map(time);
            q.limit = limit.and_then(Limit::new);
            q.mcc = mcc;
            q.mnc = mnc;
            let text = encode_logs_query(&q);
            prop_assert!(!text.contains('+') && !text.contains(':'), "{}", text);
            prop_assert_eq!(parse_logs_query(&text).unwrap(), q);
        }
    }
}
