//! The rustls client configuration: bundled Mozilla roots, extra roots, ALPN h2 + http/1.1.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::{Error, ErrorKind};

/// An extra root certificate as handed to the builder, parsed at `build()`.
#[derive(Clone)]
pub(crate) enum ExtraRoot {
    Der(Vec<u8>),
    Pem(Vec<u8>),
}

/// Builds the client TLS configuration (ring provider, TLS 1.2 and 1.3).
pub(crate) fn client_config(
    builtin_roots: bool,
    extra: &[ExtraRoot],
) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut roots = RootCertStore::empty();
    if builtin_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for root in extra {
        let ders: Vec<CertificateDer<'static>> = match root {
            ExtraRoot::Der(der) => vec![CertificateDer::from(der.clone())],
            ExtraRoot::Pem(pem) => CertificateDer::pem_slice_iter(pem)
                .collect::<Result<_, _>>()
                .map_err(|e| {
                    Error::of(ErrorKind::Config)
                        .with_context("root certificate is not valid PEM")
                        .with_source(e)
                })?,
        };
        if ders.is_empty() {
            return Err(Error::of(ErrorKind::Config)
                .with_context("root certificate PEM holds no certificate"));
        }
        for der in ders {
            roots.add(der).map_err(|e| {
                Error::of(ErrorKind::Config)
                    .with_context("root certificate was refused")
                    .with_source(e)
            })?;
        }
    }
    if roots.is_empty() {
        return Err(
            Error::of(ErrorKind::Config).with_context("no root certificate to verify servers with")
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| {
            Error::of(ErrorKind::Config)
                .with_context("tls protocol versions")
                .with_source(e)
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Whether a handshake failure is one a retry cannot fix (the certificate itself).
pub(crate) fn is_certificate_error(err: &std::io::Error) -> bool {
    err.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|e| {
            matches!(
                e,
                rustls::Error::InvalidCertificate(_)
                    | rustls::Error::NoCertificatesPresented
                    | rustls::Error::UnsupportedNameType
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_roots_build() {
        assert!(client_config(true, &[]).is_ok());
    }

    #[test]
    fn no_roots_is_a_config_error() {
        let err = client_config(false, &[]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
    }

    #[test]
    fn garbage_pem_is_a_config_error() {
        let err = client_config(false, &[ExtraRoot::Pem(b"not a pem".to_vec())]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
    }
}
