//! Typed errors on SQLite and PostgreSQL: integrity violations with what the database
//! reports, not-found / multiple results, bad URLs, and passwords never shown.

mod common;

use oxalchemy::prelude::*;

fn schema() -> MetaData {
    let mut md = MetaData::new();
    md.add(
        Table::new("users")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(
                Column::new("email", SqlType::String(Some(255)))
                    .not_null()
                    .unique(),
            )
            .column(Column::new("age", SqlType::Integer))
            .check("age_positive", "age > 0"),
    );
    md.add(
        Table::new("posts")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(
                Column::new("author_id", SqlType::BigInteger)
                    .not_null()
                    .references("users", "id"),
            ),
    );
    md
}

#[tokio::test]
async fn integrity_errors_are_typed_and_name_the_constraint() {
    for t in common::all_targets("integrity_errors").await {
        let db = t.connect().await;
        db.create_all(&schema()).await.unwrap();
        let users = table("users");
        db.execute(
            insert(users.clone())
                .columns(["email", "age"])
                .values([lit("a@x"), lit(30)]),
        )
        .await
        .unwrap();

        let err = db
            .execute(insert(users.clone()).columns(["email"]).values(["a@x"]))
            .await
            .unwrap_err();
        match &err {
            Error::Integrity(IntegrityError::UniqueViolation {
                constraint,
                columns,
                ..
            }) => {
                assert_eq!(columns, &["email".to_owned()], "[{}] {err}", t.label);
                assert_eq!(
                    constraint.as_deref(),
                    Some("uq_users_email"),
                    "[{}] {err}",
                    t.label
                );
            }
            other => panic!("[{}] expected UniqueViolation, got {other:?}", t.label),
        }

        let err = db
            .execute(
                insert(users.clone())
                    .columns(["email", "age"])
                    .values([lit("b@x"), lit(-1)]),
            )
            .await
            .unwrap_err();
        match &err {
            Error::Integrity(IntegrityError::CheckViolation { constraint, .. }) => {
                assert_eq!(
                    constraint.as_deref(),
                    Some("ck_users_age_positive"),
                    "[{}] {err}",
                    t.label
                );
            }
            other => panic!("[{}] expected CheckViolation, got {other:?}", t.label),
        }

        let err = db
            .execute(
                insert(users.clone())
                    .columns(["email"])
                    .values([Value::Null]),
            )
            .await
            .unwrap_err();
        match &err {
            Error::Integrity(IntegrityError::NotNullViolation { column, .. }) => {
                assert_eq!(column.as_deref(), Some("email"), "[{}] {err}", t.label);
            }
            other => panic!("[{}] expected NotNullViolation, got {other:?}", t.label),
        }

        let err = db
            .execute(insert(table("posts")).columns(["author_id"]).values([999]))
            .await
            .unwrap_err();
        match &err {
            Error::Integrity(IntegrityError::ForeignKeyViolation { constraint, .. }) => {
                if t.is_postgres() {
                    assert_eq!(
                        constraint.as_deref(),
                        Some("fk_posts_author_id_users"),
                        "{err}"
                    );
                }
            }
            other => panic!("[{}] expected ForeignKeyViolation, got {other:?}", t.label),
        }
        // Nothing from the failed statements was written.
        let n: i64 = db
            .query_scalar(select([func::count_star()]).from(users.clone()))
            .await
            .unwrap();
        assert_eq!(n, 1, "[{}]", t.label);
        let n: i64 = db
            .query_scalar(select([func::count_star()]).from(table("posts")))
            .await
            .unwrap();
        assert_eq!(n, 0, "[{}]", t.label);

        // one / one-or-none semantics
        let q = || select([users.col("email")]).from(users.clone());
        assert!(matches!(
            db.query_one::<(String,)>(q().filter(col("id").eq(12345)))
                .await,
            Err(Error::NotFound)
        ));
        db.execute(insert(users.clone()).columns(["email"]).values(["c@x"]))
            .await
            .unwrap();
        assert!(matches!(
            db.query_one::<(String,)>(q()).await,
            Err(Error::MultipleResults { count: 2 })
        ));
        let mut conn = db.connection().await.unwrap();
        assert_eq!(
            conn.query_opt::<(String,)>(q().filter(col("id").eq(12345)))
                .await
                .unwrap(),
            None
        );
        assert!(matches!(
            conn.query_opt::<(String,)>(q()).await,
            Err(Error::MultipleResults { .. })
        ));

        // A database error that is not an integrity error keeps its code and message.
        let err = conn
            .execute(text("SELECT * FROM no_such_table"))
            .await
            .unwrap_err();
        match &err {
            Error::Database { code, message, .. } if t.is_postgres() => {
                assert_eq!(code.as_deref(), Some("42P01"), "{err}");
                assert!(message.contains("no_such_table"), "{err}");
            }
            Error::Sqlite {
                code,
                extended_code,
                message,
                ..
            } if t.is_sqlite() => {
                assert_eq!((*code, *extended_code), ("SQLITE_ERROR", 1), "{err}");
                assert!(message.contains("no_such_table"), "{err}");
            }
            Error::Database { code, message, .. } if t.is_mysql() => {
                assert_eq!(code.as_deref(), Some("42S02"), "{err}");
                assert!(message.contains("no_such_table"), "{err}");
            }
            other => panic!("[{}] expected Database/Sqlite, got {other:?}", t.label),
        }
        assert!(std::error::Error::source(&err).is_some(), "{err:?}");
        // Statements compiled wrongly never reach the database.
        let err = conn.execute(text("SELECT :missing")).await.unwrap_err();
        assert!(matches!(err, Error::Compile(_)), "{err:?}");
        // Decoding the wrong type names the column and the Rust type.
        let err = conn.query::<(i64,)>(q()).await.unwrap_err();
        match &err {
            Error::Decode {
                column, rust_type, ..
            } => {
                assert_eq!(column, "email");
                assert_eq!(*rust_type, "i64");
            }
            other => panic!("[{}] expected Decode, got {other:?}", t.label),
        }
        drop(conn);
        t.finish().await;
    }
}

#[tokio::test]
async fn bad_urls_are_typed_and_passwords_never_shown() {
    let err = Database::connect("oracle://root:hunter2@localhost/db")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("hunter2"));

    // A refused PostgreSQL connection: typed, and the password is not in the message.
    let err = Database::connect("postgresql://app:hunter2@127.0.0.1:1/app")
        .pool_timeout(std::time::Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("app:***@127.0.0.1:1"), "{shown}");

    let opts = Database::connect("postgresql://app:hunter2@127.0.0.1:1/app");
    assert!(!format!("{opts:?}").contains("hunter2"));

    let err = Database::connect("sqlite:///nonexistent-dir/x/y.db")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");

    if let Some(t) = common::postgres_target("password_not_in_debug").await {
        // A real URL with a password: Debug and Display of the Database hide it.
        let with_password = t.url.replacen("postgres@", "postgres:s3cr3t@", 1);
        let db = Database::connect(&with_password).await.unwrap();
        let shown = format!("{db} {db:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        t.finish().await;
    }
}

#[tokio::test]
async fn unique_violations_name_indexes_and_primary_keys() {
    for t in common::all_targets("unique_names").await {
        let db = t.connect().await;
        let mut md = MetaData::new();
        md.add(
            Table::new("tags")
                .column(
                    Column::new("id", SqlType::Integer)
                        .primary_key()
                        .autoincrement(false),
                )
                .column(Column::new("a", SqlType::Text))
                .column(Column::new("b", SqlType::Text))
                .index(Index::new(["a", "b"]).unique()),
        );
        db.create_all(&md).await.unwrap();
        let tags = table("tags");
        db.execute(insert(tags.clone()).columns(["id", "a", "b"]).values([
            lit(1),
            lit("x"),
            lit("y"),
        ]))
        .await
        .unwrap();
        let err = db
            .execute(insert(tags.clone()).columns(["id", "a", "b"]).values([
                lit(2),
                lit("x"),
                lit("y"),
            ]))
            .await
            .unwrap_err();
        assert_eq!(
            err_constraint(&err).as_deref(),
            Some("ix_tags_a_b"),
            "[{}] {err}",
            t.label
        );
        let err = db
            .execute(insert(tags.clone()).columns(["id", "a", "b"]).values([
                lit(1),
                lit("p"),
                lit("q"),
            ]))
            .await
            .unwrap_err();
        // MySQL names every primary key PRIMARY, whatever the DDL said.
        let pk = if t.is_mysql() { "PRIMARY" } else { "pk_tags" };
        assert_eq!(
            err_constraint(&err).as_deref(),
            Some(pk),
            "[{}] {err}",
            t.label
        );
        t.finish().await;
    }
}

fn err_constraint(e: &Error) -> Option<String> {
    match e {
        Error::Integrity(i @ IntegrityError::UniqueViolation { .. }) => {
            i.constraint().map(str::to_owned)
        }
        other => panic!("expected UniqueViolation, got {other:?}"),
    }
}
