//! `ResultsPage`: a page of reports in the API's wire shape, `{"results":[...]}`.

use alloc::vec::Vec;

/// A page of reports as the API sends it: `{"results":[...]}`, for v1
/// ([`VoiceReport`](crate::VoiceReport)) and v2 ([`CallReport`](crate::CallReport)) alike.
///
/// With the `serde` feature it is serialized and deserialized in that shape (`"results":
/// null` reads as an empty page). Unlike `ivr-reports-codec`'s page decoder, which keeps
/// every report it can read and sets the others aside, serde refuses the whole page when one
/// report does not read.
///
/// ```
/// use ivr_reports_model::{ResultsPage, VoiceReport};
///
/// let page = ResultsPage::new(vec![VoiceReport::new("m-1", "385981178")]);
/// assert_eq!(page.results.len(), 1);
/// assert_eq!(page.into_results()[0].message_id, "m-1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ResultsPage<R> {
    /// The reports, in the order sent.
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "crate::serde_util::results",
            bound(deserialize = "R: serde::Deserialize<'de>")
        )
    )]
    pub results: Vec<R>,
}

impl<R> ResultsPage<R> {
    /// A page of these reports.
    #[must_use]
    pub fn new(results: Vec<R>) -> Self {
        Self { results }
    }

    /// The reports.
    #[must_use]
    pub fn into_results(self) -> Vec<R> {
        self.results
    }
}

impl<R> Default for ResultsPage<R> {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl<R> From<Vec<R>> for ResultsPage<R> {
    fn from(results: Vec<R>) -> Self {
        Self::new(results)
    }
}
