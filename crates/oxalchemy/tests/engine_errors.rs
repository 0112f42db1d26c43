//! Every error the engine returns, provoked for real against SQLite and PostgreSQL: each test
//! asserts the variant, that `Display` names the cause, and that the driver's error is kept
//! as `source()` where there is one.

mod common;

use std::error::Error as StdError;
use std::time::Duration;

use oxalchemy::prelude::*;
use oxalchemy_testing::TempSqliteFile;

/// The PostgreSQL test server's URL with another user and/or database, or `None` when no
/// server is configured.
fn pg_url(user: Option<&str>, db: Option<&str>) -> Option<String> {
    let base = std::env::var("TEST_DATABASE_URL").ok()?;
    let (scheme, rest) = base.split_once("://")?;
    let (userinfo, hostpath) = rest.rsplit_once('@').unwrap_or(("postgres", rest));
    let (hostport, dbname) = hostpath.split_once('/').unwrap_or((hostpath, "postgres"));
    let dbname = dbname.split('?').next().unwrap_or(dbname);
    Some(format!(
        "{scheme}://{}@{hostport}/{}",
        user.unwrap_or(userinfo),
        db.unwrap_or(dbname)
    ))
}

/// Connects, expecting `Error::Connect`; returns its Display text after checking the common
/// shape (a source is kept, the password is hidden).
async fn connect_error(url: &str) -> String {
    let err = Database::connect(url)
        .pool_timeout(Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(
        err.source().is_some(),
        "the driver's error is kept: {err:?}"
    );
    let shown = err.to_string();
    assert!(
        !shown.contains("db error"),
        "names the server's reason: {shown}"
    );
    shown
}

#[tokio::test]
async fn postgres_connect_failures_name_the_servers_reason() {
    // A refused connection: the operating system's reason.
    let shown = connect_error("postgresql://app:hunter2@127.0.0.1:1/app").await;
    assert!(shown.contains("Connection refused"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");

    let Some(missing_db) = pg_url(None, Some("oxalchemy_no_such_database")) else {
        return;
    };
    let shown = connect_error(&missing_db).await;
    assert!(
        shown.contains("database \"oxalchemy_no_such_database\" does not exist"),
        "{shown}"
    );
    assert!(shown.contains("3D000"), "{shown}");

    let missing_role = pg_url(Some("oxalchemy_no_such_role"), None).unwrap_or_default();
    let shown = connect_error(&missing_role).await;
    assert!(
        shown.contains("role \"oxalchemy_no_such_role\" does not exist"),
        "{shown}"
    );

    // A role whose login is refused. (The test server trusts 127.0.0.1, so a wrong password
    // cannot be provoked; a NOLOGIN role is refused by the same authentication step.)
    let admin = Database::connect(pg_url(None, None).unwrap_or_default())
        .await
        .unwrap();
    let role = format!("oxalchemy_nologin_{}", std::process::id());
    admin
        .execute(text(format!("DROP ROLE IF EXISTS {role}")))
        .await
        .unwrap();
    admin
        .execute(text(format!("CREATE ROLE {role} NOLOGIN PASSWORD 'right'")))
        .await
        .unwrap();
    let refused = pg_url(Some(&format!("{role}:wrong")), None).unwrap_or_default();
    let shown = connect_error(&refused).await;
    admin
        .execute(text(format!("DROP ROLE {role}")))
        .await
        .unwrap();
    assert!(shown.contains("is not permitted to log in"), "{shown}");
    assert!(!shown.contains("wrong"), "the password is hidden: {shown}");
}

/// A wrong password, on a throwaway server of this test's own that asks for one (the shared
/// test server trusts 127.0.0.1, so it cannot refuse a password): the server's reason is in
/// the message, the password is not.
#[tokio::test]
async fn a_wrong_password_names_the_servers_reason() {
    if let Some(reason) = oxalchemy_testing::ephemeral_unavailable_reason() {
        eprintln!("SKIPPED wrong-password case (no initdb/pg_ctl): {reason}");
        return;
    }
    let url = tokio::task::spawn_blocking(|| {
        oxalchemy_testing::start_ephemeral_with_password("right-pw")
    })
    .await
    .expect("the start task finishes")
    .expect("a throwaway PostgreSQL with password authentication starts");
    assert!(url.contains(":right-pw@"), "{url}");

    let db = Database::connect(&url)
        .await
        .expect("the right password connects");
    let one: i32 = db.query_scalar(select([lit(1_i32)])).await.unwrap();
    assert_eq!(one, 1);
    db.close();

    let shown = connect_error(&url.replace(":right-pw@", ":wrong-pw@")).await;
    assert!(
        shown.contains("password authentication failed for user \"postgres\""),
        "{shown}"
    );
    assert!(shown.contains("28P01"), "the SQLSTATE is named: {shown}");
    assert!(
        !shown.contains("wrong-pw"),
        "the password is hidden: {shown}"
    );
}

#[tokio::test]
async fn sqlite_connect_failures_name_the_result_code() {
    let err = Database::connect("sqlite:///nonexistent-dir/x/y.db")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("SQLITE_CANTOPEN"), "{err}");
    // Connect → Sqlite (the result code) → rusqlite's error.
    let cause = err.source().and_then(|s| s.downcast_ref::<Error>());
    assert!(
        matches!(
            cause,
            Some(Error::Sqlite {
                code: "SQLITE_CANTOPEN",
                extended_code: 14,
                ..
            })
        ),
        "{cause:?}"
    );
    assert!(cause.and_then(|c| c.source()).is_some());
}

#[tokio::test]
async fn invalid_urls_and_options_are_typed() {
    let err = Database::connect("oracle://root:hunter2@localhost/db")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err:?}");
    assert!(
        err.to_string().contains("unsupported scheme `oracle`"),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains("hunter2"));

    let err = Database::connect("sqlite:").await.unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err:?}");
    assert!(err.to_string().contains("no file path"), "{err}");

    let err = Database::connect("postgresql://ann:hunter2@db:notaport/app")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err:?}");
    assert!(err.to_string().contains("port"), "{err}");
    assert!(err.source().is_some(), "the parser's error is kept");
    assert!(!format!("{err} {err:?}").contains("hunter2"));

    let err = Database::connect("sqlite::memory:")
        .pool_size(0)
        .await
        .unwrap_err();
    match &err {
        Error::InvalidOption { option, .. } => assert_eq!(*option, "pool_size"),
        other => panic!("expected InvalidOption, got {other:?}"),
    }
    assert!(err.to_string().contains("pool_size"), "{err}");
}

#[tokio::test]
async fn sqlite_busy_is_typed_with_its_result_code() {
    let file = TempSqliteFile::new("engine_errors_busy");
    // Two pools on one file: the second one's writer waits on the file's shared write queue
    // and gives up after busy_timeout.
    let first = Database::connect(file.url()).await.unwrap();
    let second = Database::connect(file.url())
        .busy_timeout(Duration::from_millis(100))
        .await
        .unwrap();
    first
        .execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        .await
        .unwrap();
    let mut holder = first.connection().await.unwrap();
    let tx = holder.begin().await.unwrap();
    let err = second
        .execute(text("INSERT INTO t (id) VALUES (1)"))
        .await
        .unwrap_err();
    match &err {
        Error::Sqlite {
            code,
            extended_code,
            ..
        } => assert_eq!((*code, *extended_code & 0xff), ("SQLITE_BUSY", 5)),
        other => panic!("expected Sqlite, got {other:?}"),
    }
    let shown = err.to_string();
    assert!(shown.contains("SQLITE_BUSY"), "{shown}");
    assert!(shown.contains("busy_timeout"), "says what to do: {shown}");
    assert!(err.source().is_some());
    drop(tx);

    // Within one pool, a second writer queues for the writer slot and gives up after
    // busy_timeout with the same code.
    let third = Database::connect(file.url())
        .busy_timeout(Duration::from_millis(100))
        .await
        .unwrap();
    let mut a = third.connection().await.unwrap();
    let _held = a.begin().await.unwrap();
    let mut b = third.connection().await.unwrap();
    let err = b.begin().await.unwrap_err();
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
    assert!(err.to_string().contains("write lock"), "{err}");
}

#[tokio::test]
async fn sqlite_errors_without_a_typed_variant_keep_their_extended_code() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    db.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)"))
        .await
        .unwrap();
    db.execute(text(
        "CREATE TRIGGER no_negatives BEFORE INSERT ON t WHEN NEW.n < 0 \
         BEGIN SELECT RAISE(ABORT, 'n must not be negative'); END",
    ))
    .await
    .unwrap();
    let err = db
        .execute(text("INSERT INTO t (n) VALUES (-1)"))
        .await
        .unwrap_err();
    match &err {
        Error::Sqlite {
            code,
            extended_code,
            message,
            ..
        } => {
            // SQLITE_CONSTRAINT_TRIGGER
            assert_eq!((*code, *extended_code), ("SQLITE_CONSTRAINT", 1811));
            assert!(message.contains("n must not be negative"), "{message}");
        }
        other => panic!("expected Sqlite, got {other:?}"),
    }
    assert!(err.to_string().contains("SQLITE_CONSTRAINT"), "{err}");
    assert!(!err.to_string().contains("SQLSTATE"), "{err}");
}

#[tokio::test]
async fn postgres_errors_carry_sqlstate_detail_and_hint() {
    let Some(t) = common::postgres_target("engine_errors_pg").await else {
        return;
    };
    let db = t.connect().await;
    let err = db
        .execute(text(
            "DO $$ BEGIN RAISE EXCEPTION 'boom' USING DETAIL = 'the detail', \
             HINT = 'the hint', ERRCODE = 'P0001'; END $$",
        ))
        .await
        .unwrap_err();
    match &err {
        Error::Database {
            code,
            message,
            detail,
            hint,
            ..
        } => {
            assert_eq!(code.as_deref(), Some("P0001"));
            assert_eq!(message, "boom");
            assert_eq!(detail.as_deref(), Some("the detail"));
            assert_eq!(hint.as_deref(), Some("the hint"));
        }
        other => panic!("expected Database, got {other:?}"),
    }
    assert_eq!(err.sqlstate(), Some("P0001"));
    let shown = err.to_string();
    for part in [
        "SQLSTATE P0001",
        "boom",
        "detail: the detail",
        "hint: the hint",
    ] {
        assert!(shown.contains(part), "{part}: {shown}");
    }
    assert!(err.source().is_some());

    // A value the driver cannot send never reaches the server: no SQLSTATE, the cause kept.
    let err = db
        .execute(text("SELECT CAST(:x AS uuid)").bind("x", 5i64))
        .await
        .unwrap_err();
    match &err {
        Error::Database { code: None, .. } => {}
        other => panic!("expected Database without a code, got {other:?}"),
    }
    assert!(err.to_string().contains("uuid"), "{err}");
    assert!(err.source().is_some());
    t.finish().await;
}

#[tokio::test]
async fn a_killed_backend_is_connection_lost() {
    let Some(t) = common::postgres_target("engine_errors_lost").await else {
        return;
    };
    let db = t.connect().await;
    let mut victim = db.connection().await.unwrap();
    let pid: i32 = victim
        .query_scalar(text("SELECT pg_backend_pid()"))
        .await
        .unwrap();
    let killed: bool = db
        .query_scalar(text("SELECT pg_terminate_backend(:pid)").bind("pid", pid))
        .await
        .unwrap();
    assert!(killed);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let err = victim
        .query_scalar::<i32>(text("SELECT 1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    assert!(err.to_string().contains("lost"), "{err}");
    assert!(err.source().is_some());
    // The loss was reported once; the same `Connection`'s next use opens a new one.
    let new_pid: i32 = victim
        .query_scalar(text("SELECT pg_backend_pid()"))
        .await
        .unwrap();
    assert_ne!(new_pid, pid);

    // Inside a transaction: its statements and its commit fail, none of it is kept,
    // and once it has ended the connection is replaced in the same way.
    victim
        .execute(text("CREATE TABLE lost_in_tx (id INT)"))
        .await
        .unwrap();
    let mut tx = victim.begin().await.unwrap();
    tx.execute(text("INSERT INTO lost_in_tx VALUES (1)"))
        .await
        .unwrap();
    let killed: bool = db
        .query_scalar(text("SELECT pg_terminate_backend(:pid)").bind("pid", new_pid))
        .await
        .unwrap();
    assert!(killed);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let err = tx
        .execute(text("INSERT INTO lost_in_tx VALUES (2)"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    let err = tx.commit().await.unwrap_err();
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    let third_pid: i32 = victim
        .query_scalar(text("SELECT pg_backend_pid()"))
        .await
        .unwrap();
    assert_ne!(third_pid, new_pid);
    let rows: i64 = victim
        .query_scalar(text("SELECT count(*) FROM lost_in_tx"))
        .await
        .unwrap();
    assert_eq!(
        rows, 0,
        "a transaction cut off by the loss left rows behind"
    );
    drop(victim);
    drop(db);
    t.finish().await;
}

#[tokio::test]
async fn pool_errors_are_typed() {
    let file = TempSqliteFile::new("engine_errors_pool");
    let db = Database::connect(file.url())
        .pool_size(1)
        .max_overflow(0)
        .pool_timeout(Duration::from_millis(50))
        .await
        .unwrap();
    let held = db.connection().await.unwrap();
    let err = db.connection().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::PoolTimeout {
                pool_size: 1,
                max_overflow: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("waiting for a pooled connection"),
        "{err}"
    );
    drop(held);

    db.close();
    let err = db.connection().await.unwrap_err();
    assert!(matches!(err, Error::PoolClosed), "{err:?}");
    assert!(err.to_string().contains("closed"), "{err}");
}

#[tokio::test]
async fn row_count_and_decode_errors_name_the_cause() {
    for t in common::all_targets("engine_errors_rows").await {
        let db = t.connect().await;
        let two = || text("SELECT 1 AS n UNION ALL SELECT 2 AS n");
        let err = db.query_one::<(i64,)>(two()).await.unwrap_err();
        assert!(
            matches!(err, Error::MultipleResults { count: 2 }),
            "{err:?}"
        );
        assert!(err.to_string().contains("returned 2 rows"), "{err}");

        let none = text("SELECT 1 AS n WHERE 1 = 0");
        let err = db.query_one::<(i64,)>(none).await.unwrap_err();
        assert!(matches!(err, Error::NotFound), "{err:?}");
        assert!(err.to_string().contains("no rows"), "{err}");

        let err = db
            .query_one::<(i64,)>(text("SELECT NULL AS maybe"))
            .await
            .unwrap_err();
        match &err {
            Error::Decode {
                column, rust_type, ..
            } => assert_eq!((column.as_str(), *rust_type), ("maybe", "i64")),
            other => panic!("[{}] expected Decode, got {other:?}", t.label),
        }
        assert!(err.to_string().contains("unexpected NULL"), "{err}");
        t.finish().await;
    }
}

#[tokio::test]
async fn misuse_is_a_mapping_error_and_finished_nested_transactions_are_typed() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let mut conn = db.connection().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    let err = tx
        .begin_isolated(oxalchemy::engine::IsolationLevel::Serializable)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Mapping { .. }), "{err:?}");
    assert!(err.to_string().contains("savepoint"), "{err}");
    tx.rollback().await.unwrap();
    drop(conn);

    let mut session = db.session();
    let err = session.commit_nested().await.unwrap_err();
    assert!(matches!(err, Error::TransactionFinished), "{err:?}");
    assert!(err.to_string().contains("already finished"), "{err}");
}

/// A password holding URL delimiters (`/ ? #`): the URL connects, and neither `Display`,
/// `Debug` nor an error shows any part of the password (issue 10 item 4).
#[tokio::test]
async fn passwords_with_url_delimiters_never_show() {
    let Some(url) = pg_url(Some("postgres:pw/with?sl#ash"), None) else {
        return;
    };
    let db = Database::connect(&url).await.expect("the URL connects");
    let shown = format!("{db} {db:?}");
    assert!(
        !shown.contains("pw/with") && !shown.contains("sl#ash"),
        "{shown}"
    );
    assert!(shown.contains("***"), "{shown}");
    let err = db
        .execute(text("SELECT * FROM oxalchemy_no_such_table"))
        .await
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("pw/with") && !shown.contains("sl#ash"),
        "{shown}"
    );
    // A connect failure with the same password: the message names the server, not the secret.
    let refused = connect_error("postgresql://app:pw/with?sl#ash@127.0.0.1:1/app").await;
    assert!(
        !refused.contains("pw/with") && !refused.contains("sl#ash"),
        "{refused}"
    );
}
