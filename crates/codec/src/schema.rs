//! The report schemas, once for both formats and both directions: which fields each wire
//! object has and in what order, how lenient values become model types, how known status
//! and error names are borrowed from the code tables, and how a report is written.
//!
//! Each object is one `fields!` declaration (an enum in wire order). Each format implements
//! [`Source`], a pull reader over one object at a time, and [`Writer`]; the functions here
//! walk a report through them, matching on the field enums. Unknown fields are skipped by
//! the source.
//!
//! Adding a field: its variant in the declaration, its arm in the object's decoder and in its
//! walk (the compiler asks for both), and a value in the `each_field` test's full report.

use std::borrow::Cow;
use std::collections::BTreeMap;

use ivr_reports_model::{
    AnsweredBy, ApiError, CallReport, Decimal, Direction, ErrorGroup, IvrData, LogEntry, Price,
    ReportError, Status, StatusGroup, Timestamp, VoiceCall, VoiceReport, error_info, status_info,
};

use crate::{Error, ErrorKind, Format, PriceName};

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
    /// Reads the current field's value as a whole number ([`read_u32`]); a source may
    /// take plain digits on a shorter path first.
    #[inline]
    fn whole_number(&mut self, what: &str) -> Result<Option<u32>, Error>
    where
        Self: Sized,
    {
        read_u32(self, what)
    }
    /// Reads the current field's value as a timestamp ([`read_timestamp`]); a source may
    /// take the documented form on a shorter path first.
    #[inline]
    fn timestamp(&mut self) -> Result<Option<Timestamp>, Error>
    where
        Self: Sized,
    {
        read_timestamp(self)
    }
    /// Reads the object at the current position with `read`; a source that remembers what
    /// it read (JSON, [`Memo`]) may instead answer with what an earlier object of the same
    /// bytes gave.
    #[inline]
    fn memoized<T: Memoize>(
        &mut self,
        read: fn(&mut Self) -> Result<Option<T>, Error>,
    ) -> Result<Option<T>, Error>
    where
        Self: Sized,
    {
        read(self)
    }
}

/// The longest object [`Memo`] keeps (a status with its description is ~150 bytes).
#[cfg_attr(not(feature = "json"), allow(dead_code))]
pub(crate) const MEMO_MAX_BYTES: usize = 512;

/// How many objects of each kind [`Memo`] keeps: enough for the errors of a campaign whose
/// outcomes come round in turn (the sandbox's ten outcomes have seven errors).
const MEMO_ENTRIES: usize = 8;

/// Objects read before in the same body, by their exact bytes. The reports of a page
/// repeat a few statuses, errors and prices over and over, and an object's bytes decide
/// what it decodes to, so an object that repeats an earlier one byte for byte (and is
/// therefore complete and valid: only successes are kept) is not read again.
#[cfg_attr(not(feature = "json"), allow(dead_code))]
#[derive(Debug, Default)]
pub(crate) struct Memo<'a> {
    status: Recent<'a, Status>,
    error: Recent<'a, ReportError>,
    price: Recent<'a, Price>,
}

/// The last few objects of one type, with their bytes and nesting depth.
#[cfg_attr(not(feature = "json"), allow(dead_code))]
#[derive(Debug)]
pub(crate) struct Recent<'a, T> {
    entries: [Option<(&'a [u8], usize, T)>; MEMO_ENTRIES],
    /// The entry replaced next.
    next: usize,
    /// Lookups in a row that found nothing.
    misses: u32,
}

impl<T> Default for Recent<'_, T> {
    fn default() -> Self {
        Self {
            entries: [const { None }; MEMO_ENTRIES],
            next: 0,
            misses: 0,
        }
    }
}

#[cfg_attr(not(feature = "json"), allow(dead_code))]
impl<'a, T: Clone> Recent<'a, T> {
    /// Whether to look here at all: after eight misses in a row (a body whose objects do
    /// not repeat), only one object in 32 is looked up and kept, so that such a body pays
    /// next to nothing and a body that starts repeating later is still noticed.
    #[inline]
    pub(crate) fn worth_looking(&mut self) -> bool {
        let look = self.misses < 8 || self.misses.is_multiple_of(32);
        if !look {
            self.misses = self.misses.wrapping_add(1);
        }
        look
    }

    /// The value and length of a kept object that `rest` starts with, read at `depth`.
    #[inline]
    pub(crate) fn find(&mut self, rest: &[u8], depth: usize) -> Option<(T, usize)> {
        let found = self
            .entries
            .iter()
            .flatten()
            .find_map(|(bytes, at, value)| {
                (*at == depth && rest.starts_with(bytes)).then(|| (value.clone(), bytes.len()))
            });
        self.misses = if found.is_some() {
            0
        } else {
            self.misses.wrapping_add(1)
        };
        found
    }

    /// Keeps `value`, read from `bytes` at `depth`, in place of the oldest entry.
    pub(crate) fn put(&mut self, bytes: &'a [u8], depth: usize, value: &T) {
        if bytes.len() > MEMO_MAX_BYTES {
            return;
        }
        if let Some(slot) = self.entries.get_mut(self.next) {
            *slot = Some((bytes, depth, value.clone()));
        }
        self.next = (self.next + 1) % MEMO_ENTRIES;
    }
}

/// A model type [`Memo`] keeps.
#[cfg_attr(not(feature = "json"), allow(dead_code))]
pub(crate) trait Memoize: Clone {
    /// Its entries in `memo`.
    fn recent<'m, 'a>(memo: &'m mut Memo<'a>) -> &'m mut Recent<'a, Self>;
    /// Whether it is worth keeping: a status or error with a text the tables do not know
    /// is rare and would cost an allocation per copy, so it is read each time.
    fn worth_keeping(&self) -> bool {
        true
    }
}

impl Memoize for Status {
    fn recent<'m, 'a>(memo: &'m mut Memo<'a>) -> &'m mut Recent<'a, Self> {
        &mut memo.status
    }
    fn worth_keeping(&self) -> bool {
        [&self.group_name, &self.name, &self.description]
            .iter()
            .all(|t| matches!(t, Cow::Borrowed(_)))
    }
}

impl Memoize for ReportError {
    fn recent<'m, 'a>(memo: &'m mut Memo<'a>) -> &'m mut Recent<'a, Self> {
        &mut memo.error
    }
    fn worth_keeping(&self) -> bool {
        [&self.group_name, &self.name, &self.description]
            .iter()
            .all(|t| matches!(t, Cow::Borrowed(_)))
    }
}

impl Memoize for Price {
    fn recent<'m, 'a>(memo: &'m mut Memo<'a>) -> &'m mut Recent<'a, Self> {
        &mut memo.price
    }
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
        Val::Str(s) if blank(s) => None,
        _ => Some((v, at)),
    })
}

/// `s.trim().is_empty()`, answered at the first byte for the usual text (a digit, a letter).
fn blank(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(b) if b.is_ascii_alphanumeric() => false,
        _ => s.trim().is_empty(),
    }
}

fn parse_u32(text: &str) -> Option<u32> {
    // The usual form first: up to nine digits, which cannot overflow.
    let bytes = text.as_bytes();
    if !bytes.is_empty() && bytes.len() <= 9 && bytes.iter().all(u8::is_ascii_digit) {
        return Some(bytes.iter().fold(0, |n, &b| n * 10 + u32::from(b - b'0')));
    }
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
    // The usual form first: digits and a point, read exactly when they fit.
    if !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && let Ok(d) = Decimal::from_str_exact(text)
    {
        return Some(d);
    }
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
    src.whole_number(what)
}

/// A whole-number field: null and blank text are absent; digits (and a fraction of
/// zeros) that fit a `u32`, else an error saying `what` was expected.
pub(crate) fn read_u32<'a, S: Source<'a>>(src: &mut S, what: &str) -> Result<Option<u32>, Error> {
    match text(src)? {
        None => Ok(None),
        Some((v @ Val::Bool(_), at)) => Err(invalid(what, found_text(&v), at)),
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
    src.timestamp()
}

/// A timestamp field: null and blank text are absent; the documented form, then the
/// variants [`Timestamp::parse`] accepts.
pub(crate) fn read_timestamp<'a, S: Source<'a>>(src: &mut S) -> Result<Option<Timestamp>, Error> {
    match text(src)? {
        None => Ok(None),
        Some((v, at)) => {
            let t = found_text(&v);
            if matches!(v, Val::Bool(_)) {
                return Err(invalid("a timestamp", t, at));
            }
            if let Some(ts) = crate::common::documented_timestamp(t) {
                return Ok(Some(ts));
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

/// The position of `key` in `names`, searched from `hint` on, then before it: fields
/// usually come in the declared order, some left out, so the search is short.
#[inline]
pub(crate) fn find_name(names: &[&str], hint: usize, key: &[u8]) -> Option<usize> {
    let hit = |(i, n): (usize, &&str)| (n.as_bytes() == key).then_some(i);
    let after = names.get(hint..).unwrap_or_default().iter().enumerate();
    after
        .map(|(i, n)| (i + hint, n))
        .find_map(hit)
        .or_else(|| names.iter().take(hint).enumerate().find_map(hit))
}

// ---- the declarations: one per wire object ----

/// The fields of one wire object, declared once with `fields!`: [`ALL`](Fields::ALL) in
/// the API's order and [`NAMES`](Fields::NAMES) (the same fields' wire names, generated
/// from the same list, so position `i` of one is position `i` of the other).
///
/// Decoders and writers `match` on the field (exhaustively), never on a position: adding a
/// field fails to compile until both say what it means, and reordering the declaration
/// only reorders the written output.
pub(crate) trait Fields: Copy + 'static {
    /// Every field, in wire order (the order the writers emit).
    const ALL: &'static [Self];
    /// The wire names of [`ALL`](Fields::ALL), position for position.
    const NAMES: &'static [&'static str];
    /// The field's wire name.
    fn name(self) -> &'static str;
}

/// Declares a field enum and its [`Fields`] impl from one list of `Variant = "wireName"`.
macro_rules! fields {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum $name {
            $(
                #[doc = concat!("`", $wire, "`")]
                $variant,
            )+
        }

        impl Fields for $name {
            const ALL: &'static [Self] = &[$(Self::$variant,)+];
            const NAMES: &'static [&'static str] = &[$($wire,)+];
            #[inline]
            fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }
        }
    };
}

fields! {
    /// A v1 report (`/tts/3/reports`), flat.
    V1Field {
        BulkId = "bulkId",
        MessageId = "messageId",
        To = "to",
        SentAt = "sentAt",
        DoneAt = "doneAt",
        StartTime = "startTime",
        EndTime = "endTime",
        AnswerTime = "answerTime",
        Duration = "duration",
        FileDuration = "fileDuration",
        MccMnc = "mccMnc",
        CallbackData = "callbackData",
        DtmfCodes = "dtmfCodes",
        RecordedAudioFileUrl = "recordedAudioFileUrl",
        ScenarioId = "scenarioId",
        ScenarioName = "scenarioName",
        Price = "price",
        Status = "status",
        Error = "error",
        DtmfCodesAsJson = "dtmfCodesAsJson",
        TranscribedAudioFileUrl = "transcribedAudioFileUrl",
    }
}

fields! {
    /// A v2 report (`/voice/1/reports`), with the call nested.
    V2Field {
        BulkId = "bulkId",
        MessageId = "messageId",
        From = "from",
        To = "to",
        SentAt = "sentAt",
        MccMnc = "mccMnc",
        CallbackData = "callbackData",
        Price = "price",
        Status = "status",
        Error = "error",
        VoiceCall = "voiceCall",
    }
}

fields! {
    /// A v2 report's `voiceCall`.
    CallField {
        Feature = "feature",
        StartTime = "startTime",
        AnswerTime = "answerTime",
        EndTime = "endTime",
        Duration = "duration",
        ChargedDuration = "chargedDuration",
        FileDuration = "fileDuration",
        Direction = "direction",
        DtmfCodes = "dtmfCodes",
        AnsweredBy = "answeredBy",
        CallRecordingFileId = "callRecordingFileId",
        Ivr = "ivr",
    }
}

fields! {
    /// A voice log entry (`/tts/3/logs`): a v1 report's identity, timing, price, status and
    /// error, with `from` and `text`.
    LogField {
        BulkId = "bulkId",
        MessageId = "messageId",
        To = "to",
        From = "from",
        Text = "text",
        SentAt = "sentAt",
        DoneAt = "doneAt",
        Duration = "duration",
        MccMnc = "mccMnc",
        Price = "price",
        Status = "status",
        Error = "error",
    }
}

fields! {
    /// A v2 call's `ivr`.
    IvrField {
        ScenarioId = "scenarioId",
        ScenarioName = "scenarioName",
        CollectedDtmfs = "collectedDtmfs",
        CollectedMappedDtmfs = "collectedMappedDtmfs",
        SpokenInput = "spokenInput",
        MatchedSpokenInput = "matchedSpokenInput",
    }
}

fields! {
    /// A `price`. Both amount names are read as the amount; which one is written is
    /// [`price_amount`]'s rule.
    PriceField {
        PricePerSecond = "pricePerSecond",
        PricePerMessage = "pricePerMessage",
        Currency = "currency",
    }
}

fields! {
    /// A `status`.
    StatusField {
        GroupId = "groupId",
        GroupName = "groupName",
        Id = "id",
        Name = "name",
        Description = "description",
    }
}

fields! {
    /// A report's `error` (a status's fields, and `permanent`).
    ErrorField {
        GroupId = "groupId",
        GroupName = "groupName",
        Id = "id",
        Name = "name",
        Description = "description",
        Permanent = "permanent",
    }
}

/// The price-name rule, stated only here. Decoding reads either name as the amount (both
/// formats); JSON always writes `pricePerSecond`; XML writes the name [`PriceName`] chose.
pub(crate) const fn price_amount(format: Format, xml: PriceName) -> PriceField {
    match (format, xml) {
        (Format::Json, _) | (Format::Xml, PriceName::PricePerSecond) => PriceField::PricePerSecond,
        (Format::Xml, PriceName::PricePerMessage) => PriceField::PricePerMessage,
    }
}

/// Advances `src` to the next field `F` declares ([`Source::next_field`] with `F`'s names).
#[inline]
fn next<'a, F: Fields, S: Source<'a>>(src: &mut S, hint: &mut usize) -> Result<Option<F>, Error> {
    Ok(src
        .next_field(F::NAMES, hint)?
        .and_then(|i| F::ALL.get(i).copied()))
}

// ---- decoding ----

fn price<'a, S: Source<'a>>(src: &mut S) -> Result<Option<Price>, Error> {
    if !src.enter()? {
        return Ok(None);
    }
    let (mut amount, mut currency) = (None, None);
    let mut hint = 0;
    while let Some(f) = next::<PriceField, _>(src, &mut hint)? {
        let r = match f {
            PriceField::PricePerSecond | PriceField::PricePerMessage => {
                opt_decimal(src).map(|v| amount = v.or(amount))
            }
            PriceField::Currency => string(src).map(|v| currency = v),
        };
        r.map_err(|e| e.in_field(f.name()))?;
    }
    // No amount: a price that says nothing (an empty element, or only a currency).
    Ok(amount.map(|amount| Price::new(amount, currency.unwrap_or_default())))
}

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

impl StatusField {
    /// The same field of an error object (an error has every field a status has).
    const fn in_error(self) -> ErrorField {
        match self {
            Self::GroupId => ErrorField::GroupId,
            Self::GroupName => ErrorField::GroupName,
            Self::Id => ErrorField::Id,
            Self::Name => ErrorField::Name,
            Self::Description => ErrorField::Description,
        }
    }
}

/// Reads a status (`F` = [`StatusField`]) or error (`F` = [`ErrorField`]) object.
fn code<'a, F: Fields, S: Source<'a>>(
    src: &mut S,
    as_error: fn(F) -> ErrorField,
) -> Result<Option<Code<'a>>, Error> {
    if !src.enter()? {
        return Ok(None);
    }
    let at = src.value_offset();
    let mut c = Code::default();
    let mut any = false;
    let mut hint = 0;
    while let Some(f) = next::<F, _>(src, &mut hint)? {
        any = true;
        let r = match as_error(f) {
            ErrorField::GroupId => opt_u32(src, "a whole number").map(|v| c.group_id = v),
            ErrorField::GroupName => cow(src).map(|v| c.group_name = v),
            ErrorField::Id => opt_u32(src, "a whole number").map(|v| c.id = v),
            ErrorField::Name => cow(src).map(|v| c.name = v),
            ErrorField::Description => cow(src).map(|v| c.description = v),
            ErrorField::Permanent => opt_bool(src).map(|v| c.permanent = v),
        };
        r.map_err(|e| e.in_field(f.name()))?;
    }
    if !any {
        return Ok(None);
    }
    if c.id.is_none() {
        return Err(missing(ErrorField::Id.name()).at(at));
    }
    Ok(Some(c))
}

fn status<'a, S: Source<'a>>(src: &mut S) -> Result<Option<Status>, Error> {
    let Some(c) = code(src, StatusField::in_error)? else {
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
    let Some(c) = code(src, |f: ErrorField| f)? else {
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

/// Reads a v1 report from an entered object. `messageId` is required; `to` defaults to "".
pub(crate) fn v1<'a, S: Source<'a>>(src: &mut S) -> Result<VoiceReport, Error> {
    use V1Field as F;
    let mut r = VoiceReport::new(String::new(), String::new());
    let mut message_id = None;
    let mut hint = 0;
    while let Some(f) = next::<F, _>(src, &mut hint)? {
        let res = match f {
            F::BulkId => string(src).map(|v| r.bulk_id = v),
            F::MessageId => string(src).map(|v| message_id = v),
            F::To => string(src).map(|v| r.to = v.unwrap_or_default()),
            F::SentAt => opt_timestamp(src).map(|v| r.sent_at = v),
            F::DoneAt => opt_timestamp(src).map(|v| r.done_at = v),
            F::StartTime => opt_timestamp(src).map(|v| r.start_time = v),
            F::EndTime => opt_timestamp(src).map(|v| r.end_time = v),
            F::AnswerTime => opt_timestamp(src).map(|v| r.answer_time = v),
            F::Duration => opt_u32(src, "a whole number of seconds").map(|v| r.duration = v),
            F::FileDuration => opt_decimal(src).map(|v| r.file_duration = v),
            F::MccMnc => string(src).map(|v| r.mcc_mnc = v),
            F::CallbackData => string(src).map(|v| r.callback_data = v),
            F::DtmfCodes => string(src).map(|v| r.dtmf_codes = v),
            F::RecordedAudioFileUrl => string(src).map(|v| r.recorded_audio_file_url = v),
            F::ScenarioId => string(src).map(|v| r.scenario_id = v),
            F::ScenarioName => string(src).map(|v| r.scenario_name = v),
            F::Price => src.memoized(price).map(|v| r.price = v),
            F::Status => src.memoized(status).map(|v| r.status = v),
            F::Error => src.memoized(report_error).map(|v| r.error = v),
            F::DtmfCodesAsJson => string(src).map(|v| r.dtmf_codes_as_json = v),
            F::TranscribedAudioFileUrl => string(src).map(|v| r.transcribed_audio_file_url = v),
        };
        res.map_err(|e| e.in_field(f.name()))?;
    }
    r.message_id = message_id.ok_or_else(|| missing(F::MessageId.name()))?;
    Ok(r)
}

/// Reads a v2 report from an entered object. `messageId` is required; `to` defaults to "".
pub(crate) fn v2<'a, S: Source<'a>>(src: &mut S) -> Result<CallReport, Error> {
    use V2Field as F;
    let mut r = CallReport::new(String::new(), String::new());
    let mut message_id = None;
    let mut hint = 0;
    while let Some(f) = next::<F, _>(src, &mut hint)? {
        let res = match f {
            F::BulkId => string(src).map(|v| r.bulk_id = v),
            F::MessageId => string(src).map(|v| message_id = v),
            F::From => string(src).map(|v| r.from = v),
            F::To => string(src).map(|v| r.to = v.unwrap_or_default()),
            F::SentAt => opt_timestamp(src).map(|v| r.sent_at = v),
            F::MccMnc => string(src).map(|v| r.mcc_mnc = v),
            F::CallbackData => string(src).map(|v| r.callback_data = v),
            F::Price => src.memoized(price).map(|v| r.price = v),
            F::Status => src.memoized(status).map(|v| r.status = v),
            F::Error => src.memoized(report_error).map(|v| r.error = v),
            F::VoiceCall => voice_call(src).map(|v| r.voice_call = v),
        };
        res.map_err(|e| e.in_field(f.name()))?;
    }
    r.message_id = message_id.ok_or_else(|| missing(F::MessageId.name()))?;
    Ok(r)
}

/// Reads a log entry from an entered object. `messageId` is required; `to` defaults to "".
pub(crate) fn log<'a, S: Source<'a>>(src: &mut S) -> Result<LogEntry, Error> {
    use LogField as F;
    let mut r = LogEntry::new(String::new(), String::new());
    let mut message_id = None;
    let mut hint = 0;
    while let Some(f) = next::<F, _>(src, &mut hint)? {
        let res = match f {
            F::BulkId => string(src).map(|v| r.bulk_id = v),
            F::MessageId => string(src).map(|v| message_id = v),
            F::To => string(src).map(|v| r.to = v.unwrap_or_default()),
            F::From => string(src).map(|v| r.from = v),
            F::Text => string(src).map(|v| r.text = v),
            F::SentAt => opt_timestamp(src).map(|v| r.sent_at = v),
            F::DoneAt => opt_timestamp(src).map(|v| r.done_at = v),
            F::Duration => opt_u32(src, "a whole number of seconds").map(|v| r.duration = v),
            F::MccMnc => string(src).map(|v| r.mcc_mnc = v),
            F::Price => src.memoized(price).map(|v| r.price = v),
            F::Status => src.memoized(status).map(|v| r.status = v),
            F::Error => src.memoized(report_error).map(|v| r.error = v),
        };
        res.map_err(|e| e.in_field(f.name()))?;
    }
    r.message_id = message_id.ok_or_else(|| missing(F::MessageId.name()))?;
    Ok(r)
}

fn voice_call<'a, S: Source<'a>>(src: &mut S) -> Result<Option<VoiceCall>, Error> {
    use CallField as F;
    if !src.enter()? {
        return Ok(None);
    }
    let mut c = VoiceCall::new();
    let mut hint = 0;
    while let Some(f) = next::<F, _>(src, &mut hint)? {
        let seconds = "a whole number of seconds";
        let res = match f {
            F::Feature => string(src).map(|v| c.feature = v),
            F::StartTime => opt_timestamp(src).map(|v| c.start_time = v),
            F::AnswerTime => opt_timestamp(src).map(|v| c.answer_time = v),
            F::EndTime => opt_timestamp(src).map(|v| c.end_time = v),
            F::Duration => opt_u32(src, seconds).map(|v| c.duration = v),
            F::ChargedDuration => opt_u32(src, seconds).map(|v| c.charged_duration = v),
            F::FileDuration => opt_decimal(src).map(|v| c.file_duration = v),
            F::Direction => cow(src).map(|v| c.direction = v.map(|s| Direction::from_wire(&s))),
            F::DtmfCodes => string(src).map(|v| c.dtmf_codes = v),
            F::AnsweredBy => cow(src).map(|v| c.answered_by = v.map(|s| AnsweredBy::from_wire(&s))),
            F::CallRecordingFileId => string(src).map(|v| c.call_recording_file_id = v),
            F::Ivr => ivr(src).map(|v| c.ivr = v),
        };
        res.map_err(|e| e.in_field(f.name()))?;
    }
    // An empty object carries nothing: absent, as an empty XML element is.
    Ok((c != VoiceCall::new()).then_some(c))
}

fn ivr<'a, S: Source<'a>>(src: &mut S) -> Result<Option<IvrData>, Error> {
    use IvrField as F;
    if !src.enter()? {
        return Ok(None);
    }
    let mut d = IvrData::new();
    let mut hint = 0;
    while let Some(f) = next::<F, _>(src, &mut hint)? {
        let v = string(src).map_err(|e| e.in_field(f.name()))?;
        match f {
            F::ScenarioId => d.scenario_id = v,
            F::ScenarioName => d.scenario_name = v,
            F::CollectedDtmfs => d.collected_dtmfs = v,
            F::CollectedMappedDtmfs => d.collected_mapped_dtmfs = v,
            F::SpokenInput => d.spoken_input = v,
            F::MatchedSpokenInput => d.matched_spoken_input = v,
        }
    }
    Ok((d != IvrData::new()).then_some(d))
}

// ---- writing ----

/// One format's writer, driven by the walks below ([`write_v1`], [`write_v2`]) so the
/// fields of each object are listed once for both formats. Each call writes one field
/// of the object open at the time.
pub(crate) trait Writer {
    /// The format written (for [`price_amount`]).
    const FORMAT: Format;
    /// The price name chosen for XML; [`price_amount`] ignores it for JSON.
    fn price_name(&self) -> PriceName;
    /// Opens the report's own object (`{`, `<result>`).
    fn begin(&mut self);
    /// Closes the report's own object.
    fn end(&mut self);
    /// Opens the nested object field `name`.
    fn open(&mut self, name: &'static str);
    /// Closes the nested object field `name`.
    fn close(&mut self, name: &'static str);
    /// A string field (written even when empty).
    fn str(&mut self, name: &'static str, v: &str);
    /// A whole-number field.
    fn u32(&mut self, name: &'static str, v: u32);
    /// A boolean field.
    fn bool(&mut self, name: &'static str, v: bool);
    /// A timestamp field, in the API's documented form.
    fn ts(&mut self, name: &'static str, v: &Timestamp);
    /// A decimal field, digits as they are.
    fn decimal(&mut self, name: &'static str, v: &Decimal);

    /// A string field, left out when absent.
    #[inline]
    fn opt_str(&mut self, name: &'static str, v: Option<&str>) {
        if let Some(v) = v {
            self.str(name, v);
        }
    }
    /// A whole-number field, left out when absent.
    #[inline]
    fn opt_u32(&mut self, name: &'static str, v: Option<u32>) {
        if let Some(v) = v {
            self.u32(name, v);
        }
    }
    /// A timestamp field, left out when absent.
    #[inline]
    fn opt_ts(&mut self, name: &'static str, v: Option<&Timestamp>) {
        if let Some(v) = v {
            self.ts(name, v);
        }
    }
    /// A decimal field, left out when absent.
    #[inline]
    fn opt_decimal(&mut self, name: &'static str, v: Option<&Decimal>) {
        if let Some(v) = v {
            self.decimal(name, v);
        }
    }
    /// A nested object field, left out when absent.
    #[inline]
    fn opt_object<T>(&mut self, name: &'static str, v: Option<&T>, body: fn(&mut Self, &T)) {
        if let Some(v) = v {
            self.open(name);
            body(self, v);
            self.close(name);
        }
    }
}

fn write_price<W: Writer>(w: &mut W, p: &Price) {
    let amount = price_amount(W::FORMAT, w.price_name());
    for &f in PriceField::ALL {
        match f {
            PriceField::PricePerSecond | PriceField::PricePerMessage => {
                if f == amount {
                    w.decimal(f.name(), &p.per_second);
                }
            }
            PriceField::Currency => w.str(f.name(), &p.currency),
        }
    }
}

fn write_status<W: Writer>(w: &mut W, s: &Status) {
    for &f in StatusField::ALL {
        let n = f.name();
        match f {
            StatusField::GroupId => w.u32(n, s.group.id()),
            StatusField::GroupName => w.str(n, &s.group_name),
            StatusField::Id => w.u32(n, s.id),
            StatusField::Name => w.str(n, &s.name),
            StatusField::Description => w.str(n, &s.description),
        }
    }
}

fn write_error<W: Writer>(w: &mut W, e: &ReportError) {
    for &f in ErrorField::ALL {
        let n = f.name();
        match f {
            ErrorField::GroupId => {
                if e.group != NO_ERROR_GROUP {
                    w.u32(n, e.group.id());
                }
            }
            ErrorField::GroupName => w.str(n, &e.group_name),
            ErrorField::Id => w.u32(n, e.id),
            ErrorField::Name => w.str(n, &e.name),
            ErrorField::Description => w.str(n, &e.description),
            ErrorField::Permanent => w.bool(n, e.permanent),
        }
    }
}

/// Writes one v1 report object.
pub(crate) fn write_v1<W: Writer>(w: &mut W, r: &VoiceReport) {
    use V1Field as F;
    w.begin();
    for &f in F::ALL {
        let n = f.name();
        match f {
            F::BulkId => w.opt_str(n, r.bulk_id.as_deref()),
            F::MessageId => w.str(n, &r.message_id),
            F::To => w.str(n, &r.to),
            F::SentAt => w.opt_ts(n, r.sent_at.as_ref()),
            F::DoneAt => w.opt_ts(n, r.done_at.as_ref()),
            F::StartTime => w.opt_ts(n, r.start_time.as_ref()),
            F::EndTime => w.opt_ts(n, r.end_time.as_ref()),
            F::AnswerTime => w.opt_ts(n, r.answer_time.as_ref()),
            F::Duration => w.opt_u32(n, r.duration),
            F::FileDuration => w.opt_decimal(n, r.file_duration.as_ref()),
            F::MccMnc => w.opt_str(n, r.mcc_mnc.as_deref()),
            F::CallbackData => w.opt_str(n, r.callback_data.as_deref()),
            F::DtmfCodes => w.opt_str(n, r.dtmf_codes.as_deref()),
            F::RecordedAudioFileUrl => w.opt_str(n, r.recorded_audio_file_url.as_deref()),
            F::ScenarioId => w.opt_str(n, r.scenario_id.as_deref()),
            F::ScenarioName => w.opt_str(n, r.scenario_name.as_deref()),
            F::Price => w.opt_object(n, r.price.as_ref(), write_price),
            F::Status => w.opt_object(n, r.status.as_ref(), write_status),
            F::Error => w.opt_object(n, r.error.as_ref(), write_error),
            F::DtmfCodesAsJson => w.opt_str(n, r.dtmf_codes_as_json.as_deref()),
            F::TranscribedAudioFileUrl => w.opt_str(n, r.transcribed_audio_file_url.as_deref()),
        }
    }
    w.end();
}

/// Writes one v2 report object.
pub(crate) fn write_v2<W: Writer>(w: &mut W, r: &CallReport) {
    use V2Field as F;
    w.begin();
    for &f in F::ALL {
        let n = f.name();
        match f {
            F::BulkId => w.opt_str(n, r.bulk_id.as_deref()),
            F::MessageId => w.str(n, &r.message_id),
            F::From => w.opt_str(n, r.from.as_deref()),
            F::To => w.str(n, &r.to),
            F::SentAt => w.opt_ts(n, r.sent_at.as_ref()),
            F::MccMnc => w.opt_str(n, r.mcc_mnc.as_deref()),
            F::CallbackData => w.opt_str(n, r.callback_data.as_deref()),
            F::Price => w.opt_object(n, r.price.as_ref(), write_price),
            F::Status => w.opt_object(n, r.status.as_ref(), write_status),
            F::Error => w.opt_object(n, r.error.as_ref(), write_error),
            F::VoiceCall => w.opt_object(n, r.voice_call.as_ref(), write_voice_call),
        }
    }
    w.end();
}

/// A report type with a declared wire schema: its decoder and its walk, so each format
/// reads and writes any of them with one generic function (`json::write_report`, ...).
/// A new report-like type implements this here, beside its declaration.
pub(crate) trait Schema: Sized {
    /// Reads the report from an entered object.
    fn read<'a, S: Source<'a>>(src: &mut S) -> Result<Self, Error>;
    /// Writes the report as one object.
    fn write<W: Writer>(&self, w: &mut W);
}

impl Schema for VoiceReport {
    #[inline]
    fn read<'a, S: Source<'a>>(src: &mut S) -> Result<Self, Error> {
        v1(src)
    }
    #[inline]
    fn write<W: Writer>(&self, w: &mut W) {
        write_v1(w, self);
    }
}

impl Schema for CallReport {
    #[inline]
    fn read<'a, S: Source<'a>>(src: &mut S) -> Result<Self, Error> {
        v2(src)
    }
    #[inline]
    fn write<W: Writer>(&self, w: &mut W) {
        write_v2(w, self);
    }
}

/// Writes one log entry object.
pub(crate) fn write_log<W: Writer>(w: &mut W, r: &LogEntry) {
    use LogField as F;
    w.begin();
    for &f in F::ALL {
        let n = f.name();
        match f {
            F::BulkId => w.opt_str(n, r.bulk_id.as_deref()),
            F::MessageId => w.str(n, &r.message_id),
            F::To => w.str(n, &r.to),
            F::From => w.opt_str(n, r.from.as_deref()),
            F::Text => w.opt_str(n, r.text.as_deref()),
            F::SentAt => w.opt_ts(n, r.sent_at.as_ref()),
            F::DoneAt => w.opt_ts(n, r.done_at.as_ref()),
            F::Duration => w.opt_u32(n, r.duration),
            F::MccMnc => w.opt_str(n, r.mcc_mnc.as_deref()),
            F::Price => w.opt_object(n, r.price.as_ref(), write_price),
            F::Status => w.opt_object(n, r.status.as_ref(), write_status),
            F::Error => w.opt_object(n, r.error.as_ref(), write_error),
        }
    }
    w.end();
}

impl Schema for LogEntry {
    #[inline]
    fn read<'a, S: Source<'a>>(src: &mut S) -> Result<Self, Error> {
        log(src)
    }
    #[inline]
    fn write<W: Writer>(&self, w: &mut W) {
        write_log(w, self);
    }
}

fn write_voice_call<W: Writer>(w: &mut W, c: &VoiceCall) {
    use CallField as F;
    for &f in F::ALL {
        let n = f.name();
        match f {
            F::Feature => w.opt_str(n, c.feature.as_deref()),
            F::StartTime => w.opt_ts(n, c.start_time.as_ref()),
            F::AnswerTime => w.opt_ts(n, c.answer_time.as_ref()),
            F::EndTime => w.opt_ts(n, c.end_time.as_ref()),
            F::Duration => w.opt_u32(n, c.duration),
            F::ChargedDuration => w.opt_u32(n, c.charged_duration),
            F::FileDuration => w.opt_decimal(n, c.file_duration.as_ref()),
            F::Direction => w.opt_str(n, c.direction.as_ref().map(|d| d.as_str())),
            F::DtmfCodes => w.opt_str(n, c.dtmf_codes.as_deref()),
            F::AnsweredBy => w.opt_str(n, c.answered_by.as_ref().map(|a| a.as_str())),
            F::CallRecordingFileId => w.opt_str(n, c.call_recording_file_id.as_deref()),
            F::Ivr => w.opt_object(n, c.ivr.as_ref(), write_ivr),
        }
    }
}

fn write_ivr<W: Writer>(w: &mut W, d: &IvrData) {
    use IvrField as F;
    for &f in F::ALL {
        let v = match f {
            F::ScenarioId => &d.scenario_id,
            F::ScenarioName => &d.scenario_name,
            F::CollectedDtmfs => &d.collected_dtmfs,
            F::CollectedMappedDtmfs => &d.collected_mapped_dtmfs,
            F::SpokenInput => &d.spoken_input,
            F::MatchedSpokenInput => &d.matched_spoken_input,
        };
        w.opt_str(f.name(), v.as_deref());
    }
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

fields! {
    /// An API error body's `serviceException`.
    ExceptionField {
        MessageId = "messageId",
        Text = "text",
        ValidationErrors = "validationErrors",
    }
}

fn service_exception<'a, S: Source<'a>>(src: &mut S) -> Result<ApiError, Error> {
    use ExceptionField as F;
    let mut e = ApiError::default();
    let mut hint = 0;
    while let Some(f) = next::<F, _>(src, &mut hint)? {
        let res = match f {
            F::MessageId => string(src).map(|v| e.message_id = v.unwrap_or_default()),
            F::Text => string(src).map(|v| e.text = v.unwrap_or_default()),
            F::ValidationErrors => validation_errors(src).map(|v| e.validation_errors = v),
        };
        res.map_err(|err| err.in_field(f.name()))?;
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
    fn blank_is_trim_empty() {
        for s in [
            "", " ", "\t\n\r", "\u{b}", "\u{a0}", "\u{2003}", " 1", "1", "a", "é", "-1", "\u{a0}x",
        ] {
            assert_eq!(blank(s), s.trim().is_empty(), "{s:?}");
        }
    }

    #[test]
    fn lenient_numbers() {
        assert_eq!(parse_u32("10"), Some(10));
        assert_eq!(parse_u32(" 10.00 "), Some(10));
        assert_eq!(parse_u32("10."), None);
        assert_eq!(parse_u32("10.5"), None);
        assert_eq!(parse_u32("-1"), None);
        assert_eq!(parse_u32("4294967296"), None);
        assert_eq!(parse_u32(""), None);
        // Around the nine-digit fast path.
        assert_eq!(parse_u32("999999999"), Some(999_999_999));
        assert_eq!(parse_u32("0000000010"), Some(10));
        assert_eq!(parse_u32("4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32("1e3"), None);
        assert_eq!(parse_u32("+1"), None);
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

/// Each declared field alone, through both formats: the walk offers every field of a full
/// report, a filtering writer passes on one at a time, and that field must decode into the
/// model and come back out under its own name. Driven by the declarations and the walks, so
/// a new field is covered without touching these tests.
#[cfg(test)]
mod each_field {
    use std::fmt::Debug;

    use ivr_reports_model::{Decimal, Direction, Price, ReportError, Status, Timestamp};

    use super::*;

    /// What the test needs of a report type beyond its [`Schema`].
    trait Walk: Schema + PartialEq + Debug {
        /// The report with only `messageId` set.
        fn base() -> Self;
        /// A report with every field set, each to a value no other field has.
        fn full() -> Self;
        /// The objects a report has, by path, and their declared names.
        fn objects() -> Vec<(Vec<&'static str>, &'static [&'static str])>;
    }

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    impl Walk for VoiceReport {
        fn base() -> Self {
            VoiceReport::new("m", "")
        }
        fn full() -> Self {
            let mut r = VoiceReport::new("m", "385981178");
            r.bulk_id = Some("b".into());
            r.sent_at = Some(ts("2015-02-12T09:58:20.323+0100"));
            r.done_at = Some(ts("2015-02-12T09:58:21.323+0100"));
            r.start_time = Some(ts("2015-02-12T09:58:22.323+0100"));
            r.end_time = Some(ts("2015-02-12T09:58:23.323+0100"));
            r.answer_time = Some(ts("2015-02-12T09:58:24.323+0100"));
            r.duration = Some(17);
            r.file_duration = Some(Decimal::new(125, 1));
            r.mcc_mnc = Some("21901".into());
            r.callback_data = Some("cb".into());
            r.dtmf_codes = Some("1,2".into());
            r.recorded_audio_file_url = Some("https://r".into());
            r.scenario_id = Some("sid".into());
            r.scenario_name = Some("sname".into());
            r.price = Some(Price::new(Decimal::new(1, 2), "EUR"));
            r.status = Status::known(5);
            r.error = ReportError::known(5000);
            r.dtmf_codes_as_json = Some("[1]".into());
            r.transcribed_audio_file_url = Some("https://t".into());
            r
        }
        fn objects() -> Vec<(Vec<&'static str>, &'static [&'static str])> {
            vec![
                (vec![], V1Field::NAMES),
                (vec![V1Field::Price.name()], PriceField::NAMES),
                (vec![V1Field::Status.name()], StatusField::NAMES),
                (vec![V1Field::Error.name()], ErrorField::NAMES),
            ]
        }
    }

    impl Walk for CallReport {
        fn base() -> Self {
            CallReport::new("m", "")
        }
        fn full() -> Self {
            let mut r = CallReport::new("m", "385981178");
            r.bulk_id = Some("b".into());
            r.from = Some("41793026727".into());
            r.sent_at = Some(ts("2015-02-12T09:58:20.323+0100"));
            r.mcc_mnc = Some("21901".into());
            r.callback_data = Some("cb".into());
            r.price = Some(Price::new(Decimal::new(1, 2), "EUR"));
            r.status = Status::known(5);
            r.error = ReportError::known(5000);
            let mut c = VoiceCall::new();
            c.feature = Some("Text-to-Speech".into());
            c.start_time = Some(ts("2015-02-12T09:58:22.323+0100"));
            c.answer_time = Some(ts("2015-02-12T09:58:23.323+0100"));
            c.end_time = Some(ts("2015-02-12T09:58:24.323+0100"));
            c.duration = Some(17);
            c.charged_duration = Some(18);
            c.file_duration = Some(Decimal::new(125, 1));
            c.direction = Some(Direction::Outbound);
            c.dtmf_codes = Some("1,2".into());
            c.answered_by = Some(AnsweredBy::Human);
            c.call_recording_file_id = Some("rec".into());
            let mut d = IvrData::new();
            d.scenario_id = Some("sid".into());
            d.scenario_name = Some("sname".into());
            d.collected_dtmfs = Some("12".into());
            d.collected_mapped_dtmfs = Some("{}".into());
            d.spoken_input = Some("yes".into());
            d.matched_spoken_input = Some("YES".into());
            c.ivr = Some(d);
            r.voice_call = Some(c);
            r
        }
        fn objects() -> Vec<(Vec<&'static str>, &'static [&'static str])> {
            let call = V2Field::VoiceCall.name();
            vec![
                (vec![], V2Field::NAMES),
                (vec![V2Field::Price.name()], PriceField::NAMES),
                (vec![V2Field::Status.name()], StatusField::NAMES),
                (vec![V2Field::Error.name()], ErrorField::NAMES),
                (vec![call], CallField::NAMES),
                (vec![call, CallField::Ivr.name()], IvrField::NAMES),
            ]
        }
    }

    impl Walk for LogEntry {
        fn base() -> Self {
            LogEntry::new("m", "")
        }
        fn full() -> Self {
            let mut r = LogEntry::new("m", "385981178");
            r.bulk_id = Some("b".into());
            r.from = Some("41793026727".into());
            r.text = Some("Hello".into());
            r.sent_at = Some(ts("2015-02-12T09:58:20.323+0100"));
            r.done_at = Some(ts("2015-02-12T09:58:21.323+0100"));
            r.duration = Some(17);
            r.mcc_mnc = Some("21901".into());
            r.price = Some(Price::new(Decimal::new(1, 2), "EUR"));
            r.status = Status::known(5);
            r.error = ReportError::known(5000);
            r
        }
        fn objects() -> Vec<(Vec<&'static str>, &'static [&'static str])> {
            vec![
                (vec![], LogField::NAMES),
                (vec![LogField::Price.name()], PriceField::NAMES),
                (vec![LogField::Status.name()], StatusField::NAMES),
                (vec![LogField::Error.name()], ErrorField::NAMES),
            ]
        }
    }

    /// A format as the writers see it.
    #[derive(Clone, Copy, Debug)]
    enum Wire {
        #[cfg(feature = "json")]
        Json,
        #[cfg(feature = "xml")]
        Xml(PriceName),
    }

    impl Wire {
        fn amount(self) -> PriceField {
            match self {
                #[cfg(feature = "json")]
                Wire::Json => price_amount(Format::Json, PriceName::default()),
                #[cfg(feature = "xml")]
                Wire::Xml(name) => price_amount(Format::Xml, name),
            }
        }
    }

    type Path = Vec<&'static str>;

    /// Passes on to `inner` only the field at `target` (every field when `None`) and the
    /// fields a decoder needs to keep it (`messageId`, a status's or error's `id`, a
    /// price's amount), and records the path of every scalar field it is offered.
    struct Only<W> {
        inner: W,
        target: Option<Path>,
        amount: PriceField,
        path: Path,
        seen: Vec<Path>,
    }

    impl<W: Writer> Only<W> {
        fn at(&self, name: &'static str) -> Path {
            let mut p = self.path.clone();
            p.push(name);
            p
        }

        /// Whether the object or field `name` in the current object is passed on.
        fn passes(&self, name: &'static str) -> bool {
            let Some(target) = &self.target else {
                return true;
            };
            let p = self.at(name);
            if target.starts_with(&p) {
                return true;
            }
            // A field the decoder requires beside the target.
            let inside = |object: &str| {
                self.path.len() == 1 && self.path[0] == object && target.starts_with(&self.path)
            };
            (self.path.is_empty() && name == V1Field::MessageId.name())
                || ((inside(V1Field::Status.name()) || inside(V1Field::Error.name()))
                    && name == StatusField::Id.name())
                || (inside(V1Field::Price.name()) && name == self.amount.name())
        }

        fn scalar(&mut self, name: &'static str, write: impl FnOnce(&mut W)) {
            let p = self.at(name);
            self.seen.push(p);
            if self.passes(name) {
                write(&mut self.inner);
            }
        }
    }

    impl<W: Writer> Writer for Only<W> {
        const FORMAT: Format = W::FORMAT;
        fn price_name(&self) -> PriceName {
            self.inner.price_name()
        }
        fn begin(&mut self) {
            self.inner.begin();
        }
        fn end(&mut self) {
            self.inner.end();
        }
        fn open(&mut self, name: &'static str) {
            if self.passes(name) {
                self.inner.open(name);
            }
            self.path.push(name);
        }
        fn close(&mut self, name: &'static str) {
            self.path.pop();
            if self.passes(name) {
                self.inner.close(name);
            }
        }
        fn str(&mut self, name: &'static str, v: &str) {
            self.scalar(name, |w| w.str(name, v));
        }
        fn u32(&mut self, name: &'static str, v: u32) {
            self.scalar(name, |w| w.u32(name, v));
        }
        fn bool(&mut self, name: &'static str, v: bool) {
            self.scalar(name, |w| w.bool(name, v));
        }
        fn ts(&mut self, name: &'static str, v: &Timestamp) {
            self.scalar(name, |w| w.ts(name, v));
        }
        fn decimal(&mut self, name: &'static str, v: &Decimal) {
            self.scalar(name, |w| w.decimal(name, v));
        }
    }

    /// `r` written in `wire`, only `target` (and what it needs) when given; and the paths
    /// of every scalar field the walk offered.
    fn encode<R: Walk>(wire: Wire, r: &R, target: Option<&Path>) -> (Vec<u8>, Vec<Path>) {
        fn only<W>(inner: W, wire: Wire, target: Option<&Path>) -> Only<W> {
            Only {
                inner,
                target: target.cloned(),
                amount: wire.amount(),
                path: Vec::new(),
                seen: Vec::new(),
            }
        }
        let mut out = Vec::new();
        let seen = match wire {
            #[cfg(feature = "json")]
            Wire::Json => {
                let mut w = only(crate::json::JsonWriter::new(&mut out), wire, target);
                r.write(&mut w);
                w.seen
            }
            #[cfg(feature = "xml")]
            Wire::Xml(name) => {
                let mut w = only(crate::xml::XmlWriter::new(&mut out, name), wire, target);
                r.write(&mut w);
                w.seen
            }
        };
        (out, seen)
    }

    fn decode<R: Walk>(wire: Wire, body: &[u8]) -> R {
        let r = match wire {
            #[cfg(feature = "json")]
            Wire::Json => crate::json::decode_one(body, |s| R::read(s)),
            #[cfg(feature = "xml")]
            Wire::Xml(_) => crate::xml::decode_one(body, |s| R::read(s)),
        };
        r.unwrap_or_else(|e| panic!("{wire:?}: {e}: {}", String::from_utf8_lossy(body)))
    }

    fn every_field_alone<R: Walk>(wire: Wire) {
        let (_, always) = encode(wire, &R::base(), None);
        let (_, leaves) = encode(wire, &R::full(), None);
        // Every declared field is offered by the walk (but the price amount name the rule
        // does not choose for this wire).
        for (object, names) in R::objects() {
            for &name in names {
                let unused_amount = object == [V1Field::Price.name()]
                    && [PriceField::PricePerSecond, PriceField::PricePerMessage]
                        .iter()
                        .any(|f| f.name() == name && *f != wire.amount());
                let mut path = object.clone();
                path.push(name);
                let offered = leaves.iter().any(|l| l.starts_with(&path));
                assert_eq!(offered, !unused_amount, "{wire:?}: {path:?}");
            }
        }
        for leaf in &leaves {
            let context =
                |body: &[u8]| format!("{wire:?} {leaf:?}: {}", String::from_utf8_lossy(body));
            // The wire with only this field, read into the model: a report with only it set.
            let (alone, _) = encode(wire, &R::full(), Some(leaf));
            let r: R = decode(wire, &alone);
            if *leaf != [V1Field::MessageId.name()] {
                assert_ne!(r, R::base(), "lost: {}", context(&alone));
            }
            // It writes back under its own name, with the value it was read with.
            let (again, _) = encode(wire, &r, Some(leaf));
            assert_eq!(again, alone, "{}", context(&alone));
            // Nothing else was set (but what is always written, and its object's siblings).
            let (whole, written) = encode(wire, &r, None);
            let parent = &leaf[..leaf.len() - 1];
            for p in &written {
                let sibling = !parent.is_empty() && p[..p.len() - 1] == *parent;
                assert!(
                    p == leaf || sibling || always.contains(p),
                    "{p:?} set too: {}",
                    context(&whole)
                );
            }
            // And the report decodes back equal.
            assert_eq!(decode::<R>(wire, &whole), r, "{}", context(&whole));
        }
    }

    #[cfg(feature = "json")]
    #[test]
    fn json_each_field_alone_round_trips() {
        every_field_alone::<VoiceReport>(Wire::Json);
        every_field_alone::<CallReport>(Wire::Json);
        every_field_alone::<LogEntry>(Wire::Json);
    }

    #[cfg(feature = "xml")]
    #[test]
    fn xml_each_field_alone_round_trips() {
        for name in [PriceName::PricePerMessage, PriceName::PricePerSecond] {
            every_field_alone::<VoiceReport>(Wire::Xml(name));
            every_field_alone::<CallReport>(Wire::Xml(name));
            every_field_alone::<LogEntry>(Wire::Xml(name));
        }
    }

    /// The declarations: names unique per object, `ALL` and `NAMES` agree.
    #[test]
    fn declarations_are_consistent() {
        fn check<F: Fields + Debug>() {
            assert_eq!(F::ALL.len(), F::NAMES.len());
            for (i, (f, n)) in F::ALL.iter().zip(F::NAMES).enumerate() {
                assert_eq!(f.name(), *n, "{f:?}");
                assert!(!F::NAMES[..i].contains(n), "{n} twice");
            }
        }
        check::<V1Field>();
        check::<V2Field>();
        check::<LogField>();
        check::<CallField>();
        check::<IvrField>();
        check::<PriceField>();
        check::<StatusField>();
        check::<ErrorField>();
        check::<ExceptionField>();
    }
}
