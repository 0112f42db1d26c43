//! Starting from an existing database: `generate models` (reflected tables as
//! `#[derive(Model)]` source) and the baseline migration of `init --from-database` (a
//! migration creating the live schema, for the database to be stamped at).
//!
//! * `models`: the source generator; `names`: Rust names for database names.

mod models;
mod names;

use std::fmt::Write;
use std::path::Path;

use oxalchemy_core::schema::MetaData;
use oxalchemy_engine::Database;
use oxalchemy_migrate::diff::diff;
use oxalchemy_migrate::reflect::reflect;

use crate::commands::write_new_migration;
use crate::CliError;

/// What `generate models` produced.
#[doc(hidden)]
#[derive(Debug)]
pub struct GeneratedModels {
    /// The Rust source (not formatted).
    pub source: String,
    /// Crates the source names besides oxalchemy (`chrono`, `uuid`, …): the project needs
    /// them as dependencies.
    pub crates: Vec<String>,
    /// What `#[derive(Model)]` cannot express, one line each (also `// NOTE:` comments in
    /// the source).
    pub notes: Vec<String>,
}

/// Reflects the database at `url` (only `tables`, when given) into model source.
#[doc(hidden)]
pub async fn generate_models(url: &str, tables: &[String]) -> Result<GeneratedModels, CliError> {
    let md = live_schema(url, tables).await?;
    let g = models::models_source(&md);
    Ok(GeneratedModels {
        source: g.source,
        crates: g.crates.into_iter().map(str::to_owned).collect(),
        notes: g.notes,
    })
}

/// Writes a migration creating the live schema of `url` into `versions_dir` (with no
/// parent: the project must have no migrations yet). Returns what to print.
#[doc(hidden)]
pub async fn write_baseline(url: &str, versions_dir: &Path) -> Result<String, CliError> {
    let db = connect(url).await?;
    let live = {
        let mut conn = db.connection().await?;
        reflect(&mut conn).await?
    };
    let d = diff(db.dialect(), &live, &MetaData::new(), &|_| true);
    let (path, revision, note) = write_new_migration(
        versions_dir,
        "baseline of the existing database",
        &[],
        &d.upgrade,
        &d.downgrade,
    )?;
    let mut out = format!(
        "wrote {} (baseline {revision}: {} tables)\n",
        path.display(),
        live.tables().len()
    );
    if let Some(note) = note {
        out.push_str(&note);
    }
    for w in d.warnings {
        let _ = writeln!(out, "REVIEW: {w}");
    }
    Ok(out)
}

async fn connect(url: &str) -> Result<Database, CliError> {
    if url.is_empty() {
        return Err(CliError::NoDatabaseUrl);
    }
    Ok(Database::connect(url).await?)
}

/// The database's tables (all, or those named), as reflection reads them.
async fn live_schema(url: &str, tables: &[String]) -> Result<MetaData, CliError> {
    let db = connect(url).await?;
    let mut conn = db.connection().await?;
    let mut md = reflect(&mut conn).await?;
    if !tables.is_empty() {
        let names: Vec<String> = md.tables().iter().map(|t| t.name.to_string()).collect();
        if let Some(missing) = tables.iter().find(|t| !names.contains(t)) {
            return Err(CliError::NoSuchTable(missing.clone()));
        }
        for n in names.iter().filter(|n| !tables.contains(n)) {
            md.remove(n);
        }
    }
    Ok(md)
}
