//! One `now()` per flush; Unicode-aware `ilike` on SQLite; serde of loaded relationships.
//! Every case runs on SQLite (memory, file) and PostgreSQL.

mod blog;
mod common;

use blog::*;
use chrono::{DateTime, Utc};
use oxalchemy::orm::{self, selectinload};
use oxalchemy::prelude::*;
use serde::{Deserialize, Serialize};

fn user(name: &str) -> User {
    User {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        settings: serde_json::json!({}),
        ..Default::default()
    }
}

/// What the database stored, not what the object holds.
async fn stored_times(
    db: &Database,
    table_name: &'static str,
) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    let name = if table_name == "users" {
        "username"
    } else {
        "title"
    };
    db.query(
        select([col(name), col("created_at"), col("updated_at")])
            .from(table(table_name))
            .order_by(col(name).asc()),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn one_flush_stores_one_instant_in_every_now_column() {
    for t in common::all_targets("one_now_per_flush").await {
        let db = t.connect().await;
        db.create_all(&registry().metadata()).await.unwrap();

        // A session flush: two tables, several rows, four `now` columns each filled once.
        let mut s = db.session();
        let u = s.add(user("ann"));
        s.flush().await.unwrap();
        let p = s.add(Post {
            title: "p".into(),
            author_id: s[u].base.id,
            ..Default::default()
        });
        let v = s.add(user("bob"));
        s.commit().await.unwrap();
        assert_eq!(s[u].ts.created_at, s[u].ts.updated_at, "[{}]", t.label);
        assert_eq!(s[v].ts.created_at, s[v].ts.updated_at, "[{}]", t.label);
        assert_eq!(
            s[p].ts.created_at, s[v].ts.created_at,
            "[{}] one instant per flush",
            t.label
        );
        for (name, created, updated) in stored_times(&db, "users").await {
            assert_eq!(created, updated, "[{}] stored for {name}", t.label);
        }

        // An UPDATE of two objects in one flush: one onupdate instant, later than the insert.
        let before = s[u].ts.updated_at;
        s[u].karma = Some(1);
        s[v].karma = Some(2);
        s.commit().await.unwrap();
        assert_eq!(s[u].ts.updated_at, s[v].ts.updated_at, "[{}]", t.label);
        assert!(s[u].ts.updated_at >= before);
        assert_eq!(
            s[u].ts.created_at, before,
            "[{}] created_at untouched",
            t.label
        );
        s.close().await.unwrap();

        // Without a session: insert and insert_many.
        let mut one = user("cyd");
        orm::insert(&db, &mut one).await.unwrap();
        assert_eq!(one.ts.created_at, one.ts.updated_at, "[{}]", t.label);
        let mut conn = db.connection().await.unwrap();
        let mut many = vec![user("dee"), user("eve")];
        orm::insert_many(&mut conn, &mut many).await.unwrap();
        assert_eq!(
            many[0].ts.created_at, many[1].ts.updated_at,
            "[{}]",
            t.label
        );
        drop(conn);
        for (name, created, updated) in stored_times(&db, "users").await {
            if name != "ann" && name != "bob" {
                assert_eq!(created, updated, "[{}] stored for {name}", t.label);
            }
        }
        t.finish().await;
    }
}

/// PostgreSQL's ILIKE folds per the database's `LC_CTYPE` (a `C.UTF-8` or language locale
/// folds `Ä`; the plain `C` locale does not); SQLite's `oxalchemy_lower` always does.
#[tokio::test]
async fn ilike_folds_unicode_case_on_every_database() {
    for t in common::all_targets("ilike_unicode").await {
        let db = t.connect().await;
        if t.is_postgres() {
            let folds: bool = db
                .query_scalar(text("SELECT lower('Ä') = 'ä'"))
                .await
                .unwrap();
            if !folds {
                // The reference behaviour needs a Unicode LC_CTYPE; SQLite is checked anyway.
                println!("[{}] the database's LC_CTYPE folds ASCII only (e.g. the C locale): PostgreSQL's ILIKE is not the Unicode reference here; skipped", t.label);
                t.finish().await;
                continue;
            }
        }
        let mut md = MetaData::new();
        md.add(
            Table::new("words")
                .column(Column::new("id", SqlType::Integer).primary_key())
                .column(Column::new("w", SqlType::Text)),
        );
        db.create_all(&md).await.unwrap();
        let mut ins = oxalchemy::core::query::insert(table("words")).columns(["w"]);
        for w in ["Ärger", "ärgerlich", "ÄRGER", "Über", "Bar", "straße"] {
            ins = ins.values([lit(w)]);
        }
        ins = ins.values([lit(None::<String>)]);
        db.execute(ins).await.unwrap();
        let words = async |cond: Expr| -> Vec<String> {
            db.query::<(String,)>(
                select([col("w")])
                    .from(table("words"))
                    .filter(cond)
                    .order_by(col("id").asc()),
            )
            .await
            .unwrap()
            .into_iter()
            .map(|(w,)| w)
            .collect()
        };
        assert_eq!(
            words(col("w").ilike("%är%")).await,
            ["Ärger", "ärgerlich", "ÄRGER"],
            "[{}]",
            t.label
        );
        assert_eq!(
            words(col("w").ilike("%ÄR%")).await,
            ["Ärger", "ärgerlich", "ÄRGER"],
            "[{}]",
            t.label
        );
        assert_eq!(
            words(col("w").ilike("über")).await,
            ["Über"],
            "[{}]",
            t.label
        );
        assert_eq!(
            words(col("w").ilike("STRASSE")).await,
            Vec::<String>::new(),
            "[{}] lower-casing, not full folding (as PostgreSQL)",
            t.label
        );
        assert_eq!(
            words(col("w").ilike("STRAßE")).await,
            ["straße"],
            "[{}]",
            t.label
        );
        assert_eq!(
            words(col("w").not_ilike("%är%")).await,
            ["Über", "Bar", "straße"],
            "[{}] NULL matches neither",
            t.label
        );
        // Escapes still apply.
        assert_eq!(
            words(col("w").ilike_escape("b_r", '\\')).await,
            ["Bar"],
            "[{}]",
            t.label
        );
        t.finish().await;
    }
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[model(table = "authors")]
struct Author {
    #[column(primary_key)]
    id: i64,
    name: String,
    #[relationship(back_populates = "author")]
    #[serde(default, skip_serializing_if = "Many::is_not_loaded")]
    articles: Many<Article>,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[model(table = "articles")]
struct Article {
    #[column(primary_key)]
    id: i64,
    title: String,
    #[column(foreign_key = "authors.id")]
    author_id: i64,
    #[relationship(back_populates = "articles")]
    #[serde(default, skip_serializing_if = "One::is_not_loaded")]
    author: One<Author>,
}

/// No skip attribute: serializing it unloaded is an error.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Strict {
    articles: Many<String>,
    author: One<String>,
}

#[tokio::test]
async fn loaded_relationships_serialize_to_nested_json_and_back() {
    for t in common::all_targets("serde_relationships").await {
        let db = t.connect().await;
        db.create_all(
            &Registry::new()
                .model::<Author>()
                .model::<Article>()
                .metadata(),
        )
        .await
        .unwrap();
        let mut s = db.session();
        let ann = s.add(Author {
            name: "ann".into(),
            ..Default::default()
        });
        s.add(Author {
            name: "bob".into(),
            ..Default::default()
        });
        s.flush().await.unwrap();
        let id = s[ann].id;
        for title in ["one", "two"] {
            s.add(Article {
                title: title.into(),
                author_id: id,
                ..Default::default()
            });
        }
        s.commit().await.unwrap();
        s.close().await.unwrap();

        let authors = orm::query::<Author>()
            .options(selectinload(Author::articles).selectinload(Article::author))
            .order_by(Author::id.asc())
            .all(&db)
            .await
            .unwrap();
        let json = serde_json::to_value(&authors).unwrap();
        assert_eq!(json[0]["name"], "ann", "[{}]", t.label);
        assert_eq!(json[0]["articles"][1]["title"], "two", "[{}]", t.label);
        assert_eq!(
            json[0]["articles"][0]["author"]["name"], "ann",
            "[{}] nested two levels",
            t.label
        );
        assert!(
            json[0]["articles"][0]["author"].get("articles").is_none(),
            "[{}] the nested author's own collection was not loaded: left out",
            t.label
        );
        assert_eq!(
            json[1]["articles"],
            serde_json::json!([]),
            "[{}] loaded and empty is []",
            t.label
        );
        let back: Vec<Author> = serde_json::from_value(json).unwrap();
        assert_eq!(back, authors, "[{}] deserializes back equal", t.label);

        // Not loaded: left out with the skip attribute, an error without it.
        let plain = orm::query::<Author>()
            .order_by(Author::id.asc())
            .all(&db)
            .await
            .unwrap();
        let json = serde_json::to_value(&plain[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": plain[0].id, "name": "ann"}),
            "[{}]",
            t.label
        );
        let back: Author = serde_json::from_value(json).unwrap();
        assert!(!back.articles.is_loaded());
        assert_eq!(back, plain[0]);
        t.finish().await;
    }
    let strict = Strict {
        articles: Many::default(),
        author: One::loaded(None),
    };
    let err = serde_json::to_string(&strict).unwrap_err().to_string();
    assert!(
        err.contains("was not loaded") && err.contains("skip_serializing_if"),
        "{err}"
    );
    let loaded = Strict {
        articles: Many::loaded(vec!["a".into()]),
        author: One::loaded(None),
    };
    let text = serde_json::to_string(&loaded).unwrap();
    assert_eq!(text, r#"{"articles":["a"],"author":null}"#);
    let back: Strict = serde_json::from_str(&text).unwrap();
    assert_eq!(back, loaded, "null is a loaded reference to nothing");
}
