//! `#[oxalchemy::test(mysql)]` on MariaDB / MySQL: a database of the test's own on the
//! `TEST_MYSQL_URL` server, the rollback fixture inside it (the schema's tables committed
//! first, since MySQL's DDL commits), `fresh` with real commits, nothing left on the server
//! afterwards, and a case without a server failing — or, opted in, skipping.

mod blog;
mod child_case;

use blog::*;
use oxalchemy::orm::Session;
use oxalchemy::prelude::*;
use oxalchemy::testing::{Backend, TestCase, TestContext};

fn new_user(name: &str) -> User {
    User {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        settings: serde_json::json!({}),
        ..Default::default()
    }
}

async fn seed_cyd(s: &mut Session) -> Result<(), Error> {
    let cyd = s.add(new_user("cyd"));
    let post = s.add(Post {
        title: "first".into(),
        ..Default::default()
    });
    s.link(post, Post::author, cyd)?;
    Ok(())
}

async fn count(s: &mut Session, table: &str) -> Result<i64, Error> {
    let rows: Vec<(i64,)> = s
        .select(text(format!("SELECT count(*) FROM {table}")))
        .await?;
    Ok(rows[0].0)
}

// The rollback fixture on MariaDB: the fixtures ran, the code under test's commit is a
// SAVEPOINT release, and a connection outside the fixture sees none of it.
#[oxalchemy::test(
    mysql,
    schema = blog::registry,
    fixtures("tests/fixtures/testing_kit_users.sql", seed_cyd)
)]
async fn mysql_session_in_the_rollback_fixture(ctx: &TestContext) -> Result<(), Error> {
    assert_eq!(ctx.backend(), Backend::Mysql);
    let mut s = ctx.session();
    assert_eq!(count(&mut s, "users").await?, 3);
    assert_eq!(count(&mut s, "posts").await?, 1);
    s.add(new_user("dan"));
    s.commit().await?;
    assert_eq!(count(&mut s, "users").await?, 4);
    assert!(
        s.statements().iter().all(|sql| sql != "COMMIT"),
        "{:?}",
        s.statements()
    );
    s.close().await?;
    // The table exists (committed before the fixture began) but its rows do not, outside.
    let mut outside = ctx.database().connection().await?;
    let users: i64 = outside
        .query_scalar(text("SELECT count(*) FROM users"))
        .await?;
    assert_eq!(users, 0);
    Ok(())
}

// Every test has a database of its own: the same tables start empty again.
#[oxalchemy::test(mysql, schema = blog::registry)]
async fn mysql_every_test_starts_empty(s: &mut Session) -> Result<(), Error> {
    assert_eq!(count(s, "users").await?, 0);
    s.add(new_user("eve"));
    s.flush().await?;
    assert_eq!(count(s, "users").await?, 1);
    let db: Vec<(String,)> = s.select(text("SELECT DATABASE()")).await?;
    assert!(db[0].0.starts_with("t_"), "{:?}", db);
    Ok(())
}

// `fresh`: real commits, seen by a second connection of the pool.
#[oxalchemy::test(mysql, fresh, schema = blog::registry, fixtures(seed_cyd))]
async fn mysql_fresh_database_commits_for_real(db: Database) -> Result<(), Error> {
    db.session_scope(async |s| {
        s.add(new_user("hal"));
        Ok::<_, Error>(())
    })
    .await?;
    let users: i64 = db.query_scalar(text("SELECT count(*) FROM users")).await?;
    assert_eq!(users, 2);
    Ok(())
}

/// Databases on the server whose names start as the test kit names this test's.
async fn databases_named_like(test_name: &str) -> i64 {
    let db = Database::connect(oxalchemy::testing::mysql_base_url())
        .await
        .unwrap();
    let prefix = format!("t_{test_name}_{}_", std::process::id());
    db.query_scalar(
        text(
            "SELECT count(*) FROM information_schema.SCHEMATA \
             WHERE LEFT(SCHEMA_NAME, CHAR_LENGTH(:prefix)) = :prefix",
        )
        .bind("prefix", prefix),
    )
    .await
    .unwrap()
}

#[test]
fn mysql_cases_leave_no_database_behind() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for name in ["kit_my_leave_rollback", "kit_my_leave_fresh"] {
        let case = TestCase::new(name).schema(registry());
        let case = if name.ends_with("fresh") {
            case.fresh()
        } else {
            case
        };
        let seen = std::cell::Cell::new(0);
        case.run(Backend::Mysql, async |ctx| {
            // While the case runs, its database is there.
            seen.set(databases_named_like(name).await);
            ctx.session_scope(async |s| {
                s.add(new_user("ivy"));
                Ok::<_, Error>(())
            })
            .await
        });
        if std::env::var("OXALCHEMY_TEST_SKIP_MYSQL").is_ok() && seen.get() == 0 {
            continue;
        }
        assert_eq!(seen.get(), 1, "{name}");
        assert_eq!(runtime.block_on(databases_named_like(name)), 0, "{name}");
    }
}

// Run again as a child process without a server by the test below.
#[oxalchemy::test(mysql)]
async fn needs_mysql(conn: &mut Connection) -> Result<(), Error> {
    let one: i64 = conn.query_scalar(text("SELECT 1")).await?;
    assert_eq!(one, 1);
    Ok(())
}

/// Runs `needs_mysql::mysql` in a child process whose `TEST_MYSQL_URL` names a port where
/// nothing listens.
fn run_without_mysql(skip: Option<&str>) -> (bool, String) {
    let mut set = vec![(
        "TEST_MYSQL_URL",
        "mysql://root@127.0.0.1:1/test?ssl-mode=disabled",
    )];
    set.extend(skip.map(|value| ("OXALCHEMY_TEST_SKIP_MYSQL", value)));
    child_case::run_case("needs_mysql::mysql", &set, &["OXALCHEMY_TEST_SKIP_MYSQL"])
}

#[test]
fn without_mysql_a_case_fails_saying_how_to_get_one_or_skips_visibly_when_asked() {
    let (passed, output) = run_without_mysql(None);
    assert!(!passed, "{output}");
    assert!(output.contains("has no server"), "{output}");
    assert!(output.contains("TEST_MYSQL_URL"), "{output}");
    assert!(output.contains("OXALCHEMY_TEST_SKIP_MYSQL=1"), "{output}");
    assert!(output.contains("1 failed"), "{output}");

    let (passed, output) = run_without_mysql(Some("1"));
    assert!(passed, "{output}");
    assert!(
        output.contains("SKIPPED MySQL case `testing_kit_mysql::needs_mysql`"),
        "{output}"
    );
}
