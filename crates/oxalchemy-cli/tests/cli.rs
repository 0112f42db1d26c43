//! The migration commands end to end on a SQLite file and PostgreSQL: init, revision
//! --autogenerate (file written), upgrade/downgrade/current/history/heads/check/stamp, merge,
//! and --sql scripts equal to running online.

use oxalchemy_cli::{run, Config};
use oxalchemy_core::schema::{Column, Index, MetaData, Table};
use oxalchemy_core::SqlType;
use oxalchemy_engine::Database;
use oxalchemy_migrate::diff::diff;
use oxalchemy_migrate::migration::Migration;
use oxalchemy_migrate::ops::Ops;
use oxalchemy_migrate::reflect::reflect;
use oxalchemy_testing::{pg_schema, TempSqliteFile};

fn models() -> MetaData {
    let mut md = MetaData::new();
    md.add(
        Table::new("users")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("username", SqlType::Text).not_null())
            .column(
                Column::new("status", SqlType::Text)
                    .not_null()
                    .server_default("'active'"),
            )
            .index(Index::new(["status"]).named("idx_users_status")),
    );
    md
}

fn up1(ops: &mut Ops) {
    ops.create_table(
        Table::new("users")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("username", SqlType::Text).not_null()),
    );
}
fn down1(ops: &mut Ops) {
    ops.drop_table("users");
}
fn up2(ops: &mut Ops) {
    ops.add_column(
        "users",
        Column::new("status", SqlType::Text)
            .not_null()
            .server_default("'active'"),
    )
    .create_index("users", Index::new(["status"]).named("idx_users_status"));
}
fn down2(ops: &mut Ops) {
    ops.drop_index("users", "idx_users_status")
        .drop_column("users", "status");
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        revision: "aaa111",
        down_revisions: &[],
        message: "create users",
        created: "2026-11-25",
        upgrade: up1,
        downgrade: down1,
    },
    Migration {
        revision: "bbb222",
        down_revisions: &["aaa111"],
        message: "add user status",
        created: "2026-11-25",
        upgrade: up2,
        downgrade: down2,
    },
];

fn config<'a>(url: &str, dir: &std::path::Path, migrations: &'a [Migration]) -> Config<'a> {
    let mut c = Config::new(url, models(), migrations);
    c.versions_dir = dir.to_path_buf();
    c
}

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

/// `rustfmt --check` accepts the file as written (what a user's `cargo fmt --check` runs).
fn assert_rustfmt_clean(path: &std::path::Path) {
    let out = std::process::Command::new("rustfmt")
        .args(["--check", "--edition", "2021"])
        .arg(path)
        .output()
        .expect("rustfmt runs (it comes with rustup's default profile)");
    assert!(
        out.status.success(),
        "{} is not formatted:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn commands_on_both_databases() {
    let file = TempSqliteFile::new("cli");
    let mut urls = vec![("sqlite", file.url(), None)];
    if let Some(pg) = pg_schema("cli").await {
        urls.push(("postgresql", pg.url.clone(), Some(pg)));
    }
    for (label, url, pg) in urls {
        let dir =
            std::env::temp_dir().join(format!("oxalchemy-cli-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let go = |cmd: &str| {
            let (url, dir) = (url.clone(), dir.clone());
            let cmd = cmd.to_owned();
            async move { run(config(&url, &dir, MIGRATIONS), &args(&cmd)).await }
        };
        assert!(go("init").await.unwrap().contains("mod.rs"));
        assert_rustfmt_clean(&dir.join("mod.rs"));
        assert_eq!(go("current").await.unwrap(), "<base>\n");
        let err = go("check").await.unwrap_err().to_string();
        assert!(err.contains("not at head"), "[{label}] {err}");
        let out = go("upgrade head").await.unwrap();
        assert!(
            out.contains("upgraded aaa111") && out.contains("upgraded bbb222"),
            "[{label}] {out}"
        );
        assert_eq!(go("current").await.unwrap(), "bbb222\n");
        assert_eq!(
            go("check").await.unwrap(),
            "models and database agree\n",
            "[{label}]"
        );
        assert!(go("history")
            .await
            .unwrap()
            .contains("aaa111 -> bbb222 — add user status"));
        assert_eq!(go("heads").await.unwrap(), "bbb222 (head)\n");
        let out = go("downgrade -1").await.unwrap();
        assert!(out.ends_with("downgraded bbb222\n"), "[{label}] {out}");
        assert!(
            out.contains("[drop-column]"),
            "the downgrade's lint is printed: {out}"
        );
        let err = go("check").await.unwrap_err().to_string();
        assert!(err.contains("not at head"), "{err}");
        // Autogenerate writes a file with the missing operations.
        go("stamp bbb222").await.unwrap();
        let out = go("revision --autogenerate -m add_status_again")
            .await
            .unwrap();
        assert!(out.contains("2 operations"), "[{label}] {out}");
        let written: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
            .filter(|n| n.starts_with('m') && n != "mod.rs")
            .collect();
        assert_eq!(written.len(), 1);
        let text = std::fs::read_to_string(dir.join(&written[0])).unwrap();
        assert!(
            text.contains("ops.add_column(\n        \"users\",\n        Column::new(\"status\""),
            "{text}"
        );
        assert!(
            text.contains(
                "ops.create_index(\"users\", Index::new([\"status\"]).named(\"idx_users_status\"))"
            ),
            "{text}"
        );
        assert!(text.contains("down_revisions: &[\"bbb222\"]"), "{text}");
        let modrs = std::fs::read_to_string(dir.join("mod.rs")).unwrap();
        assert!(modrs.contains(&written[0].replace(".rs", "")), "{modrs}");
        assert_rustfmt_clean(&dir.join(&written[0]));
        assert_rustfmt_clean(&dir.join("mod.rs"));
        // Unknown revisions and bad commands are clear errors.
        let err = go("upgrade nope").await.unwrap_err().to_string();
        assert!(err.contains("unknown revision `nope`"), "{err}");
        assert!(go("frobnicate")
            .await
            .unwrap_err()
            .to_string()
            .contains("unknown command"));
        let _ = std::fs::remove_dir_all(&dir);
        if let Some(pg) = pg {
            pg.drop().await;
        }
    }
}

/// `upgrade head --sql` run by the database's own client builds the same schema as the
/// runner online (compared with autogenerate: no differences).
#[tokio::test]
async fn offline_script_equals_online_schema() {
    let dir = std::env::temp_dir().join(format!("oxalchemy-cli-offline-{}", std::process::id()));
    let online = TempSqliteFile::new("cli_online");
    let offline = TempSqliteFile::new("cli_offline");
    run(
        config(&online.url(), &dir, MIGRATIONS),
        &args("upgrade head"),
    )
    .await
    .unwrap();
    let script = run(
        config(&offline.url(), &dir, MIGRATIONS),
        &args("upgrade head --sql"),
    )
    .await
    .unwrap();
    rusqlite::Connection::open(&offline.path)
        .unwrap()
        .execute_batch(&script)
        .unwrap_or_else(|e| panic!("{e}\n{script}"));
    let a = Database::connect(online.url()).await.unwrap();
    let b = Database::connect(offline.url()).await.unwrap();
    let sa = reflect(&mut a.connection().await.unwrap()).await.unwrap();
    let sb = reflect(&mut b.connection().await.unwrap()).await.unwrap();
    let d = diff(a.dialect(), &sa, &sb, &|_| true);
    assert!(d.is_empty(), "{:#?}", d.upgrade);
    if let Some(pg) = pg_schema("cli_offline_pg").await {
        let pg2 = pg_schema("cli_offline_pg2").await.unwrap();
        run(config(&pg.url, &dir, MIGRATIONS), &args("upgrade head"))
            .await
            .unwrap();
        let script = run(
            config(&pg2.url, &dir, MIGRATIONS),
            &args("upgrade head --sql"),
        )
        .await
        .unwrap();
        let (client, conn) = tokio_postgres::connect(&pg2.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(&script)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{script}"));
        let a = Database::connect(&pg.url).await.unwrap();
        let b = Database::connect(&pg2.url).await.unwrap();
        let sa = reflect(&mut a.connection().await.unwrap()).await.unwrap();
        let sb = reflect(&mut b.connection().await.unwrap()).await.unwrap();
        let d = diff(a.dialect(), &sa, &sb, &|_| true);
        assert!(d.is_empty(), "{:#?}", d.upgrade);
        drop((a, b));
        pg.drop().await;
        pg2.drop().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
