//! MySQL / MariaDB URLs: `mysql://user:password@host:3306/db?ssl-mode=required` (also
//! `mariadb://`). The parameters are MySQL's client options, spelled as in `my.cnf` (a `_`
//! may stand for a `-`):
//!
//! - `ssl-mode`: `disabled`, `preferred` (default: TLS when the server offers it, without
//!   checking its certificate, as the `mysql` client does), `required` (TLS, certificate not
//!   checked), `verify_ca` (TLS, the certificate must chain to `ssl-ca` or a system root),
//!   `verify_identity` (also the host name).
//! - `ssl-ca`: a PEM file of root certificates for `verify_ca` / `verify_identity`.
//! - `charset`: only `utf8mb4` (the default) is accepted: the decoder reads text as UTF-8.
//! - `statement_cache_size`: prepared statements kept per connection (default 256).
//! - `returning`: `auto` (default: `INSERT … RETURNING` where the server has it, MariaDB
//!   10.5 and later) or `off` (never: generated keys come from `LAST_INSERT_ID()` as on
//!   MySQL, see [`oxalchemy_core::MySql`]). `off` is for a proxy that does not pass
//!   RETURNING through, and lets MySQL's path be tested against MariaDB.
//!
//! Time zones: every connection sets its session `time_zone` to `+00:00`, so
//! `CURRENT_TIMESTAMP` and `NOW()` are UTC and `TIMESTAMP` columns convert nothing; a
//! Rust `DateTime<Utc>` is stored as its UTC wall time in a `DATETIME(6)`.

use std::path::PathBuf;

use super::query::{decode, invalid_value, number, percent, split, unknown};
use crate::error::{Error, Result};

/// TLS for a MySQL connection, as `ssl-mode` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disabled,
    Preferred,
    Required,
    VerifyCa,
    VerifyIdentity,
}

/// A parsed MySQL URL; the password stays here and in the driver's options only.
#[derive(Clone)]
pub(crate) struct MysqlUrl {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) user: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) database: Option<String>,
    pub(crate) ssl_mode: SslMode,
    pub(crate) ssl_ca: Option<PathBuf>,
    pub(crate) statement_cache_size: Option<usize>,
    /// `returning=off`: use the MySQL dialect (no RETURNING) even on a MariaDB that has it.
    pub(crate) returning_off: bool,
}

/// The parameters a MySQL URL accepts (for the unknown-parameter error).
const SUPPORTED: &[&str] = &[
    "ssl-mode",
    "ssl-ca",
    "charset",
    "statement_cache_size",
    "returning",
];

/// Reads `mysql://` and `mariadb://` URLs.
pub(crate) fn parse(url: &str) -> Result<MysqlUrl> {
    let invalid = |reason: String| Error::InvalidUrl {
        url: super::redact_url(url),
        reason,
        source: None,
    };
    let rest = url
        .strip_prefix("mysql://")
        .or_else(|| url.strip_prefix("mariadb://"))
        .ok_or_else(|| invalid("expected mysql:// or mariadb://".into()))?;
    let (main, query) = split(rest);
    // The password may hold `@` and `/`: the host starts after the last `@`.
    let (userinfo, hostpart) = match main.rfind('@') {
        Some(at) => (Some(&main[..at]), &main[at + 1..]),
        None => (None, main),
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(u) => match u.split_once(':') {
            Some((user, pass)) => (
                Some(percent(user, url)?.into_owned()),
                Some(percent(pass, url)?.into_owned()),
            ),
            None => (Some(percent(u, url)?.into_owned()), None),
        },
    };
    let (hostport, database) = match hostpart.split_once('/') {
        Some((h, db)) => (h, Some(db)),
        None => (hostpart, None),
    };
    let database = match database.filter(|d| !d.is_empty()) {
        Some(d) => Some(percent(d, url)?.into_owned()),
        None => None,
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        // `[::1]:3306`
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| invalid("an IPv6 host needs its closing `]`".into()))?;
        (h.to_owned(), after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (hostport.to_owned(), None),
        }
    };
    let port = match port {
        None | Some("") => 3306,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| invalid(format!("port `{p}` is not a number from 0 to 65535")))?,
    };
    let host = if host.is_empty() {
        "localhost".to_owned()
    } else {
        percent(&host, url)?.into_owned()
    };
    let mut parsed = MysqlUrl {
        host,
        port,
        user: user.filter(|u| !u.is_empty()),
        password,
        database,
        ssl_mode: SslMode::Preferred,
        ssl_ca: None,
        statement_cache_size: None,
        returning_off: false,
    };
    for p in decode(query.unwrap_or(""), url)? {
        match p.key.replace('_', "-").as_str() {
            "ssl-mode" | "sslmode" => {
                parsed.ssl_mode = match p.value.to_ascii_lowercase().replace('-', "_").as_str() {
                    "disabled" | "disable" => SslMode::Disabled,
                    "preferred" | "prefer" => SslMode::Preferred,
                    "required" | "require" => SslMode::Required,
                    "verify_ca" => SslMode::VerifyCa,
                    "verify_identity" | "verify_full" => SslMode::VerifyIdentity,
                    _ => {
                        return Err(invalid_value(
                            &p,
                            "disabled, preferred, required, verify_ca or verify_identity",
                            url,
                        ))
                    }
                }
            }
            "ssl-ca" => parsed.ssl_ca = Some(PathBuf::from(&p.value)),
            "charset" => {
                if !p.value.eq_ignore_ascii_case("utf8mb4") {
                    return Err(invalid_value(&p, "utf8mb4", url));
                }
            }
            "statement-cache-size" => parsed.statement_cache_size = Some(number(&p, url)?),
            "returning" => {
                parsed.returning_off = match p.value.to_ascii_lowercase().as_str() {
                    "auto" => false,
                    "off" => true,
                    _ => return Err(invalid_value(&p, "auto or off", url)),
                }
            }
            _ => return Err(unknown(&p, SUPPORTED, url)),
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_user_password_host_port_database_and_ssl_mode() {
        let u = parse("mysql://ann:p%40ss@db.example:3307/app?ssl-mode=VERIFY_IDENTITY").unwrap();
        assert_eq!(u.user.as_deref(), Some("ann"));
        assert_eq!(u.password.as_deref(), Some("p@ss"));
        assert_eq!(u.host, "db.example");
        assert_eq!(u.port, 3307);
        assert_eq!(u.database.as_deref(), Some("app"));
        assert_eq!(u.ssl_mode, SslMode::VerifyIdentity);
        let u = parse("mariadb://root@127.0.0.1/test").unwrap();
        assert_eq!((u.port, u.password.as_deref()), (3306, None));
        assert_eq!(u.ssl_mode, SslMode::Preferred);
        let u = parse("mysql://[::1]:3310/x?ssl_mode=disabled&statement_cache_size=0").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 3310));
        assert_eq!(u.ssl_mode, SslMode::Disabled);
        assert_eq!(u.statement_cache_size, Some(0));
        assert!(!u.returning_off);
        assert!(parse("mysql://db/app?returning=OFF").unwrap().returning_off);
        assert!(
            !parse("mysql://db/app?returning=auto")
                .unwrap()
                .returning_off
        );
        let Err(e) = parse("mysql://db/app?returning=no") else {
            panic!("accepted")
        };
        assert!(e.to_string().contains("auto or off"), "{e}");
    }

    #[test]
    fn refuses_unknown_parameters_and_values_without_showing_the_password() {
        let Err(e) = parse("mysql://ann:hunter2@db/app?sslmod=required") else {
            panic!("accepted")
        };
        assert!(matches!(e, Error::UnknownUrlParameter { .. }), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let Err(e) = parse("mysql://ann:hunter2@db/app?ssl-mode=sometimes") else {
            panic!("accepted")
        };
        assert!(e.to_string().contains("verify_identity"), "{e}");
        let Err(e) = parse("mysql://db/app?charset=latin1") else {
            panic!("accepted")
        };
        assert!(e.to_string().contains("utf8mb4"), "{e}");
        let Err(e) = parse("mysql://db:x/app") else {
            panic!("accepted")
        };
        assert!(e.to_string().contains("port"), "{e}");
    }
}
