//! Commands that read or move the database: `current`, `upgrade` / `downgrade` (online, or
//! offline as a script with `--sql`), `stamp` and `check`.

use std::collections::HashSet;
use std::fmt::Write;

use oxalchemy_engine::Database;
use oxalchemy_migrate::diff::{diff, Diff};
use oxalchemy_migrate::reflect::reflect_for;
use oxalchemy_migrate::script::op_code;

use super::{CliError, Ctx};
use crate::args::{MoveArgs, StampArgs};

/// `current`: the revision(s) the database is at, or `<base>`.
pub(super) async fn current(ctx: &Ctx<'_, '_>) -> Result<String, CliError> {
    let db = ctx.connect().await?;
    let cur = ctx.runner().current(&db).await?;
    if cur.is_empty() {
        return Ok("<base>\n".to_owned());
    }
    Ok(cur.iter().map(|c| format!("{c}\n")).collect())
}

/// `upgrade` / `downgrade TARGET`: prints the lints of the migrations to run, then runs them;
/// with `--sql`, prints the script instead.
pub(super) async fn move_to(ctx: &Ctx<'_, '_>, args: &MoveArgs) -> Result<String, CliError> {
    if args.sql {
        return offline(ctx, args);
    }
    let db = ctx.connect().await?;
    let runner = ctx.runner();
    let mut out = lints(ctx, &db, &args.target).await?;
    let report = runner.run(&db, &args.target).await?;
    for r in &report.applied {
        let _ = writeln!(out, "upgraded {r}");
    }
    for r in &report.reverted {
        let _ = writeln!(out, "downgraded {r}");
    }
    Ok(out)
}

/// `--sql`: the script from the revisions the database would have (`--from`, else none)
/// to the target, for the URL's dialect; no connection is made.
fn offline(ctx: &Ctx<'_, '_>, args: &MoveArgs) -> Result<String, CliError> {
    let from: HashSet<&'static str> = match &args.from {
        Some(f) => ctx.graph.ancestors(ctx.graph.resolve(f)?),
        None => HashSet::new(),
    };
    Ok(ctx
        .runner()
        .offline_sql(ctx.config.offline_dialect(), &from, &args.target)?)
}

/// `stamp TARGET`: records the target as applied without running anything.
pub(super) async fn stamp(ctx: &Ctx<'_, '_>, args: &StampArgs) -> Result<String, CliError> {
    let db = ctx.connect().await?;
    ctx.runner().stamp(&db, &args.target).await?;
    Ok(format!("stamped {}\n", args.target))
}

/// `check`: fails unless the database is at head and the models match its schema (for CI).
pub(super) async fn check(ctx: &Ctx<'_, '_>) -> Result<String, CliError> {
    let db = ctx.connect().await?;
    let d = autogenerate(ctx, &db).await?;
    let runner = ctx.runner();
    let output = lints(ctx, &db, "heads").await?;
    let applied: HashSet<&'static str> = runner
        .current(&db)
        .await?
        .iter()
        .flat_map(|r| ctx.graph.ancestors(r))
        .collect();
    let pending = ctx.graph.plan(&applied, "heads")?.steps.len();
    if pending > 0 {
        return Err(CliError::NotAtHead { output, pending });
    }
    if !d.is_empty() {
        return Err(CliError::ModelsDiffer {
            output,
            operations: d.upgrade.iter().map(op_code).collect(),
        });
    }
    Ok(output + "models and database agree\n")
}

/// The lints of the migrations that moving to `target` would run, one line each.
async fn lints(ctx: &Ctx<'_, '_>, db: &Database, target: &str) -> Result<String, CliError> {
    let mut out = String::new();
    for (rev, lint) in ctx.runner().lints(db, target).await? {
        let _ = writeln!(out, "lint {rev}: {lint}");
    }
    Ok(out)
}

/// What autogenerate finds between the models and the database's schema (the tables
/// `include_table` admits).
pub(super) async fn autogenerate(ctx: &Ctx<'_, '_>, db: &Database) -> Result<Diff, CliError> {
    let current = {
        let mut conn = db.connection().await?;
        reflect_for(&mut conn, &ctx.config.metadata).await?
    };
    Ok(diff(
        db.dialect(),
        &ctx.config.metadata,
        &current,
        &*ctx.config.include_table,
    ))
}
