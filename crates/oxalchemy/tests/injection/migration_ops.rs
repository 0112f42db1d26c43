//! Migration ops with hostile names (create/rename/drop table, add/alter/rename/drop
//! column, create/drop index, add/drop constraint, `execute(text())`), up and down through
//! the Runner.

use super::*;
use oxalchemy::core::schema::Constraint;
use oxalchemy::migrate::migration::{Graph, Migration, Runner};
use oxalchemy::migrate::ops::{ColumnChange, Ops};

/// The migrated table: quotes, a semicolon, a comment and a reserved word.
const MIGRATED: &str = "m\"t\"; DROP TABLE canary; -- order";
/// A column added by the second migration.
const ADDED: &str = "ad\"ded; /* col */";
/// The index on it.
const ADDED_INDEX: &str = "ix; DROP TABLE canary; \"--";

fn m1_up(ops: &mut Ops) {
    ops.create_table(
        Table::new(MIGRATED)
            .column(Column::new(ID, SqlType::Integer).primary_key())
            .column(Column::new(VAL, SqlType::Text)),
    )
    .create_index(MIGRATED, Index::new([VAL]).named(INDEX));
}
fn m1_down(ops: &mut Ops) {
    ops.drop_index(MIGRATED, INDEX).drop_table(MIGRATED);
}
fn m2_up(ops: &mut Ops) {
    ops.add_column(
        MIGRATED,
        Column::new(ADDED, SqlType::String(Some(60)))
            .not_null()
            .server_default("'it''s; -- /* :x'"),
    )
    .create_index(MIGRATED, Index::new([ADDED]).named(ADDED_INDEX))
    .execute(
        text(format!(
            "INSERT INTO {} ({}, {}) VALUES (1, :v) -- don't :x",
            quoted(MIGRATED),
            quoted(ID),
            quoted(VAL)
        ))
        .bind("v", HOSTILE_VALUES[4]),
    );
}
fn m2_down(ops: &mut Ops) {
    ops.drop_index(MIGRATED, ADDED_INDEX)
        .drop_column(MIGRATED, ADDED);
}

/// The names the third migration renames to.
const RENAMED_TABLE: &str = "re\"named; DROP TABLE canary; --";
const RENAMED_COLUMN: &str = "user \"name\"; --";
const UNIQUE_NAME: &str = "uq \"x\"; DROP TABLE canary";

fn m3_up(ops: &mut Ops) {
    ops.rename_column(MIGRATED, VAL, RENAMED_COLUMN)
        .alter_column(
            MIGRATED,
            ADDED,
            ColumnChange {
                ty: Some(SqlType::Text),
                server_default: Some(Some("'--; /* x */'".into())),
                ..ColumnChange::default()
            },
        )
        .add_constraint(
            MIGRATED,
            Constraint::Unique {
                name: Some(UNIQUE_NAME.into()),
                columns: vec![RENAMED_COLUMN.into(), ADDED.into()],
            },
        )
        .rename_table(MIGRATED, RENAMED_TABLE);
}
fn m3_down(ops: &mut Ops) {
    ops.rename_table(RENAMED_TABLE, MIGRATED)
        .drop_constraint(MIGRATED, UNIQUE_NAME)
        .alter_column(
            MIGRATED,
            ADDED,
            ColumnChange {
                ty: Some(SqlType::String(Some(60))),
                server_default: Some(Some("'it''s; -- /* :x'".into())),
                ..ColumnChange::default()
            },
        )
        .rename_column(MIGRATED, RENAMED_COLUMN, VAL);
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        revision: "inj1",
        down_revisions: &[],
        message: "hostile table and index",
        created: "2026-11-29",
        upgrade: m1_up,
        downgrade: m1_down,
    },
    Migration {
        revision: "inj2",
        down_revisions: &["inj1"],
        message: "hostile column, index and text()",
        created: "2026-11-29",
        upgrade: m2_up,
        downgrade: m2_down,
    },
    Migration {
        revision: "inj3",
        down_revisions: &["inj2"],
        message: "rename, alter, constrain with hostile names",
        created: "2026-11-29",
        upgrade: m3_up,
        downgrade: m3_down,
    },
];

/// create table / create index / add column / execute(text) / drop column (SQLite's batch
/// rebuild) / drop index / drop table, all with hostile names, up and down through the
/// Runner; values round-trip and the canary survives.
#[tokio::test]
async fn hostile_names_through_migration_ops() {
    let graph = Graph::new(MIGRATIONS).unwrap();
    for t in common::all_targets("injection_migrate").await {
        let db = t.connect().await;
        let l = t.label;
        make_canary(&db, l).await;
        let runner = Runner::new(&graph);
        let report = runner
            .run(&db, "head")
            .await
            .unwrap_or_else(|e| panic!("[{l}] upgrade: {e}"));
        assert_eq!(report.applied, ["inj1", "inj2", "inj3"], "[{l}]");
        assert_canary(&db, l, "upgrade").await;
        let renamed = table(RENAMED_TABLE);
        let row: (String, String) = db
            .query_one(
                select([renamed.col(RENAMED_COLUMN), renamed.col(ADDED)])
                    .from(renamed.clone())
                    .filter(renamed.col(ID).eq(1)),
            )
            .await
            .unwrap_or_else(|e| panic!("[{l}] renamed table: {e}"));
        assert_eq!(
            row,
            (HOSTILE_VALUES[4].to_owned(), "it's; -- /* :x".to_owned()),
            "[{l}]"
        );
        let duplicate = db
            .execute(
                insert(renamed.clone())
                    .columns([ID, RENAMED_COLUMN, ADDED])
                    .values([lit(1000), lit(HOSTILE_VALUES[4]), lit("it's; -- /* :x")]),
            )
            .await;
        match &duplicate {
            Err(Error::Integrity(e)) if t.is_postgres() => {
                assert_eq!(e.constraint(), Some(UNIQUE_NAME), "[{l}]");
            }
            Err(Error::Integrity(_)) => {}
            other => panic!("[{l}] the hostile-named unique constraint should hold: {other:?}"),
        }
        runner
            .run(&db, "inj2")
            .await
            .unwrap_or_else(|e| panic!("[{l}] downgrade inj3: {e}"));
        assert_canary(&db, l, "downgrade inj3").await;
        let m = table(MIGRATED);
        let row: (String, String) = db
            .query_one(
                select([m.col(VAL), m.col(ADDED)])
                    .from(m.clone())
                    .filter(m.col(ID).eq(1)),
            )
            .await
            .unwrap_or_else(|e| panic!("[{l}] migrated row: {e}"));
        assert_eq!(
            row,
            (HOSTILE_VALUES[4].to_owned(), "it's; -- /* :x".to_owned()),
            "[{l}]"
        );
        for (i, v) in HOSTILE_VALUES.iter().enumerate() {
            let id = i32::try_from(i).unwrap() + 2;
            db.execute(insert(table(MIGRATED)).columns([ID, VAL, ADDED]).values([
                lit(id),
                lit(*v),
                lit(*v),
            ]))
            .await
            .unwrap_or_else(|e| panic!("[{l}] insert {v:?}: {e}"));
        }
        // Down past the added column: on SQLite a batch rebuild of the hostile table.
        runner
            .run(&db, "inj1")
            .await
            .unwrap_or_else(|e| panic!("[{l}] downgrade inj2: {e}"));
        let vals: Vec<(i32, String)> = db
            .query(
                select([m.col(ID), m.col(VAL)])
                    .from(m.clone())
                    .order_by(m.col(ID)),
            )
            .await
            .unwrap_or_else(|e| panic!("[{l}] after downgrade: {e}"));
        let mut expected = vec![(1, HOSTILE_VALUES[4].to_owned())];
        expected.extend(
            HOSTILE_VALUES
                .iter()
                .enumerate()
                .map(|(i, v)| (i32::try_from(i).unwrap() + 2, (*v).to_owned())),
        );
        assert_eq!(vals, expected, "[{l}] values survive the rebuild");
        assert_canary(&db, l, "downgrade inj2").await;
        runner
            .run(&db, "base")
            .await
            .unwrap_or_else(|e| panic!("[{l}] downgrade to base: {e}"));
        assert!(runner.current(&db).await.unwrap().is_empty(), "[{l}]");
        assert_canary(&db, l, "downgrade to base").await;
        t.finish().await;
    }
}
