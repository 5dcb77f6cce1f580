//! `ApiError`: the error body the API answers with (`requestError.serviceException`).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The error the API reports in its body, e.g. for a 401:
/// `{"requestError":{"serviceException":{"messageId":"UNAUTHORIZED","text":"Invalid login
/// details"}}}`. This type is the `serviceException` object; the codec reads and writes the
/// envelope (JSON, or XML under `<ApiException>`).
///
/// ```
/// use ivr_reports_model::ApiError;
///
/// let mut e = ApiError::new("BAD_REQUEST", "Bad request");
/// e.validation_errors.insert("limit".into(), vec!["must be between 1 and 1000".into()]);
/// assert_eq!(e.to_string(), "BAD_REQUEST: Bad request (limit: must be between 1 and 1000)");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
#[non_exhaustive]
pub struct ApiError {
    /// The error's identifier, e.g. `UNAUTHORIZED`, `BAD_REQUEST`, `TOO_MANY_REQUESTS`.
    #[cfg_attr(feature = "serde", serde(default))]
    pub message_id: String,
    /// Human-readable text, e.g. `Invalid login details`.
    #[cfg_attr(feature = "serde", serde(default))]
    pub text: String,
    /// Per request field, what is wrong with it (sorted by field).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "BTreeMap::is_empty")
    )]
    pub validation_errors: BTreeMap<String, Vec<String>>,
}

impl ApiError {
    /// An error without validation errors.
    pub fn new(message_id: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            message_id: message_id.into(),
            text: text.into(),
            validation_errors: BTreeMap::new(),
        }
    }
}

impl fmt::Display for ApiError {
    /// `MESSAGE_ID: text`, then `(field: problem; field: problem)` when there are any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.message_id, self.text)?;
        let mut first = true;
        for (field, problems) in &self.validation_errors {
            for problem in problems {
                f.write_str(if first { " (" } else { "; " })?;
                write!(f, "{field}: {problem}")?;
                first = false;
            }
        }
        if !first {
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl core::error::Error for ApiError {}
