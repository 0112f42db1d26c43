//! The version table `oxalchemy_version`: one row per applied revision with the checksum of
//! its operations (so an edited migration is caught) and when it was applied. Both the runner
//! and the offline script write it; its SQL lives only here.

use oxalchemy_core::text;
use oxalchemy_engine::Connection;

use super::{Direction, Migration, Result};

/// The name of the version table.
pub const VERSION_TABLE: &str = "oxalchemy_version";

/// The statement creating the version table if it does not exist (also the first line of an
/// offline script).
pub(super) fn create_sql() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (revision VARCHAR(64) NOT NULL PRIMARY KEY, \
         checksum VARCHAR(32) NOT NULL, applied_at VARCHAR(40) NOT NULL)"
    )
}

/// Records a migration as applied (up) or removes it (down) in the version table.
pub(super) async fn record(conn: &mut Connection, m: &Migration, dir: Direction) -> Result<()> {
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
            "INSERT INTO {VERSION_TABLE} (revision, checksum, applied_at) VALUES ({}, {}, {})",
            lit(m.revision),
            lit(&m.checksum()),
            lit(&now_text())
        ),
        Direction::Down => format!(
            "DELETE FROM {VERSION_TABLE} WHERE revision = {}",
            lit(m.revision)
        ),
    }
}

/// Creates the version table if it does not exist.
async fn ensure_version_table(conn: &mut Connection) -> Result<()> {
    conn.execute(text(create_sql())).await?;
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

fn now_text() -> String {
    // Seconds since the epoch, zero-padded so the text sorts like the number.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("{secs:020}")
}
