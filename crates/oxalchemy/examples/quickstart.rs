//! oxalchemy quickstart: define tables, create them, write in a transaction, query.
//!
//! Runs on the embedded SQLite by default (nothing to install):
//!     cargo run --example quickstart
//! or against PostgreSQL:
//!     DATABASE_URL=postgresql://postgres@127.0.0.1/test cargo run --example quickstart

use oxalchemy::prelude::*;

fn metadata() -> MetaData {
    let mut md = MetaData::new();
    md.add(
        Table::new("users")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(
                Column::new("username", SqlType::String(Some(50)))
                    .not_null()
                    .unique(),
            )
            .column(
                Column::new("email", SqlType::String(Some(255)))
                    .not_null()
                    .unique(),
            )
            .column(
                Column::new("created_at", SqlType::DateTime { timezone: true })
                    .not_null()
                    .server_default("CURRENT_TIMESTAMP"),
            )
            .index(Index::new(["username", "email"]).named("idx_users_username_email")),
    );
    md.add(
        Table::new("posts")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("title", SqlType::String(Some(200))).not_null())
            .column(Column::new("content", SqlType::Text))
            .column(
                Column::new("author_id", SqlType::BigInteger)
                    .not_null()
                    .references("users", "id")
                    .on_delete(ReferentialAction::Cascade)
                    .index(),
            ),
    );
    md
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".to_owned());
    let db = Database::connect(&url).pool_size(5).await?;
    println!("connected to {db} ({} dialect)", db.dialect().name());

    let md = metadata();
    db.drop_all(&md).await?;
    db.create_all(&md).await?;

    let users = table("users");
    let posts = table("posts");

    // A transactional scope: committed on Ok, rolled back on Err or panic.
    let ann_id: i64 = db
        .transaction(async |tx| {
            let (ann,): (i64,) = tx
                .query_one(
                    insert(users.clone())
                        .columns(["username", "email"])
                        .values(["ann", "ann@example.com"])
                        .returning([col("id")]),
                )
                .await?;
            tx.execute(
                insert(users.clone())
                    .columns(["username", "email"])
                    .values(["bob", "bob@example.com"]),
            )
            .await?;
            let mut posts_insert = insert(posts.clone()).columns(["title", "content", "author_id"]);
            for i in 1..=3 {
                posts_insert = posts_insert.values([
                    lit(format!("Post {i}")),
                    lit("Hello, 100% literal_ text"),
                    lit(ann),
                ]);
            }
            tx.execute(posts_insert).await?;
            Ok::<_, Error>(ann)
        })
        .await?;
    println!("ann has id {ann_id}");

    // A unique violation is a typed error naming what the database reported.
    let dup = db
        .execute(
            insert(users.clone())
                .columns(["username", "email"])
                .values(["ann", "other@example.com"]),
        )
        .await;
    if let Err(Error::Integrity(e)) = &dup {
        println!("duplicate rejected: {e}");
    }

    // The guide's search: ILIKE on either column, newest first, paginated.
    let keyword = "AN";
    let found: Vec<(i64, String)> = db
        .query(
            select([users.col("id"), users.col("username")])
                .from(users.clone())
                .filter(or_([
                    users.col("username").ilike(format!("%{keyword}%")),
                    users.col("email").ilike(format!("%{keyword}%")),
                ]))
                .order_by(users.col("created_at").desc())
                .limit(20)
                .offset(0),
        )
        .await?;
    println!("search {keyword:?}: {found:?}");

    // The guide's post counts by author: JOIN + GROUP BY + count + label.
    let counts: Vec<(String, i64)> = db
        .query(
            select([
                users.col("username"),
                func::count(posts.col("id")).label("post_count"),
            ])
            .from(users.clone())
            .left_join(posts.clone(), users.col("id").eq(posts.col("author_id")))
            .group_by([users.col("username")])
            .order_by(col("post_count").desc()),
        )
        .await?;
    for (name, n) in &counts {
        println!("{name}: {n} posts");
    }

    // User input with LIKE wildcards is matched literally by contains().
    let literal: i64 = db
        .query_scalar(
            select([func::count_star()])
                .from(posts.clone())
                .filter(posts.col("content").contains("100% literal_")),
        )
        .await?;
    println!("posts containing the literal text: {literal}");
    Ok(())
}
