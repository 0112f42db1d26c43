//! The migration workflow end to end, on the guide's models (tests/blog): this is the
//! project's own `migrate` binary — the analog of Alembic's env.py — handing the URL, the
//! models' metadata and the migrations list to `oxalchemy::cli`.
//!
//! ```text
//! cargo run --example migrate -- revision --autogenerate -m "create blog tables"
//! cargo run --example migrate -- upgrade head
//! cargo run --example migrate -- current
//! cargo run --example migrate -- check
//! cargo run --example migrate -- downgrade base --sql
//! cargo run --example migrate -- --help
//! ```
//! (`DATABASE_URL` picks the database; default: `sqlite://migrate_demo.db`.)

#[path = "../tests/blog/mod.rs"]
mod blog;
#[path = "migrate_demo/migrations/mod.rs"]
#[allow(
    unreachable_pub,
    reason = "written by `migrate revision`: its items are `pub` so a library crate can re-export its migrations"
)]
mod migrations;

// README: main
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://migrate_demo.db".into());
    let mut config = oxalchemy::cli::Config::new(url, blog::registry().metadata(), migrations::ALL);
    config.versions_dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/migrate_demo/migrations"
    )
    .into();
    let args: Vec<String> = std::env::args().skip(1).collect();
    print!("{}", oxalchemy::cli::run(config, &args).await?);
    Ok(())
}
// README: end
