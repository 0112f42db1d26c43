//! The migration command line (Alembic's `alembic …`), as a library: your crate's own
//! `migrate` binary hands it the database URL, the models' metadata and the migrations list
//! (the analog of Alembic's env.py), and it does the rest:
//!
//! ```text
//! cargo run --bin migrate -- revision --autogenerate -m "add user status"
//! cargo run --bin migrate -- upgrade head        # or base, a revision (prefix), +N, -N
//! cargo run --bin migrate -- downgrade -1
//! cargo run --bin migrate -- current | history | heads | branches | check | stamp REV
//! cargo run --bin migrate -- merge -m "merge heads" REV1 REV2
//! cargo run --bin migrate -- upgrade head --sql  # print the SQL instead of running it
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use oxalchemy_core::schema::MetaData;
use oxalchemy_engine::Database;
use oxalchemy_migrate::diff::diff;
use oxalchemy_migrate::migration::{Graph, Migration, Runner};
use oxalchemy_migrate::reflect::reflect;
use oxalchemy_migrate::script::migration_file;

/// What a project's `migrate` binary provides.
pub struct Config<'a> {
    /// Database URL (e.g. from `DATABASE_URL`).
    pub url: String,
    /// The models' metadata (`Registry::new().model::<User>()…metadata()`).
    pub metadata: MetaData,
    /// The project's migrations (the generated `migrations::ALL`).
    pub migrations: &'a [Migration],
    /// Where migration files live (`src/migrations`).
    pub versions_dir: PathBuf,
    /// Which tables autogenerate may touch (default: all).
    pub include_table: Box<dyn Fn(&str) -> bool + 'a>,
}

impl<'a> Config<'a> {
    pub fn new(url: impl Into<String>, metadata: MetaData, migrations: &'a [Migration]) -> Self {
        Config {
            url: url.into(),
            metadata,
            migrations,
            versions_dir: PathBuf::from("src/migrations"),
            include_table: Box::new(|_| true),
        }
    }
}

fn usage() -> &'static str {
    "usage: migrate <command>\n\
     commands:\n\
       init                              create src/migrations/mod.rs\n\
       revision -m MSG [--autogenerate]  write a new migration file\n\
       merge -m MSG REV REV...           write a merge revision\n\
       upgrade TARGET [--sql]            head, heads, base, REV (or prefix), +N\n\
       downgrade TARGET [--sql]          base, REV, -N\n\
       current | history | heads | branches\n\
       stamp TARGET                      record TARGET as applied without running it\n\
       check                             fail if the models and the database differ"
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn new_revision_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:012x}", (nanos as u64) & 0xffff_ffff_ffff)
}

fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{}-{m:02}-{d:02}", if m <= 2 { y + 1 } else { y })
}

fn slug(message: &str) -> String {
    let s: String = message
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let s = s.trim_matches('_').to_owned();
    s.chars().take(40).collect()
}

/// Rewrites `mod.rs` so it lists every migration file in the directory.
pub fn write_mod_rs(dir: &Path) -> Result<()> {
    let mut modules: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with('m') && n.ends_with(".rs") && n != "mod.rs")
        .map(|n| n.trim_end_matches(".rs").to_owned())
        .collect();
    modules.sort();
    let mut s = String::from(
        "//! Migrations, listed by `migrate` (regenerated on `revision`; do not edit by hand).\n\n",
    );
    for m in &modules {
        s.push_str(&format!("pub mod {m};\n"));
    }
    s.push_str("\n/// Every migration of this project.\npub const ALL: &[oxalchemy::migrate::migration::Migration] = &[\n");
    for m in &modules {
        s.push_str(&format!("    {m}::MIGRATION,\n"));
    }
    s.push_str("];\n");
    std::fs::write(dir.join("mod.rs"), s)
        .with_context(|| format!("writing {}", dir.join("mod.rs").display()))
}

/// Runs one command. `args` are the command-line arguments after the program name.
pub async fn run(config: Config<'_>, args: &[String]) -> Result<String> {
    let Some(command) = args.first().map(String::as_str) else {
        bail!("{}", usage());
    };
    let graph = Graph::new(config.migrations)?;
    let runner = Runner::new(&graph);
    let sql = args.iter().any(|a| a == "--sql");
    let mut out = String::new();
    match command {
        "init" => {
            std::fs::create_dir_all(&config.versions_dir)?;
            write_mod_rs(&config.versions_dir)?;
            out.push_str(&format!(
                "created {}/mod.rs; add `mod migrations;` to your migrate binary and pass migrations::ALL\n",
                config.versions_dir.display()
            ));
        }
        "heads" => {
            for h in graph.heads() {
                out.push_str(&format!("{h} (head)\n"));
            }
        }
        "branches" => {
            for b in graph.branch_points() {
                out.push_str(&format!("{b} (branch point)\n"));
            }
        }
        "history" => {
            for r in graph.topological()?.iter().rev() {
                if let Some(m) = graph.migration(r) {
                    out.push_str(&format!(
                        "{} -> {} — {} ({})\n",
                        if m.down_revisions.is_empty() {
                            "<base>".to_owned()
                        } else {
                            m.down_revisions.join(", ")
                        },
                        m.revision,
                        m.message,
                        m.created
                    ));
                }
            }
        }
        "current" | "upgrade" | "downgrade" | "stamp" | "check" | "revision" => {
            let target = args.get(1).cloned().filter(|a| !a.starts_with("--"));
            match command {
                "upgrade" | "downgrade" if sql => {
                    // Offline: from the revisions the database would have (none: base).
                    let target = target.ok_or_else(|| anyhow!("{command} needs a target"))?;
                    let dialect: &dyn oxalchemy_core::Dialect = if config.url.starts_with("sqlite")
                    {
                        &oxalchemy_core::Sqlite
                    } else {
                        &oxalchemy_core::Postgres
                    };
                    let from: HashSet<&'static str> = match flag(args, "--from") {
                        Some(f) => graph.ancestors(graph.resolve(&f)?),
                        None => HashSet::new(),
                    };
                    out.push_str(&runner.offline_sql(dialect, &from, &target)?);
                    return Ok(out);
                }
                _ => {}
            }
            let db = Database::connect(&config.url).await?;
            match command {
                "current" => {
                    let cur = runner.current(&db).await?;
                    if cur.is_empty() {
                        out.push_str("<base>\n");
                    }
                    for c in cur {
                        out.push_str(&format!("{c}\n"));
                    }
                }
                "upgrade" | "downgrade" => {
                    let target = target
                        .ok_or_else(|| anyhow!("{command} needs a target (e.g. head, -1)"))?;
                    for (rev, lint) in runner.lints(&db, &target).await? {
                        out.push_str(&format!("lint {rev}: {lint}\n"));
                    }
                    let report = runner.run(&db, &target).await?;
                    for r in &report.applied {
                        out.push_str(&format!("upgraded {r}\n"));
                    }
                    for r in &report.reverted {
                        out.push_str(&format!("downgraded {r}\n"));
                    }
                }
                "stamp" => {
                    let target = target.ok_or_else(|| anyhow!("stamp needs a target"))?;
                    runner.stamp(&db, &target).await?;
                    out.push_str(&format!("stamped {target}\n"));
                }
                "check" | "revision" => {
                    let mut conn = db.connection().await?;
                    let current = reflect(&mut conn).await?;
                    drop(conn);
                    let d = diff(
                        db.dialect(),
                        &config.metadata,
                        &current,
                        &*config.include_table,
                    );
                    if command == "check" {
                        for (rev, lint) in runner.lints(&db, "heads").await? {
                            out.push_str(&format!("lint {rev}: {lint}\n"));
                        }
                        let pending = graph
                            .plan(
                                &runner
                                    .current(&db)
                                    .await?
                                    .iter()
                                    .flat_map(|r| graph.ancestors(r))
                                    .collect(),
                                "heads",
                            )?
                            .steps;
                        if !pending.is_empty() {
                            bail!(
                                "{out}the database is not at head: {} migrations to apply",
                                pending.len()
                            );
                        }
                        if !d.is_empty() {
                            let ops: Vec<String> = d
                                .upgrade
                                .iter()
                                .map(oxalchemy_migrate::script::op_code)
                                .collect();
                            bail!("{out}models and database differ; run `revision --autogenerate`:\n{}", ops.join("\n"));
                        }
                        out.push_str("models and database agree\n");
                    } else {
                        let message =
                            flag(args, "-m").ok_or_else(|| anyhow!("revision needs -m MESSAGE"))?;
                        let parents: Vec<&str> = graph.heads();
                        if parents.len() > 1 {
                            bail!("several heads {parents:?}: merge them first (`merge -m …`)");
                        }
                        let (up, down, warnings) = if args.iter().any(|a| a == "--autogenerate") {
                            (d.upgrade.clone(), d.downgrade.clone(), d.warnings.clone())
                        } else {
                            (Vec::new(), Vec::new(), Vec::new())
                        };
                        let id = new_revision_id();
                        let file = config.versions_dir.join(format!(
                            "m{}_{id}_{}.rs",
                            today().replace('-', ""),
                            slug(&message)
                        ));
                        std::fs::create_dir_all(&config.versions_dir)?;
                        std::fs::write(
                            &file,
                            migration_file(
                                &id,
                                &parents,
                                &message,
                                &today(),
                                &up,
                                &down,
                                &warnings,
                            ),
                        )?;
                        write_mod_rs(&config.versions_dir)?;
                        out.push_str(&format!(
                            "wrote {} ({} operations); review it, then `upgrade head`\n",
                            file.display(),
                            up.len()
                        ));
                        for w in warnings {
                            out.push_str(&format!("REVIEW: {w}\n"));
                        }
                    }
                }
                _ => {}
            }
        }
        "merge" => {
            let message = flag(args, "-m").ok_or_else(|| anyhow!("merge needs -m MESSAGE"))?;
            let revs: Vec<&'static str> = args[1..]
                .iter()
                .filter(|a| !a.starts_with('-') && Some(a.as_str()) != Some(message.as_str()))
                .map(|r| graph.resolve(r))
                .collect::<Result<_, _>>()?;
            if revs.len() < 2 {
                bail!("merge needs at least two revisions");
            }
            let id = new_revision_id();
            let file = config.versions_dir.join(format!(
                "m{}_{id}_{}.rs",
                today().replace('-', ""),
                slug(&message)
            ));
            std::fs::write(
                &file,
                migration_file(&id, &revs, &message, &today(), &[], &[], &[]),
            )?;
            write_mod_rs(&config.versions_dir)?;
            out.push_str(&format!("wrote merge revision {}\n", file.display()));
        }
        other => bail!("unknown command `{other}`\n{}", usage()),
    }
    Ok(out)
}
