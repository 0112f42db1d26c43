//! Checksums recorded in users' version tables must never change: this pins the value for a
//! fixed migration (computed before the hash moved to the `fnv` crate).

use oxalchemy_core::schema::{Column, Index, Table};
use oxalchemy_core::{text, SqlType};
use oxalchemy_migrate::migration::Migration;
use oxalchemy_migrate::ops::{ColumnChange, Ops};

fn up(ops: &mut Ops) {
    ops.create_table(
        Table::new("users")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::String(Some(50))).not_null()),
    )
    .create_index("users", Index::new(["name"]).named("ix_users_name"))
    .alter_column(
        "users",
        "name",
        ColumnChange {
            nullable: Some(true),
            ..ColumnChange::default()
        },
    )
    .execute(text("UPDATE users SET name = :n").bind("n", "x"));
}

fn down(ops: &mut Ops) {
    ops.drop_index("users", "ix_users_name").drop_table("users");
}

const FIXED: Migration = Migration {
    revision: "0123abcd",
    down_revisions: &[],
    message: "create users",
    created: "2026-01-01",
    upgrade: up,
    downgrade: down,
};

#[test]
fn checksum_of_a_fixed_migration_never_changes() {
    assert_eq!(FIXED.checksum(), "daa06ae893fdd63b");
}
