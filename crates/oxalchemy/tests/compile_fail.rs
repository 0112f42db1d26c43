//! Compile-fail tests: mistakes in `#[derive(Model)]` / `#[derive(Mixin)]` input and in typed
//! queries must be rejected with a message that points at the user's code.
//!
//! Regenerate the snapshots with `TRYBUILD=overwrite cargo test -p oxalchemy --test compile_fail`
//! and read every `.stderr` before committing it.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
