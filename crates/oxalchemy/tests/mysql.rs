//! MySQL / MariaDB specifics, on the server `TEST_MYSQL_URL` names (a database per test):
//! Core statements, a model session's flush and query, the types as MySQL stores them, and
//! typed errors. Everything else runs on MariaDB through `common::all_targets`.

mod blog;
mod common;

use blog::*;
use oxalchemy::prelude::*;
use oxalchemy_testing::{mysql_database, MysqlDatabase};

async fn fresh(test: &str) -> Option<(MysqlDatabase, Database)> {
    let my = mysql_database(test).await?;
    let db = Database::connect(&my.url)
        .await
        .unwrap_or_else(|e| panic!("connect to {}: {e}", my.url));
    Some((my, db))
}

#[tokio::test]
async fn core_statements_and_a_session_run_on_mariadb() {
    let Some((my, db)) = fresh("mysql_core_session").await else {
        return;
    };
    assert_eq!(
        db.dialect().name(),
        "mariadb",
        "MariaDB has INSERT … RETURNING"
    );

    // Core: DDL, INSERT … RETURNING, SELECT with binds, UPDATE, DELETE.
    let items = Table::new("items")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(Column::new("name", SqlType::String(Some(40))).not_null())
        .column(Column::new("qty", SqlType::Integer).not_null());
    let mut md = MetaData::new();
    md.add(items.clone());
    db.create_all(&md).await.unwrap();
    let t = table("items");
    let ids: Vec<(i64,)> = db
        .query(
            insert(t.clone())
                .columns(["name", "qty"])
                .values([lit("apple"), lit(3i32)])
                .values([lit("pear"), lit(5i32)])
                .returning([col("id")]),
        )
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids[1].0 > ids[0].0);
    let rows: Vec<(String, i32)> = db
        .query(
            select([col("name"), col("qty")])
                .from(t.clone())
                .filter(col("qty").gt(4i32))
                .order_by(col("name")),
        )
        .await
        .unwrap();
    assert_eq!(rows, [("pear".to_owned(), 5)]);
    let changed = db
        .execute(
            update(t.clone())
                .set("qty", 7i32)
                .filter(col("name").eq("apple")),
        )
        .await
        .unwrap();
    assert_eq!(changed, 1);
    // Matched, not changed: the same value again still counts the row (CLIENT_FOUND_ROWS).
    let again = db
        .execute(
            update(t.clone())
                .set("qty", 7i32)
                .filter(col("name").eq("apple")),
        )
        .await
        .unwrap();
    assert_eq!(again, 1);
    let gone = db
        .execute(delete(t.clone()).filter(col("name").ilike("PEAR")))
        .await
        .unwrap();
    assert_eq!(gone, 1);

    // The ORM: create_all of the guide's models, a flush in FK order, a query back.
    db.create_all(&registry().metadata()).await.unwrap();
    let mut s = db.session();
    let ann = s.add(User {
        username: "ann".into(),
        email: "ann@example.com".into(),
        settings: serde_json::json!({"theme": "dark"}),
        ..Default::default()
    });
    let post = s.add(Post {
        title: "Hello".into(),
        ..Default::default()
    });
    s.link(post, Post::author, ann).unwrap();
    s.commit().await.unwrap();
    let ann_id = s[ann].base.id;
    assert!(ann_id > 0);
    assert_eq!(s[post].author_id, ann_id);
    s.close().await.unwrap();

    let mut s = db.session();
    let found = s
        .query::<User>()
        .filter(User::username.ilike("AN%"))
        .one()
        .await
        .unwrap();
    assert_eq!(s[found].base.id, ann_id);
    assert_eq!(s[found].settings, serde_json::json!({"theme": "dark"}));
    assert_eq!(s[found].status, Status::Active);
    s[found].karma = Some(5);
    s.commit().await.unwrap();
    s.close().await.unwrap();
    let karma: Option<i32> = db
        .query_scalar(
            select([col("karma")])
                .from(table("users"))
                .filter(col("id").eq(ann_id)),
        )
        .await
        .unwrap();
    assert_eq!(karma, Some(5));
    db.close();
    my.drop().await;
}

#[tokio::test]
async fn every_type_round_trips_as_mysql_stores_it() {
    use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let Some((my, db)) = fresh("mysql_types").await else {
        return;
    };
    let mood = SqlType::Enum {
        name: "mood".into(),
        variants: vec!["happy".into(), "sad".into()],
        native: true,
    };
    let mut md = MetaData::new();
    md.add(
        Table::new("kinds")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("flag", SqlType::Boolean))
            .column(Column::new("at", SqlType::DateTime { timezone: true }))
            .column(Column::new("day", SqlType::Date))
            .column(Column::new("tod", SqlType::Time))
            .column(Column::new("amount", SqlType::Numeric(Some((12, 4)))))
            .column(Column::new("big", SqlType::Numeric(None)))
            .column(Column::new("doc", SqlType::Json))
            .column(Column::new("uid", SqlType::Uuid))
            .column(Column::new("blob", SqlType::Binary))
            .column(Column::new("mood", mood)),
    );
    db.create_all(&md).await.unwrap();
    let at = Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 58).unwrap()
        + chrono::Duration::microseconds(123_456);
    let uid = uuid::Uuid::new_v4();
    let amount = Decimal::from_str("-12345678.1234").unwrap();
    let big = Decimal::from_str("123456789012345.000000001").unwrap();
    db.execute(
        insert(table("kinds"))
            .columns([
                "flag", "at", "day", "tod", "amount", "big", "doc", "uid", "blob", "mood",
            ])
            .values([
                lit(true),
                lit(at),
                lit(NaiveDate::from_ymd_opt(1000, 1, 1).unwrap()),
                lit(NaiveTime::from_hms_micro_opt(13, 14, 15, 16).unwrap()),
                lit(amount),
                lit(big),
                lit(serde_json::json!({"a": [1, "two", null]})),
                lit(uid),
                lit(vec![0u8, 255, 39, 0]),
                lit("sad"),
            ]),
    )
    .await
    .unwrap();
    type Row = (
        bool,
        chrono::DateTime<Utc>,
        NaiveDate,
        NaiveTime,
        Decimal,
        Decimal,
        serde_json::Value,
        uuid::Uuid,
        Vec<u8>,
        String,
    );
    let row: Row = db
        .query_one(
            select([
                col("flag"),
                col("at"),
                col("day"),
                col("tod"),
                col("amount"),
                col("big"),
                col("doc"),
                col("uid"),
                col("blob"),
                col("mood"),
            ])
            .from(table("kinds")),
        )
        .await
        .unwrap();
    assert!(row.0);
    assert_eq!(row.1, at, "DATETIME(6) keeps microseconds");
    assert_eq!(row.2, NaiveDate::from_ymd_opt(1000, 1, 1).unwrap());
    assert_eq!(
        row.3,
        NaiveTime::from_hms_micro_opt(13, 14, 15, 16).unwrap()
    );
    assert_eq!(row.4, amount);
    assert_eq!(row.5, big);
    assert_eq!(row.6, serde_json::json!({"a": [1, "two", null]}));
    assert_eq!(row.7, uid);
    assert_eq!(row.8, vec![0u8, 255, 39, 0]);
    assert_eq!(row.9, "sad");
    // A native ENUM refuses other values (strict mode).
    let err = db
        .execute(
            insert(table("kinds"))
                .columns(["mood"])
                .values([lit("meh")]),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Database { .. }), "{err}");
    // As dynamic values: booleans are TINYINT(1) integers, DECIMAL exact; MariaDB's JSON is
    // LONGTEXT on the wire, so it reads as its text (a typed `serde_json::Value` parses it).
    let dynamic: Vec<Value> = db
        .query_one(
            select([col("flag"), col("amount"), col("doc"), col("day")]).from(table("kinds")),
        )
        .await
        .unwrap();
    assert_eq!(
        dynamic,
        [
            Value::I64(1),
            Value::Decimal(amount),
            Value::Text(r#"{"a":[1,"two",null]}"#.to_owned()),
            Value::Date(NaiveDate::from_ymd_opt(1000, 1, 1).unwrap()),
        ]
    );
    db.close();
    my.drop().await;
}

#[tokio::test]
async fn constraint_errors_are_typed_with_their_names() {
    let Some((my, db)) = fresh("mysql_errors").await else {
        return;
    };
    db.create_all(&registry().metadata()).await.unwrap();
    // 1452: a child row without its parent names the constraint and the child table.
    let err = db
        .execute(
            insert(table("posts"))
                .columns(["title", "author_id", "created_at", "updated_at"])
                .values([
                    lit("t"),
                    lit(999i64),
                    lit(chrono::Utc::now()),
                    lit(chrono::Utc::now()),
                ]),
        )
        .await
        .unwrap_err();
    match &err {
        Error::Integrity(IntegrityError::ForeignKeyViolation {
            constraint, table, ..
        }) => {
            assert_eq!(
                constraint.as_deref(),
                Some("fk_posts_author_id_users"),
                "{err}"
            );
            assert_eq!(table.as_deref(), Some("posts"), "{err}");
        }
        other => panic!("expected a foreign key violation, got {other:?}"),
    }
    // 4025 (MariaDB's CHECK): named by the naming convention.
    let mut s = db.session();
    let u = s.add(User {
        username: "ann".into(),
        email: "ann@example.com".into(),
        ..Default::default()
    });
    s.commit().await.unwrap();
    let uid = s[u].base.id;
    s.close().await.unwrap();
    let err = db
        .execute(
            insert(table("posts"))
                .columns(["title", "author_id", "created_at", "updated_at"])
                .values([
                    lit(""),
                    lit(uid),
                    lit(chrono::Utc::now()),
                    lit(chrono::Utc::now()),
                ]),
        )
        .await
        .unwrap_err();
    match &err {
        Error::Integrity(i @ IntegrityError::CheckViolation { .. }) => {
            assert_eq!(i.constraint(), Some("ck_posts_title_not_empty"), "{err}");
        }
        other => panic!("expected a check violation, got {other:?}"),
    }
    // A refused login is a typed connect error that hides the password.
    let mut url = my.url.replacen("mysql://root@", "mysql://root:hunter2@", 1);
    url.push_str("?ssl-mode=disabled");
    let err = Database::connect(&url).await.unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("Access denied"), "{err}");
    assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
    db.close();
    my.drop().await;
}

/// A statement abandoned in flight inside a transaction (its future dropped after being
/// polled, as by a `timeout`) leaves MySQL's client out of step: its answer is still to be
/// read, and the next statement used to take it for its own (`SELECT 42` answered "no
/// rows"). Every later statement of that transaction is refused instead, and nothing of it
/// is committed; a new transaction on the pool works.
#[tokio::test]
async fn a_statement_abandoned_in_a_transaction_is_not_answered_by_the_next() {
    let Some((my, db)) = fresh("mysql_abandoned_in_tx").await else {
        return;
    };
    db.execute(text("CREATE TABLE abandoned (id INT PRIMARY KEY)"))
        .await
        .unwrap();
    let mut conn = db.connection().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    tx.execute(text("INSERT INTO abandoned VALUES (1)"))
        .await
        .unwrap();
    {
        // Polled once, then dropped: the statement is sent, its answer never read.
        let polled = common::poll_then_drop(tx.query_scalar::<i64>(text("SELECT 7")), 1).await;
        assert!(polled.is_none(), "the SELECT answered within one poll");
    }
    let next = tx.query_scalar::<i64>(text("SELECT 42")).await;
    assert!(
        matches!(next, Err(Error::TransactionAbandoned)),
        "the next statement got {next:?}"
    );
    assert!(matches!(
        tx.commit().await,
        Err(Error::TransactionAbandoned)
    ));
    drop(conn);
    let rows: i64 = db
        .query_scalar(text("SELECT count(*) FROM abandoned"))
        .await
        .unwrap();
    assert_eq!(
        rows, 0,
        "nothing of the abandoned transaction was committed"
    );
    drop(db);
    my.drop().await;
}

/// Every connection the pool hands out answers each statement with that statement's own
/// answer: run more times than the pool holds connections, so each is checked.
async fn every_pooled_connection_answers_its_own(db: &Database) {
    for n in 100..110i64 {
        let got: i64 = db
            .query_scalar(text(format!("SELECT {n}")))
            .await
            .unwrap_or_else(|e| panic!("SELECT {n} on a pooled connection: {e}"));
        assert_eq!(
            got, n,
            "a pooled connection answered SELECT {n} with another's answer"
        );
    }
}

/// A statement abandoned outside a transaction at any point of its exchange with the
/// server: the same `Connection`'s next statement gets its own answer, on the same server
/// connection, or, where mysql_async's client was left in the middle of an answer (which
/// no reset can skip: a ROLLBACK would read it as its own), on a new one opened in its
/// place. Never another statement's answer; and the pool hands out only connections in
/// step.
#[tokio::test]
async fn a_statement_abandoned_outside_a_transaction_never_answers_the_next() {
    let Some((my, db)) = fresh("mysql_abandoned_autocommit").await else {
        return;
    };
    db.execute(text("CREATE TABLE abandoned_ac (id INT PRIMARY KEY)"))
        .await
        .unwrap();
    let mut replaced = 0;
    for polls in 1..=12usize {
        // Reused: the same connection runs the next statement. Returned: it goes back to
        // the pool at once, whose reset (from a task, then at checkout) must not read the
        // abandoned answer as the ROLLBACK's.
        for reuse in [true, false] {
            let mut conn = db.connection().await.unwrap();
            let before: i64 = conn
                .query_scalar(text("SELECT CONNECTION_ID()"))
                .await
                .unwrap();
            let id = i64::try_from(polls * 2).unwrap() + i64::from(reuse);
            let sql = format!("INSERT INTO abandoned_ac VALUES ({id}) RETURNING id");
            let finished = common::poll_then_drop(conn.query::<(i64,)>(text(sql)), polls).await;
            if let Some(rows) = finished {
                assert_eq!(rows.unwrap(), vec![(id,)]);
            }
            if reuse {
                let n: i64 = conn.query_scalar(text("SELECT 42")).await.unwrap();
                assert_eq!(n, 42, "{polls} polls: SELECT 42 read another's answer");
                let after: i64 = conn
                    .query_scalar(text("SELECT CONNECTION_ID()"))
                    .await
                    .unwrap();
                replaced += usize::from(after != before);
            }
            drop(conn);
            every_pooled_connection_answers_its_own(&db).await;
        }
    }
    // The INSERTs ran in autocommit: each is kept or not, once at most.
    let rows: Vec<(i64,)> = db
        .query(text("SELECT id FROM abandoned_ac ORDER BY id"))
        .await
        .unwrap();
    assert!(rows.windows(2).all(|w| w[0] < w[1]) && rows.len() <= 24);
    assert!(replaced > 0, "no poll count cut a statement off midway");
    drop(db);
    my.drop().await;
}

/// A SAVEPOINT's work dropped midway (its guard rolls it back from a task, as a session's
/// flush does): the ROLLBACK TO SAVEPOINT must not read the abandoned INSERT's answer as
/// its own (and leave its own for the next statement, which then read an INSERT "of 0
/// rows"). The rest of the transaction is refused and nothing of it commits, or, where
/// the work finished before the drop, it commits whole; the pool's connections stay in
/// step either way.
#[tokio::test]
async fn a_savepoint_dropped_midway_never_shifts_answers() {
    let Some((my, db)) = fresh("mysql_abandoned_savepoint").await else {
        return;
    };
    db.execute(text("CREATE TABLE abandoned_sp (id INT PRIMARY KEY)"))
        .await
        .unwrap();
    let mut expected: Vec<(i64,)> = Vec::new();
    let mut refused = 0;
    for polls in 1..=12usize {
        // Continued: the transaction runs another statement and commits. Dropped: the
        // transaction and its connection are dropped at once (a session whose commit
        // fails does so), leaving the rollbacks to tasks and the pool.
        for continued in [true, false] {
            let base = i64::try_from(polls * 2).unwrap() * 10 + if continued { 0 } else { 10 };
            let mut conn = db.connection().await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            tx.execute(text(format!("INSERT INTO abandoned_sp VALUES ({base})")))
                .await
                .unwrap();
            let work = async {
                let mut sp = tx.savepoint().await?;
                let ids = sp
                    .query::<(i64,)>(text(format!(
                        "INSERT INTO abandoned_sp VALUES ({}), ({}) RETURNING id",
                        base + 1,
                        base + 2
                    )))
                    .await?;
                sp.commit().await?;
                Ok::<_, Error>(ids)
            };
            let finished = common::poll_then_drop(work, polls).await;
            let sp_done = match finished {
                Some(ids) => {
                    assert_eq!(ids.unwrap(), vec![(base + 1,), (base + 2,)]);
                    true
                }
                None => false,
            };
            if continued {
                let next = tx
                    .query::<(i64,)>(text(format!(
                        "INSERT INTO abandoned_sp VALUES ({}) RETURNING id",
                        base + 3
                    )))
                    .await;
                match next {
                    Ok(ids) => {
                        assert_eq!(ids, vec![(base + 3,)], "{polls} polls: another's answer");
                        tx.commit().await.unwrap();
                        expected.push((base,));
                        if sp_done {
                            expected.push((base + 1,));
                            expected.push((base + 2,));
                        }
                        expected.push((base + 3,));
                    }
                    Err(Error::TransactionAbandoned) => {
                        refused += 1;
                        assert!(matches!(
                            tx.commit().await,
                            Err(Error::TransactionAbandoned)
                        ));
                    }
                    Err(e) => panic!("{polls} polls: {e}"),
                }
            } else {
                drop(tx);
            }
            drop(conn);
            every_pooled_connection_answers_its_own(&db).await;
            let rows: Vec<(i64,)> = db
                .query(text("SELECT id FROM abandoned_sp ORDER BY id"))
                .await
                .unwrap();
            assert_eq!(rows, expected, "{polls} polls, continued {continued}");
        }
    }
    assert!(
        refused > 0,
        "no poll count cut the savepoint's work off midway"
    );
    drop(db);
    my.drop().await;
}

/// A connection the server killed: the statement that meets the loss fails with
/// `ConnectionLost`; the same `Connection`'s next use opens a new connection in its place.
/// Inside a transaction the loss fails the rest of it, commit included, and nothing of it
/// is kept.
#[tokio::test]
async fn a_killed_connection_is_reported_once_then_replaced() {
    let Some((my, db)) = fresh("mysql_killed").await else {
        return;
    };
    db.execute(text("CREATE TABLE killed_tx (id INT PRIMARY KEY)"))
        .await
        .unwrap();
    let mut victim = db.connection().await.unwrap();
    let kill = |id: i64| {
        // The id is the server's own integer, not user input.
        let db = &db;
        async move {
            db.execute(text(format!("KILL CONNECTION {id}")))
                .await
                .unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    };
    let first: i64 = victim
        .query_scalar(text("SELECT CONNECTION_ID()"))
        .await
        .unwrap();
    kill(first).await;
    let err = victim
        .query_scalar::<i64>(text("SELECT 1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    let second: i64 = victim
        .query_scalar(text("SELECT CONNECTION_ID()"))
        .await
        .unwrap();
    assert_ne!(second, first);

    let mut tx = victim.begin().await.unwrap();
    tx.execute(text("INSERT INTO killed_tx VALUES (1)"))
        .await
        .unwrap();
    kill(second).await;
    let err = tx
        .execute(text("INSERT INTO killed_tx VALUES (2)"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    assert!(tx.commit().await.is_err());
    let third: i64 = victim
        .query_scalar(text("SELECT CONNECTION_ID()"))
        .await
        .unwrap();
    assert_ne!(third, second);
    let rows: i64 = victim
        .query_scalar(text("SELECT COUNT(*) FROM killed_tx"))
        .await
        .unwrap();
    assert_eq!(
        rows, 0,
        "a transaction cut off by the loss left rows behind"
    );
    drop(victim);
    drop(db);
    my.drop().await;
}
