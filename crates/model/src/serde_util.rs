//! serde support (feature `serde`): how timestamps and exact decimals are written and read.
//!
//! - [`Timestamp`] is written in the documented form (`"2015-02-12T09:58:20.323+0100"`) and
//!   read from any form [`Timestamp::parse`] accepts, or from epoch milliseconds (a number).
//! - Decimals (prices, `fileDuration`) are written as JSON **strings** (`"0.01"`) so that no
//!   serializer ever routes them through `f64`. They are read from strings exactly, from
//!   integers exactly, from serde_json numbers exactly when serde_json's
//!   `arbitrary_precision` feature is on (it hands over the source text), and otherwise from
//!   floats by their shortest decimal form (exact for every value of up to 15 significant
//!   digits, which covers every price the API sends). The lenient wire decoder,
//!   `ivr-reports-codec`, always reads numbers from their source text.

use alloc::string::{String, ToString};
use core::fmt;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::Timestamp;

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TimestampVisitor)
    }
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a timestamp like \"2015-02-12T09:58:20.323+0100\" or epoch milliseconds")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
        Timestamp::parse(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
        Timestamp::from_unix_millis(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
        let v = i64::try_from(v).map_err(|_| E::custom("epoch milliseconds out of range"))?;
        self.visit_i64(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
        let whole = v as i64;
        if whole as f64 == v {
            self.visit_i64(whole)
        } else {
            Err(E::custom("epoch milliseconds must be a whole number"))
        }
    }
}

/// `with = "decimal"`: a [`Decimal`] as a string, read from a string or a number.
pub(crate) mod decimal {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }
}

/// `with = "opt_decimal"`: an optional [`Decimal`], as [`decimal`], `null` as `None`.
pub(crate) mod opt_decimal {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<Decimal>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Decimal>, D::Error> {
        d.deserialize_option(OptDecimalVisitor)
    }
}

struct DecimalVisitor;

/// How serde_json's `arbitrary_precision` feature hands a number over: a one-entry map from
/// this key to the number's source text.
const SERDE_JSON_NUMBER: &str = "$serde_json::private::Number";

impl<'de> Visitor<'de> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number or a string holding one")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse_decimal(v.trim()).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        if !v.is_finite() {
            return Err(E::custom("not a finite number"));
        }
        // Rust prints the shortest text that reads back as the same f64.
        parse_decimal(&v.to_string()).map_err(E::custom)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Decimal, A::Error> {
        match map.next_key::<String>()? {
            Some(key) if key == SERDE_JSON_NUMBER => {
                let text: String = map.next_value()?;
                parse_decimal(&text).map_err(de::Error::custom)
            }
            _ => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
        }
    }
}

struct OptDecimalVisitor;

impl<'de> Visitor<'de> for OptDecimalVisitor {
    type Value = Option<Decimal>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null, a decimal number or a string holding one")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        decimal::deserialize(d).map(Some)
    }
}

fn parse_decimal(text: &str) -> Result<Decimal, String> {
    Decimal::from_str_exact(text).map_err(|e| alloc::format!("not a decimal ({e}): \"{text}\""))
}

#[cfg(test)]
mod tests {
    use crate::{Decimal, Price, Timestamp};
    use alloc::string::ToString;

    #[test]
    fn decimals_are_strings_out_and_anything_exact_in() {
        let p = Price::new(Decimal::new(1, 2), "EUR");
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"pricePerSecond":"0.01","currency":"EUR"}"#);
        for input in [
            r#"{"pricePerSecond":0.01,"currency":"EUR"}"#,
            r#"{"pricePerSecond":"0.01","currency":"EUR"}"#,
            r#"{"pricePerMessage":0.010,"currency":"EUR"}"#,
        ] {
            let back: Price = serde_json::from_str(input).unwrap();
            assert_eq!(back, p, "{input}");
        }
        let big: Price =
            serde_json::from_str(r#"{"pricePerSecond":"12345678901234.123456789","currency":"X"}"#)
                .unwrap();
        assert_eq!(big.per_second.to_string(), "12345678901234.123456789");
        let int: Price = serde_json::from_str(r#"{"pricePerSecond":15,"currency":"X"}"#).unwrap();
        assert_eq!(int.per_second, Decimal::from(15));
        let err = serde_json::from_str::<Price>(r#"{"pricePerSecond":"abc","currency":"X"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("not a decimal"), "{err}");
    }

    #[test]
    fn arbitrary_precision_numbers_are_read_from_their_text() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, MapDeserializer};
        let digits = "12345678901234567.0123456789";
        let map = MapDeserializer::<_, Error>::new(
            [(super::SERDE_JSON_NUMBER, digits)]
                .into_iter()
                .map(|(k, v)| (k.into_deserializer(), v.into_deserializer())),
        );
        let value = super::decimal::deserialize(map).unwrap();
        assert_eq!(value.to_string(), digits);
        let other = MapDeserializer::<_, Error>::new(
            [("x", "1")]
                .into_iter()
                .map(|(k, v)| (k.into_deserializer(), v.into_deserializer())),
        );
        assert!(super::decimal::deserialize(other).is_err());
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
        assert!(serde_json::from_str::<Timestamp>(r#""2015-02-30T00:00:00Z""#).is_err());
        assert!(serde_json::from_str::<Timestamp>("1.5").is_err());
    }
}
