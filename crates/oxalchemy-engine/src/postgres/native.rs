//! TLS for PostgreSQL with the platform's library (feature `native-tls`: OpenSSL on Linux,
//! Secure Transport on macOS, SChannel on Windows), with the same `sslmode` meanings as the
//! rustls connector (`tls.rs`). Wins over rustls when both features are on.

use std::path::Path;

use native_tls::{Certificate, Identity, TlsConnector};

use crate::error::{Error, Result};
use crate::url::postgres::{SslMode, TlsSettings};

/// The connector tokio-postgres uses, one per pool.
pub(crate) type Connector = postgres_native_tls::MakeTlsConnector;

/// The connector for `tls`, or `None` for `sslmode=disable`.
pub(crate) fn connector(tls: &TlsSettings, url: &str) -> Result<Option<Connector>> {
    let mut builder = TlsConnector::builder();
    match tls.mode {
        SslMode::Disable => return Ok(None),
        SslMode::Prefer | SslMode::Require => {
            builder
                .danger_accept_invalid_certs(true)
                .danger_accept_invalid_hostnames(true);
        }
        SslMode::VerifyCa => {
            builder.danger_accept_invalid_hostnames(true);
        }
        SslMode::VerifyFull => {}
    }
    if matches!(tls.mode, SslMode::VerifyCa | SslMode::VerifyFull) {
        if let Some(path) = &tls.root_cert {
            // libpq trusts only sslrootcert when it is given.
            builder.disable_built_in_roots(true);
            for pem in pem_blocks(&read(path, "sslrootcert", url)?, "CERTIFICATE") {
                let cert = Certificate::from_pem(pem.as_bytes())
                    .map_err(|e| invalid(url, format!("sslrootcert {}: {e}", path.display()), e))?;
                builder.add_root_certificate(cert);
            }
        }
    }
    if let (Some(cert), Some(key)) = (&tls.client_cert, &tls.client_key) {
        let certs = read(cert, "sslcert", url)?;
        let key_pem = read(key, "sslkey", url)?;
        let identity = Identity::from_pkcs8(certs.as_bytes(), key_pem.as_bytes()).map_err(|e| {
            invalid(
                url,
                format!("sslcert/sslkey: {e} (sslkey must be PKCS#8 PEM)"),
                e,
            )
        })?;
        builder.identity(identity);
    }
    let connector = builder
        .build()
        .map_err(|e| invalid(url, format!("TLS setup failed: {e}"), e))?;
    Ok(Some(postgres_native_tls::MakeTlsConnector::new(connector)))
}

/// Which certificate check failed, from the platform library's message.
pub(crate) fn explain(e: &(dyn std::error::Error + 'static), mode: SslMode) -> Option<String> {
    let text = crate::error::chain_text(e).to_ascii_lowercase();
    let mode = mode.as_str();
    if text.contains("hostname mismatch")
        || text.contains("host name mismatch")
        || text.contains("ip address mismatch")
    {
        Some(format!(
            "the server's certificate failed verification: it does not name the host connected \
             to (sslmode={mode} checks the host name); connect with a host name the certificate \
             lists, or use sslmode=verify-ca to check only the chain"
        ))
    } else if text.contains("unable to get local issuer")
        || text.contains("self-signed certificate")
        || text.contains("self signed certificate")
        || text.contains("unable to verify the first certificate")
    {
        Some(format!(
            "the server's certificate failed verification: it is not signed by a trusted root \
             (sslmode={mode} checks the chain); give the server's CA with sslrootcert=/path/ca.pem"
        ))
    } else if text.contains("certificate has expired") {
        Some(format!(
            "the server's certificate failed verification: it has expired (sslmode={mode})"
        ))
    } else {
        None
    }
}

fn read(path: &Path, param: &str, url: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        invalid(
            url,
            format!("{param} {}: cannot read it ({e})", path.display()),
            e,
        )
    })
}

/// The PEM blocks of one kind in `text`.
fn pem_blocks<'a>(text: &'a str, kind: &str) -> Vec<&'a str> {
    let begin = format!("-----BEGIN {kind}-----");
    let end = format!("-----END {kind}-----");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(b) = rest.find(&begin) {
        let Some(e) = rest[b..].find(&end) else { break };
        out.push(&rest[b..b + e + end.len()]);
        rest = &rest[b + e + end.len()..];
    }
    out
}

fn invalid(url: &str, reason: String, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::InvalidUrl {
        url: url.to_owned(),
        reason,
        source: Some(Box::new(e)),
    }
}
