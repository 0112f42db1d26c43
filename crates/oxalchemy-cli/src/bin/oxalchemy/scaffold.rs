//! `oxalchemy init`: the files a project needs to run migrations, written without
//! connecting to anything; files that exist are kept.
//!
//! The migrate binary lives in the project's own package (`src/bin/migrate.rs`), not in a
//! separate `migrations` crate as sea-orm-cli makes: the binary needs the models, and a
//! binary of the same package reaches them (through the library target, or a `#[path]`
//! module) without moving the models into a library crate two packages depend on.

use std::fmt::Write;
use std::path::Path;

use oxalchemy_cli::{exit, print_output, write_mod_rs, DATABASE_URL};

use crate::project::{fail, package_root, MIGRATE_BIN};

/// The migrations folder, relative to the package.
const MIGRATIONS_DIR: &str = "src/migrations";

/// The migrate binary `init` writes: the analog of Alembic's env.py.
const MIGRATE_RS: &str = r#"//! This project's migrations command (the analog of Alembic's env.py), written by
//! `oxalchemy init`. `oxalchemy upgrade head` builds and runs it; so does
//! `cargo run --bin migrate -- upgrade head`. The database is DATABASE_URL (environment or
//! .env).

#[path = "../migrations/mod.rs"]
mod migrations;

use oxalchemy::orm::Registry;

/// The models autogenerate compares with the database: register each of them, e.g.
/// `Registry::new().model::<my_app::models::User>()`.
fn registry() -> Registry {
    Registry::new()
}

fn main() -> std::process::ExitCode {
    oxalchemy::cli::main(
        registry().metadata(),
        migrations::ALL,
        concat!(env!("CARGO_MANIFEST_DIR"), "/src/migrations"),
    )
}
"#;

/// What the migrate binary registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Registry {
    /// Nothing yet: the user lists their models.
    Empty,
    /// `src/models.rs`, written by `generate models` (its `registry()`).
    GeneratedModels,
}

/// `init`: `src/migrations/mod.rs` (an empty list of migrations, valid as it is) and
/// `src/bin/migrate.rs`.
pub(crate) fn init() -> u8 {
    init_with(Registry::Empty)
}

/// `init`, with the migrate binary registering `registry`.
pub(crate) fn init_with(registry: Registry) -> u8 {
    let root = match package_root() {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let mut out = String::new();
    let dir = root.join(MIGRATIONS_DIR);
    if dir.join("mod.rs").is_file() {
        let _ = writeln!(out, "kept {MIGRATIONS_DIR}/mod.rs");
    } else {
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return fail(&format!("could not create {}: {e}", dir.display()));
        }
        if let Err(e) = write_mod_rs(&dir) {
            return fail(&e.to_string());
        }
        let _ = writeln!(out, "created {MIGRATIONS_DIR}/mod.rs");
    }
    let bin = root.join(MIGRATE_BIN);
    if bin.is_file() {
        let _ = writeln!(out, "kept {MIGRATE_BIN}");
    } else {
        let text = match registry {
            Registry::Empty => MIGRATE_RS.to_owned(),
            Registry::GeneratedModels => MIGRATE_RS
                .replace(
                    "mod migrations;\n",
                    "mod migrations;\n#[path = \"../models.rs\"]\nmod models;\n",
                )
                .replace(
                    "/// The models autogenerate compares with the database: register each of them, e.g.\n/// `Registry::new().model::<my_app::models::User>()`.\nfn registry() -> Registry {\n    Registry::new()\n}",
                    "/// The models autogenerate compares with the database (src/models.rs).\nfn registry() -> Registry {\n    models::registry()\n}",
                ),
        };
        if let Err(e) = write_new(&bin, &text) {
            return fail(&format!("could not write {}: {e}", bin.display()));
        }
        let _ = writeln!(
            out,
            "created {MIGRATE_BIN}: register your models in its `registry()`"
        );
    }
    if !depends_on_oxalchemy(&root) {
        out.push_str("note: Cargo.toml does not depend on oxalchemy yet: `cargo add oxalchemy`\n");
    }
    if std::env::var_os(DATABASE_URL).is_none() && !root.join(".env").is_file() {
        out.push_str(
            "note: set DATABASE_URL (in the environment or a .env file, e.g. \
             DATABASE_URL=sqlite://app.db) before commands that use the database\n",
        );
    }
    out.push_str("next: oxalchemy revision --autogenerate -m \"create tables\"\n");
    print_output(&out);
    exit::OK
}

fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

/// Whether the package's manifest names `oxalchemy` (a dependency line).
fn depends_on_oxalchemy(root: &Path) -> bool {
    std::fs::read_to_string(root.join("Cargo.toml"))
        .is_ok_and(|m| m.lines().any(|l| l.trim_start().starts_with("oxalchemy")))
}
