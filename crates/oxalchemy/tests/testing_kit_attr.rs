//! `#[oxalchemy::test]` on SQLite (memory and file) and PostgreSQL: what each kind of test
//! function receives, schemas from models and from migrations, SQL and Rust fixtures, the
//! rollback fixture (nothing committed, nothing left on the server) against `fresh` (real
//! commits), and a PostgreSQL case without a server failing — or, opted in, skipping.

mod blog;
mod child_case;

#[path = "../examples/migrate_demo/migrations/mod.rs"]
#[allow(
    unreachable_pub,
    reason = "written by `migrate revision`: its items are `pub` so a library crate can re-export its migrations"
)]
mod migrations;

use blog::*;
use oxalchemy::orm::Session;
use oxalchemy::prelude::*;
use oxalchemy::testing::{Backend, TestCase, TestContext, TestTransaction};

fn new_user(name: &str) -> User {
    User {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        settings: serde_json::json!({}),
        ..Default::default()
    }
}

/// A Rust fixture: one user with two posts.
async fn seed_cyd(s: &mut Session) -> Result<(), Error> {
    let cyd = s.add(new_user("cyd"));
    for title in ["first", "second"] {
        let post = s.add(Post {
            title: title.into(),
            ..Default::default()
        });
        s.link(post, Post::author, cyd)?;
    }
    Ok(())
}

async fn count(s: &mut Session, table: &str) -> Result<i64, Error> {
    let rows: Vec<(i64,)> = s
        .select(text(format!("SELECT count(*) FROM {table}")))
        .await?;
    Ok(rows[0].0)
}

// A session inside the rollback fixture: the fixtures ran (SQL file, then Rust function),
// and the code under test's commit is a SAVEPOINT release, never a COMMIT.
#[oxalchemy::test(
    sqlite,
    sqlite_file,
    postgres,
    schema = blog::registry,
    fixtures("tests/fixtures/testing_kit_users.sql", seed_cyd)
)]
async fn session_in_the_rollback_fixture(mut s: Session) -> Result<(), Error> {
    assert_eq!(count(&mut s, "users").await?, 3);
    assert_eq!(count(&mut s, "posts").await?, 2);
    s.add(new_user("dan"));
    s.commit().await?;
    assert_eq!(count(&mut s, "users").await?, 4);
    assert!(
        s.statements().iter().all(|sql| sql != "COMMIT"),
        "{:?}",
        s.statements()
    );
    Ok(())
}

// The same schema in the next test is empty again: every test has its own.
#[oxalchemy::test(sqlite, postgres, schema = blog::registry)]
async fn every_test_starts_empty(s: &mut Session) -> Result<(), Error> {
    assert_eq!(count(s, "users").await?, 0);
    s.add(new_user("eve"));
    s.flush().await?;
    assert_eq!(count(s, "users").await?, 1);
    Ok(())
}

// A connection inside the rollback fixture: its transactions are SAVEPOINTs.
#[oxalchemy::test(sqlite, sqlite_file, postgres, schema = blog::registry)]
async fn connection_in_the_rollback_fixture(conn: &mut Connection) -> Result<(), Error> {
    assert!(conn.in_transaction());
    let mut tx = conn.begin().await?;
    assert!(tx.is_savepoint());
    tx.execute(text("INSERT INTO tags (name) VALUES (:name)").bind("name", "rust"))
        .await?;
    tx.commit().await?;
    let tags: i64 = conn.query_scalar(text("SELECT count(*) FROM tags")).await?;
    assert_eq!(tags, 1);
    Ok(())
}

// The whole context: the fixture's sessions beside the database outside it. On PostgreSQL
// the test's schema exists only inside the test transaction, so a connection of its own
// does not see the table at all.
#[oxalchemy::test(postgres, schema = blog::registry)]
async fn context_outside_the_fixture_sees_nothing(ctx: &TestContext) -> Result<(), Error> {
    ctx.session_scope(async |s| {
        s.add(new_user("fay"));
        Ok::<_, Error>(())
    })
    .await?;
    let mut s = ctx.session();
    assert_eq!(count(&mut s, "users").await?, 1);
    s.close().await?;
    let mut outside = ctx.database().connection().await?;
    let err = outside
        .query_scalar::<i64>(text("SELECT count(*) FROM users"))
        .await
        .expect_err("the table exists only inside the test transaction");
    assert!(err.to_string().contains("users"), "{err}");
    Ok(())
}

// `&TestTransaction`: code under test that takes a session source.
#[oxalchemy::test(sqlite, postgres, schema = blog::registry)]
async fn test_transaction_as_a_session_source(outer: &TestTransaction) {
    outer
        .session_scope(async |s| {
            s.add(new_user("gus"));
            Ok::<_, Error>(())
        })
        .await
        .unwrap();
    let mut s = outer.session();
    assert_eq!(count(&mut s, "users").await.unwrap(), 1);
}

// `fresh`: a database of the test's own with real commits, seen by a second connection.
#[oxalchemy::test(sqlite, sqlite_file, postgres, fresh, schema = blog::registry, fixtures(seed_cyd))]
async fn fresh_database_commits_for_real(db: Database) -> Result<(), Error> {
    db.session_scope(async |s| {
        s.add(new_user("hal"));
        Ok::<_, Error>(())
    })
    .await?;
    let users: i64 = db.query_scalar(text("SELECT count(*) FROM users")).await?;
    assert_eq!(users, 2);
    Ok(())
}

// `fresh` with a connection: a pooled one of the test's own database, autocommitting.
#[oxalchemy::test(sqlite, sqlite_file, postgres, fresh, schema = blog::registry)]
async fn fresh_connection_commits_for_real(conn: &mut Connection) -> Result<(), Error> {
    assert!(!conn.in_transaction());
    conn.execute(text("INSERT INTO tags (name) VALUES (:name)").bind("name", "rust"))
        .await?;
    let tags: i64 = conn.query_scalar(text("SELECT count(*) FROM tags")).await?;
    assert_eq!(tags, 1);
    Ok(())
}

// `&Database` with `fresh`: a second connection sees what the first committed.
#[oxalchemy::test(sqlite_file, postgres, fresh, schema = blog::registry)]
async fn fresh_database_by_reference(db: &Database) -> Result<(), Error> {
    let mut first = db.connection().await?;
    first
        .execute(text("INSERT INTO tags (name) VALUES (:name)").bind("name", "sql"))
        .await?;
    let mut second = db.connection().await?;
    let tags: i64 = second
        .query_scalar(text("SELECT count(*) FROM tags"))
        .await?;
    assert_eq!(tags, 1);
    Ok(())
}

// The schema from the example project's migrations (version table included).
#[oxalchemy::test(sqlite, postgres, migrations = migrations::ALL, fixtures("tests/fixtures/testing_kit_users.sql"))]
async fn schema_from_migrations(conn: &mut Connection) -> anyhow::Result<()> {
    let users: i64 = conn
        .query_scalar(text("SELECT count(*) FROM users"))
        .await?;
    assert_eq!(users, 2);
    let applied = oxalchemy::migrate::migration::applied(conn).await?;
    let revisions: Vec<&str> = applied.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(revisions, [migrations::ALL[0].revision]);
    Ok(())
}

/// Schemas on the server whose names start as the test kit names this test's.
async fn schemas_named_like(test_name: &str) -> i64 {
    let url = std::env::var("TEST_DATABASE_URL").expect("this check needs TEST_DATABASE_URL");
    let db = Database::connect(url).await.unwrap();
    let prefix = format!("t_{test_name}_{}_", std::process::id());
    db.query_scalar(
        text("SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, :prefix)")
            .bind("prefix", prefix),
    )
    .await
    .unwrap()
}

#[test]
fn postgres_cases_leave_no_schema_behind() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        // Without a server URL the test kit's own server is ephemeral: nothing can stay.
        return;
    }
    for name in ["kit_leave_rollback", "kit_leave_fresh"] {
        let case = TestCase::new(name).schema(registry());
        let case = if name.ends_with("fresh") {
            case.fresh()
        } else {
            case
        };
        case.run(Backend::Postgres, async |ctx| {
            ctx.session_scope(async |s| {
                s.add(new_user("ivy"));
                Ok::<_, Error>(())
            })
            .await
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert_eq!(runtime.block_on(schemas_named_like(name)), 0, "{name}");
    }
}

/// A failing body fails the test, and the teardown still ran (the schema is gone).
#[test]
fn a_failing_body_fails_the_case_and_still_tears_down() {
    let panicked = std::panic::catch_unwind(|| {
        TestCase::new("kit_failing_body")
            .fresh()
            .schema(registry())
            .run(Backend::Postgres, async |_ctx| {
                Err::<(), _>(Error::NotFound)
            })
    });
    let message = match panicked {
        Err(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default(),
        Ok(()) => {
            // Only a skipped PostgreSQL case returns without running.
            assert!(std::env::var("OXALCHEMY_TEST_SKIP_POSTGRES").is_ok());
            return;
        }
    };
    assert!(message.contains("kit_failing_body"), "{message}");
    assert!(message.contains("NotFound"), "{message}");
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert_eq!(runtime.block_on(schemas_named_like("kit_failing_body")), 0);
    }
}

// Run again as a child process without a server by the test below.
#[oxalchemy::test(postgres)]
async fn needs_postgres(conn: &mut Connection) -> Result<(), Error> {
    let one: i32 = conn.query_scalar(text("SELECT 1")).await?;
    assert_eq!(one, 1);
    Ok(())
}

/// Runs `needs_postgres::postgres` in a child process that has no PostgreSQL: no
/// `TEST_DATABASE_URL`, ephemeral servers off.
fn run_without_postgres(skip: Option<&str>) -> (bool, String) {
    let mut set = vec![("OXALCHEMY_TEST_EPHEMERAL", "0")];
    set.extend(skip.map(|value| ("OXALCHEMY_TEST_SKIP_POSTGRES", value)));
    child_case::run_case(
        "needs_postgres::postgres",
        &set,
        &["TEST_DATABASE_URL", "OXALCHEMY_TEST_SKIP_POSTGRES"],
    )
}

#[test]
fn without_postgres_a_case_fails_saying_how_to_get_one_or_skips_visibly_when_asked() {
    let (passed, output) = run_without_postgres(None);
    assert!(!passed, "{output}");
    assert!(output.contains("has no server"), "{output}");
    assert!(output.contains("Set TEST_DATABASE_URL"), "{output}");
    assert!(
        output.contains("OXALCHEMY_TEST_SKIP_POSTGRES=1"),
        "{output}"
    );
    assert!(output.contains("1 failed"), "{output}");

    let (passed, output) = run_without_postgres(Some("1"));
    assert!(passed, "{output}");
    assert!(
        output.contains("SKIPPED PostgreSQL case `testing_kit_attr::needs_postgres`"),
        "{output}"
    );
}
