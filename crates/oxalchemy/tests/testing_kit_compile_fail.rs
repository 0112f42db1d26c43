//! Compile-fail tests of `#[oxalchemy::test]`: each misuse is rejected with a message that
//! names the fix (the backends to name, `fresh` for a `Database`, `async fn`, the
//! parameters the kit can provide, what a test may return).
//!
//! Regenerate with `TRYBUILD=overwrite cargo test -p oxalchemy --test testing_kit_compile_fail`
//! and read every `.stderr` before committing it.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui_testing/*.rs");
}
