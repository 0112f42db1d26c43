//! The guide's §5 in Rust (examples/testing_guide, the README's "Testing" section): its
//! model tests and their factory-based versions, as generated tests on SQLite and
//! PostgreSQL.

mod blog;

#[path = "../examples/testing_guide/mod.rs"]
mod testing_guide;
