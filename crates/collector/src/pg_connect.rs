//! How `PgSink` connects: the URL's TLS settings (libpq's `sslmode`, `sslrootcert`), the
//! password from the environment, and the rustls connector they make.
//!
//! tokio-postgres knows `sslmode=disable|prefer|require` only and no `sslrootcert`, so these
//! two are taken out of the URL here and the rest is left to tokio-postgres.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::Config;
use tokio_postgres::config::SslMode as DriverSslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Error, ErrorKind};

/// The password when the URL has none: ours first, then libpq's.
pub(crate) const PASSWORD_VARS: [&str; 2] = ["IVR_REPORTS_PG_PASSWORD", "PGPASSWORD"];
/// libpq's variables for `sslmode` and `sslrootcert` when the URL has none.
const SSLMODE_VAR: &str = "PGSSLMODE";
const SSLROOTCERT_VAR: &str = "PGSSLROOTCERT";

/// libpq's `sslmode`, all five that make sense without client certificates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, else plain; the certificate is not checked (libpq's
    /// default), unless roots are given.
    Prefer,
    /// TLS or nothing; the certificate is not checked, unless roots are given (then as
    /// `verify-ca`, as libpq does).
    Require,
    /// TLS; the certificate chains to the roots; any host name.
    VerifyCa,
    /// TLS; the certificate chains to the roots and names the host.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, Error> {
        Ok(match value {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!(
                        "invalid sslmode {other:?}: use disable, prefer, require, verify-ca or verify-full"
                    ),
                ));
            }
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

/// Where the certificates to trust come from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Roots {
    /// None given: no verification for prefer/require; the bundled Mozilla roots for
    /// verify-ca/verify-full.
    Default,
    /// `sslrootcert=system`: the bundled Mozilla roots (webpki-roots).
    Bundled,
    /// `sslrootcert=PATH`: the PEM certificates in this file.
    File(PathBuf),
}

/// A connection as configured: tokio-postgres's settings and the TLS connector, if any.
#[derive(Clone)]
pub(crate) struct Connect {
    pub(crate) config: Config,
    pub(crate) mode: SslMode,
    pub(crate) tls: Option<MakeRustlsConnect>,
}

impl std::fmt::Debug for Connect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // tokio-postgres's Config Debug redacts the password.
        f.debug_struct("Connect")
            .field("config", &self.config)
            .field("sslmode", &self.mode.as_str())
            .finish_non_exhaustive()
    }
}

/// Reads `url` (`shown` is its redacted form, for messages) and the environment: `sslmode`
/// and `sslrootcert` from the URL or `PGSSLMODE` / `PGSSLROOTCERT`, the password from the URL
/// or `IVR_REPORTS_PG_PASSWORD` / `PGPASSWORD`.
pub(crate) fn configure(url: &str, shown: &str) -> Result<Connect, Error> {
    configure_with(url, shown, |name| std::env::var(name).ok())
}

pub(crate) fn configure_with(
    url: &str,
    shown: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Connect, Error> {
    let (rest, sslmode, sslrootcert) = take_tls_parameters(url)?;
    let mut config: Config = rest.parse().map_err(|e| {
        Error::new(
            ErrorKind::InvalidConfig,
            format!("invalid PostgreSQL URL {shown}"),
        )
        .with_source(e)
    })?;
    if config.get_password().is_none()
        && let Some(password) = PASSWORD_VARS.iter().find_map(|name| env(name))
    {
        config.password(password);
    }
    let mode = match sslmode.or_else(|| env(SSLMODE_VAR)) {
        Some(value) => SslMode::parse(&value)?,
        None => SslMode::Prefer,
    };
    let roots = match sslrootcert.or_else(|| env(SSLROOTCERT_VAR)) {
        None => Roots::Default,
        Some(value) if value == "system" => Roots::Bundled,
        Some(path) => Roots::File(PathBuf::from(path)),
    };
    config.ssl_mode(match mode {
        SslMode::Disable => DriverSslMode::Disable,
        SslMode::Prefer => DriverSslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => DriverSslMode::Require,
    });
    let tls = match mode {
        SslMode::Disable => None,
        _ => Some(MakeRustlsConnect::new(client_config(mode, &roots)?)),
    };
    Ok(Connect { config, mode, tls })
}

/// The URL without `sslmode` and `sslrootcert`, and their (percent-decoded) values.
fn take_tls_parameters(url: &str) -> Result<(String, Option<String>, Option<String>), Error> {
    // The query starts after the user info (a password may hold `?`), as tokio-postgres
    // reads it; a string that is not a URL (`host=... sslmode=...`) is left alone.
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return Ok((url.to_string(), None, None));
    };
    let after_userinfo = url[scheme_end..]
        .rfind('@')
        .map_or(scheme_end, |at| scheme_end + at + 1);
    let Some(q) = url[after_userinfo..].find('?').map(|i| after_userinfo + i) else {
        return Ok((url.to_string(), None, None));
    };
    let (mut sslmode, mut sslrootcert) = (None, None);
    let mut kept = Vec::new();
    for pair in url[q + 1..].split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", value)) => sslmode = Some(percent_decode(value)?),
            Some(("sslrootcert", value)) => sslrootcert = Some(percent_decode(value)?),
            _ => kept.push(pair),
        }
    }
    let mut rest = url[..q].to_string();
    if !kept.is_empty() {
        rest.push('?');
        rest.push_str(&kept.join("&"));
    }
    Ok((rest, sslmode, sslrootcert))
}

fn percent_decode(value: &str) -> Result<String, Error> {
    let bad = || {
        Error::new(
            ErrorKind::InvalidConfig,
            "invalid percent-encoding in a PostgreSQL URL parameter",
        )
    };
    // libpq refuses a malformed escape; the crate's decoder would keep it literally.
    let bytes = value.as_bytes();
    let hex = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_hexdigit);
    if (0..bytes.len()).any(|i| bytes[i] == b'%' && !(hex(i + 1) && hex(i + 2))) {
        return Err(bad());
    }
    percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| bad())
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(mode: SslMode, roots: &Roots) -> Result<ClientConfig, Error> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(ErrorKind::InvalidConfig, "cannot set up TLS").with_source(e))?;
    let verify = match (mode, roots) {
        (SslMode::Prefer | SslMode::Require, Roots::Default) => None,
        (_, Roots::Default | Roots::Bundled) => Some(bundled_roots()),
        (_, Roots::File(path)) => Some(roots_from(path)?),
    };
    let config = match verify {
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(
                provider.signature_verification_algorithms,
            )))
            .with_no_client_auth(),
        Some(roots) if mode == SslMode::VerifyFull => {
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Some(roots) => {
            let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| {
                    Error::new(ErrorKind::InvalidConfig, "cannot set up TLS").with_source(e)
                })?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly(inner)))
                .with_no_client_auth()
        }
    };
    Ok(config)
}

fn bundled_roots() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

fn roots_from(path: &Path) -> Result<RootCertStore, Error> {
    let shown = path.display();
    let invalid = |what: &str| {
        Error::new(
            ErrorKind::InvalidConfig,
            format!("sslrootcert {shown}: {what}"),
        )
    };
    let pem = std::fs::read(path).map_err(|e| invalid("cannot read the file").with_source(e))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| invalid("not a PEM certificate file").with_source(e))?;
        roots
            .add(cert)
            .map_err(|e| invalid("a certificate cannot be a root").with_source(e))?;
    }
    if roots.is_empty() {
        return Err(invalid("no certificate in the file"));
    }
    Ok(roots)
}

/// `sslmode=prefer|require` without roots (libpq's meaning): encrypted, the server's
/// certificate not checked. The handshake signatures are still verified.
#[derive(Debug)]
struct NoVerification(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `sslmode=verify-ca` (and require/prefer with roots): the chain is checked, the name not.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the chain first and the name last: a name mismatch means the chain
        // is good.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn tls_parameters_are_taken_out_of_the_url() {
        let (rest, mode, root) = take_tls_parameters(
            "postgres://u:p?w@h:5432/db?sslmode=verify-full&application_name=x&sslrootcert=%2Ftmp%2Fca.pem",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u:p?w@h:5432/db?application_name=x");
        assert_eq!(mode.as_deref(), Some("verify-full"));
        assert_eq!(root.as_deref(), Some("/tmp/ca.pem"));
        let (rest, mode, _) = take_tls_parameters("postgres://h/db?sslmode=require").unwrap();
        assert_eq!(
            (rest.as_str(), mode.as_deref()),
            ("postgres://h/db", Some("require"))
        );
        assert!(take_tls_parameters("postgres://h/db?sslrootcert=%zz").is_err());
        assert!(take_tls_parameters("postgres://h/db?sslrootcert=%2").is_err());
        assert!(take_tls_parameters("postgres://h/db?sslrootcert=%FF").is_err());
        let (_, _, root) = take_tls_parameters("postgres://h/db?sslrootcert=%C3%A9+a").unwrap();
        assert_eq!(root.as_deref(), Some("é+a"), "+ is a plus in a libpq URL");
    }

    #[test]
    fn modes_and_passwords() {
        let c = configure_with("postgres://u@h/db", "x", no_env).unwrap();
        assert_eq!(c.mode, SslMode::Prefer);
        assert!(c.tls.is_some());
        assert_eq!(c.config.get_password(), None);
        let c = configure_with("postgres://u@h/db?sslmode=disable", "x", no_env).unwrap();
        assert!(c.tls.is_none());
        let c = configure_with("postgres://u@h/db?sslmode=verify-full", "x", no_env).unwrap();
        assert_eq!(c.config.get_ssl_mode(), DriverSslMode::Require);
        let e = configure_with("postgres://u@h/db?sslmode=allow-me", "x", no_env).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        let env = |name: &str| match name {
            "PGPASSWORD" => Some("from-libpq-var".to_string()),
            "IVR_REPORTS_PG_PASSWORD" => Some("from-our-var".to_string()),
            "PGSSLMODE" => Some("require".to_string()),
            _ => None,
        };
        let c = configure_with("postgres://u@h/db", "x", env).unwrap();
        assert_eq!(c.config.get_password(), Some(&b"from-our-var"[..]));
        assert_eq!(c.mode, SslMode::Require);
        let c = configure_with("postgres://u:in-url@h/db?sslmode=disable", "x", env).unwrap();
        assert_eq!(c.config.get_password(), Some(&b"in-url"[..]));
        assert_eq!(c.mode, SslMode::Disable, "the URL wins over PGSSLMODE");
        let e = configure_with(
            "postgres://u@h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
            "x",
            no_env,
        )
        .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        let shown = format!("{c:?}");
        assert!(!shown.contains("in-url"), "{shown}");
    }
}
