//! PostgreSQL binary formats tokio-postgres has no Rust type for here: `NUMERIC` of any
//! precision (as plain decimal text), `INET` / `CIDR`, and one-dimensional arrays read
//! element by element. Layouts are PostgreSQL's `numeric_send`, `inet_send`, `array_send`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};

type R<T> = Result<T, String>;

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

/// Writes plain decimal text (`-123.4500`, `0.001`, `42`) as a binary `NUMERIC`, keeping
/// its scale (trailing zeros) as PostgreSQL's text input would.
pub(crate) fn numeric_to_sql(text: &str, out: &mut BytesMut) -> R<()> {
    let bad =
        || format!("`{text}` is not a plain decimal number (digits, an optional sign and point)");
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let dscale = u16::try_from(frac.len()).map_err(|_| bad())?;
    // Base-10000 groups aligned on the decimal point.
    let int = int.trim_start_matches('0');
    let int_pad = (4 - int.len() % 4) % 4;
    let frac_pad = (4 - frac.len() % 4) % 4;
    let digits: String = "0".repeat(int_pad) + int + frac + &"0".repeat(frac_pad);
    let mut groups: Vec<i16> = digits
        .as_bytes()
        .chunks(4)
        .map(|c| c.iter().fold(0i16, |acc, d| acc * 10 + i16::from(d - b'0')))
        .collect();
    let mut weight = i32::try_from((int.len() + int_pad) / 4).map_err(|_| bad())? - 1;
    // Leading zero groups (a value below 1) lower the weight; trailing ones are dropped.
    let leading = groups.iter().take_while(|g| **g == 0).count();
    groups.drain(..leading);
    weight -= i32::try_from(leading).map_err(|_| bad())?;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    let (weight, sign) = if groups.is_empty() {
        (0, NUMERIC_POS)
    } else if negative {
        (weight, NUMERIC_NEG)
    } else {
        (weight, NUMERIC_POS)
    };
    out.put_i16(i16::try_from(groups.len()).map_err(|_| bad())?);
    out.put_i16(i16::try_from(weight).map_err(|_| bad())?);
    out.put_u16(sign);
    out.put_u16(dscale);
    for g in groups {
        out.put_i16(g);
    }
    Ok(())
}

/// Reads a binary `NUMERIC` as plain decimal text with its scale (`NaN`, `Infinity`,
/// `-Infinity` for the special values).
pub(crate) fn numeric_from_sql(raw: &[u8]) -> R<String> {
    let short = || "truncated NUMERIC value".to_owned();
    let word = |i: usize| -> R<[u8; 2]> {
        raw.get(i * 2..i * 2 + 2)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(short)
    };
    let ndigits = usize::try_from(i16::from_be_bytes(word(0)?)).map_err(|_| short())?;
    let weight = i32::from(i16::from_be_bytes(word(1)?));
    let sign = u16::from_be_bytes(word(2)?);
    let dscale = usize::from(u16::from_be_bytes(word(3)?));
    match sign {
        NUMERIC_NAN => return Ok("NaN".into()),
        NUMERIC_PINF => return Ok("Infinity".into()),
        NUMERIC_NINF => return Ok("-Infinity".into()),
        _ => {}
    }
    let groups = (0..ndigits)
        .map(|i| word(4 + i).map(i16::from_be_bytes))
        .collect::<R<Vec<i16>>>()?;
    let group = |i: i32| -> i16 {
        usize::try_from(i)
            .ok()
            .and_then(|i| groups.get(i).copied())
            .unwrap_or(0)
    };
    let mut out = String::new();
    if sign == NUMERIC_NEG {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        out.push_str(&group(0).to_string());
        for i in 1..=weight {
            out.push_str(&format!("{:04}", group(i)));
        }
    }
    if dscale > 0 {
        let mut frac = String::with_capacity(dscale + 4);
        let mut i = weight + 1;
        while frac.len() < dscale {
            frac.push_str(&format!("{:04}", group(i)));
            i += 1;
        }
        frac.truncate(dscale);
        out.push('.');
        out.push_str(&frac);
    }
    Ok(out)
}

/// PostgreSQL's address family codes in `inet_send`.
const PGSQL_AF_INET: u8 = 2;
const PGSQL_AF_INET6: u8 = 3;

/// Writes an address and prefix as a binary `INET` / `CIDR` (`cidr` sets the flag).
pub(crate) fn inet_to_sql(addr: IpAddr, prefix: u8, cidr: bool, out: &mut BytesMut) {
    match addr {
        IpAddr::V4(a) => {
            out.put_slice(&[PGSQL_AF_INET, prefix, u8::from(cidr), 4]);
            out.put_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            out.put_slice(&[PGSQL_AF_INET6, prefix, u8::from(cidr), 16]);
            out.put_slice(&a.octets());
        }
    }
}

/// Reads a binary `INET` / `CIDR`: the address and its prefix length.
pub(crate) fn inet_from_sql(raw: &[u8]) -> R<(IpAddr, u8)> {
    match raw {
        [PGSQL_AF_INET, bits, _, 4, a @ ..] if a.len() == 4 => {
            Ok((IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3])), *bits))
        }
        [PGSQL_AF_INET6, bits, _, 16, a @ ..] => {
            let octets: [u8; 16] = a.try_into().map_err(|_| "truncated INET value")?;
            Ok((IpAddr::V6(Ipv6Addr::from(octets)), *bits))
        }
        _ => Err("malformed INET value".into()),
    }
}

/// The elements of a binary one-dimensional array (`None` for NULL); a multi-dimensional
/// array is refused.
pub(crate) fn array_elements(raw: &[u8]) -> R<Vec<Option<&[u8]>>> {
    let short = || "truncated array value".to_owned();
    let int = |at: usize| -> R<i32> {
        raw.get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(i32::from_be_bytes)
            .ok_or_else(short)
    };
    let ndim = int(0)?;
    if ndim == 0 {
        return Ok(Vec::new());
    }
    if ndim != 1 {
        return Err(format!(
            "a {ndim}-dimensional array cannot be read as a Vec; select one dimension"
        ));
    }
    let len = usize::try_from(int(12)?).map_err(|_| short())?;
    let mut at = 20;
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        let n = int(at)?;
        at += 4;
        if n < 0 {
            out.push(None);
        } else {
            let n = usize::try_from(n).map_err(|_| short())?;
            out.push(Some(raw.get(at..at + n).ok_or_else(short)?));
            at += n;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let mut buf = BytesMut::new();
        numeric_to_sql(text, &mut buf).unwrap();
        numeric_from_sql(&buf).unwrap()
    }

    #[test]
    fn numeric_text_survives_the_binary_format() {
        for (input, back) in [
            ("0", "0"),
            ("0.000", "0.000"),
            ("-0.5", "-0.5"),
            ("1", "1"),
            ("10000", "10000"),
            ("123456789.987654321", "123456789.987654321"),
            ("-0.00000001", "-0.00000001"),
            ("00012.3400", "12.3400"),
            ("+7", "7"),
            (".5", "0.5"),
            (
                "123456789012345678901234567890123456789.000000000000000000000000000001",
                "123456789012345678901234567890123456789.000000000000000000000000000001",
            ),
        ] {
            assert_eq!(round_trip(input), back, "{input}");
        }
        let mut buf = BytesMut::new();
        for bad in ["", "-", "1e5", "1.2.3", "NaN", " 1"] {
            assert!(numeric_to_sql(bad, &mut buf).is_err(), "{bad}");
        }
    }
}
