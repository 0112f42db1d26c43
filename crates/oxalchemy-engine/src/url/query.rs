//! The query string of a database URL: split off where the driver would split it, and
//! percent-decoded the way libpq and tokio-postgres decode it (`%XX` only; `+` stays a `+`,
//! so `options=-c%20search_path%3Dapp` and `application_name=a+b` mean what libpq reads).

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use crate::error::{Error, Result};

/// One `key=value` pair of a query string, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param {
    pub(crate) key: String,
    pub(crate) value: String,
}

/// Splits `rest` (the URL after its `scheme:`) into the part before the query string and
/// the decoded parameters. The query starts at the first `?` after the first `@` when there
/// is one (tokio-postgres reads credentials up to the first `@`, so a `?` in a password does
/// not start the query).
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn split(rest: &str) -> (&str, Option<&str>) {
    let after_credentials = rest.find('@').map_or(0, |at| at + 1);
    match rest[after_credentials..].find('?') {
        Some(q) => {
            let q = after_credentials + q;
            (&rest[..q], Some(&rest[q + 1..]))
        }
        None => (rest, None),
    }
}

/// Decodes `a=1&b=2`; an empty query yields nothing, a pair without `=` is an error naming it.
pub(crate) fn decode(query: &str, url: &str) -> Result<Vec<Param>> {
    let mut params = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(Error::InvalidUrl {
                url: super::redact_url(url),
                reason: format!(
                    "URL parameter `{}` has no value; write it as key=value",
                    percent(pair, url)?
                ),
                source: None,
            });
        };
        params.push(Param {
            key: percent(key, url)?.into_owned(),
            value: percent(value, url)?.into_owned(),
        });
    }
    Ok(params)
}

/// Percent-decodes one component; invalid UTF-8 after decoding is an error.
pub(crate) fn percent<'a>(s: &'a str, url: &str) -> Result<Cow<'a, str>> {
    percent_decode_str(s)
        .decode_utf8()
        .map_err(|e| Error::InvalidUrl {
            url: super::redact_url(url),
            reason: format!("`{s}` is not valid UTF-8 once percent-decoded"),
            source: Some(Box::new(e)),
        })
}

/// A boolean URL parameter: `1/0`, `true/false`, `on/off`, `yes/no`.
#[cfg(feature = "sqlite")]
pub(crate) fn boolean(p: &Param, url: &str) -> Result<bool> {
    match p.value.to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" => Ok(true),
        "0" | "false" | "off" | "no" => Ok(false),
        _ => Err(invalid_value(p, "1/0, true/false, on/off or yes/no", url)),
    }
}

/// A whole number of milliseconds.
#[cfg(feature = "sqlite")]
pub(crate) fn millis(p: &Param, url: &str) -> Result<std::time::Duration> {
    p.value
        .parse::<u64>()
        .map(std::time::Duration::from_millis)
        .map_err(|_| invalid_value(p, "a whole number of milliseconds", url))
}

/// A whole number.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn number(p: &Param, url: &str) -> Result<usize> {
    p.value
        .parse::<usize>()
        .map_err(|_| invalid_value(p, "a whole number (0 or more)", url))
}

/// `Error::InvalidUrl` naming the parameter, its value and what it accepts.
pub(crate) fn invalid_value(p: &Param, accepted: &str, url: &str) -> Error {
    Error::InvalidUrl {
        url: super::redact_url(url),
        reason: format!(
            "URL parameter `{}` cannot be `{}`; it accepts {accepted}",
            p.key, p.value
        ),
        source: None,
    }
}

/// `Error::UnknownUrlParameter` for a key no reader of this URL knows.
pub(crate) fn unknown(p: &Param, supported: &'static [&'static str], url: &str) -> Error {
    Error::UnknownUrlParameter {
        url: super::redact_url(url),
        parameter: p.key.clone(),
        supported,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "postgres")]
    #[test]
    fn the_query_starts_after_the_credentials() {
        assert_eq!(split("//a:p?w@h/db?x=1"), ("//a:p?w@h/db", Some("x=1")));
        assert_eq!(split("//h/db"), ("//h/db", None));
        assert_eq!(split("x.db?mode=ro"), ("x.db", Some("mode=ro")));
    }

    #[test]
    fn decodes_percent_escapes_but_not_plus() {
        let params = decode("options=-c%20search_path%3Dapp&name=a+b&&", "u").unwrap_or_default();
        assert_eq!(params.len(), 2);
        assert_eq!(params[0].value, "-c search_path=app");
        assert_eq!(params[1].value, "a+b");
        assert!(decode("novalue", "u").is_err());
    }
}
