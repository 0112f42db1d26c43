//! The same cases on SQLite (memory, file) and PostgreSQL: values go in bound and come back
//! unchanged; every construct of the expression language returns the right rows.

mod common;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use oxalchemy::core::expr::{excluded, Ident};
use oxalchemy::core::query::{insert, update};
use oxalchemy::prelude::*;
use rust_decimal::Decimal;
use std::str::FromStr;

fn users_table() -> Table {
    Table::new("users")
        .column(Column::new("id", SqlType::BigInteger).primary_key())
        .column(
            Column::new("name", SqlType::String(Some(100)))
                .not_null()
                .unique(),
        )
        .column(Column::new("email", SqlType::Text))
        .column(
            Column::new("score", SqlType::Integer)
                .server_default("0")
                .not_null(),
        )
}

async fn setup_users(db: &Database, rows: &[(&str, Option<&str>, i32)]) {
    let mut md = MetaData::new();
    md.add(users_table());
    db.create_all(&md).await.expect("create_all");
    let users = table("users");
    let mut ins = insert(users).columns(["name", "email", "score"]);
    for (name, email, score) in rows {
        ins = ins.values([lit(*name), lit(email.map(str::to_owned)), lit(*score)]);
    }
    if !rows.is_empty() {
        db.execute(ins).await.expect("insert users");
    }
}

type NullTimes = (
    Option<NaiveDate>,
    Option<NaiveTime>,
    Option<NaiveDateTime>,
    Option<chrono::DateTime<Utc>>,
    Option<Decimal>,
);

const NASTY: &str = "'; DROP TABLE users; --";

#[tokio::test]
async fn values_round_trip_unchanged() {
    for t in common::all_targets("values_round_trip").await {
        let db = t.connect().await;
        let mut md = MetaData::new();
        md.add(
            Table::new("all_types")
                .column(Column::new("id", SqlType::Integer).primary_key())
                .column(Column::new("b", SqlType::Boolean))
                .column(Column::new("i16", SqlType::SmallInteger))
                .column(Column::new("i32", SqlType::Integer))
                .column(Column::new("i64", SqlType::BigInteger))
                .column(Column::new("f32", SqlType::Float))
                .column(Column::new("f64", SqlType::Double))
                .column(Column::new("s", SqlType::String(Some(200))))
                .column(Column::new("txt", SqlType::Text))
                .column(Column::new("bin", SqlType::Binary))
                .column(Column::new("js", SqlType::JsonB))
                .column(Column::new("u", SqlType::Uuid))
                .column(Column::new("d", SqlType::Date))
                .column(Column::new("tm", SqlType::Time))
                .column(Column::new("ts", SqlType::DateTime { timezone: false }))
                .column(Column::new("tstz", SqlType::DateTime { timezone: true }))
                .column(Column::new("dec", SqlType::Numeric(Some((12, 4))))),
        );
        db.create_all(&md).await.unwrap();
        let u = uuid::Uuid::new_v4();
        let js = serde_json::json!({"a": [1, 2, {"b": "ünï"}], "quote": NASTY});
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        let tm = NaiveTime::from_hms_micro_opt(13, 14, 15, 123_456).unwrap();
        let ts = NaiveDateTime::new(d, tm);
        let tstz = Utc.with_ymd_and_hms(2023, 12, 31, 23, 59, 58).unwrap();
        let dec = Decimal::from_str("12345678.1234").unwrap();
        let cols = [
            "id", "b", "i16", "i32", "i64", "f32", "f64", "s", "txt", "bin", "js", "u", "d", "tm",
            "ts", "tstz", "dec",
        ];
        let full = vec![
            lit(1),
            lit(true),
            lit(-7i16),
            lit(i32::MIN),
            lit(i64::MAX),
            lit(1.5f32),
            lit(std::f64::consts::PI),
            lit("héllo wörld ✓ 日本語 🎉"),
            lit(NASTY),
            lit(vec![0u8, 1, 2, 255]),
            lit(js.clone()),
            lit(u),
            lit(d),
            lit(tm),
            lit(ts),
            lit(tstz),
            lit(dec),
        ];
        let mut nulls = vec![lit(2)];
        nulls.extend((1..cols.len()).map(|_| lit(Value::Null)));
        db.execute(
            insert(table("all_types"))
                .columns(cols)
                .values(full)
                .values(nulls),
        )
        .await
        .unwrap();

        let all_types = table("all_types");
        type Full = (
            bool,
            i16,
            i32,
            i64,
            f32,
            f64,
            String,
            String,
            Vec<u8>,
            serde_json::Value,
            uuid::Uuid,
        );
        let row: Full = db
            .query_one(
                select(cols[1..12].iter().map(|c| all_types.col(*c)))
                    .from(all_types.clone())
                    .filter(all_types.col("id").eq(1)),
            )
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        assert_eq!(
            row,
            (
                true,
                -7,
                i32::MIN,
                i64::MAX,
                1.5,
                std::f64::consts::PI,
                "héllo wörld ✓ 日本語 🎉".to_owned(),
                NASTY.to_owned(),
                vec![0, 1, 2, 255],
                js,
                u
            ),
            "[{}]",
            t.label
        );
        let times: (
            NaiveDate,
            NaiveTime,
            NaiveDateTime,
            chrono::DateTime<Utc>,
            Decimal,
        ) = db
            .query_one(
                select(cols[12..].iter().map(|c| all_types.col(*c)))
                    .from(all_types.clone())
                    .filter(all_types.col("id").eq(1)),
            )
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        assert_eq!(times, (d, tm, ts, tstz, dec), "[{}]", t.label);

        // NULLs come back as None for every type.
        type Nulls = (
            Option<bool>,
            Option<i16>,
            Option<i32>,
            Option<i64>,
            Option<f32>,
            Option<f64>,
            Option<String>,
            Option<String>,
            Option<Vec<u8>>,
            Option<serde_json::Value>,
            Option<uuid::Uuid>,
        );
        let row: Nulls = db
            .query_one(
                select(cols[1..12].iter().map(|c| all_types.col(*c)))
                    .from(all_types.clone())
                    .filter(all_types.col("id").eq(2)),
            )
            .await
            .unwrap();
        assert_eq!(row, Nulls::default(), "[{}]", t.label);
        let row: NullTimes = db
            .query_one(
                select(cols[12..].iter().map(|c| all_types.col(*c)))
                    .from(all_types.clone())
                    .filter(all_types.col("id").eq(2)),
            )
            .await
            .unwrap();
        assert_eq!(row, (None, None, None, None, None), "[{}]", t.label);

        // Reading a NULL into a non-Option type is a decode error naming column and type.
        let err = db
            .query_one::<(bool,)>(
                select([all_types.col("b")])
                    .from(all_types.clone())
                    .filter(all_types.col("id").eq(2)),
            )
            .await
            .unwrap_err();
        match &err {
            Error::Decode {
                column, rust_type, ..
            } => {
                assert_eq!(column, "b");
                assert_eq!(*rust_type, "bool");
            }
            other => panic!("[{}] expected Decode, got {other:?}", t.label),
        }
        assert!(err.to_string().contains("Option"), "{err}");

        // The table that the SQL-looking value names is still there.
        let n: i64 = db
            .query_scalar(select([func::count_star()]).from(table("all_types")))
            .await
            .unwrap();
        assert_eq!(n, 2);
        t.finish().await;
    }
}

#[tokio::test]
async fn filters_return_the_right_rows() {
    for t in common::all_targets("filters").await {
        let db = t.connect().await;
        setup_users(
            &db,
            &[
                ("ann", Some("ann@example.com"), 10),
                ("bob", None, 20),
                ("100%_real", Some("pct@example.com"), 30),
                ("1000 real", Some("x@example.com"), 40),
                ("Zoë", Some("zoe@example.com"), 50),
                (NASTY, Some("evil@example.com"), 60),
            ],
        )
        .await;
        let users = table("users");
        let names = |q: oxalchemy::core::Select| {
            let db = db.clone();
            async move {
                let rows: Vec<(String,)> = db.query(q).await.unwrap();
                rows.into_iter().map(|r| r.0).collect::<Vec<_>>()
            }
        };
        let base = || {
            select([users.col("name")])
                .from(users.clone())
                .order_by(users.col("id").asc())
        };

        // NULL handling
        assert_eq!(
            names(base().filter(users.col("email").is_null())).await,
            ["bob"]
        );
        assert_eq!(
            names(base().filter(users.col("email").is_not_null()))
                .await
                .len(),
            5
        );
        // Empty IN list: no rows, and NOT IN () matches all.
        assert!(names(base().filter(users.col("id").in_(Vec::<i64>::new())))
            .await
            .is_empty());
        assert_eq!(
            names(base().filter(users.col("id").not_in(Vec::<i64>::new())))
                .await
                .len(),
            6
        );
        assert_eq!(
            names(base().filter(users.col("name").in_(["bob", "ann", "nobody"]))).await,
            ["ann", "bob"]
        );
        // LIKE wildcards in user input are matched literally by contains/startswith.
        assert_eq!(
            names(base().filter(users.col("name").contains("0%_"))).await,
            ["100%_real"]
        );
        assert_eq!(
            names(base().filter(users.col("name").startswith("100%"))).await,
            ["100%_real"]
        );
        assert_eq!(
            names(base().filter(users.col("name").endswith("_real"))).await,
            ["100%_real"]
        );
        // …whereas a raw LIKE pattern treats them as wildcards.
        assert_eq!(
            names(base().filter(users.col("name").like("100%"))).await,
            ["100%_real", "1000 real"]
        );
        // The SQL-looking value matches itself and nothing else.
        assert_eq!(
            names(base().filter(users.col("name").eq(NASTY))).await,
            [NASTY]
        );
        assert_eq!(
            names(base().filter(users.col("name").contains("; DROP"))).await,
            [NASTY]
        );
        // ILIKE (native on PostgreSQL, oxalchemy_lower() LIKE oxalchemy_lower() on SQLite)
        assert_eq!(
            names(base().filter(users.col("name").ilike("ZO%"))).await,
            ["Zoë"]
        );
        assert_eq!(
            names(base().filter(users.col("email").ilike("%EXAMPLE.COM")))
                .await
                .len(),
            5
        );
        // Comparisons, BETWEEN, boolean combinations
        assert_eq!(
            names(base().filter(users.col("score").between(20, 40))).await,
            ["bob", "100%_real", "1000 real"]
        );
        assert_eq!(
            names(base().filter(or_([
                users.col("score").lt(15),
                and_([users.col("score").ge(50), users.col("score").ne(60)])
            ])))
            .await,
            ["ann", "Zoë"]
        );
        assert_eq!(
            names(base().filter(not_(users.col("score").le(50)))).await,
            [NASTY]
        );
        // Arithmetic
        assert_eq!(
            names(base().filter((users.col("score") * 2 + 1).eq(41))).await,
            ["bob"]
        );
        // Unicode
        assert_eq!(
            names(base().filter(users.col("name").eq("Zoë"))).await,
            ["Zoë"]
        );
        // text() with named binds inside an expression
        assert_eq!(
            names(
                base().filter(
                    text("score > :lo AND score < :hi")
                        .bind("lo", 15)
                        .bind("hi", 25)
                        .into_expr()
                )
            )
            .await,
            ["bob"]
        );
        // ORDER BY DESC, LIMIT, OFFSET, DISTINCT
        let q = select([users.col("name")])
            .from(users.clone())
            .order_by(users.col("score").desc())
            .limit(2)
            .offset(1);
        assert_eq!(names(q).await, ["Zoë", "1000 real"]);
        let q = select([users.col("name")])
            .from(users.clone())
            .order_by(users.col("score").asc())
            .offset(4);
        assert_eq!(names(q).await, ["Zoë", NASTY]);
        let q = select([users.col("email").is_null().nested()])
            .from(users.clone())
            .distinct();
        let distinct: Vec<(bool,)> = db.query(q).await.unwrap();
        assert_eq!(distinct.len(), 2, "[{}]", t.label);
        // NULLS FIRST / LAST
        let q = select([users.col("name")])
            .from(users.clone())
            .order_by(users.col("email").asc().nulls_first())
            .limit(1);
        assert_eq!(names(q).await, ["bob"]);
        let q = select([users.col("name")])
            .from(users.clone())
            .order_by(users.col("email").desc().nulls_last())
            .limit(1);
        assert_eq!(names(q).await, ["Zoë"]);
        t.finish().await;
    }
}

#[tokio::test]
async fn joins_aggregates_subqueries_and_ctes() {
    for t in common::all_targets("joins_aggregates").await {
        let db = t.connect().await;
        setup_users(&db, &[("ann", None, 1), ("bob", None, 2), ("cyd", None, 3)]).await;
        let mut md = MetaData::new();
        md.add(users_table());
        md.add(
            Table::new("posts")
                .column(Column::new("id", SqlType::BigInteger).primary_key())
                .column(
                    Column::new("author_id", SqlType::BigInteger)
                        .not_null()
                        .references("users", "id")
                        .on_delete(ReferentialAction::Cascade),
                )
                .column(Column::new("title", SqlType::String(Some(200))).not_null())
                .column(Column::new("parent_id", SqlType::BigInteger)),
        );
        db.create_all(&md).await.unwrap();
        let posts = table("posts");
        let users = table("users");
        // ann: 3 posts, bob: 1, cyd: 0. Post 2 replies to 1, 3 to 2.
        db.execute(
            insert(posts.clone())
                .columns(["author_id", "title", "parent_id"])
                .values([lit(1), lit("a1"), lit(Value::Null)])
                .values([lit(1), lit("a2"), lit(1)])
                .values([lit(1), lit("a3"), lit(2)])
                .values([lit(2), lit("b1"), lit(Value::Null)]),
        )
        .await
        .unwrap();

        // The guide's posts-count-by-author: JOIN, GROUP BY, count, label.
        let counts: Vec<(String, i64)> = db
            .query(
                select([
                    users.col("name"),
                    func::count(posts.col("id")).label("post_count"),
                ])
                .from(users.clone())
                .join(posts.clone(), users.col("id").eq(posts.col("author_id")))
                .group_by([users.col("name")])
                .order_by(users.col("name").asc()),
            )
            .await
            .unwrap();
        assert_eq!(
            counts,
            [("ann".to_owned(), 3), ("bob".to_owned(), 1)],
            "[{}]",
            t.label
        );

        // LEFT JOIN keeps cyd; HAVING; ORDER BY a label.
        let counts: Vec<(String, i64)> = db
            .query(
                select([users.col("name"), func::count(posts.col("id")).label("n")])
                    .from(users.clone())
                    .left_join(posts.clone(), users.col("id").eq(posts.col("author_id")))
                    .group_by([users.col("name")])
                    .having(func::count(posts.col("id")).lt(2))
                    .order_by(col("n").desc()),
            )
            .await
            .unwrap();
        assert_eq!(
            counts,
            [("bob".to_owned(), 1), ("cyd".to_owned(), 0)],
            "[{}]",
            t.label
        );

        // sum/avg/min/max/coalesce/upper/lower/case/cast
        let (sum, min, max, up, low): (i64, i64, i64, String, String) = db
            .query_one(
                select([
                    func::coalesce([func::sum(users.col("score")), lit(0i64)])
                        .cast(SqlType::BigInteger),
                    func::min(users.col("score")).cast(SqlType::BigInteger),
                    func::max(users.col("score")).cast(SqlType::BigInteger),
                    func::upper(lit("abc")),
                    func::lower(lit("ÀBC")).cast(SqlType::Text),
                ])
                .from(users.clone()),
            )
            .await
            .unwrap();
        assert_eq!(
            (sum, min, max, up.as_str()),
            (6, 1, 3, "ABC"),
            "[{}]",
            t.label
        );
        assert!(low.ends_with("bc"), "[{}] {low}", t.label);
        let avg: f64 = db
            .query_scalar(
                select([func::avg(users.col("score")).cast(SqlType::Double)]).from(users.clone()),
            )
            .await
            .unwrap();
        assert!((avg - 2.0).abs() < 1e-9);
        let labels: Vec<(String,)> = db
            .query(
                select([case()
                    .when(users.col("score").ge(3), "high")
                    .when(users.col("score").ge(2), "mid")
                    .else_("low")])
                .from(users.clone())
                .order_by(users.col("id").asc()),
            )
            .await
            .unwrap();
        assert_eq!(
            labels,
            [
                ("low".to_owned(),),
                ("mid".to_owned(),),
                ("high".to_owned(),)
            ]
        );

        // Scalar subquery, IN subquery, EXISTS / NOT EXISTS.
        let p2 = posts.clone().alias("p2");
        let rows: Vec<(String, i64)> = db
            .query(
                select([
                    users.col("name"),
                    oxalchemy::scalar(
                        select([func::count_star()])
                            .from(p2.clone())
                            .filter(p2.col("author_id").eq(users.col("id"))),
                    ),
                ])
                .from(users.clone())
                .filter(
                    users
                        .col("id")
                        .in_subquery(select([posts.col("author_id")]).from(posts.clone())),
                )
                .order_by(users.col("id").asc()),
            )
            .await
            .unwrap();
        assert_eq!(
            rows,
            [("ann".to_owned(), 3), ("bob".to_owned(), 1)],
            "[{}]",
            t.label
        );
        let lonely: Vec<(String,)> = db
            .query(
                select([users.col("name")])
                    .from(users.clone())
                    .filter(not_(exists(
                        select([posts.col("id")])
                            .from(posts.clone())
                            .filter(posts.col("author_id").eq(users.col("id"))),
                    ))),
            )
            .await
            .unwrap();
        assert_eq!(lonely, [("cyd".to_owned(),)], "[{}]", t.label);

        // Recursive CTE: the reply thread under post 1.
        let thread = table("thread");
        let anchor = select([posts.col("id"), lit(0i64).cast(SqlType::BigInteger)])
            .from(posts.clone())
            .filter(posts.col("id").eq(1));
        let step = select([
            posts.col("id"),
            (thread.col("depth") + 1i64).cast(SqlType::BigInteger),
        ])
        .from(posts.clone())
        .join(thread.clone(), posts.col("parent_id").eq(thread.col("id")));
        let cte = anchor
            .union_all(step)
            .cte_with_columns("thread", ["id", "depth"]);
        let rows: Vec<(i64, i64)> = db
            .query(
                select([thread.col("id"), thread.col("depth")])
                    .from(thread.clone())
                    .with_recursive(cte)
                    .order_by(thread.col("id").asc()),
            )
            .await
            .unwrap();
        assert_eq!(rows, [(1, 0), (2, 1), (3, 2)], "[{}]", t.label);

        // Non-recursive CTE + UNION
        let busy = select([posts.col("author_id")])
            .from(posts.clone())
            .group_by([posts.col("author_id")])
            .cte("busy");
        let ids: Vec<(i64,)> = db
            .query(
                select([busy.table().col("author_id")])
                    .from(busy.table())
                    .with(busy)
                    .union(select([lit(3i64)]))
                    .order_by(col("author_id").asc()),
            )
            .await
            .unwrap();
        assert_eq!(ids, [(1,), (2,), (3,)], "[{}]", t.label);

        // FOREIGN KEY ON DELETE CASCADE really cascades.
        db.execute(delete(users.clone()).filter(users.col("name").eq("ann")))
            .await
            .unwrap();
        let left: i64 = db
            .query_scalar(select([func::count_star()]).from(posts.clone()))
            .await
            .unwrap();
        assert_eq!(left, 1, "[{}]", t.label);
        t.finish().await;
    }
}

#[tokio::test]
async fn insert_update_delete_returning_and_upsert() {
    for t in common::all_targets("returning_upsert").await {
        let db = t.connect().await;
        setup_users(&db, &[]).await;
        let users = table("users");
        let ids: Vec<(i64, i32)> = db
            .query(
                insert(users.clone())
                    .columns(["name", "email"])
                    .values(["ann", "a@x"])
                    .values(["bob", "b@x"])
                    .returning([col("id"), col("score")]),
            )
            .await
            .unwrap();
        assert_eq!(ids.len(), 2);
        assert!(
            ids[0].0 < ids[1].0,
            "[{}] generated keys in order: {ids:?}",
            t.label
        );
        assert_eq!(ids[0].1, 0, "server default applied");

        // ON CONFLICT DO NOTHING: nothing inserted, nothing returned.
        let none: Result<Vec<(i64,)>, _> = db
            .query(
                insert(users.clone())
                    .columns(["name"])
                    .values(["ann"])
                    .on_conflict_do_nothing(["name"])
                    .returning([col("id")]),
            )
            .await;
        if t.is_mysql() {
            // ON DUPLICATE KEY UPDATE (MySQL's only upsert) touches the existing row, and
            // MariaDB's RETURNING would return it: refused, saying so.
            let err = none.unwrap_err().to_string();
            assert!(err.contains("skipped rows"), "[{}] {err}", t.label);
        } else {
            assert!(none.unwrap().is_empty(), "[{}]", t.label);
        }
        // ON CONFLICT DO UPDATE with excluded
        let up: Vec<(String, Option<String>)> = db
            .query(
                insert(users.clone())
                    .columns(["name", "email"])
                    .values(["ann", "new@x"])
                    .on_conflict_do_update(["name"], [(Ident::from("email"), excluded("email"))])
                    .returning([col("name"), col("email")]),
            )
            .await
            .unwrap();
        assert_eq!(
            up,
            [("ann".to_owned(), Some("new@x".to_owned()))],
            "[{}]",
            t.label
        );

        let bump = update(users.clone())
            .set("score", col("score") + 5)
            .filter(col("name").eq("bob"));
        if t.is_mysql() {
            // Neither MariaDB nor MySQL has UPDATE … RETURNING: refused before sending.
            let err = db
                .query::<(String, i32)>(bump.clone().returning([col("name"), col("score")]))
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Compile(oxalchemy::core::CompileError::Unsupported(..))
                ),
                "{err}"
            );
            assert_eq!(db.execute(bump).await.unwrap(), 1);
        } else {
            let changed: Vec<(String, i32)> = db
                .query(bump.returning([col("name"), col("score")]))
                .await
                .unwrap();
            assert_eq!(changed, [("bob".to_owned(), 5)]);
        }
        let n = db
            .execute(update(users.clone()).set("email", Value::Null))
            .await
            .unwrap();
        assert_eq!(n, 2, "[{}] rows affected", t.label);
        let gone: Vec<(String,)> = db
            .query(
                delete(users.clone())
                    .filter(col("score").gt(1))
                    .returning([col("name")]),
            )
            .await
            .unwrap();
        assert_eq!(gone, [("bob".to_owned(),)]);
        let n = db
            .execute(delete(users.clone()).filter(col("name").eq("nobody")))
            .await
            .unwrap();
        assert_eq!(n, 0);

        // A bulk insert chunked to the dialect's bind limit.
        let mut big = insert(table("users")).columns(["name", "score"]);
        for i in 0..3000 {
            big = big.values([lit(format!("user{i}")), lit(i)]);
        }
        let chunks = big.chunked(1000);
        assert_eq!(chunks.len(), 6);
        for c in chunks {
            db.execute(c).await.unwrap();
        }
        let n: i64 = db
            .query_scalar(select([func::count_star()]).from(users.clone()))
            .await
            .unwrap();
        assert_eq!(n, 3001, "[{}]", t.label);
        // text() as a whole statement
        let (name,): (String,) = db
            .query_one(
                text("SELECT name FROM users WHERE score = :s AND name <> :n")
                    .bind("s", 2999)
                    .bind("n", NASTY),
            )
            .await
            .unwrap();
        assert_eq!(name, "user2999");
        t.finish().await;
    }
}

#[tokio::test]
async fn enums_native_on_postgres_and_checked_text_everywhere() {
    for t in common::all_targets("enums").await {
        let db = t.connect().await;
        let mood = |native| SqlType::Enum {
            name: "mood".into(),
            variants: vec!["happy".into(), "sad".into()],
            native,
        };
        let mut md = MetaData::new();
        md.add(
            Table::new("people")
                .column(Column::new("id", SqlType::Integer).primary_key())
                .column(Column::new("native_mood", mood(true)))
                .column(Column::new("text_mood", mood(false))),
        );
        db.create_all(&md).await.unwrap();
        db.create_all(&md).await.unwrap(); // the type already exists: skipped
        db.execute(
            insert(table("people"))
                .columns(["native_mood", "text_mood"])
                .values(["happy", "sad"]),
        )
        .await
        .unwrap();
        let row: (String, String) = db
            .query_one(select([col("native_mood"), col("text_mood")]).from(table("people")))
            .await
            .unwrap();
        assert_eq!(row, ("happy".to_owned(), "sad".to_owned()), "[{}]", t.label);
        // A value outside the enum is rejected (CHECK on the text column).
        let err = db
            .execute(
                insert(table("people"))
                    .columns(["text_mood"])
                    .values(["angry"]),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Integrity(IntegrityError::CheckViolation { .. })),
            "[{}] {err:?}",
            t.label
        );
        if t.is_postgres() {
            let err = db
                .execute(
                    insert(table("people"))
                        .columns(["native_mood"])
                        .values(["angry"]),
                )
                .await
                .unwrap_err();
            assert!(err.to_string().contains("angry"), "{err}");
        }
        db.drop_all(&md).await.unwrap();
        db.create_all(&md).await.unwrap();
        t.finish().await;
    }
}
