//! What a test function may return: nothing, or a `Result` whose error fails the test (the
//! way `fn main` may return a `Result`), so test bodies can use `?`.

use std::fmt::Debug;

/// The return value of a test body or a fixture function, turned into pass or fail.
///
/// Implemented for `()` (the body passed if it returned) and for `Result<(), E>` with a
/// `Debug` error (an `Err` fails the test with the error's `Debug` text, as a `Result`
/// returned from `main` does).
#[diagnostic::on_unimplemented(
    message = "a test function or fixture returns `()` or `Result<(), E>` with `E: Debug`, not `{Self}`",
    label = "returns `{Self}`",
    note = "return `Ok(())` at the end, and use `?` for errors"
)]
pub trait TestResult {
    /// `Ok` when the test passed; otherwise the failure message.
    fn into_result(self) -> Result<(), String>;
}

impl TestResult for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Debug> TestResult for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|e| format!("{e:?}"))
    }
}
