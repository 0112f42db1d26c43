//! Progress of a long command on a terminal: while a future runs for more than a second,
//! a line on stderr says what is running and for how long, rewritten in place and erased at
//! the end. Off unless [`Config::progress`](crate::Config::progress) (set by
//! [`main`](crate::main) when stderr is a terminal), so embedding programs and pipes see
//! nothing.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long a command runs before its progress line appears (no flicker for quick ones).
const QUIET_FOR: Duration = Duration::from_secs(1);

/// Awaits `work`, calling `show` with a progress line (`"{what} … 3s"`) every quarter
/// second once it has run for [`QUIET_FOR`], and with `None` at the end when a line was shown
/// (to erase it).
pub(crate) async fn with_progress<T>(
    what: &str,
    work: impl Future<Output = T>,
    mut show: impl FnMut(Option<&str>),
) -> T {
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut shown = false;
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => {
                if shown {
                    show(None);
                }
                return out;
            }
            _ = tick.tick() => {
                let elapsed = started.elapsed();
                if elapsed >= QUIET_FOR {
                    show(Some(&format!("{what} … {}s", elapsed.as_secs())));
                    shown = true;
                }
            }
        }
    }
}

/// A progress line on stderr, rewritten in place (`\r`, erase line).
pub(crate) fn on_stderr(line: Option<&str>) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = match line {
        Some(l) => write!(err, "\r\x1b[2K{l}"),
        None => write!(err, "\r\x1b[2K"),
    };
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_slow_command_shows_its_progress_and_erases_it() {
        let mut lines = Vec::new();
        let out = with_progress(
            "upgrading to head",
            async {
                tokio::time::sleep(Duration::from_millis(1600)).await;
                7
            },
            |l| lines.push(l.map(str::to_owned)),
        )
        .await;
        assert_eq!(out, 7);
        assert!(
            lines.first() == Some(&Some("upgrading to head … 1s".to_owned())),
            "{lines:?}"
        );
        assert_eq!(lines.last(), Some(&None), "the line is erased");
        let mut quick = Vec::new();
        with_progress("quick", async {}, |l| quick.push(l.map(str::to_owned))).await;
        assert!(quick.is_empty(), "{quick:?}");
    }
}
