//! PostgreSQL URLs: the parameters libpq users know, read by tokio-postgres where it can
//! (hosts, ports, `application_name`, `options`, `connect_timeout`, `target_session_attrs`,
//! keepalives …) and here where it cannot (TLS verification modes and files, server settings
//! such as `statement_timeout`, `statement_cache_size` for PgBouncer). A parameter neither
//! knows is refused by name, before anything connects.

use std::path::PathBuf;

use super::query::{self, Param};
use crate::error::{Error, Result};

/// Parameters tokio-postgres reads itself.
const DRIVER_PARAMETERS: &[&str] = &[
    "user",
    "password",
    "dbname",
    "options",
    "application_name",
    "sslnegotiation",
    "host",
    "hostaddr",
    "port",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

/// Server settings a URL may set for every connection (sent as `options=-c name=value`).
const SERVER_SETTINGS: &[&str] = &[
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "search_path",
];

/// Every parameter a PostgreSQL URL may carry, for the unknown-parameter error.
pub(crate) const PARAMETERS: &[&str] = &[
    "user",
    "password",
    "dbname",
    "host",
    "hostaddr",
    "port",
    "options",
    "application_name",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
    "sslnegotiation",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "statement_cache_size",
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "search_path",
];

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum SslMode {
    /// Never TLS.
    Disable,
    /// TLS if the server offers it, without verifying the certificate (libpq's default).
    #[default]
    Prefer,
    /// TLS always, without verifying the certificate.
    Require,
    /// TLS, and the certificate must chain to a trusted root (any host name).
    VerifyCa,
    /// TLS, the certificate must chain to a trusted root and name the host.
    VerifyFull,
}

impl SslMode {
    /// The name libpq uses.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// TLS settings of a PostgreSQL URL (and the `PGSSL*` environment variables).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TlsSettings {
    pub(crate) mode: SslMode,
    /// `sslrootcert`: PEM file of trusted roots; `system` (or unset) uses the system's.
    pub(crate) root_cert: Option<PathBuf>,
    /// `sslcert` + `sslkey`: a client certificate.
    pub(crate) client_cert: Option<PathBuf>,
    pub(crate) client_key: Option<PathBuf>,
}

/// A parsed PostgreSQL URL.
#[derive(Debug, Clone)]
pub(crate) struct PgUrl {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) tls: TlsSettings,
    /// `statement_cache_size`: prepared statements kept per connection; 0 = unnamed only.
    pub(crate) statement_cache_size: Option<usize>,
}

/// Reads a `postgres://` / `postgresql://` URL, taking `PGSSLMODE`, `PGSSLROOTCERT`,
/// `PGSSLCERT` and `PGSSLKEY` from `env` for what the URL does not say (as libpq does).
pub(crate) fn parse(url: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<PgUrl> {
    let (base, query) = query::split(url);
    let mut kept: Vec<&str> = Vec::new();
    let mut tls = TlsSettings::default();
    let mut mode = None;
    let mut statement_cache_size = None;
    let mut settings: Vec<(String, String)> = Vec::new();
    for raw in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let Some(p) = query::decode(raw, url)?.pop() else {
            continue;
        };
        match p.key.as_str() {
            k if DRIVER_PARAMETERS.contains(&k) => kept.push(raw),
            "sslmode" => mode = Some(ssl_mode(&p, url)?),
            "sslrootcert" => tls.root_cert = root_cert(&p.value),
            "sslcert" => tls.client_cert = Some(p.value.into()),
            "sslkey" => tls.client_key = Some(p.value.into()),
            "statement_cache_size" => statement_cache_size = Some(query::number(&p, url)?),
            k if SERVER_SETTINGS.contains(&k) => {
                setting_value(&p, url)?;
                settings.push((p.key, p.value));
            }
            _ => return Err(query::unknown(&p, PARAMETERS, url)),
        }
    }
    let driver_url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut config: tokio_postgres::Config =
        driver_url
            .parse()
            .map_err(|e: tokio_postgres::Error| Error::InvalidUrl {
                url: super::redact_url(url),
                reason: crate::error::chain_text(&e),
                source: Some(Box::new(e)),
            })?;
    if !settings.is_empty() {
        let mut options = config.get_options().unwrap_or("").to_owned();
        for (name, value) in settings {
            if !options.is_empty() {
                options.push(' ');
            }
            options.push_str(&format!("-c {name}={value}"));
        }
        config.options(&options);
    }
    tls.mode = match mode {
        Some(m) => m,
        None => match env("PGSSLMODE") {
            Some(v) => ssl_mode(
                &Param {
                    key: "PGSSLMODE".into(),
                    value: v,
                },
                url,
            )?,
            None => SslMode::default(),
        },
    };
    if tls.root_cert.is_none() {
        tls.root_cert = env("PGSSLROOTCERT").and_then(|v| root_cert(&v));
    }
    if tls.client_cert.is_none() {
        tls.client_cert = env("PGSSLCERT").map(PathBuf::from);
    }
    if tls.client_key.is_none() {
        tls.client_key = env("PGSSLKEY").map(PathBuf::from);
    }
    if tls.client_cert.is_some() != tls.client_key.is_some() {
        return Err(Error::InvalidUrl {
            url: super::redact_url(url),
            reason: "a client certificate needs both sslcert and sslkey".into(),
            source: None,
        });
    }
    // tokio-postgres only knows whether to ask for TLS; verification is ours (tls.rs).
    config.ssl_mode(match tls.mode {
        SslMode::Disable => tokio_postgres::config::SslMode::Disable,
        SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        _ => tokio_postgres::config::SslMode::Require,
    });
    Ok(PgUrl {
        config,
        tls,
        statement_cache_size,
    })
}

fn ssl_mode(p: &Param, url: &str) -> Result<SslMode> {
    Ok(match p.value.as_str() {
        "disable" => SslMode::Disable,
        // libpq's `allow` tries plaintext first; TLS when offered is the safer reading.
        "allow" | "prefer" => SslMode::Prefer,
        "require" => SslMode::Require,
        "verify-ca" => SslMode::VerifyCa,
        "verify-full" => SslMode::VerifyFull,
        _ => {
            return Err(query::invalid_value(
                p,
                "disable, allow, prefer, require, verify-ca or verify-full",
                url,
            ))
        }
    })
}

/// `sslrootcert=system` means the system's roots, as in libpq 16.
fn root_cert(value: &str) -> Option<PathBuf> {
    (value != "system" && !value.is_empty()).then(|| value.into())
}

/// A server setting's value goes into `options` unquoted, so it must be one word.
fn setting_value(p: &Param, url: &str) -> Result<()> {
    if p.value.is_empty() || p.value.contains(|c: char| c.is_whitespace() || c == '\\') {
        return Err(query::invalid_value(
            p,
            "one word without spaces or backslashes (5s, 250ms, 5000)",
            url,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn own_parameters_are_taken_out_and_driver_ones_kept() {
        let parsed = parse(
            "postgresql://ann:p?w@h1:5432,h2:5433/app?application_name=svc&statement_cache_size=0\
             &statement_timeout=5s&options=-c%20search_path%3Dx&sslmode=verify-full\
             &sslrootcert=/ca.pem&connect_timeout=3&target_session_attrs=read-write",
            &no_env,
        );
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(parsed.statement_cache_size, Some(0));
        assert_eq!(parsed.tls.mode, SslMode::VerifyFull);
        assert_eq!(parsed.tls.root_cert, Some(PathBuf::from("/ca.pem")));
        let c = &parsed.config;
        assert_eq!(c.get_application_name(), Some("svc"));
        assert_eq!(
            c.get_options(),
            Some("-c search_path=x -c statement_timeout=5s")
        );
        assert_eq!(c.get_hosts().len(), 2);
        assert_eq!(c.get_ports(), &[5432, 5433]);
        assert_eq!(c.get_password(), Some(&b"p?w"[..]));
        assert_eq!(
            c.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(3))
        );
    }

    #[test]
    fn unknown_parameters_are_named() {
        let err = parse("postgresql://ann:hunter2@h/app?statement_cache=0", &no_env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("`statement_cache`"), "{err}");
        assert!(err.contains("statement_cache_size"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn environment_fills_what_the_url_leaves_out() {
        let env = |k: &str| match k {
            "PGSSLMODE" => Some("require".to_owned()),
            "PGSSLROOTCERT" => Some("/env-ca.pem".to_owned()),
            _ => None,
        };
        let tls = parse("postgresql://h/app", &env)
            .map(|p| p.tls)
            .unwrap_or_default();
        assert_eq!(tls.mode, SslMode::Require);
        assert_eq!(tls.root_cert, Some(PathBuf::from("/env-ca.pem")));
        let tls = parse("postgresql://h/app?sslmode=disable", &env)
            .map(|p| p.tls)
            .unwrap_or_default();
        assert_eq!(tls.mode, SslMode::Disable);
    }
}
