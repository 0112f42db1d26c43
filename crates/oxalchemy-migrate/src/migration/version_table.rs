//! The version table `oxalchemy_version`: one row per applied revision with the checksum of
//! its operations (so an edited migration is caught) and when it was applied, a real
//! timestamp the database fills in. Both the runner and the offline script write it; its SQL
//! lives only here.
//!
//! Tables written by earlier releases stored `applied_at` as zero-padded epoch seconds in a
//! `VARCHAR(40)`; [`applied`] converts such a table in place the first time it reads it.

use oxalchemy_core::{text, Dialect};
use oxalchemy_engine::Connection;

use super::{Direction, Migration, Result};

/// The name of the version table.
pub const VERSION_TABLE: &str = "oxalchemy_version";

/// The column definitions of the version table for `dialect`. `applied_at` defaults to the
/// current time, so neither the runner nor an offline script supplies it: PostgreSQL has a
/// timestamp type; SQLite stores ISO-8601 text with milliseconds, which sorts in time order
/// and which SQLite's date functions and chrono both read.
fn columns(dialect: &dyn Dialect) -> String {
    let applied_at = if is_sqlite(dialect) {
        "TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))"
    } else if crate::ops::mysql::is_mysql(dialect) {
        // MySQL / MariaDB: no zoned type; the sessions run in UTC.
        "DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
    } else {
        "TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP"
    };
    format!(
        "revision VARCHAR(64) NOT NULL PRIMARY KEY, checksum VARCHAR(32) NOT NULL, \
         applied_at {applied_at}"
    )
}

/// The statement creating the version table if it does not exist (also the first line of an
/// offline script).
pub(super) fn create_sql(dialect: &dyn Dialect) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {VERSION_TABLE} ({})",
        columns(dialect)
    )
}

/// Records a migration as applied (up) or removes it (down) in the version table.
pub(super) async fn record(conn: &mut Connection, m: &Migration, dir: Direction) -> Result<()> {
    let stmt = match dir {
        Direction::Up => text(format!(
            "INSERT INTO {VERSION_TABLE} (revision, checksum) VALUES (:r, :c)"
        ))
        .bind("r", m.revision)
        .bind("c", m.checksum()),
        Direction::Down => {
            text(format!("DELETE FROM {VERSION_TABLE} WHERE revision = :r")).bind("r", m.revision)
        }
    };
    conn.execute(stmt).await?;
    Ok(())
}

/// [`record`] as SQL text with the values inlined, for an offline script. Revision ids and
/// checksums are quoted as literals.
pub(super) fn record_sql(m: &Migration, dir: Direction) -> String {
    let lit = |s: &str| {
        let mut out = String::new();
        oxalchemy_core::dialect::quote_literal(&mut out, s);
        out
    };
    match dir {
        Direction::Up => format!(
            "INSERT INTO {VERSION_TABLE} (revision, checksum) VALUES ({}, {})",
            lit(m.revision),
            lit(&m.checksum()),
        ),
        Direction::Down => format!(
            "DELETE FROM {VERSION_TABLE} WHERE revision = {}",
            lit(m.revision)
        ),
    }
}

/// Creates the version table if it does not exist, and converts a table an earlier release
/// wrote (epoch text in `applied_at`) to the timestamp column.
async fn ensure_version_table(conn: &mut Connection) -> Result<()> {
    let dialect = conn.dialect();
    conn.execute(text(create_sql(dialect))).await?;
    if is_sqlite(dialect) {
        let ty: Option<(String,)> = conn
            .query_opt(text(format!(
                "SELECT type FROM pragma_table_info('{VERSION_TABLE}') WHERE name = 'applied_at'"
            )))
            .await?;
        if ty.is_some_and(|(t,)| t.eq_ignore_ascii_case("VARCHAR(40)")) {
            upgrade_sqlite(conn, dialect).await?;
        }
    } else if crate::ops::mysql::is_mysql(dialect) {
        // No release before this one wrote the table on MySQL / MariaDB: nothing to convert.
    } else {
        let ty: Option<(String,)> = conn
            .query_opt(text(format!(
                "SELECT data_type FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = '{VERSION_TABLE}' \
                 AND column_name = 'applied_at'"
            )))
            .await?;
        if ty.is_some_and(|(t,)| t == "character varying") {
            conn.execute(text(format!(
                "ALTER TABLE {VERSION_TABLE} \
                 ALTER COLUMN applied_at TYPE TIMESTAMP WITH TIME ZONE \
                 USING to_timestamp(applied_at::bigint), \
                 ALTER COLUMN applied_at SET DEFAULT CURRENT_TIMESTAMP"
            )))
            .await?;
        }
    }
    Ok(())
}

/// SQLite cannot change a column's type: the table is rebuilt in one transaction (a
/// SAVEPOINT when the caller already holds one), epoch seconds becoming ISO-8601 text.
async fn upgrade_sqlite(conn: &mut Connection, dialect: &dyn Dialect) -> Result<()> {
    let mut tx = conn.begin().await?;
    let new = format!("{VERSION_TABLE}_new");
    tx.execute(text(format!("CREATE TABLE {new} ({})", columns(dialect))))
        .await?;
    tx.execute(text(format!(
        "INSERT INTO {new} (revision, checksum, applied_at) \
         SELECT revision, checksum, \
         strftime('%Y-%m-%d %H:%M:%f', CAST(applied_at AS INTEGER), 'unixepoch') \
         FROM {VERSION_TABLE}"
    )))
    .await?;
    tx.execute(text(format!("DROP TABLE {VERSION_TABLE}")))
        .await?;
    tx.execute(text(format!("ALTER TABLE {new} RENAME TO {VERSION_TABLE}")))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces revision `rev`'s checksum `old` (a legacy one) with `new`.
pub(super) async fn rewrite_checksum(
    conn: &mut Connection,
    rev: &str,
    old: &str,
    new: &str,
) -> Result<()> {
    conn.execute(
        text(format!(
            "UPDATE {VERSION_TABLE} SET checksum = :new WHERE revision = :r AND checksum = :old"
        ))
        .bind("new", new)
        .bind("r", rev)
        .bind("old", old),
    )
    .await?;
    Ok(())
}

/// Applied revisions and their checksums, in the order they were applied (creating the
/// version table first if it does not exist).
pub async fn applied(conn: &mut Connection) -> Result<Vec<(String, String)>> {
    ensure_version_table(conn).await?;
    Ok(conn
        .query(text(format!(
            "SELECT revision, checksum FROM {VERSION_TABLE} ORDER BY applied_at, revision"
        )))
        .await?)
}

fn is_sqlite(dialect: &dyn Dialect) -> bool {
    dialect.name() == "sqlite"
}
