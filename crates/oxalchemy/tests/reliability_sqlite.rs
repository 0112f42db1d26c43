//! SQLite under contention and at its edges (issue 10, items 7, 8 and 10): writers on one
//! file queue without blocking the async runtime, `sqlite::memory:` never hangs, and values
//! SQLite cannot read back are refused at write time.

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use oxalchemy::prelude::*;
use oxalchemy::Statement;
use oxalchemy_testing::TempSqliteFile;

/// A file database with one table `t (v)` of no declared type, so any value goes in.
async fn file_db(file: &TempSqliteFile) -> Database {
    let db = Database::connect(file.url()).await.expect("connect");
    db.execute(text("CREATE TABLE IF NOT EXISTS t (v)"))
        .await
        .expect("create table");
    db
}

fn insert_v(v: impl Into<Value>) -> Statement {
    insert(table("t")).columns(["v"]).values([v.into()]).into()
}

#[tokio::test]
async fn dates_outside_0000_to_9999_are_refused_at_write_time() {
    let file = TempSqliteFile::new("dates_outside_range");
    let db = file_db(&file).await;
    let date = |y| NaiveDate::from_ymd_opt(y, 1, 2).expect("date");
    let stamp = |y| -> NaiveDateTime { date(y).and_hms_opt(3, 4, 5).expect("time") };
    for bad in [
        Value::Date(date(10_000)),
        Value::Date(date(-1)),
        Value::DateTime(stamp(10_000)),
        Value::DateTimeTz(Utc.from_utc_datetime(&stamp(-5))),
    ] {
        let err = db.execute(insert_v(bad.clone())).await.unwrap_err();
        assert!(
            matches!(err, Error::UnstorableValue { .. }),
            "{bad:?}: {err:?}"
        );
        let shown = err.to_string();
        assert!(
            shown.contains("0000-9999") && shown.contains("nothing was written"),
            "{shown}"
        );
    }
    let count: i64 = db
        .query_scalar(text("SELECT count(*) FROM t"))
        .await
        .expect("count");
    assert_eq!(count, 0, "nothing was written");

    // The edges of the range are stored and read back unchanged.
    for (y, edge) in [(0, date(0)), (9999, date(9999))] {
        db.execute(text("DELETE FROM t")).await.expect("clear");
        db.execute(insert_v(edge)).await.expect("write");
        let back: NaiveDate = db
            .query_scalar(text("SELECT v FROM t"))
            .await
            .unwrap_or_else(|e| panic!("read back year {y}: {e}"));
        assert_eq!(back, edge);
    }
    // Dates with a signed year that earlier versions wrote stay readable, to be fixed.
    db.execute(text("DELETE FROM t")).await.expect("clear");
    db.execute(text(
        "INSERT INTO t (v) VALUES ('+10000-01-02'), ('-0001-01-02 03:04:05.000000')",
    ))
    .await
    .expect("legacy rows");
    let legacy: Vec<(NaiveDate,)> = db
        .query(text("SELECT v FROM t ORDER BY rowid"))
        .await
        .expect("legacy rows read back");
    assert_eq!(legacy, [(date(10_000),), (date(-1),)]);
    let legacy: NaiveDateTime = db
        .query_scalar(text("SELECT v FROM t WHERE v LIKE '-%'"))
        .await
        .expect("legacy timestamp reads back");
    assert_eq!(legacy, stamp(-1));

    db.execute(text("DELETE FROM t")).await.expect("clear");
    let edge = Utc.from_utc_datetime(&stamp(9999));
    db.execute(insert_v(edge)).await.expect("write");
    let back: chrono::DateTime<Utc> = db
        .query_scalar(text("SELECT v FROM t"))
        .await
        .expect("read back");
    assert_eq!(back, edge);
}

#[tokio::test]
async fn nan_is_refused_at_write_time_and_infinity_round_trips() {
    let file = TempSqliteFile::new("nan_refused");
    let db = file_db(&file).await;
    for nan in [Value::F64(f64::NAN), Value::F32(f32::NAN)] {
        let err = db.execute(insert_v(nan.clone())).await.unwrap_err();
        assert!(
            matches!(err, Error::UnstorableValue { .. }),
            "{nan:?}: {err:?}"
        );
        assert!(err.to_string().contains("NaN"), "{err}");
    }
    // Through a text() bind too, and inside a transaction, which stays usable.
    let mut conn = db.connection().await.expect("conn");
    let mut tx = conn.begin().await.expect("begin");
    let err = tx
        .execute(text("INSERT INTO t (v) VALUES (:v)").bind("v", f64::NAN))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnstorableValue { .. }), "{err:?}");
    tx.execute(insert_v(f64::INFINITY)).await.expect("infinity");
    tx.execute(insert_v(f64::NEG_INFINITY))
        .await
        .expect("-infinity");
    tx.commit().await.expect("commit");
    drop(conn);
    let back: Vec<(f64,)> = db
        .query(text("SELECT v FROM t ORDER BY v"))
        .await
        .expect("read back");
    assert_eq!(back, [(f64::NEG_INFINITY,), (f64::INFINITY,)]);
    let nulls: i64 = db
        .query_scalar(text("SELECT count(*) FROM t WHERE v IS NULL"))
        .await
        .expect("count");
    assert_eq!(nulls, 0, "NaN was never stored as NULL");
}

/// The file's path.
fn path_of(file: &TempSqliteFile) -> String {
    file.path.display().to_string()
}

#[tokio::test(flavor = "current_thread")]
async fn two_databases_on_one_file_queue_their_writers() {
    let file = TempSqliteFile::new("two_databases_one_file");
    let a = file_db(&file).await;
    // The same file spelled another way is the same database, with the same writer queue.
    let path = std::path::PathBuf::from(path_of(&file));
    let name = path.file_name().expect("file name").to_string_lossy();
    let b = Database::connect(format!("sqlite:///{}/./{name}", file.dir().display()))
        .await
        .expect("connect b");
    let started = std::time::Instant::now();
    let slow = a.transaction(async |tx| {
        tx.execute(insert_v("a")).await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok::<_, Error>(())
    });
    let write = async {
        // Let A's transaction start first, then write while it sleeps.
        tokio::time::sleep(Duration::from_millis(5)).await;
        b.execute(insert_v("b")).await
    };
    let (slow, write) = tokio::join!(slow, write);
    slow.expect("A's transaction");
    write.expect("B waits for A's transaction, then writes");
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(1),
        "B queued behind A instead of blocking the thread: {elapsed:?}"
    );
    let rows: Vec<(String,)> = b
        .query(text("SELECT v FROM t ORDER BY rowid"))
        .await
        .expect("rows");
    assert_eq!(rows, [("a".to_owned(),), ("b".to_owned(),)]);

    // A transaction of B on the same file also waits its turn.
    let mut conn = a.connection().await.expect("conn");
    let tx = conn.begin().await.expect("begin");
    let waiting = b.transaction(async |tx| tx.execute(insert_v("c")).await);
    let release = async {
        tokio::time::sleep(Duration::from_millis(30)).await;
        tx.commit().await
    };
    let (waiting, release) = tokio::join!(waiting, release);
    release.expect("commit");
    waiting.expect("B's transaction ran after A's");
}

#[tokio::test(flavor = "current_thread")]
async fn a_writer_of_another_process_is_waited_for_without_blocking_the_runtime() {
    let file = TempSqliteFile::new("other_process_writer");
    let db = file_db(&file).await;
    // Another process's connection, holding the write lock for 200 ms.
    let other = rusqlite::Connection::open(path_of(&file)).expect("open");
    other
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO t (v) VALUES ('other')")
        .expect("lock");
    let holder = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        other.execute_batch("COMMIT").expect("commit");
    });
    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let ticker = tokio::spawn({
        let ticks = ticks.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    });
    let started = std::time::Instant::now();
    db.execute(insert_v("engine"))
        .await
        .expect("the write waits for the other process, then succeeds");
    let waited = started.elapsed();
    let ticked = ticks.load(std::sync::atomic::Ordering::Relaxed);
    ticker.abort();
    holder.await.expect("holder");
    assert!(
        waited >= Duration::from_millis(150),
        "the write waited for the lock: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(1),
        "and got it soon after: {waited:?}"
    );
    assert!(
        ticked >= 8,
        "another task kept running while the write waited: {ticked} ticks in {waited:?}"
    );
    let rows: Vec<(String,)> = db
        .query(text("SELECT v FROM t ORDER BY rowid"))
        .await
        .expect("rows");
    assert_eq!(rows, [("other".to_owned(),), ("engine".to_owned(),)]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_writer_that_never_lets_go_fails_typed_after_busy_timeout() {
    let file = TempSqliteFile::new("busy_timeout_expires");
    file_db(&file).await;
    let db = Database::connect(file.url())
        .busy_timeout(Duration::from_millis(100))
        .await
        .expect("connect");
    let other = rusqlite::Connection::open(path_of(&file)).expect("open");
    other.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let started = std::time::Instant::now();
    let err = db
        .transaction(async |tx| tx.execute(insert_v("x")).await)
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(
            err,
            Error::Sqlite {
                code: "SQLITE_BUSY",
                ..
            }
        ),
        "{err:?}"
    );
    let shown = err.to_string();
    assert!(
        shown.contains("busy_timeout"),
        "says what to raise: {shown}"
    );
    assert!(
        (Duration::from_millis(90)..Duration::from_secs(1)).contains(&waited),
        "gave up after busy_timeout: {waited:?}"
    );
    other.execute_batch("ROLLBACK").expect("release");
    db.execute(insert_v("y"))
        .await
        .expect("works once released");
}

#[tokio::test(flavor = "current_thread")]
async fn memory_database_serves_other_users_while_a_connection_is_held() {
    let db = Database::connect("sqlite::memory:")
        .pool_timeout(Duration::from_secs(30))
        .await
        .expect("connect");
    db.execute(text("CREATE TABLE t (v)"))
        .await
        .expect("create");
    db.execute(insert_v("kept")).await.expect("insert");

    // A held connection (as a Session holds one) no longer makes `&db` wait for it.
    let mut held = db.connection().await.expect("held");
    let rows: Vec<(String,)> =
        tokio::time::timeout(Duration::from_secs(1), db.query(text("SELECT v FROM t")))
            .await
            .expect("returns within 1 s, not after pool_timeout")
            .expect("and works");
    assert_eq!(rows, [("kept".to_owned(),)]);

    // Even with a transaction open on the held connection that has only read (a Session
    // after loading), other users read and the held one keeps working.
    let mut tx = held.begin().await.expect("begin");
    let n: i64 = tx
        .query_scalar(text("SELECT count(*) FROM t"))
        .await
        .expect("read in tx");
    assert_eq!(n, 1);
    let n: i64 = tokio::time::timeout(
        Duration::from_secs(1),
        db.query_scalar(text("SELECT count(*) FROM t")),
    )
    .await
    .expect("within 1 s")
    .expect("read beside the transaction");
    assert_eq!(n, 1);

    // A writer elsewhere waits for that transaction, then writes; a reader of a table the
    // transaction wrote waits for its commit.
    tx.execute(insert_v("in tx")).await.expect("write in tx");
    let others = async {
        let write = db.execute(insert_v("after"));
        let read = db.query_scalar::<i64>(text("SELECT count(*) FROM t"));
        tokio::join!(write, read)
    };
    let commit = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        tx.commit().await
    };
    let ((write, read), commit) = tokio::join!(others, commit);
    commit.expect("commit");
    write.expect("the writer waited its turn");
    let read = read.expect("the reader waited for the commit");
    assert!(read >= 2, "saw the committed row: {read}");
    drop(held);

    // Another sqlite::memory: is another database.
    let other = Database::connect("sqlite::memory:").await.expect("other");
    let err = other.query::<(String,)>(text("SELECT v FROM t")).await;
    assert!(err.is_err(), "t is not in a new in-memory database");
}

#[tokio::test(flavor = "current_thread")]
async fn memory_database_outlives_its_pooled_connections() {
    // Every checkout replaces the connection: the data must not go with it.
    let db = Database::connect("sqlite::memory:")
        .pool_recycle(Duration::ZERO)
        .await
        .expect("connect");
    db.execute(text("CREATE TABLE t (v)"))
        .await
        .expect("create");
    for i in 0..3_i64 {
        db.execute(insert_v(i)).await.expect("insert");
    }
    let n: i64 = db
        .query_scalar(text("SELECT count(*) FROM t"))
        .await
        .expect("count");
    assert_eq!(n, 3);
}

/// A NUMERIC column on SQLite turns decimal text into a REAL (15 significant digits): a
/// decimal it would round is refused before anything is written; one it keeps round trips.
#[tokio::test]
async fn decimals_a_numeric_column_would_round_are_refused() {
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let file = TempSqliteFile::new("decimal_digits");
    let db = Database::connect(file.url()).await.expect("connect");
    db.execute(text("CREATE TABLE d (v NUMERIC)"))
        .await
        .expect("create table");
    let into_d = |v: Value| -> Statement { insert(table("d")).columns(["v"]).values([v]).into() };
    for bad in [
        "1234567890.1234567",
        "0.1234567890123456",
        "-9999999999999999.5",
    ] {
        let err = db
            .execute(into_d(Value::Decimal(
                Decimal::from_str(bad).expect("decimal"),
            )))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::UnstorableValue { .. }),
            "{bad}: {err:?}"
        );
        assert!(err.to_string().contains("15 significant digits"), "{err}");
        let err = db
            .execute(into_d(Value::Numeric(bad.to_owned())))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::UnstorableValue { .. }),
            "{bad}: {err:?}"
        );
    }
    let count: i64 = db
        .query_scalar(text("SELECT count(*) FROM d"))
        .await
        .expect("count");
    assert_eq!(count, 0, "nothing was written");

    // 15 significant digits, trailing zeros, and integers that fit 64 bits read back equal.
    for good in [
        "123456789.012345",
        "-0.000000000000001",
        "1.50000000000000000000",
        "9223372036854775807",
        "-42",
    ] {
        db.execute(text("DELETE FROM d")).await.expect("clear");
        let d = Decimal::from_str(good).expect("decimal");
        db.execute(into_d(Value::Decimal(d))).await.expect(good);
        let back: Decimal = db
            .query_scalar(text("SELECT v FROM d"))
            .await
            .expect("read");
        assert_eq!(back, d, "{good}");
    }
}
