//! Database URLs as users write them: SQLAlchemy's and sqlx's SQLite forms, SQLite's URL
//! parameters acting on the real file, PostgreSQL's parameters reaching the server, and
//! unknown parameters named in the error.

use oxalchemy::{text, Database, Error};
use oxalchemy_testing::{pg_schema, TempSqliteFile};

#[tokio::test]
async fn the_query_string_never_becomes_part_of_the_file_name() {
    let file = TempSqliteFile::new("url_query_string");
    let url = format!(
        "sqlite:///{}?mode=rwc&busy_timeout=200",
        file.path.display()
    );
    let db = Database::connect(&url).await.expect("connect");
    db.execute(text("CREATE TABLE t (x INTEGER)"))
        .await
        .expect("create");
    drop(db);
    assert!(file.path.exists(), "{:?} was created", file.path);
    let names: Vec<String> = std::fs::read_dir(file.dir())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains('?')), "{names:?}");
}

#[tokio::test]
async fn mode_ro_refuses_writes_and_mode_rw_refuses_a_missing_file() {
    let file = TempSqliteFile::new("url_mode_ro");
    let rw = Database::connect(format!("sqlite:///{}", file.path.display()))
        .await
        .expect("connect");
    rw.execute(text("CREATE TABLE t (x INTEGER)"))
        .await
        .expect("create");
    rw.execute(text("INSERT INTO t VALUES (1)"))
        .await
        .expect("insert");
    rw.close();
    drop(rw);

    let ro = Database::connect(format!("sqlite:///{}?mode=ro", file.path.display()))
        .await
        .expect("connect read-only");
    let n: i64 = ro
        .query_scalar(text("SELECT count(*) FROM t"))
        .await
        .expect("read");
    assert_eq!(n, 1);
    let err = ro
        .execute(text("INSERT INTO t VALUES (2)"))
        .await
        .expect_err("read-only");
    assert!(err.to_string().contains("SQLITE_READONLY"), "{err}");

    let missing = file.dir().join("missing.db");
    let err = Database::connect(format!("sqlite:///{}?mode=rw", missing.display()))
        .await
        .expect_err("rw does not create");
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(!missing.exists());
}

#[tokio::test]
async fn foreign_keys_off_and_journal_mode_apply_to_every_connection() {
    let file = TempSqliteFile::new("url_pragmas");
    let url = format!(
        "sqlite:///{}?foreign_keys=off&journal_mode=delete",
        file.path.display()
    );
    let db = Database::connect(&url).pool_size(2).await.expect("connect");
    let mut a = db.connection().await.expect("a");
    let mut b = db.connection().await.expect("b");
    for conn in [&mut a, &mut b] {
        let fk: i64 = conn
            .query_scalar(text("PRAGMA foreign_keys"))
            .await
            .expect("fk");
        assert_eq!(fk, 0);
        let mode: String = conn
            .query_scalar(text("PRAGMA journal_mode"))
            .await
            .expect("journal");
        assert_eq!(mode, "delete");
    }
    drop((a, b));
    // The default: foreign keys on, WAL.
    let db = Database::connect(format!("sqlite:///{}", file.path.display()).replace("?", ""))
        .await
        .expect("connect");
    let fk: i64 = db
        .query_scalar(text("PRAGMA foreign_keys"))
        .await
        .expect("fk");
    assert_eq!(fk, 1);
}

#[tokio::test]
async fn memory_forms_are_private_in_memory_databases() {
    for url in [
        "sqlite://",
        "sqlite::memory:",
        "sqlite:///:memory:",
        "sqlite:///x.db?mode=memory",
    ] {
        let db = Database::connect(url).await.expect(url);
        db.execute(text("CREATE TABLE t (x INTEGER)"))
            .await
            .expect(url);
        let other = Database::connect(url).await.expect(url);
        let err = other.execute(text("SELECT * FROM t")).await;
        assert!(
            err.is_err(),
            "{url}: a second Database is a second database"
        );
    }
    assert!(!std::path::Path::new("x.db").exists());
}

#[tokio::test]
async fn unknown_parameters_are_named_on_both_backends() {
    let err = Database::connect("sqlite:///x.db?jornal_mode=wal")
        .await
        .expect_err("unknown");
    assert!(
        matches!(&err, Error::UnknownUrlParameter { parameter, .. } if parameter == "jornal_mode"),
        "{err:?}"
    );
    assert!(err.to_string().contains("journal_mode"), "{err}");

    let err = Database::connect("postgresql://ann:hunter2@127.0.0.1/app?statment_timeout=5s")
        .await
        .expect_err("unknown");
    assert!(
        matches!(&err, Error::UnknownUrlParameter { parameter, .. } if parameter == "statment_timeout"),
        "{err:?}"
    );
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("statement_timeout") && !shown.contains("hunter2"),
        "{shown}"
    );
}

#[tokio::test]
async fn postgres_parameters_reach_the_server() {
    let Some(schema) = pg_schema("url_pg_params").await else {
        return;
    };
    let url = format!(
        "{}{}application_name=oxalchemy-url-test&statement_timeout=1234ms&lock_timeout=2s&connect_timeout=5&target_session_attrs=any",
        schema.url,
        if schema.url.contains('?') { "&" } else { "?" }
    );
    let db = Database::connect(&url).await.expect("connect");
    let (app, timeout, lock, path): (String, String, String, String) = db
        .query_one(text(
            "SELECT current_setting('application_name'), current_setting('statement_timeout'), \
             current_setting('lock_timeout'), current_setting('search_path')",
        ))
        .await
        .expect("settings");
    assert_eq!(app, "oxalchemy-url-test");
    assert_eq!(timeout, "1234ms");
    assert_eq!(lock, "2s");
    assert!(path.contains(&schema.schema), "{path}");
    db.close();
    schema.drop().await;
}

#[tokio::test]
async fn three_slashes_are_relative_to_the_working_directory() {
    let name = format!("oxalchemy-url-relative-{}.db", std::process::id());
    let here = std::env::current_dir().expect("cwd").join(&name);
    let db = Database::connect(format!("sqlite:///{name}"))
        .await
        .expect("connect");
    db.execute(text("CREATE TABLE t (x INTEGER)"))
        .await
        .expect("create");
    db.close();
    drop(db);
    let created = here.exists();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", here.display()));
    }
    assert!(created, "{} was created", here.display());
    assert!(!std::path::Path::new(&format!("/{name}")).exists());
}

#[tokio::test]
async fn immutable_and_shared_cache_files_read() {
    let file = TempSqliteFile::new("url_immutable");
    let db = Database::connect(file.url()).await.expect("connect");
    db.execute(text("CREATE TABLE t (x INTEGER)"))
        .await
        .expect("create");
    db.execute(text("INSERT INTO t VALUES (7)"))
        .await
        .expect("insert");
    // Back to a rollback journal, so an immutable reader needs no -wal file.
    db.execute(text("PRAGMA journal_mode = DELETE"))
        .await
        .expect("journal");
    db.close();
    drop(db);
    for params in ["immutable=1", "cache=shared&mode=ro"] {
        let ro = Database::connect(format!("{}?{params}", file.url()))
            .await
            .expect(params);
        let x: i64 = ro
            .query_scalar(text("SELECT x FROM t"))
            .await
            .expect(params);
        assert_eq!(x, 7, "{params}");
    }
}
