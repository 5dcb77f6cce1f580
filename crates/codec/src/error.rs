//! The crate's one error type: what could not be decoded, where, and why.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// Why bytes could not be decoded (or a query string parsed), shaped like `std::io::Error`:
/// a [`kind`](Error::kind), the [`path`](Error::path) of the offending value
/// (`results[3].price.pricePerSecond`), its position in the input, and the third-party
/// error behind it, if any, only through [`source`](std::error::Error::source).
///
/// The message is lowercase and names path, problem and position, e.g.
/// `results[3].price.pricePerSecond: expected a decimal, found "abc" (line 1, column 812)`.
/// Quoted input is cut after 32 characters.
///
/// ```
/// # #[cfg(feature = "json")] {
/// use ivr_reports_codec::{Codec, ErrorKind, Format};
/// use ivr_reports_codec::model::VoiceReport;
///
/// let body = br#"{"results":[{"messageId":"m1","price":{"pricePerSecond":"abc"}}]}"#;
/// let batch = Codec::new(Format::Json)?.decode_page::<VoiceReport>(body)?;
/// let error = &batch.rejected[0].error;
/// assert_eq!(error.kind(), ErrorKind::InvalidValue);
/// assert_eq!(error.path(), "results[0].price.pricePerSecond");
/// assert_eq!(
///     error.to_string(),
///     r#"results[0].price.pricePerSecond: expected a decimal, found "abc" (line 1, column 57)"#
/// );
/// # }
/// # Ok::<(), ivr_reports_codec::Error>(())
/// ```
#[derive(Clone)]
pub struct Error {
    /// Boxed: the decoders return a `Result` per field, and one sized for a large error
    /// would be written and copied on every success too.
    inner: Box<Inner>,
}

/// What an [`Error`] says.
#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    message: Cow<'static, str>,
    path: String,
    offset: Option<usize>,
    line_column: Option<(u32, u32)>,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// The category of an [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes are not well-formed JSON or XML (or end too early).
    Syntax,
    /// Well-formed, but not the expected envelope: no `results`, not an object, the wrong
    /// root element.
    Envelope,
    /// A value has the wrong type or cannot be read: `"abc"` for a decimal, an impossible
    /// date, a number out of range, invalid UTF-8.
    InvalidValue,
    /// A field without which a report is useless is missing (`messageId`).
    MissingField,
    /// Objects or elements nested deeper than the decoder allows.
    TooDeep,
    /// A construct refused for safety: an XML `DOCTYPE` or a custom entity reference.
    Forbidden,
    /// The format is not compiled in (its cargo feature is off).
    Unsupported,
    /// A query string parameter is invalid (e.g. `limit=0`).
    InvalidQuery,
}

impl ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            Self::Syntax => "syntax error",
            Self::Envelope => "unexpected envelope",
            Self::InvalidValue => "invalid value",
            Self::MissingField => "missing field",
            Self::TooDeep => "nested too deeply",
            Self::Forbidden => "forbidden construct",
            Self::Unsupported => "unsupported format",
            Self::InvalidQuery => "invalid query",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The longest piece of input quoted in a message, in characters.
#[cfg_attr(not(any(feature = "json", feature = "xml")), allow(dead_code))]
const MAX_QUOTED: usize = 32;

impl Error {
    /// An error of `kind` with a message (lowercase, saying what is wrong, no secrets; no
    /// path, no position): for code outside this crate that decodes or checks what the
    /// codec hands over (a custom endpoint's body, a value of its own) and reports it the
    /// codec's way.
    ///
    /// ```
    /// use ivr_reports_codec::{Error, ErrorKind};
    ///
    /// let err = Error::new(ErrorKind::InvalidValue, "expected an audio/wav body");
    /// assert_eq!(err.kind(), ErrorKind::InvalidValue);
    /// assert_eq!(err.path(), "");
    /// assert_eq!(err.to_string(), "expected an audio/wav body");
    /// ```
    #[must_use]
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                path: String::new(),
                offset: None,
                line_column: None,
                source: None,
            }),
        }
    }

    /// Attaches the third-party error behind this one, shown through
    /// [`source`](std::error::Error::source) only.
    ///
    /// ```
    /// use ivr_reports_codec::{Error, ErrorKind};
    ///
    /// let utf8 = String::from_utf8(vec![0xff]).unwrap_err();
    /// let err = Error::new(ErrorKind::InvalidValue, "invalid UTF-8").with_source(utf8);
    /// assert_eq!(err.to_string(), "invalid UTF-8");
    /// assert!(std::error::Error::source(&err).is_some());
    /// ```
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.inner.source = Some(Arc::new(source));
        self
    }
}

// Without a format compiled in, only the query parser builds errors.
#[cfg_attr(not(any(feature = "json", feature = "xml")), allow(dead_code))]
impl Error {
    /// `expected {what}, found "{found}"`, quoting (and cutting) the input.
    pub(crate) fn expected(kind: ErrorKind, what: &str, found: &str) -> Self {
        let mut message = String::with_capacity(what.len() + found.len().min(40) + 20);
        message.push_str("expected ");
        message.push_str(what);
        message.push_str(", found \"");
        match found.char_indices().nth(MAX_QUOTED) {
            Some((cut, _)) => {
                push_escaped(&mut message, &found[..cut]);
                message.push('…');
            }
            None => push_escaped(&mut message, found),
        }
        message.push('"');
        Self::new(kind, message)
    }

    /// Sets the byte offset, unless one is set already.
    pub(crate) fn at(mut self, offset: usize) -> Self {
        if self.inner.offset.is_none() {
            self.inner.offset = Some(offset);
        }
        self
    }

    /// Prefixes the path with a field name.
    pub(crate) fn in_field(mut self, name: &str) -> Self {
        if self.inner.path.is_empty() {
            self.inner.path.push_str(name);
        } else if self.inner.path.starts_with('[') {
            self.inner.path.insert_str(0, name);
        } else {
            self.inner.path.insert(0, '.');
            self.inner.path.insert_str(0, name);
        }
        self
    }

    /// Prefixes the path with an array index.
    pub(crate) fn in_index(mut self, index: usize) -> Self {
        let segment = format!("[{index}]");
        if !self.inner.path.is_empty() && !self.inner.path.starts_with('[') {
            self.inner.path.insert(0, '.');
        }
        self.inner.path.insert_str(0, &segment);
        self
    }

    /// The byte offset in the input, if known.
    pub(crate) fn offset(&self) -> Option<usize> {
        self.inner.offset
    }

    /// Shifts the offset (for inputs decoded from a slice of a larger body).
    pub(crate) fn shifted(mut self, by: usize) -> Self {
        if let Some(o) = self.inner.offset.as_mut() {
            *o += by;
        }
        self
    }

    /// Resolves the byte offset to line and column in `input`.
    pub(crate) fn locate(mut self, input: &[u8]) -> Self {
        if let Some(offset) = self.inner.offset {
            let mut lines = LineCounter::default();
            self.inner.line_column = Some(lines.advance(input, offset));
        }
        self
    }

    pub(crate) fn set_line_column(&mut self, line_column: (u32, u32)) {
        self.inner.line_column = Some(line_column);
    }

    /// The category of the error.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Where in the document the problem is, as field names and array indexes from the
    /// envelope down (`results[3].price.pricePerSecond`); empty for the document itself.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.inner.path
    }

    /// The 1-based line of the problem in the input, when known.
    #[must_use]
    pub fn line(&self) -> Option<u32> {
        self.inner.line_column.map(|(l, _)| l)
    }

    /// The 1-based column (in bytes) of the problem in the input, when known.
    #[must_use]
    pub fn column(&self) -> Option<u32> {
        self.inner.line_column.map(|(_, c)| c)
    }

    /// The 0-based byte offset of the problem in the input, when known.
    #[must_use]
    pub fn byte_offset(&self) -> Option<usize> {
        self.inner.offset
    }
}

#[cfg_attr(not(any(feature = "json", feature = "xml")), allow(dead_code))]
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.inner.path.is_empty() {
            write!(f, "{}: ", self.inner.path)?;
        }
        f.write_str(&self.inner.message)?;
        if let Some((line, column)) = self.inner.line_column {
            write!(f, " (line {line}, column {column})")?;
        } else if let Some(offset) = self.inner.offset {
            write!(f, " (at byte {offset})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &format_args!("{self}"));
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

#[cfg_attr(not(any(feature = "json", feature = "xml")), allow(dead_code))]
/// Turns increasing byte offsets into (line, column) without rescanning from the start.
#[derive(Debug, Default)]
pub(crate) struct LineCounter {
    pos: usize,
    line: u32,
    line_start: usize,
}

impl LineCounter {
    /// The 1-based line and byte column of `offset`; offsets must not decrease between calls
    /// (a smaller one restarts the count).
    pub(crate) fn advance(&mut self, input: &[u8], offset: usize) -> (u32, u32) {
        let offset = offset.min(input.len());
        if offset < self.pos {
            *self = Self::default();
        }
        for (i, &b) in input.iter().enumerate().take(offset).skip(self.pos) {
            if b == b'\n' {
                self.line += 1;
                self.line_start = i + 1;
            }
        }
        self.pos = offset;
        let column = offset - self.line_start + 1;
        (
            self.line.saturating_add(1),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_compose_from_the_inside_out() {
        let e = Error::expected(ErrorKind::InvalidValue, "a decimal", "abc")
            .in_field("pricePerSecond")
            .in_field("price")
            .in_index(3)
            .in_field("results")
            .at(811)
            .locate(&[b' '; 900]);
        assert_eq!(e.path(), "results[3].price.pricePerSecond");
        assert_eq!(
            e.to_string(),
            "results[3].price.pricePerSecond: expected a decimal, found \"abc\" (line 1, column 812)"
        );
        assert_eq!((e.line(), e.column()), (Some(1), Some(812)));
    }

    #[test]
    fn long_input_is_cut_and_escaped() {
        let long = "\"x".repeat(40);
        let e = Error::expected(ErrorKind::InvalidValue, "a number", &long);
        assert!(e.to_string().ends_with("…\""), "{e}");
        assert!(e.to_string().contains("\\\"x"));
    }

    #[test]
    fn line_counter_is_incremental() {
        let input = b"ab\ncd\n\nef";
        let mut c = LineCounter::default();
        assert_eq!(c.advance(input, 1), (1, 2));
        assert_eq!(c.advance(input, 4), (2, 2));
        assert_eq!(c.advance(input, 8), (4, 2));
        assert_eq!(c.advance(input, 0), (1, 1));
    }
}
