//! `Batch` and `Rejected`: a decoded page, with the reports that could not be decoded kept aside.

use crate::Error;

/// A decoded page of reports: those that decoded, and those that did not, each with its raw
/// bytes and the reason.
///
/// One malformed report never costs the others: only a broken envelope (not JSON or XML, no
/// `results`) fails a whole decode. When the page breaks off in the middle (truncated, or
/// garbled beyond the point where items can be told apart), the reports before the break
/// are decoded and everything from the break on is one [`Rejected`] item. Anything after the
/// end of `results` other than the envelope's own end (a second concatenated page, a field
/// after `results`) may hold reports too, and is kept as one more [`Rejected`] item.
///
/// ```
/// # #[cfg(feature = "json")] {
/// use ivr_reports_codec::{Codec, Format};
/// use ivr_reports_codec::model::VoiceReport;
///
/// let body = br#"{"results":[{"messageId":"a","to":"1"},{"to":"2"},{"messageId":"c"}]}"#;
/// let batch = Codec::new(Format::Json)?.decode_page::<VoiceReport>(body)?;
/// assert_eq!(batch.reports.len(), 2);
/// assert_eq!(batch.rejected[0].index, 1);
/// assert_eq!(batch.rejected[0].raw, br#"{"to":"2"}"#);
/// assert!(!batch.is_clean());
/// # }
/// # Ok::<(), ivr_reports_codec::Error>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Batch<T> {
    /// The reports that decoded, in page order.
    pub reports: Vec<T>,
    /// The items that did not, in page order.
    pub rejected: Vec<Rejected>,
}

impl<T> Batch<T> {
    /// An empty batch.
    #[must_use]
    pub fn new() -> Self {
        Self {
            reports: Vec::new(),
            rejected: Vec::new(),
        }
    }

    /// Whether every item decoded.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.rejected.is_empty()
    }

    /// Whether the page held no item at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.reports.is_empty() && self.rejected.is_empty()
    }

    /// The number of items: decoded plus rejected.
    #[must_use]
    pub fn len(&self) -> usize {
        self.reports.len() + self.rejected.len()
    }
}

impl<T> Default for Batch<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A report that could not be decoded: where it was, its exact bytes, and why.
///
/// `raw` is the item's exact slice of the input (from its first to its last byte, e.g.
/// `{...}` or `<result>...</result>`), so it can be stored, shown, or decoded again later
/// with [`Codec::decode_report`](crate::Codec::decode_report). When the page broke off,
/// `raw` is the rest of the input from the item's start.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Rejected {
    /// The item's 0-based position in the page's `results`.
    pub index: usize,
    /// The item's exact bytes.
    pub raw: Vec<u8>,
    /// Why it was rejected; the path starts at the envelope (`results[3]....`).
    pub error: Error,
}

impl Rejected {
    /// A rejected item.
    #[must_use]
    pub fn new(index: usize, raw: impl Into<Vec<u8>>, error: Error) -> Self {
        Self {
            index,
            raw: raw.into(),
            error,
        }
    }
}
