//! Migrations, the revision graph, the version table and the runner.
//!
//! A migration is Rust code in the user's crate (like Alembic's scripts): a revision id,
//! its down revision(s), a message, and `upgrade` / `downgrade` functions that fill an
//! [`Ops`]. The version table `oxalchemy_version` records every applied revision with a
//! checksum of its operations, so a migration edited after it was applied is caught.

use std::collections::{HashMap, HashSet};

use oxalchemy_core::schema::MetaData;
use oxalchemy_core::{text, Dialect};
use oxalchemy_engine::{Connection, Database, Error as EngineError};

use crate::ops::{OpError, Ops, Step};

/// One migration.
#[derive(Clone, Copy)]
pub struct Migration {
    pub revision: &'static str,
    /// Parents; empty for a base revision, two or more for a merge revision.
    pub down_revisions: &'static [&'static str],
    pub message: &'static str,
    pub created: &'static str,
    pub upgrade: fn(&mut Ops),
    pub downgrade: fn(&mut Ops),
}

impl std::fmt::Debug for Migration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {:?} ({})",
            self.revision, self.down_revisions, self.message
        )
    }
}

impl Migration {
    fn ops(&self, up: bool) -> Ops {
        let mut ops = Ops::new();
        if up {
            (self.upgrade)(&mut ops)
        } else {
            (self.downgrade)(&mut ops)
        }
        ops
    }

    /// FNV-1a of the upgrade and downgrade operations: changes when the migration is edited.
    pub fn checksum(&self) -> String {
        let text = format!("{:?}|{:?}", self.ops(true).ops(), self.ops(false).ops());
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{hash:016x}")
    }
}

/// Everything that can go wrong planning or running migrations.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("unknown revision `{0}`; `history` lists them")]
    UnknownRevision(String),
    #[error("revision prefix `{prefix}` is ambiguous: {candidates:?}")]
    AmbiguousRevision {
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("revision `{revision}` names down revision `{parent}`, which does not exist")]
    MissingParent { revision: String, parent: String },
    #[error("the revision graph has a cycle through `{0}`")]
    Cycle(String),
    #[error("there are several heads {0:?}; name one, or create a merge revision with `merge`")]
    MultipleHeads(Vec<String>),
    #[error(
        "migration `{0}` was edited after it was applied (its checksum changed); write a new \
         migration instead of editing an applied one"
    )]
    Edited(String),
    #[error(
        "the database has revision `{0}` applied, which this project does not know; is the \
         database ahead of this code?"
    )]
    UnknownApplied(String),
    #[error("cannot move {0} steps from the current revision")]
    BadRelative(String),
    #[error("foreign key check failed after migration `{revision}`: {problems}")]
    ForeignKeyCheck { revision: String, problems: String },
    #[error(transparent)]
    Op(#[from] OpError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

type Result<T, E = MigrateError> = std::result::Result<T, E>;

/// The migrations of a project and their graph.
#[derive(Debug, Clone)]
pub struct Graph {
    migrations: Vec<Migration>,
    by_id: HashMap<&'static str, usize>,
}

impl Graph {
    /// Checks the graph: unique revisions, existing parents, no cycles.
    pub fn new(migrations: &[Migration]) -> Result<Self> {
        let mut by_id = HashMap::new();
        for (i, m) in migrations.iter().enumerate() {
            by_id.insert(m.revision, i);
        }
        for m in migrations {
            for p in m.down_revisions {
                if !by_id.contains_key(p) {
                    return Err(MigrateError::MissingParent {
                        revision: m.revision.to_owned(),
                        parent: (*p).to_owned(),
                    });
                }
            }
        }
        let graph = Graph {
            migrations: migrations.to_vec(),
            by_id,
        };
        graph.topological()?;
        Ok(graph)
    }

    pub fn migration(&self, id: &str) -> Option<&Migration> {
        self.by_id.get(id).map(|&i| &self.migrations[i])
    }

    /// Revisions no other revision builds on.
    pub fn heads(&self) -> Vec<&'static str> {
        let parents: HashSet<&str> = self
            .migrations
            .iter()
            .flat_map(|m| m.down_revisions.iter().copied())
            .collect();
        self.migrations
            .iter()
            .map(|m| m.revision)
            .filter(|r| !parents.contains(r))
            .collect()
    }

    /// Revisions with more than one child (where branches start).
    pub fn branch_points(&self) -> Vec<&'static str> {
        let mut children: HashMap<&str, usize> = HashMap::new();
        for m in &self.migrations {
            for p in m.down_revisions {
                *children.entry(p).or_default() += 1;
            }
        }
        self.migrations
            .iter()
            .map(|m| m.revision)
            .filter(|r| children.get(r).copied().unwrap_or(0) > 1)
            .collect()
    }

    /// All revisions, parents before children (deterministic).
    pub fn topological(&self) -> Result<Vec<&'static str>> {
        let mut done: HashSet<&str> = HashSet::new();
        let mut out = Vec::with_capacity(self.migrations.len());
        while out.len() < self.migrations.len() {
            let next = self.migrations.iter().find(|m| {
                !done.contains(m.revision) && m.down_revisions.iter().all(|p| done.contains(p))
            });
            match next {
                Some(m) => {
                    done.insert(m.revision);
                    out.push(m.revision);
                }
                None => {
                    let stuck = self
                        .migrations
                        .iter()
                        .find(|m| !done.contains(m.revision))
                        .map(|m| m.revision.to_owned())
                        .unwrap_or_default();
                    return Err(MigrateError::Cycle(stuck));
                }
            }
        }
        Ok(out)
    }

    /// `rev` and everything it builds on.
    pub fn ancestors(&self, rev: &str) -> HashSet<&'static str> {
        let mut out = HashSet::new();
        let mut stack: Vec<&str> = vec![rev];
        while let Some(r) = stack.pop() {
            if let Some(m) = self.migration(r) {
                if out.insert(m.revision) {
                    stack.extend(m.down_revisions.iter().copied());
                }
            }
        }
        out
    }

    /// A full revision id, or a unique prefix of one.
    pub fn resolve(&self, id_or_prefix: &str) -> Result<&'static str> {
        if let Some(m) = self.migration(id_or_prefix) {
            return Ok(m.revision);
        }
        let candidates: Vec<&'static str> = self
            .migrations
            .iter()
            .map(|m| m.revision)
            .filter(|r| r.starts_with(id_or_prefix))
            .collect();
        match candidates.as_slice() {
            [one] => Ok(one),
            [] => Err(MigrateError::UnknownRevision(id_or_prefix.to_owned())),
            many => Err(MigrateError::AmbiguousRevision {
                prefix: id_or_prefix.to_owned(),
                candidates: many.iter().map(|s| (*s).to_owned()).collect(),
            }),
        }
    }

    /// The single head, or [`MigrateError::MultipleHeads`].
    pub fn head(&self) -> Result<Option<&'static str>> {
        match self.heads().as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            many => Err(MigrateError::MultipleHeads(
                many.iter().map(|s| (*s).to_owned()).collect(),
            )),
        }
    }

    /// The schema state after applying `revisions` (in topological order) from empty.
    pub fn state_after(&self, applied: &HashSet<&str>) -> Result<MetaData> {
        let mut state = MetaData::new();
        for r in self.topological()? {
            if applied.contains(r) {
                if let Some(m) = self.migration(r) {
                    for op in m.ops(true).ops() {
                        op.apply_to(&mut state)?;
                    }
                }
            }
        }
        Ok(state)
    }
}

/// The name of the version table.
pub const VERSION_TABLE: &str = "oxalchemy_version";

/// A step of a migration plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// Which revisions to apply (up) or revert (down), in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<(&'static str, Direction)>,
}

impl Graph {
    /// The plan that moves a database with `applied` revisions to `target`: `head`,
    /// `base`, a revision id or prefix, `+N`, `-N`.
    pub fn plan(&self, applied: &HashSet<&'static str>, target: &str) -> Result<Plan> {
        let order = self.topological()?;
        let target_set: HashSet<&'static str> = match target {
            "head" | "heads" => {
                let heads = self.heads();
                if target == "head" && heads.len() > 1 {
                    return Err(MigrateError::MultipleHeads(
                        heads.iter().map(|s| (*s).to_owned()).collect(),
                    ));
                }
                heads.iter().flat_map(|h| self.ancestors(h)).collect()
            }
            "base" => HashSet::new(),
            t if t.starts_with('+') || t.starts_with('-') => {
                let n: usize = t[1..]
                    .parse()
                    .map_err(|_| MigrateError::BadRelative(t.to_owned()))?;
                if t.starts_with('+') {
                    let mut set = applied.clone();
                    let pending: Vec<&'static str> = order
                        .iter()
                        .copied()
                        .filter(|r| !applied.contains(r))
                        .collect();
                    if pending.len() < n {
                        return Err(MigrateError::BadRelative(t.to_owned()));
                    }
                    set.extend(pending.into_iter().take(n));
                    set
                } else {
                    let applied_in_order: Vec<&'static str> = order
                        .iter()
                        .copied()
                        .filter(|r| applied.contains(r))
                        .collect();
                    if applied_in_order.len() < n {
                        return Err(MigrateError::BadRelative(t.to_owned()));
                    }
                    applied_in_order[..applied_in_order.len() - n]
                        .iter()
                        .copied()
                        .collect()
                }
            }
            id => self.ancestors(self.resolve(id)?),
        };
        let mut steps = Vec::new();
        // Down first (children before parents), then up (parents before children).
        for r in order.iter().rev() {
            if applied.contains(r) && !target_set.contains(r) {
                steps.push((*r, Direction::Down));
            }
        }
        for r in &order {
            if !applied.contains(r) && target_set.contains(r) {
                steps.push((*r, Direction::Up));
            }
        }
        Ok(Plan { steps })
    }
}

/// Runs operations on `conn` (inside the caller's transaction), advancing `state`.
pub async fn execute_ops(
    conn: &mut Connection,
    ops: &[crate::ops::Op],
    state: &mut MetaData,
) -> Result<()> {
    let dialect = conn.dialect();
    for op in ops {
        for step in op.render(dialect, state)? {
            match step {
                Step::Sql(c) => {
                    conn.execute_compiled(&c, true).await?;
                }
                Step::Run(_, f) => f(conn).await?,
            }
        }
        op.apply_to(state)?;
    }
    Ok(())
}

fn is_sqlite(d: &dyn Dialect) -> bool {
    d.name() == "sqlite"
}

/// Records a migration as applied (up) or removes it (down) in the version table.
async fn record(conn: &mut Connection, m: &Migration, dir: Direction) -> Result<()> {
    let stmt = match dir {
        Direction::Up => text(format!(
            "INSERT INTO {VERSION_TABLE} (revision, checksum, applied_at) VALUES (:r, :c, :t)"
        ))
        .bind("r", m.revision)
        .bind("c", m.checksum())
        .bind("t", now_text()),
        Direction::Down => {
            text(format!("DELETE FROM {VERSION_TABLE} WHERE revision = :r")).bind("r", m.revision)
        }
    };
    conn.execute(stmt).await?;
    Ok(())
}

/// Creates the version table if it does not exist.
async fn ensure_version_table(conn: &mut Connection) -> Result<()> {
    conn.execute(text(format!(
        "CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (revision VARCHAR(64) NOT NULL PRIMARY KEY, \
         checksum VARCHAR(32) NOT NULL, applied_at VARCHAR(40) NOT NULL)"
    )))
    .await?;
    Ok(())
}

/// Applied revisions and their checksums.
pub async fn applied(conn: &mut Connection) -> Result<Vec<(String, String)>> {
    ensure_version_table(conn).await?;
    Ok(conn
        .query(text(format!(
            "SELECT revision, checksum FROM {VERSION_TABLE} ORDER BY applied_at, revision"
        )))
        .await?)
}

/// Runs migrations against a database.
pub struct Runner<'g> {
    graph: &'g Graph,
}

/// What `Runner::run` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub applied: Vec<String>,
    pub reverted: Vec<String>,
}

impl<'g> Runner<'g> {
    pub fn new(graph: &'g Graph) -> Self {
        Runner { graph }
    }

    /// The applied revisions that are known, checking checksums.
    async fn applied_set(&self, conn: &mut Connection) -> Result<HashSet<&'static str>> {
        let mut set = HashSet::new();
        for (rev, checksum) in applied(conn).await? {
            let m = self
                .graph
                .migration(&rev)
                .ok_or_else(|| MigrateError::UnknownApplied(rev.clone()))?;
            if m.checksum() != checksum {
                return Err(MigrateError::Edited(rev));
            }
            set.insert(m.revision);
        }
        Ok(set)
    }

    /// The current revision(s): applied revisions no other applied revision builds on.
    pub async fn current(&self, db: &Database) -> Result<Vec<&'static str>> {
        let mut conn = db.connection().await?;
        let applied = self.applied_set(&mut conn).await?;
        let parents: HashSet<&str> = applied
            .iter()
            .filter_map(|r| self.graph.migration(r))
            .flat_map(|m| m.down_revisions.iter().copied())
            .collect();
        let mut out: Vec<&'static str> = applied
            .into_iter()
            .filter(|r| !parents.contains(r))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Moves the database to `target`. Each migration runs in its own transaction
    /// (DDL is transactional on SQLite and PostgreSQL); on PostgreSQL an advisory lock keeps
    /// two deploys from migrating at once.
    pub async fn run(&self, db: &Database, target: &str) -> Result<Report> {
        let mut conn = db.connection().await?;
        let dialect = conn.dialect();
        let sqlite = is_sqlite(dialect);
        if !sqlite {
            // Session-level lock, released at the end (or when the connection closes).
            conn.execute(text("SELECT pg_advisory_lock(7415002211)"))
                .await?;
        }
        let result = self.run_locked(&mut conn, dialect, target).await;
        if !sqlite {
            conn.execute(text("SELECT pg_advisory_unlock(7415002211)"))
                .await?;
        }
        result
    }

    async fn run_locked(
        &self,
        conn: &mut Connection,
        dialect: &'static dyn Dialect,
        target: &str,
    ) -> Result<Report> {
        let mut applied = self.applied_set(conn).await?;
        let plan = self.graph.plan(&applied, target)?;
        let mut report = Report {
            applied: Vec::new(),
            reverted: Vec::new(),
        };
        let sqlite = is_sqlite(dialect);
        for (rev, dir) in plan.steps {
            let m = *self
                .graph
                .migration(rev)
                .ok_or_else(|| MigrateError::UnknownRevision(rev.to_owned()))?;
            let mut state = self.graph.state_after(&applied)?;
            let ops = m.ops(dir == Direction::Up);
            if sqlite {
                // Table rebuilds must not fire ON DELETE actions: foreign keys off for the
                // migration (it cannot change inside a transaction), checked after.
                conn.execute(text("PRAGMA foreign_keys = OFF")).await?;
            }
            let outcome = async {
                let mut tx = conn.begin().await?;
                execute_ops(&mut tx, ops.ops(), &mut state).await?;
                record(&mut tx, &m, dir).await?;
                if sqlite {
                    let problems: Vec<(String, Option<i64>, String, i64)> =
                        tx.query(text("PRAGMA foreign_key_check")).await?;
                    if !problems.is_empty() {
                        return Err(MigrateError::ForeignKeyCheck {
                            revision: m.revision.to_owned(),
                            problems: format!("{problems:?}"),
                        });
                    }
                }
                tx.commit().await?;
                Ok::<(), MigrateError>(())
            }
            .await;
            if sqlite {
                conn.execute(text("PRAGMA foreign_keys = ON")).await?;
            }
            outcome?;
            match dir {
                Direction::Up => {
                    applied.insert(m.revision);
                    report.applied.push(m.revision.to_owned());
                }
                Direction::Down => {
                    applied.remove(m.revision);
                    report.reverted.push(m.revision.to_owned());
                }
            }
        }
        Ok(report)
    }

    /// The lints of every migration `run(target)` would apply, in order, as
    /// (revision, lint).
    pub async fn lints(
        &self,
        db: &Database,
        target: &str,
    ) -> Result<Vec<(&'static str, crate::lint::Lint)>> {
        let mut conn = db.connection().await?;
        let dialect = conn.dialect();
        let mut applied = self.applied_set(&mut conn).await?;
        let plan = self.graph.plan(&applied, target)?;
        let mut out = Vec::new();
        for (rev, dir) in plan.steps {
            let Some(m) = self.graph.migration(rev) else {
                continue;
            };
            let state = self.graph.state_after(&applied)?;
            let ops = m.ops(dir == Direction::Up);
            out.extend(
                crate::lint::lint(dialect, &ops, &state)
                    .into_iter()
                    .map(|l| (m.revision, l)),
            );
            match dir {
                Direction::Up => applied.insert(m.revision),
                Direction::Down => applied.remove(m.revision),
            };
        }
        Ok(out)
    }

    /// Records `target` as applied (with its ancestors) without running anything.
    pub async fn stamp(&self, db: &Database, target: &str) -> Result<()> {
        let mut conn = db.connection().await?;
        let applied = self.applied_set(&mut conn).await?;
        let plan = self.graph.plan(&applied, target)?;
        let mut tx = conn.begin().await?;
        for (rev, dir) in plan.steps {
            if let Some(m) = self.graph.migration(rev) {
                record(&mut tx, m, dir).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The SQL that moving from `applied` to `target` would run (`--sql` offline mode), for
    /// `dialect`, as a script.
    pub fn offline_sql(
        &self,
        dialect: &dyn Dialect,
        applied: &HashSet<&'static str>,
        target: &str,
    ) -> Result<String> {
        let plan = self.graph.plan(applied, target)?;
        let mut applied = applied.clone();
        let mut out = String::new();
        let sqlite = is_sqlite(dialect);
        out.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (revision VARCHAR(64) NOT NULL PRIMARY KEY, checksum VARCHAR(32) NOT NULL, applied_at VARCHAR(40) NOT NULL);\n"
        ));
        for (rev, dir) in plan.steps {
            let Some(m) = self.graph.migration(rev) else {
                continue;
            };
            let mut state = self.graph.state_after(&applied)?;
            out.push_str(&format!(
                "\n-- {} {} — {}\n",
                if dir == Direction::Up {
                    "upgrade"
                } else {
                    "downgrade"
                },
                m.revision,
                m.message
            ));
            if sqlite {
                out.push_str("PRAGMA foreign_keys = OFF;\n");
            }
            out.push_str("BEGIN;\n");
            for op in m.ops(dir == Direction::Up).ops() {
                for step in op.render(dialect, &state)? {
                    match step {
                        Step::Sql(c) => {
                            out.push_str(&inline_binds(dialect, &c.sql, &c.binds));
                            out.push_str(";\n");
                        }
                        Step::Run(label, _) => {
                            out.push_str(&format!(
                                "-- data migration `{label}` is Rust code: run it online\n"
                            ));
                        }
                    }
                }
                op.apply_to(&mut state)?;
            }
            match dir {
                Direction::Up => {
                    out.push_str(&format!(
                        "INSERT INTO {VERSION_TABLE} (revision, checksum, applied_at) VALUES ('{}', '{}', '{}');\n",
                        m.revision,
                        m.checksum(),
                        now_text()
                    ));
                    applied.insert(m.revision);
                }
                Direction::Down => {
                    out.push_str(&format!(
                        "DELETE FROM {VERSION_TABLE} WHERE revision = '{}';\n",
                        m.revision
                    ));
                    applied.remove(m.revision);
                }
            }
            out.push_str("COMMIT;\n");
            if sqlite {
                out.push_str("PRAGMA foreign_keys = ON;\n");
            }
        }
        Ok(out)
    }
}

/// Renders binds as literals for an offline script (the one place values are inlined:
/// the script is for a person or psql/sqlite3 to run, not for a driver).
fn inline_binds(dialect: &dyn Dialect, sql: &str, binds: &[oxalchemy_core::Value]) -> String {
    use oxalchemy_core::Value;
    if binds.is_empty() {
        return sql.to_owned();
    }
    let literal = |v: &Value| -> String {
        match v {
            Value::Null => "NULL".into(),
            Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
            Value::I16(n) => n.to_string(),
            Value::I32(n) => n.to_string(),
            Value::I64(n) => n.to_string(),
            Value::F32(n) => n.to_string(),
            Value::F64(n) => n.to_string(),
            Value::Decimal(d) => d.to_string(),
            other => {
                let text = match other {
                    Value::Text(s) => s.clone(),
                    v => format!("{v:?}"),
                };
                let mut out = String::new();
                oxalchemy_core::dialect::quote_literal(&mut out, &text);
                out
            }
        }
    };
    if is_sqlite(dialect) {
        let mut out = String::new();
        let mut it = binds.iter();
        for ch in sql.chars() {
            if ch == '?' {
                if let Some(v) = it.next() {
                    out.push_str(&literal(v));
                    continue;
                }
            }
            out.push(ch);
        }
        out
    } else {
        let mut out = sql.to_owned();
        for (i, v) in binds.iter().enumerate().rev() {
            out = out.replace(&format!("${}", i + 1), &literal(v));
        }
        out
    }
}

fn now_text() -> String {
    // Seconds since the epoch, zero-padded so the text sorts like the number.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("{secs:020}")
}
