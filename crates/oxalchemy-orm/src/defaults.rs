//! Values for `#[column(default = …)]` and `#[column(onupdate = …)]`.
//!
//! `now` is one instant per flush: a session flush, [`crate::insert`], [`crate::insert_many`]
//! and [`crate::update`] read the clock once ([`with_one_now`]) and every `default = now` /
//! `onupdate = now` column they fill gets that same value, so `created_at` and `updated_at`
//! of a new row are equal, as SQLAlchemy's `func.now()` (one transaction timestamp) gives.

use std::cell::Cell;

use chrono::{DateTime, Timelike, Utc};

thread_local! {
    /// The instant pinned by the innermost [`with_one_now`] on this thread, if any. Planning
    /// a flush is synchronous, so a thread-local scope cannot leak into another task.
    static PINNED: Cell<Option<DateTime<Utc>>> = const { Cell::new(None) };
}

/// The current time, for `default = now` / `onupdate = now` on `DateTime<Utc>`,
/// `NaiveDateTime` (and, with the `time` feature, `time`'s types) fields. Microsecond
/// precision, so what is stored equals what is kept. Inside [`with_one_now`] every call
/// returns the same instant.
pub fn now<T: Now>() -> T {
    T::from_utc(current())
}

/// Runs `f` with the clock read once: every [`now`] inside returns the same instant. Nested
/// calls keep the outer instant. The session runs each flush's planning inside it.
pub fn with_one_now<R>(f: impl FnOnce() -> R) -> R {
    if PINNED.with(Cell::get).is_some() {
        return f();
    }
    PINNED.with(|p| p.set(Some(read_clock())));
    // Reset even if `f` panics, so a caught panic does not freeze the clock for the thread.
    struct Unpin;
    impl Drop for Unpin {
        fn drop(&mut self) {
            PINNED.with(|p| p.set(None));
        }
    }
    let _unpin = Unpin;
    f()
}

/// The instant a call that converts its rows in several synchronous steps (a streamed COPY)
/// pins with [`with_now`] around each step, so all its rows share one `now`.
pub(crate) fn one_instant() -> DateTime<Utc> {
    PINNED.with(Cell::get).unwrap_or_else(read_clock)
}

/// [`with_one_now`] with the instant given: every [`now`] inside returns `at`.
pub(crate) fn with_now<R>(at: DateTime<Utc>, f: impl FnOnce() -> R) -> R {
    if PINNED.with(Cell::get).is_some() {
        return f();
    }
    PINNED.with(|p| p.set(Some(at)));
    struct Unpin;
    impl Drop for Unpin {
        fn drop(&mut self) {
            PINNED.with(|p| p.set(None));
        }
    }
    let _unpin = Unpin;
    f()
}

/// Types `default = now` / `onupdate = now` can fill: timestamps, and `Option`s of them.
pub trait Now {
    /// The value for the instant `t` (already truncated to microseconds).
    fn from_utc(t: DateTime<Utc>) -> Self;
}

impl Now for DateTime<Utc> {
    fn from_utc(t: DateTime<Utc>) -> Self {
        t
    }
}

impl Now for chrono::NaiveDateTime {
    fn from_utc(t: DateTime<Utc>) -> Self {
        t.naive_utc()
    }
}

#[cfg(feature = "time")]
impl Now for time::OffsetDateTime {
    fn from_utc(t: DateTime<Utc>) -> Self {
        oxalchemy_core::value_types::time_offset(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }
}

#[cfg(feature = "time")]
impl Now for time::PrimitiveDateTime {
    fn from_utc(t: DateTime<Utc>) -> Self {
        let t = <time::OffsetDateTime as Now>::from_utc(t);
        time::PrimitiveDateTime::new(t.date(), t.time())
    }
}

impl<T: Now> Now for Option<T> {
    fn from_utc(t: DateTime<Utc>) -> Self {
        Some(T::from_utc(t))
    }
}

fn current() -> DateTime<Utc> {
    PINNED.with(Cell::get).unwrap_or_else(read_clock)
}

/// The clock, truncated to microseconds (what both databases store).
fn read_clock() -> DateTime<Utc> {
    let t = Utc::now();
    let micros = t.timestamp_subsec_micros();
    t.with_nanosecond(micros * 1000).unwrap_or(t)
}
