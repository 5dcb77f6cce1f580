//! `Price`: what a call costs per second, as an exact decimal.

use alloc::string::String;

use rust_decimal::Decimal;

/// The price of a call per second, in `currency`: `{pricePerSecond, currency}` in JSON.
///
/// The amount is a [`Decimal`], never a float: `0.01` stays `0.01`. (The v1 XML format names
/// the amount `pricePerMessage`; the codec handles that, and serde accepts it as an alias.)
///
/// ```
/// use ivr_reports_model::{Decimal, Price};
///
/// let p = Price::new(Decimal::new(1, 2), "EUR");
/// assert_eq!(p.per_second.to_string(), "0.01");
/// assert_eq!(p.cost_of(10).unwrap().to_string(), "0.10");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Price {
    /// Price per second (`pricePerSecond`; `pricePerMessage` in v1 XML).
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "pricePerSecond",
            serialize_with = "crate::serde_util::decimal::serialize"
        )
    )]
    pub per_second: Decimal,
    /// ISO 4217 currency code, as sent (e.g. `EUR`).
    pub currency: String,
}

impl Price {
    /// A price per second in a currency.
    pub fn new(per_second: Decimal, currency: impl Into<String>) -> Self {
        Self {
            per_second,
            currency: currency.into(),
        }
    }

    /// The cost of a call lasting `seconds` at this price (`None` on decimal overflow).
    #[must_use]
    pub fn cost_of(&self, seconds: u32) -> Option<Decimal> {
        self.per_second.checked_mul(Decimal::from(seconds))
    }
}
