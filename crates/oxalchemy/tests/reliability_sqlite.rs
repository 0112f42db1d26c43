//! SQLite under contention and at its edges (issue 10, items 7, 8 and 10): writers on one
//! file queue without blocking the async runtime, `sqlite::memory:` never hangs, and values
//! SQLite cannot read back are refused at write time.

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
