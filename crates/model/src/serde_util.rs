//! serde support (feature `serde`): the wire form, written as the codec writes it and read
//! with the codec's leniency.
//!
//! Every scalar field is read through [`scalar`], which asks serde_json for the value's
//! source text (its `RawValue` hook; serde_json's `raw_value` feature, which the `serde`
//! feature turns on) so numbers keep every digit, and falls back to `deserialize_any` for
//! any other deserializer. The field readers below then apply the codec's rules
//! (`ivr-reports-codec`, `schema.rs`) to that text. The crate docs list where serde differs.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::{
    ErrorGroup, IvrData, Price, ReportError, Status, StatusGroup, Timestamp, VoiceCall, error_info,
    status_info,
};

/// The newtype name under which serde_json (feature `raw_value`) hands a value's source text
/// to a visitor, as a one-entry map from this key to the text. It is what
/// `Box<serde_json::value::RawValue>` deserializes through; we use it directly to keep a
/// fallback for other deserializers. Tests of exact digits fail if serde_json renames it.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// How serde_json's `arbitrary_precision` feature hands a number over (when a user turns it
/// on and our value comes through `serde_json::Value` or a buffered `Content`).
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

// ---- reading: one scalar, as the input had it ----

/// A scalar as the input had it (the codec's `Val`): numbers as their source text.
#[derive(Debug)]
pub(crate) enum Scalar {
    Null,
    Str(String),
    Num(String),
    Bool(bool),
    /// An object or an array where a scalar belongs (`"an object"`, `"an array"`).
    Composite(&'static str),
}

impl Scalar {
    /// The text the codec would take for this value (null and composites: a description).
    fn text(&self) -> &str {
        match self {
            Self::Null => "null",
            Self::Str(s) | Self::Num(s) => s,
            Self::Bool(true) => "true",
            Self::Bool(false) => "false",
            Self::Composite(what) => what,
        }
    }

    /// The text of a non-string field: null and empty (or blank) strings are absent.
    fn present(self) -> Option<Self> {
        match &self {
            Self::Null => None,
            Self::Str(s) if s.trim().is_empty() => None,
            _ => Some(self),
        }
    }
}

/// `expected {what}, found "{text}"`: what the codec says, without its position (serde_json
/// adds line and column).
fn invalid<E: de::Error>(what: &str, found: &Scalar) -> E {
    match found {
        Scalar::Str(s) => E::custom(format_args!("expected {what}, found \"{s}\"")),
        other => E::custom(format_args!("expected {what}, found {}", other.text())),
    }
}

/// Reads one scalar, keeping the source text of numbers when the deserializer is serde_json's.
pub(crate) fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
    d.deserialize_newtype_struct(RAW_VALUE_TOKEN, ScalarVisitor)
}

/// [`scalar`], present: for `Option<Scalar>` fields whose absence is their default.
fn some_scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Scalar>, D::Error> {
    scalar(d).map(Some)
}

/// Sorts serde_json's raw text of a value into a [`Scalar`].
fn from_raw<E: de::Error>(raw: &str) -> Result<Scalar, E> {
    let raw = raw.trim();
    Ok(match raw.as_bytes().first() {
        Some(b'n') if raw == "null" => Scalar::Null,
        Some(b't') if raw == "true" => Scalar::Bool(true),
        Some(b'f') if raw == "false" => Scalar::Bool(false),
        Some(b'"') => Scalar::Str(serde_json::from_str::<String>(raw).map_err(E::custom)?),
        Some(b'{') => Scalar::Composite("an object"),
        Some(b'[') => Scalar::Composite("an array"),
        _ => Scalar::Num(String::from(raw)),
    })
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a number, a boolean or null")
    }

    /// Any deserializer but serde_json's: read the value as it is.
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Num(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Num(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Scalar, E> {
        Ok(Scalar::Num(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Scalar, E> {
        Ok(Scalar::Num(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        if !v.is_finite() {
            return Err(E::custom("expected a finite number"));
        }
        // The shortest text that reads back as the same f64: exact for up to 15 digits.
        Ok(Scalar::Num(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(String::from(v)))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Str(v))
    }

    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        scalar(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Composite("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        let Some(key) = map.next_key::<Cow<'de, str>>()? else {
            return Ok(Scalar::Composite("an object"));
        };
        if key == RAW_VALUE_TOKEN {
            let raw = map.next_value::<Cow<'de, str>>()?;
            return from_raw(&raw);
        }
        if key == NUMBER_TOKEN {
            return Ok(Scalar::Num(map.next_value::<String>()?));
        }
        map.next_value::<IgnoredAny>()?;
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Composite("an object"))
    }
}

// ---- reading: the codec's rules, field by field ----

/// A string field: null is absent; numbers and booleans are taken as their text.
fn string_of<E: de::Error>(v: Scalar) -> Result<Option<String>, E> {
    match v {
        Scalar::Null => Ok(None),
        Scalar::Str(s) | Scalar::Num(s) => Ok(Some(s)),
        Scalar::Bool(b) => Ok(Some(String::from(if b { "true" } else { "false" }))),
        Scalar::Composite(_) => Err(invalid("a string", &v)),
    }
}

/// `deserialize_with`: an optional string, as [`string_of`].
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    string_of(scalar(d)?)
}

/// `deserialize_with`: a required string (`messageId`); null is refused, as the codec refuses
/// a report without one.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    opt_string(d)?.ok_or_else(|| de::Error::custom("expected a string, found null"))
}

/// `deserialize_with`: a string that is empty when null (`to`).
pub(crate) fn string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    opt_string(d).map(Option::unwrap_or_default)
}

/// Whole numbers as the codec reads them: `10`, `"10"`, `10.0`, `"10.00"`; no sign, no
/// exponent, no fraction other than zeros.
fn parse_u32(text: &str) -> Option<u32> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits_only(whole)
        || !digits_only(frac)
        || frac.bytes().any(|b| b != b'0')
        || (text.contains('.') && frac.is_empty())
    {
        return None;
    }
    whole.bytes().try_fold(0u32, |n, b| {
        n.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

fn u32_of<E: de::Error>(v: Scalar, what: &str) -> Result<Option<u32>, E> {
    match v.present() {
        None => Ok(None),
        Some(v @ (Scalar::Bool(_) | Scalar::Composite(_))) => Err(invalid(what, &v)),
        Some(v) => parse_u32(v.text())
            .map(Some)
            .ok_or_else(|| invalid(what, &v)),
    }
}

/// `deserialize_with`: an optional whole number of seconds.
pub(crate) fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    u32_of(scalar(d)?, "a whole number of seconds")
}

/// Decimals as the codec reads them: exact up to 28 digits, longer fractions rounded to
/// fit (never through `f64`), exponents allowed, no `_`.
fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    if text.is_empty() || text.contains('_') {
        return None;
    }
    if text.contains(['e', 'E']) {
        return Decimal::from_scientific(text).ok();
    }
    Decimal::from_str_exact(text)
        .or_else(|_| text.parse::<Decimal>())
        .ok()
}

fn decimal_of<E: de::Error>(v: Scalar) -> Result<Option<Decimal>, E> {
    match v.present() {
        None => Ok(None),
        Some(v @ (Scalar::Bool(_) | Scalar::Composite(_))) => Err(invalid("a decimal", &v)),
        Some(v) => parse_decimal(v.text())
            .map(Some)
            .ok_or_else(|| invalid("a decimal", &v)),
    }
}

fn timestamp_of<E: de::Error>(v: Scalar) -> Result<Option<Timestamp>, E> {
    match v.present() {
        None => Ok(None),
        Some(v @ (Scalar::Bool(_) | Scalar::Composite(_))) => Err(invalid("a timestamp", &v)),
        Some(v) => Timestamp::parse(v.text()).map(Some).map_err(E::custom),
    }
}

/// `deserialize_with`: an optional timestamp (null and `""` are absent).
pub(crate) fn opt_timestamp<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Timestamp>, D::Error> {
    timestamp_of(scalar(d)?)
}

fn bool_of<E: de::Error>(v: Scalar) -> Result<Option<bool>, E> {
    match v.present() {
        None => Ok(None),
        Some(Scalar::Bool(b)) => Ok(Some(b)),
        Some(v) => {
            let t = v.text().trim();
            if t.eq_ignore_ascii_case("true") || t == "1" {
                Ok(Some(true))
            } else if t.eq_ignore_ascii_case("false") || t == "0" {
                Ok(Some(false))
            } else {
                Err(invalid("a boolean", &v))
            }
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    /// Any form [`Timestamp::parse`] reads (epoch milliseconds too, as a number or a string).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = scalar(d)?;
        timestamp_of(v)?.ok_or_else(|| de::Error::custom("expected a timestamp, found nothing"))
    }
}

/// The text of a wire enum (`direction`, `answeredBy`): any scalar but null, as its text.
pub(crate) fn wire_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    string(d)
}

// ---- decimals: JSON numbers with every digit ----

/// `serialize_with = "decimal::serialize"`: a [`Decimal`] as a JSON number with every digit.
pub(crate) mod decimal {
    use super::*;

    /// Human-readable formats get the number's text as a serde_json raw value (a JSON number
    /// in JSON); compact formats get the text as a string, as they have no raw values.
    pub(crate) fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        if !s.is_human_readable() {
            return s.collect_str(value);
        }
        serde_json::value::RawValue::from_string(value.to_string())
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

/// `with = "opt_decimal"`: an optional [`Decimal`], as [`decimal`]; null and `""` are absent.
pub(crate) mod opt_decimal {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<Decimal>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => decimal::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Decimal>, D::Error> {
        decimal_of(scalar(d)?)
    }
}

// ---- objects: price, status, error, voiceCall, ivr ----

/// A price object as sent: either amount name, any field missing.
#[derive(Deserialize)]
struct PriceWire {
    #[serde(rename = "pricePerSecond", default, deserialize_with = "some_scalar")]
    per_second: Option<Scalar>,
    #[serde(rename = "pricePerMessage", default, deserialize_with = "some_scalar")]
    per_message: Option<Scalar>,
    #[serde(default, deserialize_with = "some_scalar")]
    currency: Option<Scalar>,
}

impl PriceWire {
    /// The price, or `None` when no amount was sent (an empty object, only a currency).
    fn into_price<E: de::Error>(self) -> Result<Option<Price>, E> {
        let per_second = self.per_second.map(decimal_of).transpose()?.flatten();
        let per_message = self.per_message.map(decimal_of).transpose()?.flatten();
        let currency = self.currency.map(string_of).transpose()?.flatten();
        Ok(per_second
            .or(per_message)
            .map(|amount| Price::new(amount, currency.unwrap_or_default())))
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        PriceWire::deserialize(d)?
            .into_price()?
            .ok_or_else(|| de::Error::missing_field("pricePerSecond"))
    }
}

/// `deserialize_with`: an optional price; null, `{}` and a price without amount are absent.
pub(crate) fn opt_price<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Price>, D::Error> {
    match Option::<PriceWire>::deserialize(d)? {
        Some(wire) => wire.into_price(),
        None => Ok(None),
    }
}

/// A status or error object as sent, every field optional.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CodeWire {
    #[serde(default, deserialize_with = "some_scalar")]
    group_id: Option<Scalar>,
    #[serde(default, deserialize_with = "some_scalar")]
    group_name: Option<Scalar>,
    #[serde(default, deserialize_with = "some_scalar")]
    id: Option<Scalar>,
    #[serde(default, deserialize_with = "some_scalar")]
    name: Option<Scalar>,
    #[serde(default, deserialize_with = "some_scalar")]
    description: Option<Scalar>,
    #[serde(default, deserialize_with = "some_scalar")]
    permanent: Option<Scalar>,
}

/// What a status or error object said, before the code tables fill the gaps.
struct Code {
    group_id: Option<u32>,
    group_name: Option<String>,
    id: u32,
    name: Option<String>,
    description: Option<String>,
    permanent: Option<bool>,
}

impl CodeWire {
    /// `None` when no known field was sent (`{}`: absent, as the codec has it); an error when
    /// fields were sent but no `id`.
    fn into_code<E: de::Error>(self, with_permanent: bool) -> Result<Option<Code>, E> {
        let permanent = if with_permanent { self.permanent } else { None };
        let any = self.group_id.is_some()
            || self.group_name.is_some()
            || self.id.is_some()
            || self.name.is_some()
            || self.description.is_some()
            || permanent.is_some();
        if !any {
            return Ok(None);
        }
        let whole = |v: Option<Scalar>| -> Result<Option<u32>, E> {
            v.map(|v| u32_of(v, "a whole number"))
                .transpose()
                .map(Option::flatten)
        };
        let text = |v: Option<Scalar>| -> Result<Option<String>, E> {
            v.map(string_of).transpose().map(Option::flatten)
        };
        let id = whole(self.id)?.ok_or_else(|| E::missing_field("id"))?;
        Ok(Some(Code {
            group_id: whole(self.group_id)?,
            group_name: text(self.group_name)?,
            id,
            name: text(self.name)?,
            description: text(self.description)?,
            permanent: permanent.map(bool_of).transpose()?.flatten(),
        }))
    }
}

/// The sent name, or else the known one, or else empty.
fn name_or(sent: Option<String>, known: Option<&'static str>) -> Cow<'static, str> {
    match (sent, known) {
        (Some(sent), Some(k)) if sent == k => Cow::Borrowed(k),
        (Some(sent), _) => Cow::Owned(sent),
        (None, known) => Cow::Borrowed(known.unwrap_or("")),
    }
}

fn status_of(c: Code) -> Status {
    let info = status_info(c.id);
    let named = c.group_name.as_deref().and_then(StatusGroup::from_name);
    let group = match (c.group_id, named, info) {
        (Some(g), _, _) => StatusGroup::from_id(g),
        (None, Some(g), _) => g,
        (None, None, Some(info)) => info.group,
        _ => StatusGroup::Unknown(0),
    };
    let mut s = Status::new(c.id, group, "");
    s.group_name = name_or(c.group_name, group.name());
    s.name = name_or(c.name, info.map(|i| i.name));
    s.description = name_or(c.description, info.map(|i| i.description));
    s
}

/// The codec's "no group": an error that named no group the tables know. Written without
/// `groupId`, since `groupId` 0 means OK.
const NO_ERROR_GROUP: ErrorGroup = ErrorGroup::Unknown(0);

/// `skip_serializing_if` for an error's group: leave `groupId` out for [`NO_ERROR_GROUP`].
pub(crate) fn is_no_error_group(group: &ErrorGroup) -> bool {
    *group == NO_ERROR_GROUP
}

fn error_of(c: Code) -> ReportError {
    let info = error_info(c.id);
    let named = c.group_name.as_deref().and_then(ErrorGroup::from_name);
    let group = match (c.group_id, named, info) {
        (Some(g), _, _) => ErrorGroup::from_id(g),
        (None, Some(g), _) => g,
        (None, None, Some(info)) => info.group,
        _ => NO_ERROR_GROUP,
    };
    let mut e = ReportError::new(c.id, group, "");
    e.group_name = name_or(c.group_name, group.name());
    e.name = name_or(c.name, info.map(|i| i.name));
    e.description = name_or(c.description, info.map(|i| i.description));
    e.permanent = c.permanent.or(info.map(|i| i.permanent)).unwrap_or(false);
    e
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = CodeWire::deserialize(d)?.into_code(false)?;
        code.map(status_of)
            .ok_or_else(|| de::Error::missing_field("id"))
    }
}

impl<'de> Deserialize<'de> for ReportError {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = CodeWire::deserialize(d)?.into_code(true)?;
        code.map(error_of)
            .ok_or_else(|| de::Error::missing_field("id"))
    }
}

/// `deserialize_with`: an optional status; null and `{}` are absent.
pub(crate) fn opt_status<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Status>, D::Error> {
    match Option::<CodeWire>::deserialize(d)? {
        Some(wire) => Ok(wire.into_code(false)?.map(status_of)),
        None => Ok(None),
    }
}

/// `deserialize_with`: an optional error; null and `{}` are absent.
pub(crate) fn opt_error<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ReportError>, D::Error> {
    match Option::<CodeWire>::deserialize(d)? {
        Some(wire) => Ok(wire.into_code(true)?.map(error_of)),
        None => Ok(None),
    }
}

/// `deserialize_with`: optional call details; an object that says nothing is absent.
pub(crate) fn opt_voice_call<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<VoiceCall>, D::Error> {
    Ok(Option::<VoiceCall>::deserialize(d)?.filter(|c| *c != VoiceCall::new()))
}

/// `deserialize_with`: optional IVR data; an object that says nothing is absent.
pub(crate) fn opt_ivr<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IvrData>, D::Error> {
    Ok(Option::<IvrData>::deserialize(d)?.filter(|i| *i != IvrData::new()))
}

/// `deserialize_with`: the `results` of a page; null is an empty page.
pub(crate) fn results<'de, D: Deserializer<'de>, R: Deserialize<'de>>(
    d: D,
) -> Result<Vec<R>, D::Error> {
    Option::<Vec<R>>::deserialize(d).map(Option::unwrap_or_default)
}

#[cfg(test)]
mod tests {
    use crate::{Decimal, Price, Timestamp};
    use alloc::string::ToString;

    #[test]
    fn decimals_are_numbers_out_and_anything_exact_in() {
        let p = Price::new(Decimal::new(1, 2), "EUR");
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"pricePerSecond":0.01,"currency":"EUR"}"#);
        for input in [
            r#"{"pricePerSecond":0.01,"currency":"EUR"}"#,
            r#"{"pricePerSecond":"0.01","currency":"EUR"}"#,
            r#"{"pricePerMessage":0.01,"currency":"EUR"}"#,
            r#"{"pricePerSecond":1e-2,"currency":"EUR"}"#,
        ] {
            let back: Price = serde_json::from_str(input).unwrap();
            assert_eq!(back, p, "{input}");
        }
        let digits = "12345678901234.123456789";
        let big: Price = serde_json::from_str(&alloc::format!(
            r#"{{"pricePerSecond":{digits},"currency":"X"}}"#
        ))
        .unwrap();
        assert_eq!(big.per_second.to_string(), digits);
        assert!(serde_json::to_string(&big).unwrap().contains(digits));
        let int: Price = serde_json::from_str(r#"{"pricePerSecond":15,"currency":"X"}"#).unwrap();
        assert_eq!(int.per_second, Decimal::from(15));
        let err = serde_json::from_str::<Price>(r#"{"pricePerSecond":"abc","currency":"X"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("expected a decimal"), "{err}");
    }

    #[test]
    fn compact_formats_get_decimals_as_text() {
        use serde::Serialize;
        use serde::ser::Impossible;
        // A serializer that says it is not human-readable and accepts only a string.
        struct Compact;
        impl serde::Serializer for Compact {
            type Ok = alloc::string::String;
            type Error = core::fmt::Error;
            type SerializeSeq = Impossible<Self::Ok, Self::Error>;
            type SerializeTuple = Impossible<Self::Ok, Self::Error>;
            type SerializeTupleStruct = Impossible<Self::Ok, Self::Error>;
            type SerializeTupleVariant = Impossible<Self::Ok, Self::Error>;
            type SerializeMap = Impossible<Self::Ok, Self::Error>;
            type SerializeStruct = Impossible<Self::Ok, Self::Error>;
            type SerializeStructVariant = Impossible<Self::Ok, Self::Error>;
            fn is_human_readable(&self) -> bool {
                false
            }
            fn serialize_str(self, v: &str) -> Result<Self::Ok, Self::Error> {
                Ok(v.into())
            }
            fn serialize_bool(self, _: bool) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_i8(self, _: i8) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_i16(self, _: i16) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_i32(self, _: i32) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_i64(self, _: i64) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_u8(self, _: u8) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_u16(self, _: u16) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_u32(self, _: u32) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_u64(self, _: u64) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_f32(self, _: f32) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_f64(self, _: f64) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_char(self, _: char) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_bytes(self, _: &[u8]) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_none(self) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_unit(self) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_unit_struct(self, _: &'static str) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_unit_variant(
                self,
                _: &'static str,
                _: u32,
                _: &'static str,
            ) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_newtype_struct<T: ?Sized + Serialize>(
                self,
                _: &'static str,
                _: &T,
            ) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_newtype_variant<T: ?Sized + Serialize>(
                self,
                _: &'static str,
                _: u32,
                _: &'static str,
                _: &T,
            ) -> Result<Self::Ok, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_tuple_struct(
                self,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeTupleStruct, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_tuple_variant(
                self,
                _: &'static str,
                _: u32,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeTupleVariant, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_struct(
                self,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeStruct, Self::Error> {
                Err(core::fmt::Error)
            }
            fn serialize_struct_variant(
                self,
                _: &'static str,
                _: u32,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeStructVariant, Self::Error> {
                Err(core::fmt::Error)
            }
        }
        let d: Decimal = "12345678901234567.0123456789".parse().unwrap();
        assert_eq!(
            super::decimal::serialize(&d, Compact).unwrap(),
            "12345678901234567.0123456789"
        );
    }

    #[test]
    fn other_deserializers_fall_back_to_the_value_itself() {
        use serde::de::IntoDeserializer;
        use serde::de::value::Error;
        let from_str: Result<Option<Decimal>, Error> =
            super::opt_decimal::deserialize("0.10".into_deserializer());
        assert_eq!(from_str.unwrap().unwrap().to_string(), "0.10");
        let from_int: Result<Option<Decimal>, Error> =
            super::opt_decimal::deserialize(7u64.into_deserializer());
        assert_eq!(from_int.unwrap(), Some(Decimal::from(7)));
        let whole: Result<Option<u32>, Error> = super::opt_u32("10.00".into_deserializer());
        assert_eq!(whole.unwrap(), Some(10));
    }

    #[test]
    fn timestamps_are_documented_form_out_and_millis_in() {
        let t = Timestamp::parse("2015-02-12T09:58:20.323+0100").unwrap();
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#""2015-02-12T09:58:20.323+0100""#
        );
        let m: Timestamp = serde_json::from_str("1423731500323").unwrap();
        assert!(m.same_instant(&t));
        let s: Timestamp = serde_json::from_str(r#""1423731500323""#).unwrap();
        assert_eq!(s, m);
        assert!(serde_json::from_str::<Timestamp>(r#""2015-02-30T00:00:00Z""#).is_err());
        assert!(serde_json::from_str::<Timestamp>("1.5").is_err());
        assert!(serde_json::from_str::<Timestamp>("true").is_err());
    }
}
