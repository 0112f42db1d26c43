//! Database URLs: `sqlite://path`, `sqlite::memory:`, `postgres://…` / `postgresql://…`.
//! A password never leaves this module except inside the driver's connection config.

use crate::error::{Error, Result};

#[derive(Clone)]
pub(crate) enum Target {
    #[cfg(feature = "sqlite")]
    SqliteMemory,
    #[cfg(feature = "sqlite")]
    SqliteFile(std::path::PathBuf),
    #[cfg(feature = "postgres")]
    Postgres(Box<tokio_postgres::Config>),
}

/// Removes the password from a URL (`postgres://user:secret@host` → `postgres://user:***@host`),
/// and from a key=value `password=` entry, for Debug, logs and errors.
pub fn redact(url: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            let userinfo = &rest[..at];
            if let Some(colon) = userinfo.find(':') {
                let mut out = String::with_capacity(url.len());
                out.push_str(&url[..scheme_end + 3]);
                out.push_str(&userinfo[..colon]);
                out.push_str(":***");
                out.push_str(&rest[at..]);
                return redact_query_password(&out);
            }
        }
        return redact_query_password(url);
    }
    // key=value form
    url.split_whitespace()
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***"
            } else {
                kv
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn redact_query_password(url: &str) -> String {
    let Some(q) = url.find('?') else {
        return url.to_owned();
    };
    let (base, query) = url.split_at(q + 1);
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***".to_owned()
            } else {
                kv.to_owned()
            }
        })
        .collect();
    format!("{base}{}", parts.join("&"))
}

pub(crate) fn parse(url: &str) -> Result<Target> {
    let invalid = |reason: &str| Error::InvalidUrl {
        url: redact(url),
        reason: reason.to_owned(),
    };
    #[cfg(feature = "sqlite")]
    {
        if url == "sqlite::memory:" || url == "sqlite://:memory:" || url == "sqlite://" {
            return Ok(Target::SqliteMemory);
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(invalid(
                    "no file path; use sqlite://path/to/file.db or sqlite::memory:",
                ));
            }
            return Ok(Target::SqliteFile(path.into()));
        }
    }
    #[cfg(feature = "postgres")]
    {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let config: tokio_postgres::Config = url
                .parse()
                .map_err(|e: tokio_postgres::Error| invalid(&e.to_string()))?;
            return Ok(Target::Postgres(Box::new(config)));
        }
    }
    let scheme = url.split(':').next().unwrap_or("");
    let known = [
        #[cfg(feature = "sqlite")]
        "sqlite://",
        #[cfg(feature = "postgres")]
        "postgresql://",
    ];
    Err(invalid(&format!(
        "unsupported scheme `{scheme}`; this build supports {} (enable the crate's `sqlite` / `postgres` features for more)",
        known.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgresql://ann:s3cret@db:5432/app"),
            "postgresql://ann:***@db:5432/app"
        );
        assert_eq!(
            redact("postgresql://ann@db/app?password=s3cret&sslmode=disable"),
            "postgresql://ann@db/app?password=***&sslmode=disable"
        );
        assert_eq!(redact("host=db password=s3cret"), "host=db password=***");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
        // an @ in the password
        assert!(!redact("postgresql://ann:p@ss@db/app").contains("p@ss"));
    }

    #[test]
    fn rejects_unknown_scheme_without_leaking_password() {
        let err = parse("mysql://root:hunter2@db/app")
            .err()
            .map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(err.contains("unsupported scheme `mysql`"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
