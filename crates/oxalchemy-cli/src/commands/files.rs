//! Commands that write migration files: `init`, `revision` and `merge`, and the `mod.rs`
//! listing the files (regenerated after each).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use oxalchemy_migrate::migration::MigrateError;
use oxalchemy_migrate::ops::Op;
use oxalchemy_migrate::script::migration_file;

use super::database::autogenerate;
use super::{CliError, Ctx};
use crate::args::{MergeArgs, RevisionArgs};
use crate::format::rustfmt;

/// Rewrites `mod.rs` in `dir` so it lists every migration file in the directory (the files
/// named `m….rs`) in a `pub const ALL`. The commands then format it with `rustfmt`; a caller
/// of this function formats it itself (`cargo fmt`).
pub fn write_mod_rs(dir: &Path) -> Result<(), CliError> {
    let mut modules: Vec<String> = std::fs::read_dir(dir)
        .map_err(CliError::io("read the folder", dir))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with('m') && n.ends_with(".rs") && n != "mod.rs")
        .map(|n| n.trim_end_matches(".rs").to_owned())
        .collect();
    modules.sort();
    // Close to rustfmt's layout (an empty list is exactly it); the commands then run
    // rustfmt on it.
    let mut s = String::from(
        "//! Migrations, listed by `oxalchemy` (regenerated on `revision`; do not edit by hand).\n\n",
    );
    for m in &modules {
        let _ = writeln!(s, "pub mod {m};");
    }
    if !modules.is_empty() {
        s.push('\n');
    }
    s.push_str("/// Every migration of this project.\npub const ALL: &[oxalchemy::migrate::migration::Migration] = &[");
    if !modules.is_empty() {
        s.push('\n');
    }
    for m in &modules {
        let _ = writeln!(s, "    {m}::MIGRATION,");
    }
    s.push_str("];\n");
    let path = dir.join("mod.rs");
    std::fs::write(&path, s).map_err(CliError::io("write", path))
}

/// `init`: creates the migrations folder and its `mod.rs`.
pub(super) fn init(ctx: &Ctx<'_, '_>) -> Result<String, CliError> {
    let dir = &ctx.config.versions_dir;
    create_dir(dir)?;
    write_mod_rs(dir)?;
    let note = rustfmt(&[&dir.join("mod.rs")]).unwrap_or_default();
    Ok(format!(
        "created {}/mod.rs; add `mod migrations;` to your migrate binary and pass migrations::ALL\n{note}",
        dir.display()
    ))
}

/// `revision -m MSG [--autogenerate]`: writes a migration on the single head, empty or filled
/// with what autogenerate finds.
pub(super) async fn revision(ctx: &Ctx<'_, '_>, args: &RevisionArgs) -> Result<String, CliError> {
    let db = ctx.connect().await?;
    let d = autogenerate(ctx, &db).await?;
    let parents: Vec<&str> = ctx.graph.heads();
    if parents.len() > 1 {
        return Err(
            MigrateError::MultipleHeads(parents.iter().map(|s| (*s).to_owned()).collect()).into(),
        );
    }
    let (up, down, warnings) = if args.autogenerate {
        (d.upgrade, d.downgrade, d.warnings)
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let new = NewFile::new(&ctx.config.versions_dir, &args.message);
    create_dir(&ctx.config.versions_dir)?;
    new.write(&migration_file(
        &new.id,
        &parents,
        &args.message,
        &new.date,
        &up,
        &down,
        &warnings,
    ))?;
    write_mod_rs(&ctx.config.versions_dir)?;
    let mut out = format!(
        "wrote {} ({} operations); review it, then `upgrade head`\n",
        new.path.display(),
        up.len()
    );
    out.push_str(&new.format(&ctx.config.versions_dir).unwrap_or_default());
    for w in warnings {
        let _ = writeln!(out, "REVIEW: {w}");
    }
    Ok(out)
}

/// `merge -m MSG REV REV...`: writes an empty revision whose parents are the given ones.
pub(super) fn merge(ctx: &Ctx<'_, '_>, args: &MergeArgs) -> Result<String, CliError> {
    let revs: Vec<&'static str> = args
        .revisions
        .iter()
        .map(|r| ctx.graph.resolve(r))
        .collect::<Result<_, _>>()?;
    let new = NewFile::new(&ctx.config.versions_dir, &args.message);
    new.write(&migration_file(
        &new.id,
        &revs,
        &args.message,
        &new.date,
        &[],
        &[],
        &[],
    ))?;
    write_mod_rs(&ctx.config.versions_dir)?;
    let note = new.format(&ctx.config.versions_dir).unwrap_or_default();
    Ok(format!(
        "wrote merge revision {}\n{note}",
        new.path.display()
    ))
}

/// Writes a new migration (with `parents`) into `dir`, regenerates `mod.rs`, formats both;
/// the new file's path and revision, and a note when formatting was not possible.
pub(crate) fn write_new_migration(
    dir: &Path,
    message: &str,
    parents: &[&str],
    upgrade: &[Op],
    downgrade: &[Op],
) -> Result<(PathBuf, String, Option<String>), CliError> {
    let new = NewFile::new(dir, message);
    create_dir(dir)?;
    new.write(&migration_file(
        &new.id,
        parents,
        message,
        &new.date,
        upgrade,
        downgrade,
        &[],
    ))?;
    write_mod_rs(dir)?;
    let note = new.format(dir);
    Ok((new.path, new.id, note))
}

fn create_dir(dir: &Path) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(CliError::io("create the folder", dir))
}

/// A new migration file: its revision id, date and path
/// (`m{YYYYMMDD}_{id}_{slug of the message}.rs`).
struct NewFile {
    id: String,
    date: String,
    path: PathBuf,
}

impl NewFile {
    fn new(dir: &Path, message: &str) -> Self {
        let id = new_revision_id();
        let today = chrono::Utc::now().date_naive();
        let path = dir.join(format!(
            "m{}_{id}_{}.rs",
            today.format("%Y%m%d"),
            slug(message)
        ));
        NewFile {
            id,
            date: today.format("%Y-%m-%d").to_string(),
            path,
        }
    }

    /// Formats the new file and the folder's `mod.rs`; a note when that was not possible.
    fn format(&self, dir: &Path) -> Option<String> {
        rustfmt(&[&self.path, &dir.join("mod.rs")])
    }

    fn write(&self, text: &str) -> Result<(), CliError> {
        std::fs::write(&self.path, text).map_err(CliError::io("write", &self.path))
    }
}

/// 12 hex digits from the clock: unique enough for revisions written by hand, one at a time.
fn new_revision_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:012x}", (nanos as u64) & 0xffff_ffff_ffff)
}

/// The message as a file-name part: lower case, `_` for anything not alphanumeric, at most
/// 40 characters.
fn slug(message: &str) -> String {
    let s: String = message
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    s.trim_matches('_').chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_files_are_named_by_date_id_and_message() {
        assert_eq!(slug("Add user status!"), "add_user_status");
        let new = NewFile::new(Path::new("m"), "Add status");
        let name = new.path.file_name().unwrap().to_str().unwrap().to_owned();
        let today = chrono::Utc::now().date_naive();
        assert_eq!(new.date, today.to_string());
        assert_eq!(
            name,
            format!("m{}_{}_add_status.rs", today.format("%Y%m%d"), new.id)
        );
        assert_eq!(new.id.len(), 12);
    }
}
