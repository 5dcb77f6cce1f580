//! `Format`: JSON or XML, chosen from a `Content-Type` or negotiated from an `Accept` header.

use std::fmt;

/// A wire format the API speaks.
///
/// ```
/// use ivr_reports_codec::Format;
///
/// assert_eq!(Format::from_content_type("application/json; charset=utf-8"), Some(Format::Json));
/// assert_eq!(Format::from_content_type("text/xml"), Some(Format::Xml));
/// assert_eq!(Format::negotiate("application/xml;q=0.9, */*;q=0.1"), Some(Format::Xml));
/// assert_eq!(Format::negotiate("text/html"), None);
/// assert_eq!(Format::Json.mime(), "application/json");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// JSON (`application/json`).
    Json,
    /// XML (`application/xml`; `text/xml` is accepted too).
    Xml,
}

/// Quality values in thousandths (`q=0.5` is 500).
type Quality = u16;

impl Format {
    /// Both formats, JSON first (the preferred one on ties).
    pub const ALL: [Self; 2] = [Self::Json, Self::Xml];

    /// The media type to send in `Content-Type` or `Accept`: `application/json` or
    /// `application/xml`, without parameters (some official SDKs require exactly
    /// `application/json`).
    #[must_use]
    pub const fn mime(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Xml => "application/xml",
        }
    }

    /// Whether this build can encode and decode the format (its cargo feature is on).
    #[must_use]
    pub const fn is_supported(self) -> bool {
        match self {
            Self::Json => cfg!(feature = "json"),
            Self::Xml => cfg!(feature = "xml"),
        }
    }

    /// The format of a body from its `Content-Type` value: `application/json`, `text/json`
    /// and any `+json` type are JSON; `application/xml`, `text/xml` and any `+xml` type are
    /// XML. Parameters (`charset`) and case are ignored. `None` for anything else.
    #[must_use]
    pub fn from_content_type(value: &str) -> Option<Self> {
        let essence = value.split(';').next().unwrap_or("").trim();
        let (kind, subtype) = essence.split_once('/')?;
        let kind = kind.trim();
        let subtype = subtype.trim();
        let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let suffix = |s: &str, suf: &str| {
            s.len() > suf.len() && s.is_char_boundary(s.len() - suf.len()) && {
                let tail = &s[s.len() - suf.len()..];
                is(tail, suf)
            }
        };
        if !(is(kind, "application") || is(kind, "text")) {
            return None;
        }
        if is(subtype, "json") || suffix(subtype, "+json") {
            Some(Self::Json)
        } else if is(subtype, "xml") || suffix(subtype, "+xml") {
            Some(Self::Xml)
        } else {
            None
        }
    }

    /// The format of a body: the one its `Content-Type` names when that is JSON or XML,
    /// else sniffed from the body (XML when it starts with `<` after whitespace and a
    /// byte-order mark, JSON otherwise). For responses and webhooks that omit or misstate
    /// their content type.
    ///
    /// ```
    /// use ivr_reports_codec::Format;
    ///
    /// assert_eq!(Format::of_body(Some("text/xml; charset=utf-8"), b"{}"), Format::Xml);
    /// assert_eq!(Format::of_body(None, b"\xEF\xBB\xBF <reportResponse/>"), Format::Xml);
    /// assert_eq!(Format::of_body(Some("text/plain"), br#"{"results":[]}"#), Format::Json);
    /// ```
    #[must_use]
    pub fn of_body(content_type: Option<&str>, body: &[u8]) -> Self {
        if let Some(declared) = content_type.and_then(Self::from_content_type) {
            return declared;
        }
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'<') => Self::Xml,
            _ => Self::Json,
        }
    }

    /// The format to answer with, given a request's `Accept` header value.
    ///
    /// Honours quality values (`q=0` refuses), `*/*`, `application/*`, `text/*`,
    /// `text/xml`, and ignores other parameters; the most specific range that matches a
    /// format decides its quality. JSON wins ties. An empty header accepts anything (JSON).
    /// `None` when neither format is acceptable, so a server can answer 406.
    ///
    /// ```
    /// use ivr_reports_codec::Format;
    ///
    /// assert_eq!(Format::negotiate(""), Some(Format::Json));
    /// assert_eq!(Format::negotiate("*/*"), Some(Format::Json));
    /// assert_eq!(Format::negotiate("text/xml"), Some(Format::Xml));
    /// assert_eq!(Format::negotiate("application/*;q=0.2, application/xml"), Some(Format::Xml));
    /// assert_eq!(Format::negotiate("application/json;q=0, */*"), Some(Format::Xml));
    /// assert_eq!(Format::negotiate("image/png"), None);
    /// ```
    #[must_use]
    pub fn negotiate(accept: &str) -> Option<Self> {
        if accept.trim().is_empty() {
            return Some(Self::Json);
        }
        let json = quality(accept, &[("application", "json")]);
        let xml = quality(accept, &[("application", "xml"), ("text", "xml")]);
        match (json, xml) {
            (0, 0) => None,
            (j, x) if j >= x => Some(Self::Json),
            _ => Some(Self::Xml),
        }
    }
}

/// The best quality any of `types` gets from `accept`, each by its most specific range.
fn quality(accept: &str, types: &[(&str, &str)]) -> Quality {
    types
        .iter()
        .map(|&(kind, subtype)| quality_of(accept, kind, subtype))
        .max()
        .unwrap_or(0)
}

fn quality_of(accept: &str, kind: &str, subtype: &str) -> Quality {
    // (specificity, quality) of the most specific matching range.
    let mut best: Option<(u8, Quality)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim();
        let Some((k, s)) = media.split_once('/') else {
            continue;
        };
        let (k, s) = (k.trim(), s.trim());
        let specificity = if k == "*" && s == "*" {
            1
        } else if k.eq_ignore_ascii_case(kind) && s == "*" {
            2
        } else if k.eq_ignore_ascii_case(kind) && s.eq_ignore_ascii_case(subtype) {
            3
        } else {
            continue;
        };
        let mut q: Quality = 1000;
        for param in parts {
            if let Some((name, value)) = param.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                q = parse_q(value.trim()).unwrap_or(0);
            }
        }
        match best {
            Some((spec, old)) if spec > specificity || (spec == specificity && old >= q) => {}
            _ => best = Some((specificity, q)),
        }
    }
    best.map_or(0, |(_, q)| q)
}

/// `0`, `0.5`, `1.000`: at most three decimals, at most 1 (RFC 9110 `qvalue`).
fn parse_q(value: &str) -> Option<Quality> {
    let (whole, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole = match whole {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let mut thousandths: Quality = 0;
    for (i, b) in frac.bytes().enumerate() {
        thousandths += Quality::from(b - b'0') * [100, 10, 1][i];
    }
    let q = whole + thousandths;
    (q <= 1000).then_some(q)
}

impl fmt::Display for Format {
    /// `json` or `xml`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Json => "json",
            Self::Xml => "xml",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        for (value, expected) in [
            ("application/json", Some(Format::Json)),
            ("Application/JSON ; charset=UTF-8", Some(Format::Json)),
            ("application/problem+json", Some(Format::Json)),
            ("text/json", Some(Format::Json)),
            ("application/xml", Some(Format::Xml)),
            ("text/xml;charset=utf-8", Some(Format::Xml)),
            ("application/atom+xml", Some(Format::Xml)),
            ("text/plain", None),
            ("json", None),
            ("", None),
            ("image/svg+xml", None),
        ] {
            assert_eq!(Format::from_content_type(value), expected, "{value}");
        }
    }

    #[test]
    fn negotiation() {
        for (accept, expected) in [
            ("application/json", Some(Format::Json)),
            ("application/xml", Some(Format::Xml)),
            ("text/xml; charset=utf-8", Some(Format::Xml)),
            ("application/*", Some(Format::Json)),
            ("text/*", Some(Format::Xml)),
            ("*/*;q=0.8", Some(Format::Json)),
            (
                "application/json;q=0.5, application/xml;q=0.6",
                Some(Format::Xml),
            ),
            (
                "application/json;q=0.5, application/xml;q=0.5",
                Some(Format::Json),
            ),
            ("*/*, application/json;q=0", Some(Format::Xml)),
            ("*/*;q=0", None),
            ("application/json;q=0, application/xml;q=0", None),
            ("text/html, image/*", None),
            ("application/json;q=2", None),
            ("application/json;q=abc, application/xml", Some(Format::Xml)),
            ("garbage", None),
            (" ", Some(Format::Json)),
        ] {
            assert_eq!(Format::negotiate(accept), expected, "{accept}");
        }
    }

    #[test]
    fn q_values() {
        assert_eq!(parse_q("0.5"), Some(500));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("1.001"), None);
        assert_eq!(parse_q("0.1234"), None);
        assert_eq!(parse_q("0"), Some(0));
        assert_eq!(parse_q("."), None);
    }
}
