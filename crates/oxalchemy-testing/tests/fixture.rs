//! The fixtures against a real server: schemas are isolated and dropped, the ephemeral
//! server starts and answers, temporary SQLite files disappear.

use std::str::FromStr;

use oxalchemy_testing::{pg_schema, postgres_base_url, TempSqliteFile};
use tokio_postgres::{Client, NoTls};

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    tokio::spawn(connection);
    client
}

async fn query_string(client: &Client, sql: &str) -> Option<String> {
    client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

#[tokio::test]
async fn schema_is_usable_and_is_the_search_path() {
    let Some(schema) = pg_schema("schema_is_usable_and_is_the_search_path").await else {
        return;
    };
    let config = tokio_postgres::Config::from_str(&schema.url).expect("url parses");
    assert_eq!(
        config.get_options(),
        Some(format!("-c search_path={}", schema.schema).as_str())
    );

    let client = connect(&schema.url).await;
    assert_eq!(
        query_string(&client, "SELECT current_schema()::text").await,
        Some(schema.schema.clone())
    );
    client
        .batch_execute("CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items VALUES (1)")
        .await
        .expect("create table");
    // The table landed in this test's schema and not in `public`. (Other tests' schemas,
    // including ones a crashed run left behind, may hold tables of the same name.)
    let owner = query_string(
        &client,
        &format!(
            "SELECT table_schema::text FROM information_schema.tables \
             WHERE table_name = 'items' AND table_schema IN ('{}', 'public')",
            schema.schema
        ),
    )
    .await;
    assert_eq!(owner, Some(schema.schema.clone()));
    drop(client);
    schema.drop().await;
}

#[tokio::test]
async fn schemas_are_isolated_from_each_other() {
    let Some(a) = pg_schema("schemas_are_isolated").await else {
        return;
    };
    let Some(b) = pg_schema("schemas_are_isolated").await else {
        return;
    };
    assert_ne!(a.schema, b.schema);

    let ca = connect(&a.url).await;
    let cb = connect(&b.url).await;
    ca.batch_execute("CREATE TABLE only_in_a (id int); CREATE TABLE shared_name (v text)")
        .await
        .expect("create in a");
    // Same table name in the other schema: no conflict.
    cb.batch_execute("CREATE TABLE shared_name (v text); INSERT INTO shared_name VALUES ('b')")
        .await
        .expect("create in b");

    let visible = "SELECT to_regclass('only_in_a')::text";
    assert_eq!(
        query_string(&ca, visible).await,
        Some("only_in_a".to_owned())
    );
    assert_eq!(query_string(&cb, visible).await, None);
    let count: i64 = ca
        .query_one("SELECT count(*) FROM shared_name", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(count, 0, "a's shared_name must not see b's row");

    drop((ca, cb));
    a.drop().await;
    b.drop().await;
}

#[tokio::test]
async fn drop_removes_the_schema() {
    let Some(schema) = pg_schema("drop_removes_the_schema").await else {
        return;
    };
    let name = schema.schema.clone();
    let client = connect(&schema.url).await;
    client
        .batch_execute("CREATE TABLE doomed (id int)")
        .await
        .expect("create table");
    drop(client);
    schema.drop().await;

    let base = postgres_base_url().expect("a schema was created, so there is a server");
    let admin = connect(&base).await;
    let n: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
            &[&name],
        )
        .await
        .expect("query pg_namespace")
        .get(0);
    assert_eq!(n, 0, "schema {name} still exists");
}

#[test]
fn temp_sqlite_file_is_deleted_on_drop() {
    let a = TempSqliteFile::new("temp_sqlite_file_is_deleted_on_drop");
    let b = TempSqliteFile::new("temp_sqlite_file_is_deleted_on_drop");
    assert_ne!(a.path, b.path);
    assert!(!a.path.exists());
    assert_eq!(a.url(), format!("sqlite:///{}", a.path.display()));
    assert!(a.url().starts_with("sqlite:///"));

    let path = a.path.clone();
    let sibling = |suffix: &str| {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        std::path::PathBuf::from(p)
    };
    std::fs::write(&path, b"db").expect("write db file");
    std::fs::write(sibling("-wal"), b"wal").expect("write wal");
    std::fs::write(sibling("-shm"), b"shm").expect("write shm");
    drop(a);
    assert!(!path.exists());
    assert!(!sibling("-wal").exists());
    assert!(!sibling("-shm").exists());
    drop(b); // never created: dropping is still fine
}

#[tokio::test]
async fn ephemeral_server_starts_and_accepts_connections() {
    if let Some(reason) = oxalchemy_testing::ephemeral_unavailable_reason() {
        eprintln!("SKIPPED ephemeral PostgreSQL case: {reason}");
        return;
    }
    let url = oxalchemy_testing::start_ephemeral().expect("start ephemeral PostgreSQL");
    assert!(url.starts_with("postgresql://postgres@127.0.0.1:"), "{url}");
    let client = connect(&url).await;
    let version: i32 = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await
        .expect("query version")
        .get(0);
    assert!(version >= 90000, "{version}");
    let db = query_string(&client, "SELECT current_database()::text").await;
    assert_eq!(db.as_deref(), Some("postgres"));
}
