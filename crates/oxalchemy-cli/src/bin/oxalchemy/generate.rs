//! `generate models` and `init --from-database`: adopting an existing database.

use std::path::Path;

use clap::ArgMatches;
use oxalchemy_cli::{exit, print_error, print_output, DATABASE_URL};

use crate::project::{fail, package_root, run_migrate};
use crate::scaffold;

/// `generate models [--url URL] [--tables a,b] [-o FILE]`.
pub(crate) fn models(m: &ArgMatches) -> u8 {
    let url = m
        .get_one::<String>("url")
        .cloned()
        .unwrap_or_else(database_url);
    let tables: Vec<String> = m
        .get_many::<String>("tables")
        .map(|t| t.cloned().collect())
        .unwrap_or_default();
    let source = match generate(&url, &tables) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match m.get_one::<String>("output") {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &source) {
                return fail(&format!("could not write {path}: {e}"));
            }
            print_output(&format!("wrote {path}\n"));
        }
        None if source.ends_with('\n') => print!("{source}"),
        None => println!("{source}"),
    }
    exit::OK
}

/// `init --from-database`: the scaffold, with `src/models.rs` generated from the database
/// and registered in the migrate binary; a baseline migration equal to the live schema; the
/// database stamped at it, so the next `revision --autogenerate` finds nothing.
pub(crate) fn init_from_database() -> u8 {
    let root = match package_root() {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let url = database_url();
    let migrations = root.join("src/migrations");
    if has_migrations(&migrations) {
        return fail(
            "src/migrations already has migrations: a baseline must be the first one; \
             use `oxalchemy init` without --from-database",
        );
    }
    let models = root.join("src/models.rs");
    let mut out = String::new();
    if models.is_file() {
        out.push_str("kept src/models.rs (delete it to generate it from the database)\n");
    } else {
        let source = match generate(&url, &[]) {
            Ok(s) => s,
            Err(code) => return code,
        };
        if let Err(e) = std::fs::write(&models, source) {
            return fail(&format!("could not write {}: {e}", models.display()));
        }
        out.push_str("created src/models.rs from the database\n");
    }
    print_output(&out);
    let code = scaffold::init_with(scaffold::Registry::GeneratedModels);
    if code != exit::OK {
        return code;
    }
    let written = runtime().and_then(|rt| {
        rt.block_on(oxalchemy_cli::write_baseline(&url, &migrations))
            .map_err(|e| e.to_string())
    });
    match written {
        Ok(text) => print_output(&text),
        Err(e) => return fail(&e),
    }
    let code = run_migrate("stamp", &["stamp".to_owned(), "head".to_owned()]);
    if code == exit::OK {
        print_output(
            "the database is at the baseline: `oxalchemy check` compares it with src/models.rs\n",
        );
    }
    code
}

/// Model source for `url`, formatted; on failure the message is printed and the exit code
/// returned.
fn generate(url: &str, tables: &[String]) -> Result<String, u8> {
    let rt = runtime().map_err(|e| fail(&e))?;
    let g = rt
        .block_on(oxalchemy_cli::generate_models(url, tables))
        .map_err(|e| {
            print_error(&e.to_string());
            e.exit_code()
        })?;
    let mut notes = String::new();
    if !g.crates.is_empty() {
        notes.push_str(&format!(
            "note: the models use {}: add them to [dependencies]\n",
            g.crates.join(", ")
        ));
    }
    for n in &g.notes {
        notes.push_str(&format!("note: {n}\n"));
    }
    if !notes.is_empty() {
        eprint!("{notes}");
    }
    Ok(oxalchemy_cli::rustfmt_source(&g.source).unwrap_or(g.source))
}

fn database_url() -> String {
    let _ = dotenvy::dotenv();
    std::env::var(DATABASE_URL).unwrap_or_default()
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))
}

/// Whether `dir` holds migration files (`m….rs`).
fn has_migrations(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with('m') && n.ends_with(".rs") && n != "mod.rs")
        })
    })
}
