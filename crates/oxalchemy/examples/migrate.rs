//! The migration workflow end to end, on the guide's models (tests/blog): this is a
//! project's own `migrate` binary — the analog of Alembic's env.py — in the shape
//! `oxalchemy init` writes: the models' metadata, the migrations list and their folder,
//! handed to `oxalchemy::cli::main`. The `oxalchemy` command builds and runs it; here it runs
//! as an example:
//!
//! ```text
//! export DATABASE_URL=sqlite://migrate_demo.db
//! cargo run --example migrate -- revision --autogenerate -m "create blog tables"
//! cargo run --example migrate -- upgrade head
//! cargo run --example migrate -- status
//! cargo run --example migrate -- history --graph
//! cargo run --example migrate -- downgrade base --sql
//! cargo run --example migrate -- schema --format mermaid
//! cargo run --example migrate -- --help
//! ```

#[path = "../tests/blog/mod.rs"]
mod blog;
#[path = "migrate_demo/migrations/mod.rs"]
#[allow(
    unreachable_pub,
    reason = "written by `oxalchemy revision`: its items are `pub` so a library crate can re-export its migrations"
)]
mod migrations;

// README: main
fn main() -> std::process::ExitCode {
    oxalchemy::cli::main(
        blog::registry().metadata(),
        migrations::ALL,
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/migrate_demo/migrations"
        ),
    )
}
// README: end
