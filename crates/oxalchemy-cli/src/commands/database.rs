//! Commands that read or move the database: `current`, `upgrade` / `downgrade` (online, or
//! offline as a script with `--sql`), `stamp`, `check` and `status`.

use std::collections::HashSet;
use std::fmt::Write;

use oxalchemy_engine::{redact_url, Database};
use oxalchemy_migrate::diff::{diff_including, Diff, Include, ObjectKind, ObjectRef};
use oxalchemy_migrate::reflect::reflect_including;
use oxalchemy_migrate::script::op_code;

use super::{CliError, Ctx};
use crate::args::{MoveArgs, SchemaArgs, StampArgs};

/// `current`: the revision(s) the database is at, or `<base>`.
pub(super) async fn current(ctx: &Ctx<'_, '_>) -> Result<String, CliError> {
    let db = ctx.connect().await?;
    let cur = ctx.runner().current(&db).await?;
    if cur.is_empty() {
        return Ok("<base>\n".to_owned());
    }
    Ok(cur.iter().map(|c| format!("{c}\n")).collect())
}

/// `upgrade TARGET`: prints the lints of the migrations to run, then runs them; with
/// `--sql`, prints the script from `--from` (default: an empty database) instead.
pub(super) async fn upgrade(ctx: &Ctx<'_, '_>, args: &MoveArgs) -> Result<String, CliError> {
    if args.sql {
        return offline(ctx, args, "base");
    }
    online(ctx, args).await
}

/// `downgrade TARGET`: as [`upgrade`]; with `--sql` the script starts from `--from`
/// (default: a database at every head).
pub(super) async fn downgrade(ctx: &Ctx<'_, '_>, args: &MoveArgs) -> Result<String, CliError> {
    if args.sql {
        return offline(ctx, args, "heads");
    }
    online(ctx, args).await
}

/// Runs the plan to the target online. The lints are part of the output even when the run
/// then fails: they usually say why (a NOT NULL column without a default, say).
async fn online(ctx: &Ctx<'_, '_>, args: &MoveArgs) -> Result<String, CliError> {
    let db = ctx.connect().await?;
    let runner = ctx.runner();
    let mut out = lints(ctx, &db, &args.target).await?;
    let run = runner.run(&db, &args.target);
    let report = if ctx.config.progress {
        let what = format!("migrating to {}", args.target);
        crate::progress::with_progress(&what, run, crate::progress::on_stderr).await
    } else {
        run.await
    }
    .map_err(|e| CliError::after(&out, e))?;
    for r in &report.applied {
        let _ = writeln!(out, "upgraded {r}");
    }
    for r in &report.reverted {
        let _ = writeln!(out, "downgraded {r}");
    }
    if report.applied.is_empty() && report.reverted.is_empty() {
        out.push_str("nothing to do\n");
    }
    Ok(out)
}

/// `--sql`: the script from the revisions a database at `--from` (else `default_from`)
/// has, to the target, for the URL's dialect; no connection is made. Both are resolved on
/// the graph: `head`, `heads`, `base`, a revision or prefix, `+N`, `-N`.
fn offline(ctx: &Ctx<'_, '_>, args: &MoveArgs, default_from: &str) -> Result<String, CliError> {
    let from = ctx.graph.revisions_at(
        &HashSet::new(),
        args.from.as_deref().unwrap_or(default_from),
    )?;
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
    let output = lints(ctx, &db, "heads").await?;
    let keep = |e: CliError| CliError::after(&output, e);
    let pending = pending(ctx, &db).await.map_err(keep)?.len();
    if pending > 0 {
        return Err(CliError::NotAtHead { output, pending });
    }
    let d = autogenerate(ctx, &db).await.map_err(keep)?;
    if !d.is_empty() {
        return Err(CliError::ModelsDiffer {
            output,
            operations: d.upgrade.iter().map(op_code).collect(),
        });
    }
    Ok(output + "models and database agree\n")
}

/// `status`: on one screen, the database, its current revision(s), the migrations waiting
/// (with their lints) and what autogenerate would write. Never fails because of what it
/// finds; `check` is the command that does.
pub(super) async fn status(ctx: &Ctx<'_, '_>) -> Result<String, CliError> {
    let db = ctx.connect().await?;
    let mut out = format!("database: {}\n", redact_url(&ctx.config.url));
    let current = ctx.runner().current(&db).await?;
    if current.is_empty() {
        out.push_str("current: <base>\n");
    }
    for rev in &current {
        let message = ctx.graph.migration(rev).map_or("", |m| m.message);
        let _ = writeln!(out, "current: {rev} — {message}");
    }
    let keep = |e: CliError| CliError::after(&out, e);
    let pending = pending(ctx, &db).await.map_err(keep)?;
    let lints = (ctx.runner().lints(&db, "heads").await).map_err(|e| CliError::after(&out, e))?;
    let d = autogenerate(ctx, &db).await.map_err(keep)?;
    if pending.is_empty() {
        out.push_str("pending: none (at head)\n");
    } else {
        let _ = writeln!(out, "pending: {} (run `upgrade heads`)", pending.len());
        for rev in &pending {
            let message = ctx.graph.migration(rev).map_or("", |m| m.message);
            let _ = writeln!(out, "  {rev} — {message}");
            for (_, lint) in lints.iter().filter(|(r, _)| r == rev) {
                let _ = writeln!(out, "    lint: {lint}");
            }
        }
    }
    if d.is_empty() {
        out.push_str("models: match the database\n");
    } else {
        let _ = writeln!(
            out,
            "models: {} differences from the database (`revision --autogenerate` would write):",
            d.upgrade.len()
        );
        for op in &d.upgrade {
            // op_code indents continuation lines for a function body (4 spaces).
            for line in op_code(op).lines() {
                let line = line.strip_prefix("    ").unwrap_or(line);
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    Ok(out)
}

/// The revisions `upgrade heads` would apply, in order.
async fn pending(ctx: &Ctx<'_, '_>, db: &Database) -> Result<Vec<&'static str>, CliError> {
    let applied: HashSet<&'static str> = ctx
        .runner()
        .current(db)
        .await?
        .iter()
        .flat_map(|r| ctx.graph.ancestors(r))
        .collect();
    Ok(ctx
        .graph
        .plan(&applied, "heads")?
        .steps
        .into_iter()
        .map(|(rev, _)| rev)
        .collect())
}

/// The lints of the migrations that moving to `target` would run, one line each.
async fn lints(ctx: &Ctx<'_, '_>, db: &Database, target: &str) -> Result<String, CliError> {
    let mut out = String::new();
    for (rev, lint) in ctx.runner().lints(db, target).await? {
        let _ = writeln!(out, "lint {rev}: {lint}");
    }
    Ok(out)
}

/// What autogenerate finds between the models and the database's schema: the objects
/// `include_table`, `include_name` and `include_object` admit, in the schemas
/// `include_schemas` asks for.
pub(super) async fn autogenerate(ctx: &Ctx<'_, '_>, db: &Database) -> Result<Diff, CliError> {
    let config = &ctx.config;
    // `include_table` is the table-only form of `include_object`: both must admit a table.
    let object = |o: &ObjectRef<'_>| {
        (o.kind != ObjectKind::Table || (config.include_table)(o.name))
            && config.include_object.as_ref().is_none_or(|f| f(o))
    };
    let name = |o: &ObjectRef<'_>| config.include_name.as_ref().is_none_or(|f| f(o));
    let include = Include {
        schemas: config.include_schemas,
        name: Some(&name),
        object: Some(&object),
    };
    let current = {
        let mut conn = db.connection().await?;
        reflect_including(&mut conn, &config.metadata, &include).await?
    };
    Ok(diff_including(
        db.dialect(),
        &config.metadata,
        &current,
        &include,
    ))
}

/// `schema`: the entity-relationship diagram of the models, or of the live database.
pub(super) async fn schema(ctx: &Ctx<'_, '_>, args: &SchemaArgs) -> Result<String, CliError> {
    if !args.database {
        return Ok(crate::diagram::render(&ctx.config.metadata, args.format));
    }
    let db = ctx.connect().await?;
    let mut conn = db.connection().await?;
    let live = oxalchemy_migrate::reflect::reflect(&mut conn).await?;
    Ok(crate::diagram::render(&live, args.format))
}
