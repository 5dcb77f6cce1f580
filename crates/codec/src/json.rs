//! JSON: a small tokenizer that reads reports straight into the model (numbers from their
//! source text, spans for rejected items, bounded depth), and a writer.

use std::borrow::Cow;

use ivr_reports_model::{ApiError, Decimal, Timestamp};

use crate::batch::{Batch, Rejected};
use crate::common::{locate_all, strip_bom, write_decimal, write_timestamp, write_u32};
use crate::schema::{self, Fields as _, MAX_DEPTH, Memo, Memoize, Source, Val, Writer};
use crate::{Error, ErrorKind, Format, PriceName};

/// A pull reader over JSON text, positioned inside objects for [`Source`].
#[derive(Debug)]
pub(crate) struct JsonSource<'a> {
    input: &'a [u8],
    /// The input's longest valid UTF-8 prefix, validated once: strings inside it are sliced
    /// from it, and only those past an invalid byte are validated one by one.
    text: &'a str,
    pos: usize,
    /// No field read yet in the current object.
    first: bool,
    /// Objects open, envelope included.
    depth: usize,
    value_at: usize,
    /// Statuses, errors and prices read so far, by their bytes.
    memo: Memo<'a>,
}

fn syntax(message: &'static str, at: usize) -> Error {
    Error::new(ErrorKind::Syntax, message).at(at)
}

/// `true` for bytes a JSON string may not hold raw or that end its fast path.
const STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// The first index at or after `i` holding `"`, `\\` or a control character (or the length):
/// eight bytes at a time, with the classic "has a byte less than n" bit trick.
#[inline(always)]
fn find_stop(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let zero_in = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
        let quote = zero_in(w ^ (ONES * u64::from(b'"')));
        let backslash = zero_in(w ^ (ONES * u64::from(b'\\')));
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        let hits = quote | backslash | control;
        if hits != 0 {
            // The lowest flagged byte is exact (borrows only run towards higher bytes).
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if STRING_STOP[usize::from(b)] {
            return i;
        }
        i += 1;
    }
    i
}

/// `a == b` for field names: two overlapping word loads from each end instead of a call to
/// `memcmp` when the length is 4 to 16 bytes.
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        8..=16 => {
            a.first_chunk::<8>() == b.first_chunk::<8>()
                && a.last_chunk::<8>() == b.last_chunk::<8>()
        }
        4..=7 => {
            a.first_chunk::<4>() == b.first_chunk::<4>()
                && a.last_chunk::<4>() == b.last_chunk::<4>()
        }
        _ => a == b,
    }
}

impl<'a> JsonSource<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        let text = std::str::from_utf8(input).unwrap_or_else(|e| {
            std::str::from_utf8(input.get(..e.valid_up_to()).unwrap_or_default())
                .unwrap_or_default()
        });
        Self {
            input,
            text,
            pos: 0,
            first: true,
            depth: 0,
            value_at: 0,
            memo: Memo::default(),
        }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    #[inline(always)]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn eof_or(&self, message: &'static str) -> Error {
        if self.pos >= self.input.len() {
            syntax("unexpected end of input", self.pos)
        } else {
            syntax(message, self.pos)
        }
    }

    /// The raw bytes of a string starting at `"`, and whether it holds escapes.
    #[inline(always)]
    fn raw_string(&mut self) -> Result<(&'a [u8], bool), Error> {
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = find_stop(self.input, i);
            let Some(&b) = self.input.get(i) else {
                return Err(syntax("unterminated string", self.pos));
            };
            match b {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                _ => return Err(syntax("control character in string", i)),
            }
        }
        self.pos = i + 1;
        Ok((self.input.get(start..i).unwrap_or_default(), escaped))
    }

    /// The input's bytes `start..end` as text, when they lie in the prefix validated once.
    #[inline(always)]
    fn validated(&self, start: usize, end: usize) -> Option<&'a str> {
        self.text.get(start..end)
    }

    /// The string starting at `"`: borrowed when it has no escape and lies in the prefix
    /// validated once (nearly always), else through [`string_slow`](Self::string_slow).
    #[inline(always)]
    fn string(&mut self) -> Result<Cow<'a, str>, Error> {
        let start = self.pos + 1;
        let end = find_stop(self.input, start);
        if self.input.get(end) == Some(&b'"')
            && let Some(s) = self.validated(start, end)
        {
            self.pos = end + 1;
            return Ok(Cow::Borrowed(s));
        }
        self.string_slow()
    }

    /// A string with escapes, invalid UTF-8 or a syntax error: kept out of line.
    #[inline(never)]
    fn string_slow(&mut self) -> Result<Cow<'a, str>, Error> {
        let at = self.pos;
        let (raw, escaped) = self.raw_string()?;
        if !escaped {
            if let Some(s) = self.validated(at + 1, self.pos - 1) {
                return Ok(Cow::Borrowed(s));
            }
            return std::str::from_utf8(raw).map(Cow::Borrowed).map_err(|e| {
                Error::new(ErrorKind::InvalidValue, "invalid UTF-8 in string")
                    .at(at + 1 + e.valid_up_to())
            });
        }
        unescape(raw, at + 1).map(Cow::Owned)
    }

    fn number(&mut self) -> Result<&'a str, Error> {
        let start = self.pos;
        let b = self.input;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let s = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > s
        };
        if !digits(&mut i) {
            return Err(syntax("invalid number", start));
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return Err(syntax("invalid number", start));
            }
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            if !digits(&mut i) {
                return Err(syntax("invalid number", start));
            }
        }
        self.pos = i;
        if let Some(s) = self.validated(start, i) {
            return Ok(s);
        }
        // ASCII by construction.
        std::str::from_utf8(b.get(start..i).unwrap_or_default())
            .map_err(|_| syntax("invalid number", start))
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), Error> {
        if self.input.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.eof_or("invalid literal"))
        }
    }

    /// After the current object's `{` or a value: moves to the next key's opening quote.
    /// `false` when the object ended (its `}` consumed).
    #[inline(always)]
    fn advance_to_key(&mut self) -> Result<bool, Error> {
        self.ws();
        if self.first {
            self.first = false;
            if self.peek() == Some(b'}') {
                self.pos += 1;
                self.depth = self.depth.saturating_sub(1);
                return Ok(false);
            }
        } else {
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.ws();
                }
                Some(b'}') => {
                    self.pos += 1;
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(false);
                }
                _ => return Err(self.eof_or("expected ',' or '}'")),
            }
        }
        if self.peek() != Some(b'"') {
            return Err(self.eof_or("expected a field name"));
        }
        Ok(true)
    }

    #[inline(always)]
    fn colon(&mut self) -> Result<(), Error> {
        self.ws();
        if self.peek() != Some(b':') {
            return Err(self.eof_or("expected ':'"));
        }
        self.pos += 1;
        self.ws();
        self.value_at = self.pos;
        Ok(())
    }

    /// Skips one value, checking its syntax, nesting at most `MAX_DEPTH` deep.
    fn skip_value(&mut self, depth: usize) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::new(ErrorKind::TooDeep, "nested too deeply").at(self.pos));
        }
        self.ws();
        match self.peek() {
            Some(b'"') => self.raw_string().map(drop),
            Some(b'-' | b'0'..=b'9') => self.number().map(drop),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'{') => {
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return Err(self.eof_or("expected a field name"));
                    }
                    self.raw_string()?;
                    self.colon()?;
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(self.eof_or("expected ',' or '}'")),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(self.eof_or("expected ',' or ']'")),
                    }
                }
            }
            _ => Err(self.eof_or("expected a value")),
        }
    }

    /// [`Source::next_field`] when the key at the current position is not the expected
    /// name: usually a later one (the fields between were left out), found by comparing
    /// the key with each later name (lengths first), else [`other_field`](Self::other_field).
    #[inline(never)]
    fn later_field(&mut self, names: &[&str], hint: &mut usize) -> Result<Option<usize>, Error> {
        let from = self.pos + 1;
        let end = find_stop(self.input, from);
        if self.input.get(end) == Some(&b'"')
            && let Some(key) = self.input.get(from..end)
        {
            for (i, name) in names.iter().enumerate().skip(*hint + 1) {
                if same(key, name.as_bytes()) {
                    self.pos = end + 1;
                    self.colon()?;
                    *hint = i + 1;
                    return Ok(Some(i));
                }
            }
        }
        self.other_field(names, hint)
    }

    /// [`later_field`](Self::later_field) when the key is not a later name: reads it whole
    /// (unescaped), finds it among `names` or skips its value, and so on to the next known
    /// field. Kept out of line so that the usual path stays small.
    #[inline(never)]
    fn other_field(&mut self, names: &[&str], hint: &mut usize) -> Result<Option<usize>, Error> {
        loop {
            let at = self.pos;
            let (raw, escaped) = self.raw_string()?;
            let unescaped;
            let key: &[u8] = if escaped {
                unescaped = unescape(raw, at + 1)?;
                unescaped.as_bytes()
            } else {
                raw
            };
            self.colon()?;
            match schema::find_name(names, *hint, key) {
                Some(i) => {
                    *hint = i + 1;
                    return Ok(Some(i));
                }
                None => self.skip_value(self.depth)?,
            }
            if !self.advance_to_key()? {
                return Ok(None);
            }
        }
    }

    /// Enters the object at the current position (after whitespace).
    fn open(&mut self) -> Result<(), Error> {
        self.ws();
        if self.peek() != Some(b'{') {
            return Err(self.eof_or("expected an object"));
        }
        if self.depth >= MAX_DEPTH {
            return Err(Error::new(ErrorKind::TooDeep, "nested too deeply").at(self.pos));
        }
        self.pos += 1;
        self.depth += 1;
        self.first = true;
        Ok(())
    }
}

impl<'a> Source<'a> for JsonSource<'a> {
    fn next_field(&mut self, names: &[&str], hint: &mut usize) -> Result<Option<usize>, Error> {
        if !self.advance_to_key()? {
            return Ok(None);
        }
        // Fields usually come in the declared order: the expected name, followed by its
        // closing quote, is the key (no name holds a quote, a backslash or a control).
        if let Some(name) = names.get(*hint) {
            let n = name.as_bytes();
            let from = self.pos + 1;
            let end = from + n.len();
            if self.input.get(end) == Some(&b'"')
                && self.input.get(from..end).is_some_and(|key| same(key, n))
            {
                self.pos = end + 1;
                self.colon()?;
                let i = *hint;
                *hint = i + 1;
                return Ok(Some(i));
            }
        }
        self.later_field(names, hint)
    }

    fn next_key(&mut self) -> Result<Option<String>, Error> {
        if !self.advance_to_key()? {
            return Ok(None);
        }
        let key = self.string()?.into_owned();
        self.colon()?;
        Ok(Some(key))
    }

    fn value(&mut self) -> Result<Val<'a>, Error> {
        self.ws();
        self.value_at = self.pos;
        match self.peek() {
            Some(b'"') => self.string().map(Val::Str),
            Some(b'-' | b'0'..=b'9') => self.number().map(Val::Num),
            Some(b't') => self.literal(b"true").map(|()| Val::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|()| Val::Bool(false)),
            Some(b'n') => self.literal(b"null").map(|()| Val::Null),
            Some(b'{') => Err(Error::new(
                ErrorKind::InvalidValue,
                "expected a value, found an object",
            )
            .at(self.pos)),
            Some(b'[') => Err(Error::new(
                ErrorKind::InvalidValue,
                "expected a value, found an array",
            )
            .at(self.pos)),
            _ => Err(self.eof_or("expected a value")),
        }
    }

    fn enter(&mut self) -> Result<bool, Error> {
        self.ws();
        self.value_at = self.pos;
        match self.peek() {
            Some(b'n') => self.literal(b"null").map(|()| false),
            Some(b'{') => self.open().map(|()| true),
            Some(b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'[') => {
                Err(Error::new(ErrorKind::InvalidValue, "expected an object").at(self.pos))
            }
            _ => Err(self.eof_or("expected a value")),
        }
    }

    fn strings(&mut self) -> Result<Vec<String>, Error> {
        self.ws();
        if self.peek() != Some(b'[') {
            return Ok(match self.value()? {
                Val::Null => Vec::new(),
                Val::Str(s) => vec![s.into_owned()],
                Val::Num(n) => vec![n.to_owned()],
                Val::Bool(b) => vec![b.to_string()],
            });
        }
        self.pos += 1;
        let mut out = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(out);
        }
        loop {
            match self.value()? {
                Val::Null => {}
                Val::Str(s) => out.push(s.into_owned()),
                Val::Num(n) => out.push(n.to_owned()),
                Val::Bool(b) => out.push(b.to_string()),
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(out);
                }
                _ => return Err(self.eof_or("expected ',' or ']'")),
            }
        }
    }

    fn skip(&mut self) -> Result<(), Error> {
        self.skip_value(self.depth)
    }

    fn value_offset(&self) -> usize {
        self.value_at
    }

    #[inline]
    fn whole_number(&mut self, what: &str) -> Result<Option<u32>, Error> {
        // One to nine digits that end the number (no fraction, no exponent, so no
        // overflow): the value `read_u32` would read, without the number's text.
        self.ws();
        let start = self.pos;
        let mut n = 0u32;
        let mut i = start;
        while let Some(&b) = self.input.get(i)
            && b.is_ascii_digit()
            && i - start < 9
        {
            n = n * 10 + u32::from(b - b'0');
            i += 1;
        }
        if i > start && !matches!(self.input.get(i), Some(b'0'..=b'9' | b'.' | b'e' | b'E')) {
            self.value_at = start;
            self.pos = i;
            return Ok(Some(n));
        }
        schema::read_u32(self, what)
    }

    #[inline]
    fn timestamp(&mut self) -> Result<Option<Timestamp>, Error> {
        // The documented form between quotes: its bytes hold no quote, backslash or
        // control, so they are the whole string, read as `read_timestamp` would read it.
        self.ws();
        let start = self.pos;
        if let Some(quoted) = self.input.get(start..start + 30)
            && let [b'"', body @ .., b'"'] = quoted
            && let Ok(body) = <&[u8; 28]>::try_from(body)
            && let Some(ts) = crate::common::documented_timestamp_bytes(body)
        {
            self.value_at = start;
            self.pos = start + 30;
            return Ok(Some(ts));
        }
        schema::read_timestamp(self)
    }

    #[inline]
    fn memoized<T: Memoize>(
        &mut self,
        read: fn(&mut Self) -> Result<Option<T>, Error>,
    ) -> Result<Option<T>, Error> {
        self.ws();
        let start = self.pos;
        let depth = self.depth;
        let rest = self.input.get(start..).unwrap_or_default();
        if rest.first() != Some(&b'{') || !T::recent(&mut self.memo).worth_looking() {
            return read(self);
        }
        if let Some((value, len)) = T::recent(&mut self.memo).find(rest, depth) {
            self.value_at = start;
            self.pos = start + len;
            return Ok(Some(value));
        }
        let read = read(self)?;
        // Only an object read whole is kept (`read` stops after its `}`).
        if let Some(value) = &read
            && value.worth_keeping()
            && self.depth == depth
            && let Some(bytes) = self.input.get(start..self.pos)
            && bytes.last() == Some(&b'}')
        {
            T::recent(&mut self.memo).put(bytes, depth, value);
        }
        Ok(read)
    }
}

fn hex4(raw: &[u8], at: usize) -> Option<u32> {
    let digits = raw.get(at..at + 4)?;
    let mut v = 0u32;
    for &d in digits {
        v = v * 16 + char::from(d).to_digit(16)?;
    }
    Some(v)
}

/// Unescapes a JSON string's content (`raw` starts at byte `base` of the input).
fn unescape(raw: &[u8], base: usize) -> Result<String, Error> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    let bad =
        |i: usize| Error::new(ErrorKind::InvalidValue, "invalid escape in string").at(base + i);
    while let Some(&b) = raw.get(i) {
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&e) = raw.get(i + 1) else {
            return Err(bad(i));
        };
        let simple = match e {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            i += 2;
            continue;
        }
        if e != b'u' {
            return Err(bad(i));
        }
        let hi = hex4(raw, i + 2).ok_or_else(|| bad(i))?;
        i += 6;
        let code = if (0xD800..0xDC00).contains(&hi) {
            let lo = match (raw.get(i), raw.get(i + 1)) {
                (Some(b'\\'), Some(b'u')) => hex4(raw, i + 2).ok_or_else(|| bad(i))?,
                _ => return Err(bad(i)),
            };
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(bad(i));
            }
            i += 6;
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        let c = char::from_u32(code).ok_or_else(|| bad(i))?;
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    String::from_utf8(out).map_err(|e| {
        Error::new(ErrorKind::InvalidValue, "invalid UTF-8 in string")
            .at(base + e.utf8_error().valid_up_to())
    })
}

/// The end (exclusive) of the item starting at `start`: brackets matched, strings skipped,
/// a scalar ends before the next `,` or `]`. `None` when the input breaks off or brackets
/// do not match.
///
/// A `,` ends the item only when what follows it can start the next item (a value or the
/// `]`). In a damaged page a lost quote turns strings inside out, and the commas of real
/// texts (`"User was notified, but did not answer call"`) would then cut an intact report
/// in two; such a comma is followed by text, never by a value, so it is passed over and the
/// intact report stays whole in the rejected bytes.
fn span_end(input: &[u8], start: usize) -> Option<usize> {
    let mut stack: Vec<u8> = Vec::new();
    let mut i = start;
    let trimmed = |end: usize| {
        let mut end = end;
        while end > start && matches!(input.get(end - 1), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            end -= 1;
        }
        end
    };
    while let Some(&b) = input.get(i) {
        match b {
            b'"' => {
                i += 1;
                loop {
                    match input.get(i)? {
                        b'"' => break,
                        b'\\' => i += 2,
                        _ => i += 1,
                    }
                }
            }
            b'{' | b'[' => {
                if stack.len() >= MAX_DEPTH * 4 {
                    return None;
                }
                stack.push(if b == b'{' { b'}' } else { b']' });
            }
            b'}' | b']' => match stack.pop() {
                None => return Some(trimmed(i)),
                Some(expected) if expected == b => {
                    if stack.is_empty() {
                        return Some(i + 1);
                    }
                }
                Some(_) => return None,
            },
            b',' if stack.is_empty() && starts_next_item(input, i + 1) => {
                return Some(trimmed(i));
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Whether the first non-space byte from `at` can begin a page item or close the list.
fn starts_next_item(input: &[u8], at: usize) -> bool {
    let next = input
        .get(at..)
        .unwrap_or_default()
        .iter()
        .find(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t'));
    matches!(
        next,
        None | Some(b'{' | b'[' | b']' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n')
    )
}

/// Decodes a `{"results":[...]}` page item by item.
pub(crate) fn decode_page<T>(
    body: &[u8],
    decode: impl Fn(&mut JsonSource<'_>) -> Result<T, Error>,
) -> Result<Batch<T>, Error> {
    let (input, base) = strip_bom(body);
    let mut src = JsonSource::new(input);
    let mut batch = Batch::new();
    let envelope = |e: Error| e.shifted(base).locate(body);
    src.ws();
    if src.peek() != Some(b'{') {
        return Err(envelope(
            Error::new(
                ErrorKind::Envelope,
                "expected a JSON object with \"results\"",
            )
            .at(src.pos),
        ));
    }
    src.open().map_err(envelope)?;
    let mut found = false;
    loop {
        let field = match src.next_field(&["results"], &mut 0) {
            Ok(field) => field,
            // Everything in `results` is decoded already: a broken tail loses nothing.
            Err(_) if found => break,
            Err(e) => return Err(envelope(e)),
        };
        match field {
            None => break,
            Some(_) if found => {
                if src.skip().is_err() {
                    break;
                }
            }
            Some(_) => {
                found = true;
                if items(&mut src, &mut batch, &decode).map_err(envelope)? {
                    src.ws();
                    if src.peek() == Some(b'}') {
                        src.pos += 1;
                    }
                    crate::common::keep_tail(&mut batch, input, src.pos);
                }
                break;
            }
        }
    }
    if !found {
        return Err(envelope(
            Error::new(ErrorKind::Envelope, "expected a \"results\" field")
                .at(src.pos.min(input.len())),
        ));
    }
    locate_all(&mut batch.rejected, body, base);
    Ok(batch)
}

/// Reads the `results` array; `Ok(false)` when the page broke off inside it.
fn items<T>(
    src: &mut JsonSource<'_>,
    batch: &mut Batch<T>,
    decode: &impl Fn(&mut JsonSource<'_>) -> Result<T, Error>,
) -> Result<bool, Error> {
    let input = src.input;
    src.ws();
    match src.peek() {
        Some(b'[') => src.pos += 1,
        Some(b'n') => return src.literal(b"null").map(|()| true),
        _ => {
            return Err(
                Error::new(ErrorKind::Envelope, "expected \"results\" to be an array")
                    .in_field("results")
                    .at(src.pos),
            );
        }
    }
    // Reports are large: guess the count from the size (a compact v1 report is ~650 bytes)
    // so the vector is not regrown and copied several times.
    batch
        .reports
        .reserve(input.len().saturating_sub(src.pos) / 512 + 1);
    let envelope_depth = src.depth;
    let mut index = 0;
    // The index and start of the item just read, when it decoded.
    let mut last_ok: Option<(usize, usize)>;
    loop {
        src.ws();
        if src.peek() == Some(b']') {
            src.pos += 1;
            return Ok(true);
        }
        let start = src.pos;
        let result = src.enter().and_then(|entered| {
            if entered {
                decode(src)
            } else {
                Err(Error::new(ErrorKind::InvalidValue, "expected a report, found null").at(start))
            }
        });
        match result {
            Ok(report) => {
                batch.reports.push(report);
                last_ok = Some((index, start));
            }
            Err(e) => {
                last_ok = None;
                let e = e.at(start).in_index(index).in_field("results");
                src.depth = envelope_depth;
                src.first = false;
                match span_end(input, start) {
                    Some(end) => {
                        batch.rejected.push(Rejected::new(
                            index,
                            input.get(start..end).unwrap_or_default(),
                            e,
                        ));
                        src.pos = end;
                    }
                    None => {
                        batch.rejected.push(Rejected::new(
                            index,
                            input.get(start..).unwrap_or_default(),
                            e,
                        ));
                        return Ok(false);
                    }
                }
            }
        }
        index += 1;
        src.ws();
        match src.peek() {
            Some(b',') => src.pos += 1,
            Some(b']') => {
                src.pos += 1;
                return Ok(true);
            }
            None => {
                // The input ends inside `results`. If the last item decoded, it may have
                // swallowed what followed it (e.g. into an unknown field whose closing
                // brackets were the page's own): keep its raw bytes to the end as well.
                if let Some((last, start)) = last_ok {
                    let e = syntax("the page ends inside results", input.len())
                        .in_index(last)
                        .in_field("results");
                    batch.rejected.push(Rejected::new(
                        last,
                        input.get(start..).unwrap_or_default().trim_ascii_end(),
                        e,
                    ));
                }
                return Ok(false);
            }
            Some(_) => {
                let e = syntax("expected ',' or ']'", src.pos).in_field("results");
                batch.rejected.push(Rejected::new(
                    index,
                    input.get(src.pos..).unwrap_or_default(),
                    e,
                ));
                return Ok(false);
            }
        }
    }
}

/// Decodes one report object (a page item's raw bytes).
pub(crate) fn decode_one<T>(
    body: &[u8],
    decode: impl Fn(&mut JsonSource<'_>) -> Result<T, Error>,
) -> Result<T, Error> {
    let (input, base) = strip_bom(body);
    let mut src = JsonSource::new(input);
    src.ws();
    let start = src.pos;
    let result = src
        .open()
        .and_then(|()| decode(&mut src).map_err(|e| e.at(start)))
        .and_then(|t| {
            src.ws();
            if src.pos < input.len() {
                Err(syntax("trailing characters after the report", src.pos))
            } else {
                Ok(t)
            }
        });
    result.map_err(|e| e.shifted(base).locate(body))
}

/// Decodes an API error body.
pub(crate) fn decode_api_error(body: &[u8]) -> Result<ApiError, Error> {
    let (input, base) = strip_bom(body);
    let mut src = JsonSource::new(input);
    src.open()
        .map_err(|e| {
            Error::new(ErrorKind::Envelope, "expected a JSON object").at(e.offset().unwrap_or(0))
        })
        .and_then(|()| schema::api_error(&mut src))
        .map_err(|e| e.shifted(base).locate(body))
}

// ---- writing ----

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `s` as a JSON string: the runs between bytes to escape found eight bytes at a
/// time ([`find_stop`]) and copied whole.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    loop {
        let i = find_stop(bytes, start);
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        let Some(&b) = bytes.get(i) else {
            break;
        };
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]),
        }
        start = i + 1;
    }
    out.push(b'"');
}

/// The JSON [`Writer`]: compact, fields in the declared order.
pub(crate) struct JsonWriter<'o> {
    out: &'o mut Vec<u8>,
    /// No field written yet in the object open.
    first: bool,
}

impl<'o> JsonWriter<'o> {
    pub(crate) fn new(out: &'o mut Vec<u8>) -> Self {
        Self { out, first: true }
    }

    /// Writes `"key":` (after a `,` unless it is the object's first field).
    #[inline]
    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// Like [`key`](Self::key), for a name that may need escaping.
    fn escaped_key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_str(self.out, key);
        self.out.push(b':');
    }
}

impl Writer for JsonWriter<'_> {
    const FORMAT: Format = Format::Json;

    fn price_name(&self) -> PriceName {
        PriceName::default()
    }

    #[inline]
    fn begin(&mut self) {
        self.out.push(b'{');
        self.first = true;
    }

    #[inline]
    fn end(&mut self) {
        self.out.push(b'}');
        // The object just closed is a value of the enclosing one.
        self.first = false;
    }

    #[inline]
    fn open(&mut self, name: &'static str) {
        self.key(name);
        self.begin();
    }

    #[inline]
    fn close(&mut self, _name: &'static str) {
        self.end();
    }

    #[inline]
    fn str(&mut self, name: &'static str, v: &str) {
        self.key(name);
        write_str(self.out, v);
    }

    #[inline]
    fn u32(&mut self, name: &'static str, v: u32) {
        self.key(name);
        write_u32(self.out, v);
    }

    fn bool(&mut self, name: &'static str, v: bool) {
        self.key(name);
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
    }

    #[inline]
    fn ts(&mut self, name: &'static str, v: &Timestamp) {
        self.key(name);
        self.out.push(b'"');
        write_timestamp(self.out, v);
        self.out.push(b'"');
    }

    #[inline]
    fn decimal(&mut self, name: &'static str, v: &Decimal) {
        self.key(name);
        write_decimal(self.out, v);
    }
}

/// Writes one report of any type with a [`Schema`](schema::Schema).
pub(crate) fn write_report<R: schema::Schema>(out: &mut Vec<u8>, r: &R) {
    r.write(&mut JsonWriter::new(out));
}

/// Writes `{"results":[` fragments joined by `,` `]}`.
pub(crate) fn write_page<'f>(out: &mut Vec<u8>, fragments: impl IntoIterator<Item = &'f [u8]>) {
    out.extend_from_slice(b"{\"results\":[");
    for (i, f) in fragments.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(f);
    }
    out.extend_from_slice(b"]}");
}

/// Writes the API error body.
pub(crate) fn write_api_error(out: &mut Vec<u8>, e: &ApiError) {
    use schema::ExceptionField as F;
    out.extend_from_slice(b"{\"requestError\":{\"serviceException\":");
    let mut w = JsonWriter::new(out);
    w.begin();
    for &f in F::ALL {
        let n = f.name();
        match f {
            F::MessageId => w.str(n, &e.message_id),
            F::Text => w.str(n, &e.text),
            F::ValidationErrors => {
                if e.validation_errors.is_empty() {
                    continue;
                }
                w.open(n);
                for (field, messages) in &e.validation_errors {
                    w.escaped_key(field);
                    w.out.push(b'[');
                    for (i, m) in messages.iter().enumerate() {
                        if i > 0 {
                            w.out.push(b',');
                        }
                        write_str(w.out, m);
                    }
                    w.out.push(b']');
                }
                w.close(n);
            }
        }
    }
    w.end();
    out.extend_from_slice(b"}}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_and_unescape() {
        let mut out = Vec::new();
        write_str(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, b"\"a\\\"b\\\\c\\nd\\u0001\xc3\xa9\"");
        assert_eq!(unescape(br"\ud83d\ude00\u00e9\/", 0).unwrap(), "😀é/");
        assert!(unescape(br"\ud83d", 0).is_err());
        assert!(unescape(br"\x", 0).is_err());
        assert!(unescape(br"\u12", 0).is_err());
    }

    /// `write_str` as it was, a byte at a time.
    fn write_str_bytewise(out: &mut Vec<u8>, s: &str) {
        out.push(b'"');
        for &b in s.as_bytes() {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0..0x20 => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
                _ => out.push(b),
            }
        }
        out.push(b'"');
    }

    #[test]
    fn strings_write_like_byte_by_byte() {
        for len in 0..40 {
            for stop in ['"', '\\', '\u{0}', '\u{1f}', '\n', '\t'] {
                for at in 0..len {
                    let mut chars: Vec<char> = (0..len)
                        .map(|i| ['a', 'é', '\u{7f}', '😀'][i % 4])
                        .collect();
                    chars[at] = stop;
                    if at + 2 < len {
                        chars[at + 2] = stop;
                    }
                    let s: String = chars.into_iter().collect();
                    let (mut fast, mut slow) = (b"x".to_vec(), b"x".to_vec());
                    write_str(&mut fast, &s);
                    write_str_bytewise(&mut slow, &s);
                    assert_eq!(fast, slow, "{s:?}");
                    let back = unescape(&fast[2..fast.len() - 1], 0).unwrap();
                    assert_eq!(back, s);
                }
            }
        }
    }

    #[test]
    fn timestamps_read_alike_on_the_short_path_and_the_long() {
        for value in [
            r#""2015-02-12T09:58:20.323+0100""#,
            r#""2016-02-29T23:59:59.999-0530","#,
            r#""2015-02-29T09:58:20.323+0100""#,
            r#""0000-01-01T00:00:00.000+0100""#,
            r#""2015-02-12T09:58:20.323+01:00""#,
            r#""2015-02-12T09:58:20.3230+0100""#,
            r#""\u0032015-02-12T09:58:20.323+0100""#,
            r#""2015-02-12T09:58:20.323+0100"#,
            r#""2015-02-12T09:58:20Z""#,
            r#""""#,
            r#"" ""#,
            "null",
            "1423731500",
            "true",
        ] {
            read_alike(value, |s| s.timestamp(), |l| schema::read_timestamp(l));
        }
    }

    /// `short` and `long` read `value` to the same result (or error text) and stop at the
    /// same place.
    fn read_alike<T: PartialEq + std::fmt::Debug>(
        value: &str,
        short: impl Fn(&mut JsonSource<'_>) -> Result<T, Error>,
        long: impl Fn(&mut JsonSource<'_>) -> Result<T, Error>,
    ) {
        let (mut s, mut l) = (
            JsonSource::new(value.as_bytes()),
            JsonSource::new(value.as_bytes()),
        );
        let a = short(&mut s).map_err(|e| e.to_string());
        let b = long(&mut l).map_err(|e| e.to_string());
        assert_eq!(a, b, "{value}");
        assert_eq!((s.pos, s.value_at), (l.pos, l.value_at), "{value}");
    }

    #[test]
    fn whole_numbers_read_alike_on_the_short_path_and_the_long() {
        for value in [
            "0",
            "7",
            "007",
            "123456789",
            "1234567890",
            "4294967295",
            "4294967296",
            "12.0",
            "12.5",
            "1e3",
            "12E0",
            "-1",
            "-0",
            "\"12\"",
            "\"\"",
            "null",
            "true",
            "12,",
            "12}",
            "12]",
            "12x",
            " 12 ",
            "",
        ] {
            read_alike(value, |s| s.whole_number("n"), |l| schema::read_u32(l, "n"));
        }
    }

    #[test]
    fn names_compare_like_slices() {
        for len in 0..24 {
            let a: Vec<u8> = (0..len).map(|i| b'a' + i as u8).collect();
            assert!(same(&a, &a.clone()));
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same(&a, &b), "{len} {at}");
            }
            let mut longer = a.clone();
            longer.push(b'z');
            assert!(!same(&a, &longer));
            assert!(!same(&longer, &a));
        }
    }

    #[test]
    fn stop_bytes_are_found_exactly() {
        for len in 0..40 {
            for stop in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                for at in 0..len {
                    let mut v: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                    v[at] = stop;
                    // Bytes around the stop that must not be flagged.
                    if at + 1 < len {
                        v[at + 1] = 0x80;
                    }
                    assert_eq!(find_stop(&v, 0), at, "{v:?}");
                }
            }
            let clean: Vec<u8> = (0..len)
                .map(|i| [b'a', 0x20, 0x7f, 0xc3, 0xff, b'!', b'#', b']'][i % 8])
                .collect();
            assert_eq!(find_stop(&clean, 0), len);
        }
    }

    #[test]
    fn spans() {
        let s = br#"[{"a":"}]"}, 5 ,{"b":[1,{}]}]"#;
        assert_eq!(span_end(s, 1), Some(11));
        assert_eq!(span_end(s, 13), Some(14));
        assert_eq!(span_end(s, 16), Some(28));
        assert_eq!(span_end(b"{\"a\":[}", 0), None);
        assert_eq!(span_end(b"{\"a", 0), None);
        // A comma followed by text is no separator: a string turned inside out.
        let s = br#"x, but more"},{"a":1}]"#;
        assert_eq!(span_end(s, 0), None);
        let s = br#"x, but more", {"a":1}]"#;
        assert_eq!(span_end(s, 0), None);
        assert_eq!(span_end(br#"5 ,{"b":1}]"#, 0), Some(1));
        assert_eq!(span_end(br#"5,]"#, 0), Some(1));
        assert_eq!(span_end(br#"5, "s"]"#, 0), Some(1));
    }

    #[test]
    fn numbers_and_timestamps_write_compactly() {
        let mut out = Vec::new();
        write_u32(&mut out, 0);
        out.push(b' ');
        write_u32(&mut out, u32::MAX);
        out.push(b' ');
        write_timestamp(
            &mut out,
            &Timestamp::parse("2015-02-12T09:58:20.323+0100").unwrap(),
        );
        out.push(b' ');
        write_timestamp(
            &mut out,
            &Timestamp::parse("0001-01-01T00:00:00-0530").unwrap(),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "0 4294967295 2015-02-12T09:58:20.323+0100 0001-01-01T00:00:00-0530"
        );
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut body = b"{\"results\":[{\"messageId\":\"m\",\"x\":".to_vec();
        body.extend(std::iter::repeat_n(b'[', 100_000));
        let batch = decode_page(&body, |s| schema::v1(s)).unwrap();
        assert_eq!(batch.rejected.len(), 1);
        assert_eq!(batch.rejected[0].error.kind(), ErrorKind::TooDeep);
    }
}
