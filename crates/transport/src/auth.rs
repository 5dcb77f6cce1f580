//! Credentials: the four Infobip authorization schemes, kept in types that never print them.

use std::fmt;

use http::HeaderValue;

use crate::error::{Error, ErrorKind};

/// Whether `host` is loopback: `localhost`, a `*.localhost` name, `127.0.0.0/8` or `::1`
/// (with or without IPv6 brackets). The one rule for where credentials may travel over plain
/// `http://` without `allow_insecure_http`, shared by this crate's client and the facade's
/// builder.
///
/// ```
/// use ivr_reports_transport::is_loopback_host;
///
/// assert!(is_loopback_host("127.0.0.1") && is_loopback_host("[::1]"));
/// assert!(is_loopback_host("localhost") && is_loopback_host("sandbox.localhost"));
/// assert!(!is_loopback_host("api.infobip.com") && !is_loopback_host("10.0.0.1"));
/// ```
#[must_use]
pub fn is_loopback_host(host: &str) -> bool {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// A secret string (API key, password, token). Its `Debug` and `Display` print `***`.
///
/// Read it with [`expose`](Secret::expose) where it is really needed (building the
/// `Authorization` header).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself. Do not log it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Self(secret.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How a client authenticates, as Infobip accepts it. Becomes the `Authorization` header,
/// marked sensitive so HTTP/2 never indexes it and `Debug` of the header map hides it.
///
/// `Debug` prints the scheme (and the Basic username) but never a secret.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// `Authorization: App <api key>` (Infobip's recommended scheme).
    App(Secret),
    /// `Authorization: Basic base64(username:password)`.
    Basic {
        /// The username.
        username: String,
        /// The password.
        password: Secret,
    },
    /// `Authorization: IBSSO <token>` (a session token from Infobip's login endpoint).
    Ibsso(Secret),
    /// `Authorization: Bearer <token>` (an OAuth 2.0 access token).
    Bearer(Secret),
}

impl Auth {
    /// `App <api key>`.
    pub fn app(api_key: impl Into<Secret>) -> Self {
        Self::App(api_key.into())
    }

    /// `Basic base64(username:password)`.
    pub fn basic(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Self::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    /// `IBSSO <token>`.
    pub fn ibsso(token: impl Into<Secret>) -> Self {
        Self::Ibsso(token.into())
    }

    /// `Bearer <token>`.
    pub fn bearer(token: impl Into<Secret>) -> Self {
        Self::Bearer(token.into())
    }

    /// The scheme's name as it appears in the header (`App`, `Basic`, `IBSSO`, `Bearer`).
    #[must_use]
    pub fn scheme(&self) -> &'static str {
        match self {
            Self::App(_) => "App",
            Self::Basic { .. } => "Basic",
            Self::Ibsso(_) => "IBSSO",
            Self::Bearer(_) => "Bearer",
        }
    }

    /// The `Authorization` header value, marked sensitive.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidRequest`] when the secret holds characters a header cannot carry
    /// (control characters, line breaks). The message never contains the secret.
    pub fn header_value(&self) -> Result<HeaderValue, Error> {
        let credentials = match self {
            Self::App(s) | Self::Ibsso(s) | Self::Bearer(s) => s.expose().to_owned(),
            Self::Basic { username, password } => base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{username}:{}", password.expose()),
            ),
        };
        let mut value =
            HeaderValue::try_from(format!("{} {credentials}", self.scheme())).map_err(|_| {
                Error::of(ErrorKind::InvalidRequest)
                    .with_context("credentials contain characters not allowed in a header")
            })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Basic { username, password } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", password)
                .finish(),
            Self::App(s) => f.debug_tuple("App").field(s).finish(),
            Self::Ibsso(s) => f.debug_tuple("Ibsso").field(s).finish(),
            Self::Bearer(s) => f.debug_tuple("Bearer").field(s).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_per_scheme() {
        let v = Auth::app("key123").header_value().unwrap();
        assert_eq!(v, "App key123");
        assert!(v.is_sensitive());
        let v = Auth::basic("Aladdin", "open sesame")
            .header_value()
            .unwrap();
        assert_eq!(v, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(v.is_sensitive());
        assert_eq!(Auth::ibsso("tok").header_value().unwrap(), "IBSSO tok");
        assert_eq!(Auth::bearer("tok").header_value().unwrap(), "Bearer tok");
    }

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let secret = "s3cr3t-value";
        let all = [
            Auth::app(secret),
            Auth::basic("user", secret),
            Auth::ibsso(secret),
            Auth::bearer(secret),
        ];
        for auth in &all {
            let debug = format!("{auth:?} {auth:#?}");
            assert!(!debug.contains(secret), "{debug}");
            assert!(debug.contains("***"));
            let header = auth.header_value().unwrap();
            assert!(!format!("{header:?}").contains(secret));
        }
        assert_eq!(Secret::new(secret).to_string(), "***");
    }

    #[test]
    fn a_bad_secret_is_refused_without_echoing_it() {
        let err = Auth::app("line\nbreak-secret").header_value().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(!err.to_string().contains("break-secret"));
        assert!(!format!("{err:?}").contains("break-secret"));
    }
}
