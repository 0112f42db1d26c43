//! The README's "Bulk writes, upsert, COPY, streams and caching" section as one program:
//! the README's code block is the region between the `// README:` markers here, and
//! `tests/readme.rs` checks that it matches and runs this program on SQLite and PostgreSQL.
//!
//! ```text
//! cargo run --example readme_bulk                      # a SQLite file in the temp directory
//! DATABASE_URL=postgresql://postgres@127.0.0.1/test cargo run --example readme_bulk
//! ```
#![allow(
    missing_docs,
    reason = "the README shows models as users write them, without a doc comment on each field"
)]

use std::time::Duration;

use futures_util::TryStreamExt;
use oxalchemy::orm::{self, bulk_delete, bulk_insert, bulk_update, copy_in, upsert};
use oxalchemy::prelude::*;

#[derive(Model, Clone, Debug, Default)]
#[model(table = "readme_bulk_users")]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(unique, length = 100)]
    pub email: String,
    pub name: String,
    #[column(server_default = "0")]
    pub karma: i32,
}

pub async fn run(url: &str) -> Result<(), Error> {
    let db = Database::connect(url).await?;
    let md = Registry::new().model::<User>().metadata();
    db.drop_all(&md).await?;
    db.create_all(&md).await?;
    let user = |i: i32| {
        Mapping::<User>::new()
            .set(User::email, format!("u{i}@example.com"))
            .set(User::name, format!("user {i}"))
    };
    // README: bulk
    // Mappings in, nothing read back; defaults filled. On PostgreSQL, past 1,000 rows this
    // is a binary COPY.
    bulk_insert::<User>((0..5_000).map(user))
        .execute(&db)
        .await?;
    // A load of any size, streamed (COPY on PostgreSQL), with progress.
    copy_in::<User>((5_000..20_000).map(user))
        .progress(|rows| println!("{rows} rows loaded"))
        .execute(&db)
        .await?;
    bulk_update::<User>([Mapping::new().set(User::id, 1).set(User::karma, 10)])
        .execute(&db)
        .await?;
    bulk_delete::<User, _>([2i64, 3]).execute(&db).await?;
    // Insert or update by the unique email, returning the rows written.
    let written = upsert::<User>([User {
        email: "u0@example.com".into(),
        name: "Ann".into(),
        ..Default::default()
    }])
    .on_conflict(User::email)
    .update(User::name)
    .returning(&db)
    .await?;
    // Every row, as a Stream: memory holds a bounded number of rows, not the result.
    let mut users = std::pin::pin!(orm::query::<User>().stream(&db));
    while let Some(user) = users.try_next().await? {
        let _ = user.karma;
    }
    // Exported through PostgreSQL's binary COPY out, as a Stream of models (a streamed
    // SELECT on SQLite and MariaDB, and for filters on values, which COPY cannot bind).
    let mut exported = std::pin::pin!(orm::query::<User>().copy_out(&db));
    let mut exported_rows = 0;
    while let Some(user) = exported.try_next().await? {
        exported_rows += usize::from(!user.email.is_empty());
    }
    // The raw bytes for a file or another database's `COPY … FROM STDIN (FORMAT binary)`:
    // PostgreSQL only, `Error::Unsupported` elsewhere.
    let mut bytes: Vec<u8> = Vec::new();
    match orm::query::<User>().copy_out_to(&db, &mut bytes).await {
        Ok(written) => println!("{written} bytes of binary COPY"),
        Err(Error::Unsupported { fix, .. }) => println!("no COPY here: {fix}"),
        Err(e) => return Err(e),
    }
    // Cached in this process for a minute; this process's writes to the table invalidate
    // it, other processes' writes are seen when it expires.
    let top = orm::query::<User>()
        .filter(User::karma.gt(5))
        .cache(Duration::from_secs(60))
        .all(&db)
        .await?;
    // README: end
    assert_eq!(written[0].name, "Ann");
    assert_eq!(written[0].karma, 10);
    assert_eq!(top.len(), 1);
    assert_eq!(exported_rows, 19_998);
    assert_eq!(bytes.is_empty(), !url.starts_with("postgres"));
    assert_eq!(orm::query::<User>().count(&db).await?, 19_998);
    db.drop_all(&md).await?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        let path = std::env::temp_dir().join("oxalchemy-readme-bulk.db");
        format!("sqlite:///{}", path.display())
    });
    run(&url).await?;
    println!(
        "README bulk section ran on {}",
        oxalchemy::engine::redact_url(&url)
    );
    Ok(())
}
