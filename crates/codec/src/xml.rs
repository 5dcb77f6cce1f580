//! XML: reports read with quick-xml's pull parser straight into the model (no DOM, no
//! serde), item spans for rejected reports, doctypes and custom entities refused; and a
//! writer.

use std::borrow::Cow;

use ivr_reports_model::{ApiError, Decimal, Timestamp};
use quick_xml::Reader;
use quick_xml::events::Event;

use crate::batch::{Batch, Rejected};
use crate::common::{locate_all, strip_bom, write_decimal, write_timestamp, write_u32};
use crate::schema::{self, Fields as _, MAX_DEPTH, Source, Val, Writer};
use crate::{Error, ErrorKind, Format, PriceName};

/// A pull reader over XML, positioned inside elements for [`Source`].
pub(crate) struct XmlSource<'a> {
    reader: Reader<&'a [u8]>,
    /// The input's longest prefix that is valid UTF-8 and holds no `\r` (which XML reads as
    /// `\n`), checked once: text inside it is borrowed as it is, without decoding each piece.
    text: &'a str,
    /// Elements open.
    depth: usize,
    /// The current field is an empty element (`<x/>`): no events to read for its value.
    empty: bool,
    value_at: usize,
    /// The parser failed: the rest of the input cannot be read.
    failed: bool,
    /// Enforce `MAX_DEPTH` (off while skipping to the end of a rejected item).
    limit_depth: bool,
}

fn xml_error(e: quick_xml::Error, at: usize) -> Error {
    use quick_xml::Error as E;
    use quick_xml::errors::IllFormedError as I;
    let (kind, message) = match &e {
        E::IllFormed(I::MismatchedEndTag { .. } | I::UnmatchedEndTag(_)) => {
            (ErrorKind::Syntax, "mismatched end tag")
        }
        E::IllFormed(I::MissingEndTag(_)) => (ErrorKind::Syntax, "unexpected end of input"),
        E::IllFormed(_) => (ErrorKind::Syntax, "ill-formed XML"),
        E::Syntax(_) => (ErrorKind::Syntax, "invalid XML syntax"),
        E::Encoding(_) => (ErrorKind::InvalidValue, "invalid UTF-8"),
        E::Escape(_) => (ErrorKind::InvalidValue, "invalid character reference"),
        _ => (ErrorKind::Syntax, "invalid XML"),
    };
    Error::new(kind, message).at(at).with_source(e)
}

impl<'a> XmlSource<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        let mut reader = Reader::from_reader(input);
        let config = reader.config_mut();
        config.trim_text(false);
        config.expand_empty_elements = false;
        config.check_end_names = true;
        let text = std::str::from_utf8(input).unwrap_or_else(|e| {
            std::str::from_utf8(input.get(..e.valid_up_to()).unwrap_or_default())
                .unwrap_or_default()
        });
        let text = text.split('\r').next().unwrap_or_default();
        Self {
            reader,
            text,
            depth: 0,
            empty: false,
            value_at: 0,
            failed: false,
            limit_depth: true,
        }
    }

    fn pos(&self) -> usize {
        usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX)
    }

    /// The next event, keeping depth; refuses doctypes and the end of input.
    #[inline(always)]
    fn event(&mut self) -> Result<Event<'a>, Error> {
        let at = self.pos();
        let event = match self.reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                self.failed = true;
                let at = usize::try_from(self.reader.error_position()).unwrap_or(at);
                return Err(xml_error(e, at));
            }
        };
        match &event {
            Event::Start(_) => {
                self.depth += 1;
                if self.limit_depth && self.depth > MAX_DEPTH {
                    return Err(Error::new(ErrorKind::TooDeep, "nested too deeply").at(at));
                }
            }
            Event::End(_) => self.depth = self.depth.saturating_sub(1),
            Event::DocType(_) => {
                self.failed = true;
                return Err(Error::new(
                    ErrorKind::Forbidden,
                    "document type declarations are not allowed",
                )
                .at(at));
            }
            Event::Eof => {
                self.failed = true;
                return Err(Error::new(ErrorKind::Syntax, "unexpected end of input").at(at));
            }
            _ => {}
        }
        Ok(event)
    }

    /// Skips to the end of the element just opened.
    fn skip_element(&mut self) -> Result<(), Error> {
        let target = self.depth.saturating_sub(1);
        while self.depth > target {
            self.event()?;
        }
        Ok(())
    }

    /// Reads up to and including the end of the current element, appending its text; an
    /// element inside is an error.
    fn text(&mut self) -> Result<Cow<'a, str>, Error> {
        let mut acc: Option<Cow<'a, str>> = None;
        loop {
            let at = self.pos();
            let piece: Cow<'a, str> = match self.event()? {
                // The text's bytes are the input's from `at` to here: borrowed as they are
                // when checked already (see `text`).
                Event::Text(t) => match self.text.get(at..self.pos()) {
                    Some(s) if std::ptr::eq(s.as_bytes(), &*t) => Cow::Borrowed(s),
                    _ => t.xml10_content().map_err(|e| {
                        Error::new(ErrorKind::InvalidValue, "invalid UTF-8")
                            .at(at)
                            .with_source(e)
                    })?,
                },
                Event::CData(c) => c.decode().map_err(|e| {
                    Error::new(ErrorKind::InvalidValue, "invalid UTF-8")
                        .at(at)
                        .with_source(e)
                })?,
                Event::GeneralRef(r) => Cow::Owned(resolve(&r, at)?.to_string()),
                Event::Start(_) | Event::Empty(_) => {
                    return Err(Error::new(
                        ErrorKind::InvalidValue,
                        "expected text, found an element",
                    )
                    .at(at));
                }
                Event::End(_) => break,
                _ => continue,
            };
            match &mut acc {
                None => acc = Some(piece),
                Some(a) => a.to_mut().push_str(&piece),
            }
        }
        Ok(acc.unwrap_or(Cow::Borrowed("")))
    }
}

/// An attribute's value with its references resolved exactly as in text ([`resolve`]), so
/// what [`write_text`] escaped reads back (quick-xml's own unescaping refuses `&#0;`, which
/// the writer uses for control characters).
fn attribute_value(raw: &[u8], at: usize) -> Result<String, Error> {
    let mut rest = std::str::from_utf8(raw).map_err(|e| {
        Error::new(ErrorKind::InvalidValue, "invalid UTF-8")
            .at(at)
            .with_source(e)
    })?;
    let mut out = String::with_capacity(rest.len());
    while let Some((before, after)) = rest.split_once('&') {
        out.push_str(before);
        let (name, after) = after.split_once(';').ok_or_else(|| {
            Error::new(ErrorKind::Syntax, "unterminated reference in an attribute").at(at)
        })?;
        out.push(resolve(name.as_bytes(), at)?);
        rest = after;
    }
    out.push_str(rest);
    Ok(out)
}

/// Resolves `&name;`: the five predefined entities and character references; anything else
/// is a custom entity, refused (never expanded).
fn resolve(name: &[u8], at: usize) -> Result<char, Error> {
    let c = match name {
        b"lt" => '<',
        b"gt" => '>',
        b"amp" => '&',
        b"apos" => '\'',
        b"quot" => '"',
        [b'#', b'x' | b'X', hex @ ..] => char_ref(hex, 16, at)?,
        [b'#', dec @ ..] => char_ref(dec, 10, at)?,
        _ => {
            return Err(Error::new(
                ErrorKind::Forbidden,
                "custom entity references are not allowed",
            )
            .at(at));
        }
    };
    Ok(c)
}

fn char_ref(digits: &[u8], radix: u32, at: usize) -> Result<char, Error> {
    let bad = || Error::new(ErrorKind::InvalidValue, "invalid character reference").at(at);
    if digits.is_empty() || digits.len() > 8 {
        return Err(bad());
    }
    let mut code = 0u32;
    for &d in digits {
        code = code * radix + char::from(d).to_digit(radix).ok_or_else(bad)?;
    }
    char::from_u32(code).ok_or_else(bad)
}

impl<'a> Source<'a> for XmlSource<'a> {
    fn next_field(&mut self, names: &[&str], hint: &mut usize) -> Result<Option<usize>, Error> {
        loop {
            match self.event()? {
                Event::Start(e) => match schema::find_name(names, *hint, e.local_name().as_ref()) {
                    Some(i) => {
                        self.empty = false;
                        *hint = i + 1;
                        return Ok(Some(i));
                    }
                    None => self.skip_element()?,
                },
                Event::Empty(e) => {
                    if let Some(i) = schema::find_name(names, *hint, e.local_name().as_ref()) {
                        self.empty = true;
                        *hint = i + 1;
                        return Ok(Some(i));
                    }
                }
                Event::End(_) => return Ok(None),
                // Text between fields (indentation, stray text), comments, references.
                _ => {}
            }
        }
    }

    fn next_key(&mut self) -> Result<Option<String>, Error> {
        loop {
            let at = self.pos();
            let (event, empty) = match self.event()? {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(_) => return Ok(None),
                _ => continue,
            };
            self.empty = empty;
            let attr = event.try_get_attribute("field").ok().flatten();
            let key = match attr {
                Some(a) => attribute_value(&a.value, at)?,
                None => String::from_utf8_lossy(event.local_name().as_ref()).into_owned(),
            };
            return Ok(Some(key));
        }
    }

    fn value(&mut self) -> Result<Val<'a>, Error> {
        self.value_at = self.pos();
        if std::mem::take(&mut self.empty) {
            return Ok(Val::Str(Cow::Borrowed("")));
        }
        self.text().map(Val::Str)
    }

    fn enter(&mut self) -> Result<bool, Error> {
        self.value_at = self.pos();
        Ok(!std::mem::take(&mut self.empty))
    }

    fn strings(&mut self) -> Result<Vec<String>, Error> {
        if std::mem::take(&mut self.empty) {
            return Ok(vec![String::new()]);
        }
        let mut text = String::new();
        let mut children = Vec::new();
        loop {
            let at = self.pos();
            match self.event()? {
                Event::Text(t) => text.push_str(&t.xml10_content().map_err(|e| {
                    Error::new(ErrorKind::InvalidValue, "invalid UTF-8")
                        .at(at)
                        .with_source(e)
                })?),
                Event::CData(c) => text.push_str(&c.decode().map_err(|e| {
                    Error::new(ErrorKind::InvalidValue, "invalid UTF-8")
                        .at(at)
                        .with_source(e)
                })?),
                Event::GeneralRef(r) => text.push(resolve(&r, at)?),
                Event::Start(_) => children.push(self.text()?.into_owned()),
                Event::Empty(_) => children.push(String::new()),
                Event::End(_) => break,
                _ => {}
            }
        }
        Ok(if children.is_empty() {
            vec![text]
        } else {
            children
        })
    }

    fn skip(&mut self) -> Result<(), Error> {
        if std::mem::take(&mut self.empty) {
            return Ok(());
        }
        self.skip_element()
    }

    fn value_offset(&self) -> usize {
        self.value_at
    }
}

/// Reads the prolog up to the root element's start: whether it is open (not `<x/>`), and
/// whether it is itself named `results`.
fn root(src: &mut XmlSource<'_>) -> Result<(bool, bool), Error> {
    loop {
        let at = src.pos();
        match src.event()? {
            Event::Start(e) => return Ok((true, e.local_name().as_ref() == b"results")),
            Event::Empty(e) => return Ok((false, e.local_name().as_ref() == b"results")),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
            _ => {
                return Err(Error::new(ErrorKind::Envelope, "expected an XML document").at(at));
            }
        }
    }
}

/// After the items: past whitespace, comments and the root's end tag, nothing may follow.
fn finish<T>(src: &mut XmlSource<'_>, batch: &mut Batch<T>, input: &[u8]) {
    let mut at = src.pos();
    loop {
        match src.event() {
            Ok(Event::Text(t)) if t.iter().all(u8::is_ascii_whitespace) => {}
            Ok(Event::Comment(_) | Event::PI(_)) => {}
            Ok(Event::End(_)) if src.depth == 0 => {}
            _ => break,
        }
        at = src.pos();
    }
    crate::common::keep_tail(batch, input, at);
}

const ITEM_NAMES: &[&str] = &["result", "results"];

/// Decodes a `<reportResponse><results><result>...` page item by item.
pub(crate) fn decode_page<T>(
    body: &[u8],
    decode: impl Fn(&mut XmlSource<'_>) -> Result<T, Error>,
) -> Result<Batch<T>, Error> {
    let (input, base) = strip_bom(body);
    let mut src = XmlSource::new(input);
    let mut batch = Batch::new();
    let envelope = |e: Error| e.shifted(base).locate(body);
    let (open, is_results) = root(&mut src).map_err(envelope)?;
    if !open && !is_results {
        return Err(envelope(
            Error::new(ErrorKind::Envelope, "expected a results element").at(src.pos()),
        ));
    }
    // The root may be the list itself (`<results><result>...`).
    let mut found = is_results;
    if is_results && open && items(&mut src, &mut batch, &decode, input) {
        finish(&mut src, &mut batch, input);
    }
    while !found {
        let field = match src.next_field(&["results"], &mut 0) {
            Ok(field) => field,
            Err(e) => return Err(envelope(e)),
        };
        match field {
            None => break,
            Some(_) => {
                found = true;
                if std::mem::take(&mut src.empty) || items(&mut src, &mut batch, &decode, input) {
                    finish(&mut src, &mut batch, input);
                }
            }
        }
    }
    if !found {
        return Err(envelope(
            Error::new(ErrorKind::Envelope, "expected a results element").at(src.pos()),
        ));
    }
    locate_all(&mut batch.rejected, body, base);
    Ok(batch)
}

/// Reads the items of `<results>`; `false` when the page broke off inside it.
fn items<T>(
    src: &mut XmlSource<'_>,
    batch: &mut Batch<T>,
    decode: &impl Fn(&mut XmlSource<'_>) -> Result<T, Error>,
    input: &[u8],
) -> bool {
    // Guess the count from the size (a compact v1 report is ~850 bytes of XML).
    batch
        .reports
        .reserve(input.len().saturating_sub(src.pos()) / 768 + 1);
    let level = src.depth;
    let mut index = 0;
    let rest = |start: usize| input.get(start..).unwrap_or_default();
    loop {
        let start = src.pos();
        let event = match src.event() {
            Ok(event) => event,
            Err(e) => {
                if !rest(start).iter().all(u8::is_ascii_whitespace) {
                    let e = e.in_field("results");
                    batch.rejected.push(Rejected::new(index, rest(start), e));
                }
                return false;
            }
        };
        let (element, empty) = match event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => return true,
            _ => continue,
        };
        if !ITEM_NAMES
            .iter()
            .any(|n| n.as_bytes() == element.local_name().as_ref())
        {
            if !empty && let Err(e) = src.skip_element() {
                // The page broke off inside something that is not an item: keep the rest.
                let e = e.in_field("results");
                batch.rejected.push(Rejected::new(index, rest(start), e));
                return false;
            }
            continue;
        }
        let result = if empty {
            Err(Error::new(ErrorKind::MissingField, "missing field")
                .in_field("messageId")
                .at(start))
        } else {
            decode(src)
        };
        match result {
            Ok(report) => batch.reports.push(report),
            Err(e) => {
                let e = e.at(start).in_index(index).in_field("results");
                src.limit_depth = false;
                while !src.failed && src.depth > level {
                    if src.event().is_err() {
                        break;
                    }
                }
                src.limit_depth = true;
                if src.failed {
                    batch.rejected.push(Rejected::new(index, rest(start), e));
                    return false;
                }
                let end = src.pos();
                let raw = input.get(start..end).unwrap_or_default();
                batch.rejected.push(Rejected::new(index, raw, e));
            }
        }
        index += 1;
    }
}

/// Decodes one report element (a page item's raw bytes); its name is not checked.
pub(crate) fn decode_one<T>(
    body: &[u8],
    decode: impl Fn(&mut XmlSource<'_>) -> Result<T, Error>,
) -> Result<T, Error> {
    let (input, base) = strip_bom(body);
    let mut src = XmlSource::new(input);
    let result = root(&mut src).and_then(|(open, _)| {
        if open {
            decode(&mut src).map_err(|e| e.at(0))
        } else {
            Err(Error::new(ErrorKind::MissingField, "missing field").in_field("messageId"))
        }
    });
    result.map_err(|e| e.shifted(base).locate(body))
}

/// Decodes an API error body (`<ApiException><requestError><serviceException>...`).
pub(crate) fn decode_api_error(body: &[u8]) -> Result<ApiError, Error> {
    let (input, base) = strip_bom(body);
    let mut src = XmlSource::new(input);
    let result = root(&mut src).and_then(|(open, _)| {
        if open {
            schema::api_error(&mut src)
        } else {
            Err(Error::new(
                ErrorKind::Envelope,
                "expected an error body with requestError.serviceException",
            ))
        }
    });
    result.map_err(|e| e.shifted(base).locate(body))
}

// ---- writing ----

/// Writes text content, escaping `&`, `<`, `>`, and `\r` and other control characters as
/// character references (so they survive end-of-line normalisation).
fn write_text(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            b'\t' | b'\n' => continue,
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        if escape.is_empty() {
            out.extend_from_slice(b"&#");
            write_u32(out, u32::from(b));
            out.push(b';');
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
}

fn open(out: &mut Vec<u8>, name: &str) {
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
}

fn close(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b"</");
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
}

fn str_el(out: &mut Vec<u8>, name: &str, v: &str) {
    if v.is_empty() {
        out.push(b'<');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"/>");
    } else {
        open(out, name);
        write_text(out, v);
        close(out, name);
    }
}

fn u32_el(out: &mut Vec<u8>, name: &str, v: u32) {
    open(out, name);
    write_u32(out, v);
    close(out, name);
}

/// The XML [`Writer`]: one element per field, reports as `<result>`.
pub(crate) struct XmlWriter<'o> {
    out: &'o mut Vec<u8>,
    price_name: PriceName,
}

impl<'o> XmlWriter<'o> {
    pub(crate) fn new(out: &'o mut Vec<u8>, price_name: PriceName) -> Self {
        Self { out, price_name }
    }
}

/// The element of one report in a page.
const ITEM: &str = "result";

impl Writer for XmlWriter<'_> {
    const FORMAT: Format = Format::Xml;

    fn price_name(&self) -> PriceName {
        self.price_name
    }

    #[inline]
    fn begin(&mut self) {
        open(self.out, ITEM);
    }

    #[inline]
    fn end(&mut self) {
        close(self.out, ITEM);
    }

    #[inline]
    fn open(&mut self, name: &'static str) {
        open(self.out, name);
    }

    #[inline]
    fn close(&mut self, name: &'static str) {
        close(self.out, name);
    }

    #[inline]
    fn str(&mut self, name: &'static str, v: &str) {
        str_el(self.out, name, v);
    }

    #[inline]
    fn u32(&mut self, name: &'static str, v: u32) {
        u32_el(self.out, name, v);
    }

    fn bool(&mut self, name: &'static str, v: bool) {
        str_el(self.out, name, if v { "true" } else { "false" });
    }

    #[inline]
    fn ts(&mut self, name: &'static str, v: &Timestamp) {
        open(self.out, name);
        write_timestamp(self.out, v);
        close(self.out, name);
    }

    #[inline]
    fn decimal(&mut self, name: &'static str, v: &Decimal) {
        open(self.out, name);
        write_decimal(self.out, v);
        close(self.out, name);
    }
}

/// Writes one report of any type with a [`Schema`](schema::Schema).
pub(crate) fn write_report<R: schema::Schema>(out: &mut Vec<u8>, r: &R, price_name: PriceName) {
    r.write(&mut XmlWriter::new(out, price_name));
}

/// Writes `<reportResponse><results>` fragments `</results></reportResponse>`.
pub(crate) fn write_page<'f>(out: &mut Vec<u8>, fragments: impl IntoIterator<Item = &'f [u8]>) {
    out.extend_from_slice(b"<reportResponse><results>");
    for f in fragments {
        out.extend_from_slice(f);
    }
    out.extend_from_slice(b"</results></reportResponse>");
}

/// Whether `name` can be written as an element name as it is.
fn is_element_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    first_ok
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !name.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("xml"))
}

/// Writes the API error body under `<ApiException>`. Each validation message is an element
/// named by its field (`<limit>must be ...</limit>`), or `<field field="a[0]">` when the
/// field name is not an XML name.
pub(crate) fn write_api_error(out: &mut Vec<u8>, e: &ApiError) {
    use schema::ExceptionField as F;
    out.extend_from_slice(b"<ApiException><requestError><serviceException>");
    for &f in F::ALL {
        let n = f.name();
        match f {
            F::MessageId => str_el(out, n, &e.message_id),
            F::Text => str_el(out, n, &e.text),
            F::ValidationErrors => validation_errors(out, n, e),
        }
    }
    out.extend_from_slice(b"</serviceException></requestError></ApiException>");
}

fn validation_errors(out: &mut Vec<u8>, name: &str, e: &ApiError) {
    if !e.validation_errors.is_empty() {
        open(out, name);
        for (field, messages) in &e.validation_errors {
            for m in messages {
                if is_element_name(field) {
                    str_el(out, field, m);
                } else {
                    out.extend_from_slice(b"<field field=\"");
                    write_text(out, field);
                    out.extend_from_slice(b"\">");
                    write_text(out, m);
                    close(out, "field");
                }
            }
        }
        close(out, name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_round_trip() {
        let mut out = b"<r><messageId>".to_vec();
        write_text(&mut out, "a<b>&\"c\r\n\u{1}\t");
        out.extend_from_slice(b"</messageId></r>");
        let r = decode_one(&out, |s| schema::v1(s)).unwrap();
        assert_eq!(r.message_id, "a<b>&\"c\r\n\u{1}\t");
    }

    #[test]
    fn entities_and_doctypes_are_refused() {
        let e = decode_one(b"<r><messageId>&xxe;</messageId></r>", |s| schema::v1(s)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Forbidden);
        let body = b"<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"b\">]><r><results/></r>";
        let e = decode_page(body, |s| schema::v1(s)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Forbidden);
    }

    #[test]
    fn element_names() {
        assert!(is_element_name("limit"));
        assert!(is_element_name("to_1.x-y"));
        assert!(!is_element_name("messages[0].to"));
        assert!(!is_element_name("1a"));
        assert!(!is_element_name("xmlns"));
        assert!(!is_element_name(""));
    }
}
