//! Bulk writes, same run, interleaved with the raw driver's best:
//! * 100,000 new rows: `bulk_insert` vs a raw prepared multi-row INSERT in one transaction
//!   (both databases) and vs binary COPY (`copy_in` + `BinaryCopyInWriter`, PostgreSQL),
//!   and vs today's session flush of the same rows; on PostgreSQL also `orm::copy_in`
//!   (bulk_insert goes by COPY there too, past its threshold);
//! * 10,000 rows, two columns each: `bulk_update` vs raw prepared UPDATEs in one
//!   transaction (pipelined on PostgreSQL);
//! * a query of 50 rows by key range: `.cache(ttl)` hit vs the same query run against the
//!   database (the ratio is the cache's speed-up).
//!
//! The raw SQLite insert is the driver's best code for the statement shape: 64 rows a
//! statement (the fastest size, `BULK_PROFILE=raw-chunks`), the SQL written once, fields
//! bound by position from the structs. On both sides the rows are built before the clock
//! and freed inside it (`bulk_insert` consumes them).
//!
//! Last measured (2 shared cores; wall-clock ratios oxalchemy / other vary by run, so each
//! is the range and median of several runs; callgrind counts are repeatable and decide):
//!
//! ```text
//! sqlite      insert 100,000   vs raw multi-row INSERT (64 rows)   1.05–1.32×, median 1.22×
//!             (7 runs at load 4.7–5.6, interleaved with the build before struct rows
//!             were written straight into the binds: 0.82–1.30×, median 1.20×; 5 more
//!             runs of this build alone: 0.86–1.17×, median 1.01×: at that load wall
//!             clock does not resolve the change, callgrind does)
//!             callgrind per row (difference of 20,000 and 40,000 rows, building the rows
//!             counted on both sides): raw 4,650 instructions, bulk_insert 4,975 (1.07×;
//!             5,303 in the same run for the build before; 5,426 before a batch of
//!             structs moved into its group in one pass, 5,891 before the SQLite driver
//!             bound each value by its own call). Left beyond raw, a row: binding from
//!             `Value`s 64 (`bind_all` 174 against the raw loop's 110), building them 99
//!             (`take_insert_row`), freeing them 81 (`clear_values`), `encode_binds` 35
//!             (a check a value on SQLite), the batch loop 34
//! sqlite      insert 100,000   vs session flush                    0.46–0.79×, median 0.50×
//!             (not re-measured at low load: 0.28× and 0.43× in two runs at load 8–9)
//! sqlite      update 10,000    vs raw prepared UPDATEs             0.58–1.95×, median 1.09×
//!             (16 runs at load 5–9; the build before, in 17 runs between them: 0.76–1.55×,
//!             median 1.25×)
//!             callgrind, whole runs: raw 88.8 M, bulk_update 96.1 M (+732 a row,
//!             building the mappings included; 107.0 M, +1,821, in the same run before a
//!             mapping's shape was planned once a call and unseen traces were skipped)
//! postgresql  (measured in an earlier round, not re-run with the SQLite figures above)
//! postgresql  insert 100,000   vs raw binary COPY                  0.82–1.22×, median 0.93×
//!             callgrind per row, client only: raw 2,400, bulk_insert 3,180
//! postgresql  insert 100,000   vs session flush                    0.25–0.38×: 2.6–4.0× faster,
//!                                                                  median 3.1×
//! postgresql  update 10,000    vs raw pipelined UPDATEs            0.87–1.23×, median 0.99×
//! ```
//!
//! `cargo bench -p oxalchemy --bench bulk`; for callgrind, `BULK_PROFILE` (see [`profile`]).

mod common;

use common::median;

use std::time::{Duration, Instant};

use oxalchemy::orm::{self, bulk_insert, bulk_update, copy_in, Mapping};
use oxalchemy::prelude::*;

/// Rows inserted per round: 100,000, or `BULK_ROWS` (a smaller count for callgrind).
fn new_rows() -> usize {
    std::env::var("BULK_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000)
}
const CHANGED: usize = 10_000;
const ROUNDS: usize = 5;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bench_bulk_users")]
struct BulkUser {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 50)]
    pub username: String,
    #[column(length = 255)]
    pub email: String,
    pub karma: Option<i32>,
    pub active: bool,
    pub score: f64,
}

fn user(i: usize) -> BulkUser {
    BulkUser {
        id: 0,
        username: format!("user{i}"),
        email: format!("user{i}@example.com"),
        karma: i.is_multiple_of(3).then_some(i as i32),
        active: i.is_multiple_of(2),
        score: i as f64 * 0.5,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn report(db: &str, what: &str, base: &[Duration], ours: &[Duration], base_label: &str) {
    let (r, o) = (median(base.to_vec()), median(ours.to_vec()));
    println!(
        "{db:<10} {what:<28} {base_label:<22} {:>9.2} ms | oxalchemy {:>9.2} ms | ratio {:.2}x",
        ms(r),
        ms(o),
        o.as_secs_f64() / r.as_secs_f64()
    );
}

fn metadata() -> MetaData {
    Registry::new().model::<BulkUser>().metadata()
}

async fn reset(db: &Database) {
    db.drop_all(&metadata()).await.expect("drop");
    db.create_all(&metadata()).await.expect("create");
}

/// `bulk_insert` of 100,000 structs, nothing read back.
async fn ours_insert(db: &Database) -> Duration {
    reset(db).await;
    let rows: Vec<BulkUser> = (0..new_rows()).map(user).collect();
    let start = Instant::now();
    let n = bulk_insert::<BulkUser>(rows)
        .execute(db)
        .await
        .expect("bulk");
    let t = start.elapsed();
    assert_eq!(n as usize, new_rows());
    t
}

/// `copy_in` of 100,000 structs, streamed from the vector's iterator.
async fn ours_copy(db: &Database) -> Duration {
    reset(db).await;
    let rows: Vec<BulkUser> = (0..new_rows()).map(user).collect();
    let start = Instant::now();
    let n = copy_in::<BulkUser>(rows).execute(db).await.expect("copy");
    let t = start.elapsed();
    assert_eq!(n as usize, new_rows());
    t
}

/// Today's session: add 100,000 objects and commit (keys read back into them).
async fn session_flush(db: &Database) -> Duration {
    reset(db).await;
    let rows: Vec<BulkUser> = (0..new_rows()).map(user).collect();
    let mut s = db.session();
    let start = Instant::now();
    s.add_all(rows);
    s.commit().await.expect("flush");
    start.elapsed()
}

/// `bulk_update` of 10,000 rows, two columns each.
async fn ours_update(db: &Database, round: usize) -> Duration {
    let rows: Vec<Mapping<BulkUser>> = (1..=CHANGED as i64)
        .map(|id| {
            Mapping::new()
                .set(BulkUser::id, id)
                .set(BulkUser::score, (id as usize + round) as f64)
                .set(BulkUser::karma, Some(round as i32))
        })
        .collect();
    let start = Instant::now();
    let n = bulk_update::<BulkUser>(rows)
        .execute(db)
        .await
        .expect("bulk update");
    let t = start.elapsed();
    assert_eq!(n as usize, CHANGED);
    t
}

const INSERT_COLS: &str = "INSERT INTO \"bench_bulk_users\" (\"username\", \"email\", \"karma\", \"active\", \"score\") VALUES ";
const UPDATE: &str =
    "UPDATE \"bench_bulk_users\" SET \"karma\" = ?, \"score\" = ? WHERE \"id\" = ?";

fn values_sql(rows: usize, pg: bool) -> String {
    let mut sql = String::from(INSERT_COLS);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..5 {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            if pg {
                sql.push_str(&format!("${n}"));
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql
}

/// Rows per statement of the raw SQLite insert: the fastest chunk size measured
/// (`BULK_PROFILE=raw-chunks`; under callgrind 100,000 rows cost 4,510 instructions a row
/// in chunks of 64 and 6,140 in chunks of 6,553, the bind limit).
const RAW_SQLITE_ROWS: usize = 64;

/// The raw driver's best SQLite insert: one transaction, multi-row INSERTs of `per_stmt`
/// rows, the full chunk's SQL written once and its statement prepared once (rusqlite's
/// statement cache), each field bound straight from the struct by position.
fn raw_sqlite_insert(raw: &rusqlite::Connection, items: &[BulkUser], per_stmt: usize) {
    let full = values_sql(per_stmt, false);
    let tx = raw.unchecked_transaction().expect("tx");
    for chunk in items.chunks(per_stmt) {
        let last;
        let sql = if chunk.len() == per_stmt {
            &full
        } else {
            last = values_sql(chunk.len(), false);
            &last
        };
        let mut stmt = tx.prepare_cached(sql).expect("prepare");
        for (r, a) in chunk.iter().enumerate() {
            let i = r * 5 + 1;
            stmt.raw_bind_parameter(i, &a.username).expect("bind");
            stmt.raw_bind_parameter(i + 1, &a.email).expect("bind");
            stmt.raw_bind_parameter(i + 2, a.karma).expect("bind");
            stmt.raw_bind_parameter(i + 3, a.active).expect("bind");
            stmt.raw_bind_parameter(i + 4, a.score).expect("bind");
        }
        stmt.raw_execute().expect("insert");
    }
    tx.commit().expect("commit");
}

async fn bench_sqlite() {
    let (path, db) = common::sqlite("bulk").await;
    let raw = common::raw_sqlite(&path);
    let raw_insert = |raw: &rusqlite::Connection| {
        let items: Vec<BulkUser> = (0..new_rows()).map(user).collect();
        let start = Instant::now();
        raw_sqlite_insert(raw, &items, RAW_SQLITE_ROWS);
        // The rows are freed inside the clock, as `bulk_insert`, which consumes them, does.
        drop(items);
        start.elapsed()
    };

    let (mut t_raw, mut t_ours, mut t_flush) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // Rotate who goes first, so drift in the machine's load is shared.
        for side in 0..3 {
            match (round + side) % 3 {
                0 => t_ours.push(ours_insert(&db).await),
                1 => {
                    reset(&db).await;
                    t_raw.push(raw_insert(&raw));
                }
                _ => t_flush.push(session_flush(&db).await),
            }
        }
    }
    report(
        "sqlite",
        "insert 100,000",
        &t_raw,
        &t_ours,
        "raw multi-row INSERT",
    );
    report(
        "sqlite",
        "insert 100,000",
        &t_flush,
        &t_ours,
        "session flush",
    );

    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let raw_first = round % 2 == 0;
        for side in 0..2 {
            if (side == 0) == raw_first {
                let start = Instant::now();
                let tx = raw.unchecked_transaction().expect("tx");
                {
                    let mut stmt = tx.prepare_cached(UPDATE).expect("prepare");
                    for id in 1..=CHANGED as i64 {
                        let n = stmt
                            .execute(rusqlite::params![
                                Some(round as i32),
                                (id as usize + round) as f64,
                                id
                            ])
                            .expect("update");
                        assert_eq!(n, 1);
                    }
                }
                tx.commit().expect("commit");
                t_raw.push(start.elapsed());
            } else {
                t_ours.push(ours_update(&db, round).await);
            }
        }
    }
    report(
        "sqlite",
        "update 10,000 (2 cols)",
        &t_raw,
        &t_ours,
        "raw prepared UPDATEs",
    );
    cache_hit(&db, "sqlite").await;
    drop(db);
    common::remove_sqlite(&path);
}

async fn bench_postgres() {
    use futures_util::pin_mut;
    use tokio_postgres::binary_copy::BinaryCopyInWriter;
    use tokio_postgres::types::{ToSql, Type};

    let Some((db, url)) = common::postgres().await else {
        return;
    };
    let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("raw pg");
    tokio::spawn(connection);
    let per_stmt = 65535 / 5;

    let (mut t_copy, mut t_raw, mut t_ours, mut t_flush, mut t_ours_copy) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        for side in 0..5 {
            match (round + side) % 5 {
                0 => t_ours.push(ours_insert(&db).await),
                4 => t_ours_copy.push(ours_copy(&db).await),
                1 => t_flush.push(session_flush(&db).await),
                2 => {
                    reset(&db).await;
                    let items: Vec<BulkUser> = (0..new_rows()).map(user).collect();
                    let start = Instant::now();
                    let tx = client.transaction().await.expect("tx");
                    let sink = tx
                        .copy_in("COPY \"bench_bulk_users\" (\"username\", \"email\", \"karma\", \"active\", \"score\") FROM STDIN BINARY")
                        .await
                        .expect("copy");
                    let writer = BinaryCopyInWriter::new(
                        sink,
                        &[
                            Type::VARCHAR,
                            Type::VARCHAR,
                            Type::INT4,
                            Type::BOOL,
                            Type::FLOAT8,
                        ],
                    );
                    pin_mut!(writer);
                    for a in &items {
                        writer
                            .as_mut()
                            .write(&[&a.username, &a.email, &a.karma, &a.active, &a.score])
                            .await
                            .expect("row");
                    }
                    let n = writer.finish().await.expect("finish");
                    tx.commit().await.expect("commit");
                    drop(items);
                    t_copy.push(start.elapsed());
                    assert_eq!(n as usize, new_rows());
                }
                _ => {
                    reset(&db).await;
                    let items: Vec<BulkUser> = (0..new_rows()).map(user).collect();
                    let start = Instant::now();
                    let tx = client.transaction().await.expect("tx");
                    for chunk in items.chunks(per_stmt) {
                        let stmt = tx
                            .prepare(&values_sql(chunk.len(), true))
                            .await
                            .expect("prepare");
                        let mut params: Vec<&(dyn ToSql + Sync)> =
                            Vec::with_capacity(chunk.len() * 5);
                        for a in chunk {
                            params.extend([
                                &a.username as &(dyn ToSql + Sync),
                                &a.email,
                                &a.karma,
                                &a.active,
                                &a.score,
                            ]);
                        }
                        tx.execute(&stmt, &params).await.expect("insert");
                    }
                    tx.commit().await.expect("commit");
                    drop(items);
                    t_raw.push(start.elapsed());
                }
            }
        }
    }
    report(
        "postgresql",
        "insert 100,000",
        &t_copy,
        &t_ours,
        "raw binary COPY",
    );
    report(
        "postgresql",
        "insert 100,000 (copy_in)",
        &t_copy,
        &t_ours_copy,
        "raw binary COPY",
    );
    report(
        "postgresql",
        "insert 100,000",
        &t_raw,
        &t_ours,
        "raw multi-row INSERT",
    );
    report(
        "postgresql",
        "insert 100,000",
        &t_flush,
        &t_ours,
        "session flush",
    );

    let update = client
        .prepare("UPDATE \"bench_bulk_users\" SET \"karma\" = $1, \"score\" = $2 WHERE \"id\" = $3")
        .await
        .expect("prepare");
    let (mut t_raw, mut t_ours) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let raw_first = round % 2 == 0;
        for side in 0..2 {
            if (side == 0) == raw_first {
                let values: Vec<(Option<i32>, f64, i64)> = (1..=CHANGED as i64)
                    .map(|id| (Some(round as i32), (id as usize + round) as f64, id))
                    .collect();
                let start = Instant::now();
                let tx = client.transaction().await.expect("tx");
                // Pipelined: every UPDATE sent before the first answer is awaited.
                let params: Vec<[&(dyn ToSql + Sync); 3]> = values
                    .iter()
                    .map(|(k, s, id)| [k as &(dyn ToSql + Sync), s, id])
                    .collect();
                let futs = params.iter().map(|p| tx.execute(&update, p));
                for r in futures_util::future::join_all(futs).await {
                    assert_eq!(r.expect("update"), 1);
                }
                tx.commit().await.expect("commit");
                t_raw.push(start.elapsed());
            } else {
                t_ours.push(ours_update(&db, round).await);
            }
        }
    }
    report(
        "postgresql",
        "update 10,000 (2 cols)",
        &t_raw,
        &t_ours,
        "raw pipelined UPDATEs",
    );
    cache_hit(&db, "postgresql").await;
    db.drop_all(&metadata()).await.expect("cleanup");
}

/// 1,000 runs of a 50-row query: cached hits vs the database, interleaved.
async fn cache_hit(db: &Database, label: &str) {
    const RUNS: usize = 1_000;
    let q = || {
        orm::query::<BulkUser>()
            .filter(BulkUser::id.le(50))
            .order_by(BulkUser::id.asc())
    };
    let ttl = Duration::from_secs(600);
    // Statistics after the bulk load, so the database plans the key range as it would in
    // production (an index scan), not a scan of a table it believes empty.
    db.execute(text("ANALYZE bench_bulk_users"))
        .await
        .expect("analyze");
    assert_eq!(q().cache(ttl).all(db).await.expect("warm").len(), 50);
    let (mut t_db, mut t_hit) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        for side in 0..2 {
            let start = Instant::now();
            if (side + round) % 2 == 0 {
                for _ in 0..RUNS {
                    std::hint::black_box(q().all(db).await.expect("query"));
                }
                t_db.push(start.elapsed());
            } else {
                for _ in 0..RUNS {
                    std::hint::black_box(q().cache(ttl).all(db).await.expect("hit"));
                }
                t_hit.push(start.elapsed());
            }
        }
    }
    report(
        label,
        "50-row query x1,000",
        &t_db,
        &t_hit,
        "uncached (database)",
    );
}

/// `BULK_PROFILE=<side>`: one operation by one side alone and nothing else, to compare the
/// two sides' instruction counts under callgrind (`BULK_ROWS` rows for the inserts):
/// * `ours` / `raw`: SQLite insert (`bulk_insert` / prepared multi-row INSERTs);
/// * `ours-update` / `raw-update`: SQLite update of `CHANGED` rows, two columns
///   (`bulk_update` of mappings / one prepared UPDATE per row); the table is loaded first by
///   raw INSERTs on both sides;
/// * `pg-ours` / `pg-raw`: PostgreSQL insert (`bulk_insert`, by COPY / raw binary COPY);
///   only the client's instructions are counted, so this measures our encoding.
/// * `raw-chunks`: the raw SQLite insert at several chunk sizes (see [`raw_chunks`]).
async fn profile(side: &str) {
    if side == "raw-chunks" {
        return raw_chunks();
    }
    if let Some(pg) = side.strip_prefix("pg-") {
        return profile_postgres(pg).await;
    }
    let (path, db) = common::sqlite("bulk-profile").await;
    reset(&db).await;
    let raw = common::raw_sqlite(&path);
    let raw_insert = |raw: &rusqlite::Connection, rows: usize| {
        let items: Vec<BulkUser> = (0..rows).map(user).collect();
        raw_sqlite_insert(raw, &items, RAW_SQLITE_ROWS);
    };
    match side {
        "raw" => raw_insert(&raw, new_rows()),
        "ours" => {
            let rows: Vec<BulkUser> = (0..new_rows()).map(user).collect();
            bulk_insert::<BulkUser>(rows)
                .execute(&db)
                .await
                .expect("bulk");
        }
        "raw-update" => {
            raw_insert(&raw, CHANGED);
            let tx = raw.unchecked_transaction().expect("tx");
            {
                let mut stmt = tx.prepare_cached(UPDATE).expect("prepare");
                for id in 1..=CHANGED as i64 {
                    let n = stmt
                        .execute(rusqlite::params![Some(1), (id as usize + 1) as f64, id])
                        .expect("update");
                    assert_eq!(n, 1);
                }
            }
            tx.commit().expect("commit");
        }
        "ours-update" => {
            raw_insert(&raw, CHANGED);
            ours_update(&db, 1).await;
        }
        other => {
            panic!(
                "BULK_PROFILE={other}: ours, raw, ours-update, raw-update, pg-ours, pg-raw \
                 or raw-chunks"
            )
        }
    }
    drop(db);
    common::remove_sqlite(&path);
}

/// `BULK_PROFILE=raw-chunks`: the raw SQLite insert of `new_rows()` rows at several chunk
/// sizes (rows per INSERT), interleaved, 7 rounds; with `BULK_CHUNK=n` one insert of that
/// size alone (for callgrind). How `RAW_SQLITE_ROWS` (and oxalchemy's own chunk size on
/// SQLite) was chosen.
fn raw_chunks() {
    let one: Option<usize> = std::env::var("BULK_CHUNK")
        .ok()
        .and_then(|n| n.parse().ok());
    let sizes = match one {
        Some(n) => vec![n],
        None => vec![1, 16, 32, 64, 128, 256, 1024, 32766 / 5],
    };
    let mut times = vec![Vec::new(); sizes.len()];
    for round in 0..if one.is_some() { 1 } else { 7 } {
        for (k, &size) in sizes.iter().enumerate() {
            let path = common::sqlite_path(&format!("bulk-chunks-{round}-{size}"));
            let raw = common::raw_sqlite(&path);
            raw.execute_batch(
                "CREATE TABLE bench_bulk_users (id INTEGER PRIMARY KEY, \
                 username VARCHAR(50) NOT NULL, email VARCHAR(255) NOT NULL, karma INTEGER, \
                 active BOOLEAN NOT NULL, score DOUBLE PRECISION NOT NULL)",
            )
            .expect("create");
            let items: Vec<BulkUser> = (0..new_rows()).map(user).collect();
            let start = Instant::now();
            raw_sqlite_insert(&raw, &items, size);
            times[k].push(start.elapsed());
            drop(raw);
            common::remove_sqlite(&path);
        }
    }
    for (k, size) in sizes.iter().enumerate() {
        println!(
            "sqlite raw insert, {size:>5} rows a statement: {:>8.2} ms",
            ms(median(times[k].clone()))
        );
    }
}

/// `BULK_PROFILE=pg-ours|pg-raw`: one PostgreSQL insert of `new_rows()` rows.
async fn profile_postgres(side: &str) {
    use futures_util::pin_mut;
    use tokio_postgres::binary_copy::BinaryCopyInWriter;
    use tokio_postgres::types::Type;

    let Some((db, url)) = common::postgres().await else {
        return;
    };
    reset(&db).await;
    let items: Vec<BulkUser> = (0..new_rows()).map(user).collect();
    if side == "raw" {
        let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("raw pg");
        tokio::spawn(connection);
        let tx = client.transaction().await.expect("tx");
        let sink = tx
            .copy_in("COPY \"bench_bulk_users\" (\"username\", \"email\", \"karma\", \"active\", \"score\") FROM STDIN BINARY")
            .await
            .expect("copy");
        let writer = BinaryCopyInWriter::new(
            sink,
            &[
                Type::VARCHAR,
                Type::VARCHAR,
                Type::INT4,
                Type::BOOL,
                Type::FLOAT8,
            ],
        );
        pin_mut!(writer);
        for a in &items {
            writer
                .as_mut()
                .write(&[&a.username, &a.email, &a.karma, &a.active, &a.score])
                .await
                .expect("row");
        }
        writer.finish().await.expect("finish");
        tx.commit().await.expect("commit");
    } else {
        bulk_insert::<BulkUser>(items)
            .execute(&db)
            .await
            .expect("bulk");
    }
    db.drop_all(&metadata()).await.expect("cleanup");
}

fn main() {
    if let Ok(side) = std::env::var("BULK_PROFILE") {
        common::run(async move { profile(&side).await });
        return;
    }
    common::run(async {
        bench_sqlite().await;
        bench_postgres().await;
    });
}
