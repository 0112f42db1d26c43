//! The README's first code block (Core: tables, a transaction, a query), run by
//! `tests/readme.rs` and by `cargo run --example readme_core`.

// README: core
use oxalchemy::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let db = Database::connect("sqlite::memory:").pool_size(5).await?; // or "postgresql://user:pass@host/db"

    let mut md = MetaData::new();
    md.add(
        Table::new("users")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(
                Column::new("username", SqlType::String(Some(50)))
                    .not_null()
                    .unique(),
            ),
    );
    db.create_all(&md).await?;

    let users = table("users");
    let id: i64 = db
        .transaction(async |tx| {
            let (id,): (i64,) = tx
                .query_one(
                    insert(users.clone())
                        .columns(["username"])
                        .values(["ann"])
                        .returning([col("id")]),
                )
                .await?;
            Ok::<_, Error>(id) // commit on Ok, rollback on Err or panic
        })
        .await?;

    let found: Vec<(i64, String)> = db
        .query(
            select([users.col("id"), users.col("username")])
                .from(users.clone())
                .filter(users.col("username").ilike("%AN%")) // values are always bound
                .order_by(users.col("id").desc())
                .limit(20),
        )
        .await?;
    println!("{id}: {found:?}");
    Ok(())
}
// README: end

/// The README's program, for `tests/readme.rs` (a test cannot call the private `main`).
#[allow(
    dead_code,
    unreachable_pub,
    clippy::main_recursion,
    reason = "used by tests/readme.rs, not by the example itself; `main` does not call `run`"
)]
pub fn run() -> Result<(), Error> {
    main()
}
