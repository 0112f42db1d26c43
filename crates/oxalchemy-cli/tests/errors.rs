//! Every error a user of the command line can hit: its variant, and a `Display` that names
//! the cause and says what to do. Database cases run on a SQLite file and on PostgreSQL.

use std::error::Error as _;

use oxalchemy_cli::{run, CliError, Config};
use oxalchemy_core::schema::{Column, MetaData, Table};
use oxalchemy_core::SqlType;
use oxalchemy_migrate::migration::{MigrateError, Migration};
use oxalchemy_migrate::ops::Ops;
use oxalchemy_testing::{pg_schema, TempSqliteFile};

fn create_t(ops: &mut Ops) {
    ops.create_table(Table::new("t").column(Column::new("id", SqlType::Integer).primary_key()));
}

fn drop_t(ops: &mut Ops) {
    ops.drop_table("t");
}

const ONE: &[Migration] = &[Migration {
    revision: "aaa111",
    down_revisions: &[],
    message: "create t",
    created: "2026-01-01",
    upgrade: create_t,
    downgrade: drop_t,
}];

const TWO_HEADS: &[Migration] = &[
    ONE[0],
    Migration {
        revision: "bbb222",
        down_revisions: &["aaa111"],
        message: "b",
        created: "2026-01-01",
        upgrade: |_| {},
        downgrade: |_| {},
    },
    Migration {
        revision: "ccc333",
        down_revisions: &["aaa111"],
        message: "c",
        created: "2026-01-01",
        upgrade: |_| {},
        downgrade: |_| {},
    },
];

fn models() -> MetaData {
    let mut md = MetaData::new();
    md.add(Table::new("t").column(Column::new("id", SqlType::Integer).primary_key()));
    md.add(Table::new("extra").column(Column::new("id", SqlType::Integer).primary_key()));
    md
}

async fn go(url: &str, migrations: &[Migration], line: &str) -> Result<String, CliError> {
    let mut config = Config::new(url, models(), migrations);
    config.versions_dir = std::env::temp_dir().join(format!(
        "oxalchemy-cli-errors-{}-{}",
        std::process::id(),
        url.len()
    ));
    let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    run(config, &args).await
}

#[tokio::test]
async fn usage_errors_say_what_is_wrong_and_where_help_is() {
    let url = "sqlite::memory:";
    for (line, summary) in [
        ("", "no command given"),
        (
            "upgrade",
            "the following required arguments were not provided: <TARGET>",
        ),
        (
            "upgrade head --bogus",
            "unexpected argument '--bogus' found",
        ),
        (
            "revision",
            "the following required arguments were not provided: --message <MESSAGE>",
        ),
        ("merge -m x aaa111", "2 values required"),
        ("current --sql", "unexpected argument '--sql' found"),
    ] {
        let err = go(url, ONE, line).await.unwrap_err();
        let CliError::Usage { summary: s, .. } = &err else {
            panic!("`{line}`: {err:?}")
        };
        assert!(s.starts_with(summary), "`{line}`: {s}");
        assert!(
            err.to_string()
                .starts_with(&format!("invalid command line: {summary}")),
            "`{line}`: {err}"
        );
        assert!(
            err.to_string()
                .ends_with("`migrate --help` lists the commands and their arguments"),
            "{err}"
        );
        // The parser's full report, with the usage, is the cause.
        let cause = err.source().expect("clap's report").to_string();
        assert!(cause.contains("Usage: migrate"), "`{line}`: {cause}");
    }

    let err = go(url, ONE, "frobnicate").await.unwrap_err();
    assert!(
        matches!(err, CliError::UnknownCommand { ref name, .. } if name == "frobnicate"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "unknown command `frobnicate`; `migrate --help` lists the commands"
    );

    let help = go(url, ONE, "--help").await.unwrap();
    assert!(
        help.contains("Usage: migrate <COMMAND>") && help.contains("upgrade"),
        "{help}"
    );
}

#[tokio::test]
async fn connection_and_file_errors_keep_their_cause() {
    // Nothing listens on port 1: the engine's error, naming the refusal.
    let err = go("postgresql://postgres@127.0.0.1:1/x", ONE, "current")
        .await
        .unwrap_err();
    assert!(matches!(err, CliError::Engine(_)), "{err:?}");
    assert!(err.to_string().to_lowercase().contains("connect"), "{err}");

    // The versions folder cannot be created: a file is in the way.
    let blocker =
        std::env::temp_dir().join(format!("oxalchemy-cli-blocker-{}", std::process::id()));
    std::fs::write(&blocker, "").unwrap();
    let mut config = Config::new("sqlite::memory:", models(), ONE);
    config.versions_dir = blocker.join("migrations");
    let err = run(config, &["init".to_owned()]).await.unwrap_err();
    let CliError::Io { action, path, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*action, path),
        ("create the folder", &blocker.join("migrations"))
    );
    assert!(
        err.to_string().starts_with(&format!(
            "could not create the folder `{}`: ",
            blocker.join("migrations").display()
        )),
        "{err}"
    );
    assert!(err.source().is_some());
    let _ = std::fs::remove_file(&blocker);
}

#[tokio::test]
async fn migration_errors_on_both_databases() {
    let file = TempSqliteFile::new("cli_errors");
    let mut urls = vec![("sqlite", file.url(), None)];
    if let Some(pg) = pg_schema("cli_errors").await {
        urls.push(("postgresql", pg.url.clone(), Some(pg)));
    }
    for (label, url, pg) in urls {
        let err = go(&url, ONE, "upgrade nope").await.unwrap_err();
        assert!(
            matches!(err, CliError::Migrate(MigrateError::UnknownRevision(ref r)) if r == "nope"),
            "[{label}] {err:?}"
        );
        assert_eq!(
            err.to_string(),
            "unknown revision `nope`; `history` lists them"
        );

        let err = go(&url, TWO_HEADS, "upgrade head").await.unwrap_err();
        assert!(
            matches!(err, CliError::Migrate(MigrateError::MultipleHeads(_))),
            "[{label}] {err:?}"
        );
        let err = go(&url, TWO_HEADS, "revision -m more").await.unwrap_err();
        assert!(
            matches!(err, CliError::Migrate(MigrateError::MultipleHeads(ref h)) if h.len() == 2),
            "[{label}] {err:?}"
        );
        assert!(
            err.to_string()
                .contains("create a merge revision with `merge`"),
            "{err}"
        );

        // `check`: not at head, then (at head) models ahead of the database.
        let err = go(&url, ONE, "check").await.unwrap_err();
        assert!(
            matches!(err, CliError::NotAtHead { pending: 1, .. }),
            "[{label}] {err:?}"
        );
        assert!(
            err.to_string().contains(
                "the database is not at head: 1 migrations to apply; run `upgrade heads`"
            ),
            "{err}"
        );
        go(&url, ONE, "upgrade head").await.unwrap();
        let err = go(&url, ONE, "check").await.unwrap_err();
        let CliError::ModelsDiffer { operations, .. } = &err else {
            panic!("[{label}] {err:?}")
        };
        assert_eq!(operations.len(), 1, "[{label}] {operations:?}");
        assert!(
            err.to_string().starts_with(
                "models and database differ; run `revision --autogenerate`:\nops.create_table(\n"
            ),
            "[{label}] {err}"
        );
        assert!(
            err.to_string().contains("Table::new(\"extra\")"),
            "[{label}] {err}"
        );
        if let Some(pg) = pg {
            pg.drop().await;
        }
    }
}
