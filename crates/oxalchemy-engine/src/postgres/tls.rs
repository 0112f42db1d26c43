//! TLS for PostgreSQL, as libpq's `sslmode` asks, with rustls (ring; no system OpenSSL).
//!
//! | `sslmode` | encrypted | certificate chain checked | host name checked |
//! | --- | --- | --- | --- |
//! | `disable` | never | – | – |
//! | `prefer` (default) | if the server offers it | no | no |
//! | `require` | always | no | no |
//! | `verify-ca` | always | yes | no |
//! | `verify-full` | always | yes | yes |
//!
//! Trusted roots are `sslrootcert` (PEM) or, without it, the operating system's store.
//! `sslcert` + `sslkey` (PEM) present a client certificate. The connector is built once per
//! pool, so a missing or unreadable file fails at connect time naming it.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::error::{Error, Result};
use crate::url::postgres::{SslMode, TlsSettings};

/// The connector tokio-postgres uses, one per pool.
pub(crate) type Connector = tokio_postgres_rustls::MakeRustlsConnect;

/// The connector for `tls`, or `None` for `sslmode=disable`.
pub(crate) fn connector(tls: &TlsSettings, url: &str) -> Result<Option<Connector>> {
    if tls.mode == SslMode::Disable {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(url, format!("TLS setup failed: {e}"), Some(Box::new(e))))?;
    let builder = match tls.mode {
        SslMode::Prefer | SslMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider))),
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let roots = Arc::new(roots(tls, url)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| invalid(url, format!("TLS roots: {e}"), Some(Box::new(e))))?;
            if tls.mode == SslMode::VerifyCa {
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(ChainOnly(webpki)))
            } else {
                builder.with_webpki_verifier(webpki)
            }
        }
        SslMode::Disable => return Ok(None),
    };
    let config = match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => {
            let certs = certificates(cert, "sslcert", url)?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                invalid(
                    url,
                    format!(
                        "sslkey {}: no readable PEM private key ({e})",
                        key.display()
                    ),
                    Some(Box::new(e)),
                )
            })?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| invalid(url, format!("sslcert/sslkey: {e}"), Some(Box::new(e))))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Some(tokio_postgres_rustls::MakeRustlsConnect::new(config)))
}

/// What a failed TLS handshake means, for [`Error::Connect`]'s reason: which check failed
/// and what to do, or `None` when the failure was not about the certificate.
pub(crate) fn explain(e: &(dyn std::error::Error + 'static), mode: SslMode) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        // tokio-rustls wraps rustls' error in an io::Error, whose `source()` skips it.
        let inner = match c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => inner.downcast_ref::<rustls::Error>(),
            None => c.downcast_ref::<rustls::Error>(),
        };
        if let Some(rustls::Error::InvalidCertificate(cert)) = inner {
            return Some(certificate_reason(cert, mode));
        }
        cause = c.source();
    }
    None
}

fn certificate_reason(e: &CertificateError, mode: SslMode) -> String {
    let mode = mode.as_str();
    match e {
        CertificateError::UnknownIssuer => format!(
            "the server's certificate failed verification: it is not signed by a trusted root \
             (sslmode={mode} checks the chain); give the server's CA with sslrootcert=/path/ca.pem"
        ),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!(
                "the server's certificate failed verification: it does not name the host \
                 connected to (sslmode={mode} checks the host name); connect with a host name \
                 the certificate lists, or use sslmode=verify-ca to check only the chain"
            )
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            format!("the server's certificate failed verification: it has expired (sslmode={mode})")
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => format!(
            "the server's certificate failed verification: it is not valid yet (sslmode={mode}); \
             check the clocks"
        ),
        other => {
            format!("the server's certificate failed verification: {other:?} (sslmode={mode})")
        }
    }
}

/// `sslrootcert`'s certificates, or the operating system's.
fn roots(tls: &TlsSettings, url: &str) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    match &tls.root_cert {
        Some(path) => {
            for cert in certificates(path, "sslrootcert", url)? {
                store.add(cert).map_err(|e| {
                    invalid(
                        url,
                        format!("sslrootcert {}: {e}", path.display()),
                        Some(Box::new(e)),
                    )
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(invalid(
                    url,
                    "sslmode verify-ca/verify-full needs trusted roots: none found in the \
                     system's store; give the server's CA with sslrootcert=/path/ca.pem"
                        .into(),
                    None,
                ));
            }
        }
    }
    Ok(store)
}

/// The certificates of a PEM file; none at all is an error naming the file.
fn certificates(path: &Path, param: &str, url: &str) -> Result<Vec<CertificateDer<'static>>> {
    let read =
        CertificateDer::pem_file_iter(path).and_then(|certs| certs.collect::<Result<Vec<_>, _>>());
    match read {
        Ok(certs) if !certs.is_empty() => Ok(certs),
        Ok(_) => Err(invalid(
            url,
            format!("{param} {}: no PEM certificate in the file", path.display()),
            None,
        )),
        Err(e) => Err(invalid(
            url,
            format!(
                "{param} {}: cannot read PEM certificates ({e})",
                path.display()
            ),
            Some(Box::new(e)),
        )),
    }
}

fn invalid(url: &str, reason: String, source: Option<crate::error::BoxDynError>) -> Error {
    Error::InvalidUrl {
        url: url.to_owned(),
        reason,
        source,
    }
}

/// `prefer` / `require`: encrypted, certificate not checked (libpq's meaning); the
/// handshake's signatures are still verified.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

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
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the host name is not checked.
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
