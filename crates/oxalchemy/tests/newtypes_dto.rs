//! `#[derive(DbType)]` newtypes round trip as their inner type; `#[derive(FromRow)]` DTOs
//! decode from joins and aggregates, with errors naming the missing or mistyped column.
//! Every case runs on SQLite (memory, file) and PostgreSQL.

mod blog;
mod common;

use blog::*;
use chrono::{DateTime, TimeZone, Utc};
use oxalchemy::orm;
use oxalchemy::prelude::*;

#[derive(DbType, Clone, Copy, Debug, Default, PartialEq)]
struct AccountId(i64);

#[derive(DbType, Clone, Debug, Default, PartialEq)]
struct Email(String);

#[derive(DbType, Clone, Copy, Debug, Default, PartialEq)]
struct Score {
    points: i32,
}

#[derive(DbType, Clone, Copy, Debug, Default, PartialEq)]
struct Stamp(DateTime<Utc>);

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "accounts")]
struct Account {
    #[column(primary_key)]
    id: AccountId,
    #[column(length = 255, unique)]
    email: Email,
    backup: Option<Email>,
    score: Score,
    seen: Option<Stamp>,
}

#[test]
fn a_newtype_column_has_its_inner_type() {
    let t = Account::table();
    let ty = |name: &str| {
        t.columns
            .iter()
            .find(|c| c.name.as_str() == name)
            .map(|c| (c.ty.clone(), c.nullable))
    };
    assert_eq!(ty("id"), Some((SqlType::BigInteger, false)));
    assert_eq!(ty("email"), Some((SqlType::String(Some(255)), false)));
    assert_eq!(ty("backup"), Some((SqlType::Text, true)));
    assert_eq!(ty("score"), Some((SqlType::Integer, false)));
    assert_eq!(
        ty("seen"),
        Some((SqlType::DateTime { timezone: true }, true))
    );
}

#[tokio::test]
async fn newtypes_round_trip_as_their_inner_type() {
    for t in common::all_targets("newtypes_round_trip").await {
        let db = t.connect().await;
        db.create_all(&Registry::new().model::<Account>().metadata())
            .await
            .unwrap();
        let seen = Stamp(Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 58).unwrap());
        let mut s = db.session();
        let a = s.add(Account {
            email: Email("Änne@example.com".into()),
            backup: Some(Email("b@example.com".into())),
            score: Score { points: i32::MAX },
            seen: Some(seen),
            ..Default::default()
        });
        let b = s.add(Account {
            email: Email("bob@example.com".into()),
            score: Score { points: i32::MIN },
            ..Default::default()
        });
        s.commit().await.unwrap();
        assert!(
            s[a].id.0 > 0,
            "[{}] a generated key lands in the newtype",
            t.label
        );
        let (a_id, b_id) = (s[a].id, s[b].id);
        s.close().await.unwrap();

        let all = orm::query::<Account>()
            .order_by(Account::id.asc())
            .all(&db)
            .await
            .unwrap();
        assert_eq!(
            all[0].email,
            Email("Änne@example.com".into()),
            "[{}]",
            t.label
        );
        assert_eq!(all[0].seen, Some(seen), "[{}]", t.label);
        assert_eq!(all[0].score, Score { points: i32::MAX });
        assert_eq!(all[1].backup, None, "[{}] NULL", t.label);
        assert_eq!(all[1].score, Score { points: i32::MIN });

        // Typed comparisons with the newtype, text operators on a String wrapper.
        let found = orm::query::<Account>()
            .filter(Account::email.eq(Email("bob@example.com".into())))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(
            found.iter().map(|a| a.id).collect::<Vec<_>>(),
            [b_id],
            "[{}]",
            t.label
        );
        let found = orm::query::<Account>()
            .filter(Account::email.ilike("ÄNNE@%"))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(
            found.iter().map(|a| a.id).collect::<Vec<_>>(),
            [a_id],
            "[{}]",
            t.label
        );
        let found = orm::query::<Account>()
            .filter(Account::id.eq(a_id))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(found.len(), 1);

        // A newtype decodes from any query, as its inner type would; the inner type reads it too.
        let pairs: Vec<(AccountId, Option<Email>)> = db
            .query(
                select([col("id"), col("backup")])
                    .from(table("accounts"))
                    .order_by(col("id").asc()),
            )
            .await
            .unwrap();
        assert_eq!(
            pairs,
            [(a_id, Some(Email("b@example.com".into()))), (b_id, None)],
            "[{}]",
            t.label
        );
        let raw: Vec<(i64, i32)> = db
            .query(
                select([col("id"), col("score")])
                    .from(table("accounts"))
                    .order_by(col("id").asc()),
            )
            .await
            .unwrap();
        assert_eq!(raw, [(a_id.0, i32::MAX), (b_id.0, i32::MIN)]);
        t.finish().await;
    }
}

#[derive(FromRow, Debug, PartialEq)]
struct PostCount {
    username: String,
    #[from_row(rename = "n")]
    posts: i64,
    last_title: Option<String>,
}

#[derive(FromRow, Debug, PartialEq)]
struct TitleAndAuthor(String, String);

#[derive(FromRow, Debug)]
struct WrongType {
    #[allow(dead_code, reason = "decoding it is what fails")]
    username: i64,
}

#[derive(FromRow, Debug)]
struct Missing {
    #[allow(dead_code, reason = "decoding it is what fails")]
    nickname: String,
}

#[derive(FromRow, Debug, PartialEq)]
struct WithSettings {
    username: String,
    #[from_row(json)]
    settings: std::collections::BTreeMap<String, i64>,
}

async fn seed(db: &Database) {
    db.create_all(&registry().metadata()).await.unwrap();
    let mut s = db.session();
    for name in ["ann", "bob", "cyd"] {
        s.add(User {
            username: name.into(),
            email: format!("{name}@example.com"),
            settings: serde_json::json!({"level": name.len()}),
            ..Default::default()
        });
    }
    s.flush().await.unwrap();
    let ids: Vec<i64> = db_ids(&mut s).await;
    for (author, title) in [(ids[0], "a1"), (ids[0], "a2"), (ids[1], "b1")] {
        s.add(Post {
            title: title.into(),
            author_id: author,
            ..Default::default()
        });
    }
    s.commit().await.unwrap();
    s.close().await.unwrap();
}

async fn db_ids(s: &mut orm::Session) -> Vec<i64> {
    let hs = s
        .query::<User>()
        .order_by(User::username.asc())
        .all()
        .await
        .unwrap();
    hs.into_iter().map(|h| s[h].base.id).collect()
}

#[tokio::test]
async fn dtos_decode_from_joins_and_aggregates() {
    for t in common::all_targets("dto_from_row").await {
        let db = t.connect().await;
        seed(&db).await;
        let users = table("users");
        let posts = table("posts");
        // An aggregate over an outer join: cyd has no posts (count 0, max NULL).
        let counts: Vec<PostCount> = db
            .query(
                select([
                    func::max(posts.col("title")).label("last_title"),
                    users.col("username"),
                    func::count(posts.col("id")).label("n"),
                ])
                .from(users.clone())
                .left_join(posts.clone(), users.col("id").eq(posts.col("author_id")))
                .group_by([users.col("username")])
                .order_by(users.col("username").asc()),
            )
            .await
            .unwrap();
        assert_eq!(
            counts,
            [
                PostCount {
                    username: "ann".into(),
                    posts: 2,
                    last_title: Some("a2".into())
                },
                PostCount {
                    username: "bob".into(),
                    posts: 1,
                    last_title: Some("b1".into())
                },
                PostCount {
                    username: "cyd".into(),
                    posts: 0,
                    last_title: None
                },
            ],
            "[{}] columns read by name, in any order",
            t.label
        );
        // A tuple struct reads by position, from an inner join.
        let rows: Vec<TitleAndAuthor> = db
            .query(
                select([posts.col("title"), users.col("username")])
                    .from(posts.clone())
                    .join(users.clone(), users.col("id").eq(posts.col("author_id")))
                    .order_by(posts.col("title").asc()),
            )
            .await
            .unwrap();
        assert_eq!(
            rows[2],
            TitleAndAuthor("b1".into(), "bob".into()),
            "[{}]",
            t.label
        );
        // JSON through serde.
        let rows: Vec<WithSettings> = db
            .query(
                select([col("username"), col("settings")])
                    .from(users.clone())
                    .order_by(col("username").asc()),
            )
            .await
            .unwrap();
        assert_eq!(rows[0].settings.get("level"), Some(&3), "[{}]", t.label);

        // Errors name the column.
        let err = db
            .query::<WrongType>(select([col("username")]).from(users.clone()))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Decode { column, .. } if column == "username"),
            "[{}] {err}",
            t.label
        );
        assert!(err.to_string().contains("i64"), "[{}] {err}", t.label);
        let err = db
            .query::<Missing>(select([col("username"), col("email")]).from(users.clone()))
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(&err, Error::Decode { column, .. } if column == "nickname"),
            "[{}] {msg}",
            t.label
        );
        assert!(
            msg.contains("username, email") && msg.contains(".label(\"nickname\")"),
            "[{}] {msg}",
            t.label
        );
        t.finish().await;
    }
}
