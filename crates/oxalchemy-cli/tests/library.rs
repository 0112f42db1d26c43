//! The library entry point's guarantees: its future is `Send`; the lints of pending
//! migrations reach the user even when the run fails; offline `--sql` resolves `--from` and
//! targets on the graph; `status` shows everything on one screen; `applied_at` is a real
//! timestamp, and version tables written by earlier releases are converted in place.

use oxalchemy_cli::{run, CliError, Config};
use oxalchemy_core::schema::{Column, MetaData, Table};
use oxalchemy_core::SqlType;
use oxalchemy_migrate::migration::Migration;
use oxalchemy_migrate::ops::Ops;
use oxalchemy_testing::{pg_schema, TempSqliteFile};

fn up1(ops: &mut Ops) {
    ops.create_table(
        Table::new("players")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::Text).not_null()),
    );
}
fn down1(ops: &mut Ops) {
    ops.drop_table("players");
}
fn up2(ops: &mut Ops) {
    ops.add_column("players", Column::new("nick", SqlType::Text));
}
fn down2(ops: &mut Ops) {
    ops.drop_column("players", "nick");
}
/// What autogenerate wrote in the issue: a NOT NULL column without a default.
fn up3(ops: &mut Ops) {
    ops.add_column("players", Column::new("score", SqlType::Double).not_null());
}
fn down3(ops: &mut Ops) {
    ops.drop_column("players", "score");
}

const TWO: &[Migration] = &[
    Migration {
        revision: "p1",
        down_revisions: &[],
        message: "create players",
        created: "2026-11-29",
        upgrade: up1,
        downgrade: down1,
    },
    Migration {
        revision: "p2",
        down_revisions: &["p1"],
        message: "add nick",
        created: "2026-11-29",
        upgrade: up2,
        downgrade: down2,
    },
];

const THREE: &[Migration] = &[
    TWO[0],
    TWO[1],
    Migration {
        revision: "p3",
        down_revisions: &["p2"],
        message: "add score",
        created: "2026-11-29",
        upgrade: up3,
        downgrade: down3,
    },
];

/// The models at `p2`, plus a `score` column autogenerate would add.
fn models() -> MetaData {
    let mut md = MetaData::new();
    md.add(
        Table::new("players")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::Text).not_null())
            .column(Column::new("nick", SqlType::Text))
            .column(Column::new("rank", SqlType::Integer)),
    );
    md
}

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

async fn go(url: &str, migrations: &[Migration], cmd: &str) -> Result<String, CliError> {
    let dir = std::env::temp_dir().join("oxalchemy-cli-library-unused");
    let mut config = Config::new(url, models(), migrations);
    config.versions_dir = dir;
    run(config, &args(cmd)).await
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

/// Migrations can run in `tokio::spawn` at a service's start-up.
#[tokio::test]
async fn the_future_is_send_and_runs_in_a_spawned_task() {
    let file = TempSqliteFile::new("cli_send");
    let config = Config::new(file.url(), models(), TWO).with_include_table(|t| t != "ignored");
    let task = tokio::spawn(assert_send(async move {
        run(config, &args("upgrade head")).await
    }));
    let out = task.await.unwrap().unwrap();
    assert!(out.contains("upgraded p2"), "{out}");
}

#[tokio::test]
async fn lints_status_and_timestamps_on_both_databases() {
    let file = TempSqliteFile::new("cli_library");
    let mut urls = vec![(file.url(), None)];
    if let Some(pg) = pg_schema("cli_library").await {
        urls.push((pg.url.clone(), Some(pg)));
    }
    for (url, pg) in urls {
        // status before anything: base, two pending, models differ.
        let out = go(&url, TWO, "status").await.unwrap();
        assert!(out.contains("current: <base>\n"), "{out}");
        assert!(
            out.contains(
                "pending: 2 (run `upgrade heads`)\n  p1 — create players\n  p2 — add nick\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("models: 1 differences from the database"),
            "{out}"
        );
        assert!(out.starts_with("database: "), "{out}");
        assert_eq!(
            go(&url, TWO, "upgrade head").await.unwrap(),
            "upgraded p1\nupgraded p2\n"
        );
        assert_eq!(
            go(&url, TWO, "upgrade head").await.unwrap(),
            "nothing to do\n"
        );
        // The refused migration's lint is part of the error the user sees.
        let err = go(&url, THREE, "upgrade head").await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("lint p3: ") && text.contains("not-null-without-default"),
            "{text}"
        );
        assert!(err.output().starts_with("lint p3: "), "{text}");
        assert!(matches!(
            &err,
            CliError::AfterOutput { source, .. } if matches!(**source, CliError::Migrate(_))
        ));
        // status: at p2 with p3 pending and its lint, models differ by one column.
        let out = go(&url, THREE, "status").await.unwrap();
        assert!(out.contains("current: p2 — add nick\n"), "{out}");
        assert!(
            out.contains("pending: 1 (run `upgrade heads`)\n  p3 — add score\n    lint: "),
            "{out}"
        );
        assert!(out.contains("models: 1 differences from the database (`revision --autogenerate` would write):\n  ops.add_column("), "{out}");
        let out = go(&url, TWO, "status").await.unwrap();
        assert!(out.contains("pending: none (at head)\n"), "{out}");
        // applied_at is a timestamp, set by the database.
        let applied_at = applied_at(&url, pg.is_some(), "p2").await;
        let age = chrono::Utc::now().naive_utc() - applied_at;
        assert!(age.num_seconds().abs() < 120, "{applied_at}");
        if let Some(pg) = pg {
            pg.drop().await;
        }
    }
}

/// `applied_at` of `rev`, read as a timestamp (text on SQLite in ISO-8601).
async fn applied_at(url: &str, postgres: bool, rev: &str) -> chrono::NaiveDateTime {
    if postgres {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let row = client
            .query_one(
                "SELECT applied_at FROM oxalchemy_version WHERE revision = $1",
                &[&rev],
            )
            .await
            .unwrap();
        row.get::<_, chrono::DateTime<chrono::Utc>>(0).naive_utc()
    } else {
        let path = url.trim_start_matches("sqlite://");
        let text: String = rusqlite::Connection::open(path)
            .unwrap()
            .query_row(
                "SELECT applied_at FROM oxalchemy_version WHERE revision = ?1",
                [rev],
                |r| r.get(0),
            )
            .unwrap();
        chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }
}

/// A version table an earlier release wrote (epoch seconds as text) is converted in place
/// by the first command that reads it, keeping every row and its time.
#[tokio::test]
async fn old_version_tables_are_upgraded_in_place() {
    let old = "CREATE TABLE oxalchemy_version (revision VARCHAR(64) NOT NULL PRIMARY KEY, \
               checksum VARCHAR(32) NOT NULL, applied_at VARCHAR(40) NOT NULL)";
    let insert = format!(
        "INSERT INTO oxalchemy_version VALUES ('p1', '{}', '00000000001764000000')",
        TWO[0].checksum()
    );
    let expected = chrono::DateTime::from_timestamp(1_764_000_000, 0)
        .unwrap()
        .naive_utc();
    let file = TempSqliteFile::new("cli_old_version");
    {
        let c = rusqlite::Connection::open(&file.path).unwrap();
        c.execute_batch(&format!(
            "{old}; {insert}; CREATE TABLE players (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
        ))
        .unwrap();
    }
    assert_eq!(go(&file.url(), TWO, "current").await.unwrap(), "p1\n");
    assert_eq!(applied_at(&file.url(), false, "p1").await, expected);
    let c = rusqlite::Connection::open(&file.path).unwrap();
    let ty: String = c
        .query_row(
            "SELECT type FROM pragma_table_info('oxalchemy_version') WHERE name = 'applied_at'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ty, "TIMESTAMP");
    assert!(go(&file.url(), TWO, "upgrade head")
        .await
        .unwrap()
        .contains("upgraded p2"));
    if let Some(pg) = pg_schema("cli_old_version").await {
        let (client, conn) = tokio_postgres::connect(&pg.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(&format!(
                "{old}; {insert}; CREATE TABLE players (id BIGINT PRIMARY KEY, name TEXT NOT NULL);"
            ))
            .await
            .unwrap();
        assert_eq!(go(&pg.url, TWO, "current").await.unwrap(), "p1\n");
        assert_eq!(applied_at(&pg.url, true, "p1").await, expected);
        assert!(go(&pg.url, TWO, "upgrade head")
            .await
            .unwrap()
            .contains("upgraded p2"));
        drop(client);
        pg.drop().await;
    }
}

/// Offline scripts resolve `--from` and the target on the graph; `downgrade base --sql`
/// starts from every head, so it prints every downgrade.
#[tokio::test]
async fn offline_downgrades_resolve_on_the_graph() {
    let url = "sqlite://unused.db";
    let script = go(url, THREE, "downgrade base --sql").await.unwrap();
    let order: Vec<usize> = ["downgrade p3", "downgrade p2", "downgrade p1"]
        .iter()
        .map(|s| {
            script
                .find(s)
                .unwrap_or_else(|| panic!("{s} missing:\n{script}"))
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{script}");
    assert!(script.contains("DROP TABLE"), "{script}");
    let script = go(url, THREE, "downgrade -1 --sql").await.unwrap();
    assert!(
        script.contains("downgrade p3") && !script.contains("downgrade p2"),
        "{script}"
    );
    let script = go(url, THREE, "downgrade p1 --sql --from head")
        .await
        .unwrap();
    assert!(
        script.contains("downgrade p3") && script.contains("downgrade p2"),
        "{script}"
    );
    assert!(!script.contains("downgrade p1"), "{script}");
    let script = go(url, THREE, "upgrade +1 --sql --from p1").await.unwrap();
    assert!(
        script.contains("upgrade p2") && !script.contains("upgrade p3"),
        "{script}"
    );
    // The SQLite script builds and then removes the schema.
    let up = go(url, TWO, "upgrade head --sql").await.unwrap();
    let down = go(url, TWO, "downgrade base --sql").await.unwrap();
    let c = rusqlite::Connection::open_in_memory().unwrap();
    c.execute_batch(&up).unwrap();
    c.execute_batch(&down).unwrap();
    let left: i64 = c
        .query_row("SELECT count(*) FROM oxalchemy_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
}

/// `include_object` and `include_name` (Alembic's options, on [`Config`]) keep objects the
/// application does not own out of autogenerate: a hand-made table is not dropped and a
/// column left out is not added, while without them both are differences.
#[tokio::test]
async fn include_filters_leave_objects_out_of_autogenerate() {
    use oxalchemy_migrate::diff::{ObjectKind, ObjectRef};

    let file = TempSqliteFile::new("cli_include");
    let mut urls = vec![file.url()];
    let pg = pg_schema("cli_include").await;
    if let Some(pg) = &pg {
        urls.push(pg.url.clone());
    }
    for url in urls {
        go(&url, TWO, "upgrade head").await.unwrap();
        let db = oxalchemy_engine::Database::connect(&url).await.unwrap();
        db.execute(oxalchemy_core::text(
            "CREATE TABLE legacy (id INTEGER PRIMARY KEY)",
        ))
        .await
        .unwrap();
        db.close();
        let status =
            |config: Config<'static>| async move { run(config, &args("status")).await.unwrap() };
        let dir = std::env::temp_dir().join("oxalchemy-cli-library-unused");
        let config = || Config::new(url.clone(), models(), TWO).with_versions_dir(dir.clone());

        // Unfiltered: the `rank` column is added and `legacy` dropped.
        let out = status(config()).await;
        assert!(out.contains("models: 2 differences"), "{out}");

        // include_object: neither.
        let c = config().with_include_object(|o: &ObjectRef<'_>| {
            !matches!(
                (o.kind, o.name),
                (ObjectKind::Table, "legacy") | (ObjectKind::Column, "rank")
            )
        });
        let out = status(c).await;
        assert!(out.contains("models: match the database"), "{out}");

        // include_name: the reflected `legacy` is never read, `rank` is still added.
        let c = config().with_include_name(|o: &ObjectRef<'_>| o.name != "legacy");
        let out = status(c).await;
        assert!(out.contains("models: 1 differences"), "{out}");
        assert!(out.contains("add_column("), "{out}");
    }
    if let Some(pg) = pg {
        pg.drop().await;
    }
}

/// An offline script is written in the dialect of the URL's scheme: MySQL and MariaDB URLs
/// get backticks (they got PostgreSQL's double quotes before), nothing connects.
#[tokio::test]
async fn offline_scripts_follow_the_url_scheme() {
    for url in [
        "mysql://nobody@127.0.0.1:1/none",
        "mariadb://nobody@127.0.0.1:1/none",
    ] {
        let script = go(url, TWO, "upgrade head --sql").await.unwrap();
        assert!(
            script.contains("CREATE TABLE `players`"),
            "{url}:\n{script}"
        );
        assert!(!script.contains("\"players\""), "{url}:\n{script}");
    }
    let script = go(
        "postgresql://nobody@127.0.0.1:1/none",
        TWO,
        "upgrade head --sql",
    )
    .await
    .unwrap();
    assert!(script.contains("CREATE TABLE \"players\""), "{script}");
}
