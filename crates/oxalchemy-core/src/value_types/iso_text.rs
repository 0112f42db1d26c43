//! Dates, times and timestamps as the fixed ISO 8601 text SQLite columns hold
//! (`2024-01-02`, `03:04:05.000006`, `2024-01-02 03:04:05.000006`), written and read without
//! chrono's format strings.
//!
//! `chrono`'s `format` and `parse_from_str` interpret their format string on every call:
//! reading one timestamp that way cost about 2,800 instructions (callgrind), more than the
//! rest of a primary-key lookup on SQLite once its statement is cached, and writing one about
//! 1,500. These forms are fixed, so they are written digit by digit and read at fixed
//! offsets. Chrono still checks the calendar (`from_ymd_opt`, `from_hms_nano_opt`), and
//! whatever these functions do not handle goes to chrono: a leap second, a year outside
//! 0000–9999, text of another shape. Their results are always chrono's own (a test compares
//! them on many values).

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// `%Y-%m-%d`: how SQLite stores a date.
pub fn date_text(d: NaiveDate) -> String {
    let mut out = String::with_capacity(10);
    if push_date(&mut out, d) {
        out
    } else {
        d.format("%Y-%m-%d").to_string()
    }
}

/// `%H:%M:%S%.6f`: how SQLite stores a time of day (microseconds, the rest truncated).
pub fn time_text(t: NaiveTime) -> String {
    let mut out = String::with_capacity(15);
    if push_time(&mut out, t) {
        out
    } else {
        t.format("%H:%M:%S%.6f").to_string()
    }
}

/// `%Y-%m-%d %H:%M:%S%.6f` ([`crate::dialect::SQLITE_DATETIME_FORMAT`]): how
/// SQLite stores a timestamp.
pub fn datetime_text(t: NaiveDateTime) -> String {
    let mut out = String::with_capacity(32);
    if push_date(&mut out, t.date()) && {
        out.push(' ');
        push_time(&mut out, t.time())
    } {
        out
    } else {
        t.format(crate::dialect::SQLITE_DATETIME_FORMAT).to_string()
    }
}

/// A date written `YYYY-MM-DD`, if `s` is exactly that and a real date; `None` for any
/// other text (which may still be a date in another form: ask chrono).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    date(s.as_bytes())
}

/// A time written `HH:MM:SS` with an optional fraction of 1 to 9 digits, if `s` is exactly
/// that and a real time before the leap second; `None` for any other text.
pub fn parse_time(s: &str) -> Option<NaiveTime> {
    time(s.as_bytes())
}

/// A timestamp written as [`parse_date`]'s date, a space or `T`, and [`parse_time`]'s
/// time; `None` for any other text.
pub fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() < 19 || !matches!(b[10], b' ' | b'T') {
        return None;
    }
    Some(date(&b[..10])?.and_time(time(&b[11..])?))
}

/// Writes the date; false (and nothing usable written) for a year that is not four digits.
fn push_date(out: &mut String, d: NaiveDate) -> bool {
    let Ok(year) = u32::try_from(d.year()) else {
        return false;
    };
    if year > 9999 {
        return false;
    }
    push_digits(out, year, 4);
    out.push('-');
    push_digits(out, d.month(), 2);
    out.push('-');
    push_digits(out, d.day(), 2);
    true
}

/// Writes the time with six fractional digits; false for a leap second, which chrono
/// writes as second 60.
fn push_time(out: &mut String, t: NaiveTime) -> bool {
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 {
        return false;
    }
    push_digits(out, t.hour(), 2);
    out.push(':');
    push_digits(out, t.minute(), 2);
    out.push(':');
    push_digits(out, t.second(), 2);
    out.push('.');
    push_digits(out, nanos / 1_000, 6);
    true
}

/// `n` as exactly `width` decimal digits (the callers' values fit).
fn push_digits(out: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = n / 10u32.pow(place) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

fn date(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[..4])?;
    NaiveDate::from_ymd_opt(year as i32, digits(&b[5..7])?, digits(&b[8..])?)
}

fn time(b: &[u8]) -> Option<NaiveTime> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (hour, minute, second) = (digits(&b[..2])?, digits(&b[3..5])?, digits(&b[6..8])?);
    let nanos = match &b[8..] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            digits(fraction)? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    // Second 60 is chrono's leap second: left to chrono's own parser.
    if second > 59 {
        return None;
    }
    NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
}

/// The ASCII digits `b` spell (at most nine, so no overflow); `None` if any is not one.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Timestamps spread over years 0–9999, every time of day and every precision, from a
    /// fixed-seed generator: the same values every run.
    fn samples() -> impl Iterator<Item = NaiveDateTime> {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let start = NaiveDate::from_ymd_opt(0, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("a valid start");
        let end = NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .expect("a valid end");
        let span = (end - start).num_seconds() as u64;
        (0..20_000).map(move |i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let secs = state % span;
            // Every fourth sample a whole second, to cover fractions of zero.
            let nanos = if i % 4 == 0 {
                0
            } else {
                (state >> 32) as u32 % 1_000_000_000
            };
            start
                + chrono::Duration::seconds(secs as i64)
                + chrono::Duration::nanoseconds(nanos.into())
        })
    }

    #[test]
    fn writes_what_chrono_writes() {
        for t in samples() {
            assert_eq!(
                datetime_text(t),
                t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
            );
            assert_eq!(date_text(t.date()), t.format("%Y-%m-%d").to_string());
            assert_eq!(time_text(t.time()), t.format("%H:%M:%S%.6f").to_string());
        }
    }

    #[test]
    fn reads_what_chrono_reads() {
        for t in samples() {
            for text in [
                t.format("%Y-%m-%d %H:%M:%S%.f").to_string(),
                t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
                t.format("%Y-%m-%d %H:%M:%S").to_string(),
                datetime_text(t),
            ] {
                let ours = parse_datetime(&text).expect("a canonical timestamp");
                let separator = if text.as_bytes()[10] == b'T' {
                    'T'
                } else {
                    ' '
                };
                let theirs = NaiveDateTime::parse_from_str(
                    &text,
                    &format!("%Y-%m-%d{separator}%H:%M:%S%.f"),
                )
                .expect("chrono reads it");
                assert_eq!(ours, theirs, "{text}");
                assert_eq!(parse_date(&text[..10]), Some(theirs.date()), "{text}");
                assert_eq!(parse_time(&text[11..]), Some(theirs.time()), "{text}");
            }
        }
    }

    #[test]
    fn leaves_the_rest_to_chrono() {
        for text in [
            "",
            "2024-01-02",
            "2024-01-02 03:04",
            "2024-02-30 00:00:00",
            "2023-02-29 00:00:00",
            "2024-13-01 00:00:00",
            "2024-01-02 24:00:00",
            "2024-01-02 23:60:00",
            "2024-01-02 23:59:60",
            "2024-01-02 03:04:05.",
            "2024-01-02 03:04:05.1234567891",
            "2024-01-02 03:04:05.12a",
            "2024-01-02 03:04:05+00:00",
            "2024-01-02x03:04:05",
            "+2024-01-02 03:04:05",
            "10000-01-02 03:04:05",
            "2024-1-02 03:04:05",
            "2024-01-02  03:04:05",
            "２０２４-01-02 03:04:05",
        ] {
            assert_eq!(parse_datetime(text), None, "{text:?}");
        }
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(parse_date("-001-01-01"), None);
        assert_eq!(parse_time("03:04"), None);
        assert_eq!(parse_time("3:04:05"), None);
    }

    #[test]
    fn edges_are_exact() {
        let t = NaiveDate::from_ymd_opt(2024, 2, 29)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 999_999_999))
            .expect("valid");
        assert_eq!(datetime_text(t), "2024-02-29 23:59:59.999999");
        assert_eq!(parse_datetime("2024-02-29 23:59:59.999999999"), Some(t));
        assert_eq!(
            parse_datetime("2024-02-29T23:59:59.5").map(|t| t.nanosecond()),
            Some(500_000_000)
        );
        // Outside the fixed forms: chrono's text, unchanged.
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .expect("a leap second");
        assert_eq!(datetime_text(leap), "2016-12-31 23:59:60.500000");
        let far = NaiveDate::from_ymd_opt(12_345, 1, 2).expect("valid");
        assert_eq!(date_text(far), "+12345-01-02");
        let early = NaiveDate::from_ymd_opt(-5, 1, 2).expect("valid");
        assert_eq!(date_text(early), early.format("%Y-%m-%d").to_string());
    }
}
