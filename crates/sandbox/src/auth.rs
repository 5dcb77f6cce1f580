//! The four Infobip authorization schemes, checked against the sandbox's credentials.

use std::fmt;

/// The credentials a sandbox accepts: one per Infobip authorization scheme.
///
/// `Debug` shows which schemes are set, never the secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub(crate) api_key: String,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) ibsso_token: String,
    pub(crate) bearer_token: String,
}

impl Default for Credentials {
    /// `App sandbox-api-key`, `Basic sandbox:sandbox-password`, `IBSSO sandbox-ibsso-token`,
    /// `Bearer sandbox-bearer-token`.
    fn default() -> Self {
        Self {
            api_key: "sandbox-api-key".into(),
            username: "sandbox".into(),
            password: "sandbox-password".into(),
            ibsso_token: "sandbox-ibsso-token".into(),
            bearer_token: "sandbox-bearer-token".into(),
        }
    }
}

impl Credentials {
    /// The API key accepted as `Authorization: App <key>`.
    #[must_use]
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The username accepted with [`Credentials::password`] as `Authorization: Basic ...`.
    #[must_use]
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password accepted with [`Credentials::username`].
    #[must_use]
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The token accepted as `Authorization: IBSSO <token>`.
    #[must_use]
    pub fn ibsso_token(&self) -> &str {
        &self.ibsso_token
    }

    /// The token accepted as `Authorization: Bearer <token>`.
    #[must_use]
    pub fn bearer_token(&self) -> &str {
        &self.bearer_token
    }

    /// Whether an `Authorization` header value carries valid credentials in any scheme.
    pub(crate) fn accepts(&self, header: Option<&[u8]>) -> bool {
        self.identify(header).is_some()
    }

    /// Which of the accepted credentials an `Authorization` header value carries (the
    /// scheme's name: each scheme has exactly one credential), if any: per-credential rate
    /// limits are kept under this name.
    pub(crate) fn identify(&self, header: Option<&[u8]>) -> Option<&'static str> {
        let header = header.and_then(|h| std::str::from_utf8(h).ok())?;
        let (scheme, value) = header.trim().split_once(' ')?;
        let value = value.trim();
        let (name, ok) = match scheme.to_ascii_lowercase().as_str() {
            "app" => ("App", same(value, &self.api_key)),
            "ibsso" => ("IBSSO", same(value, &self.ibsso_token)),
            "bearer" => ("Bearer", same(value, &self.bearer_token)),
            "basic" => (
                "Basic",
                base64_decode(value)
                    .and_then(|raw| String::from_utf8(raw).ok())
                    .and_then(|pair| {
                        pair.split_once(':')
                            .map(|(u, p)| same(u, &self.username) & same(p, &self.password))
                    })
                    .unwrap_or(false),
            ),
            _ => return None,
        };
        ok.then_some(name)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &"***")
            .field("username", &self.username)
            .field("password", &"***")
            .field("ibsso_token", &"***")
            .field("bearer_token", &"***")
            .finish()
    }
}

/// Compares without an early exit, so timing does not reveal how much of a secret matched.
pub(crate) fn same(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for (i, &x) in a.iter().enumerate() {
        diff |= x ^ b.get(i % b.len().max(1)).copied().unwrap_or(0);
    }
    diff == 0 && !b.is_empty()
}

/// Standard base64, with or without padding (clients differ); `None` on anything else.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base64_encode(data: &[u8]) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(data)
    }

    #[test]
    fn base64_round_trips() {
        for input in [
            "",
            "a",
            "ab",
            "abc",
            "Aladdin:open sesame",
            "sandbox:sandbox-password",
        ] {
            let encoded = base64_encode(input.as_bytes());
            assert_eq!(
                base64_decode(&encoded).unwrap(),
                input.as_bytes(),
                "{input}"
            );
        }
        assert_eq!(
            base64_encode(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(
            base64_decode("QWxhZGRpbjpvcGVuIHNlc2FtZQ").unwrap(),
            b"Aladdin:open sesame"
        );
        assert!(base64_decode("a").is_none());
        assert!(base64_decode("ab$d").is_none());
    }

    #[test]
    fn every_scheme_is_accepted_and_checked() {
        let c = Credentials::default();
        let basic = format!("Basic {}", base64_encode(b"sandbox:sandbox-password"));
        for good in [
            "App sandbox-api-key",
            "app sandbox-api-key",
            basic.as_str(),
            "IBSSO sandbox-ibsso-token",
            "Bearer sandbox-bearer-token",
        ] {
            assert!(c.accepts(Some(good.as_bytes())), "{good}");
        }
        let wrong_basic = format!("Basic {}", base64_encode(b"sandbox:nope"));
        for bad in [
            "App nope",
            "App sandbox-api-key-and-more",
            "App",
            wrong_basic.as_str(),
            "Basic !!!",
            "Bearer sandbox-api-key",
            "Token sandbox-api-key",
            "",
        ] {
            assert!(!c.accepts(Some(bad.as_bytes())), "{bad}");
        }
        assert!(!c.accepts(None));
    }

    #[test]
    fn debug_hides_secrets() {
        let text = format!("{:?}", Credentials::default());
        assert!(!text.contains("sandbox-api-key") && !text.contains("sandbox-password"));
        assert!(!text.contains("token\""));
    }
}
