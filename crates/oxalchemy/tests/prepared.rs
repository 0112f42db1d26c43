//! Statements compiled once: the compiled-statement cache (a repeated `.one()` is compiled
//! once and, on an ANALYZEd SQLite table, prepared once), prepared queries with `param()`,
//! and `orm::get` / `Session::get` by primary key, on every backend.

mod common;

use oxalchemy::orm::{self, get};
use oxalchemy::prelude::*;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "prep_users")]
struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 50)]
    pub name: String,
    pub grp: i32,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "prep_pairs")]
struct Pair {
    #[column(primary_key)]
    pub a: i64,
    // A length: on MySQL an unbounded String is LONGTEXT, which cannot be a key.
    #[column(primary_key, length = 40)]
    pub b: String,
    pub note: Option<String>,
}

async fn fill(db: &Database) {
    let md = Registry::new().model::<User>().model::<Pair>().metadata();
    db.create_all(&md).await.unwrap();
    let mut users: Vec<User> = (1..=50)
        .map(|i| User {
            id: i,
            name: format!("u{i}"),
            grp: (i % 5) as i32,
        })
        .collect();
    let mut conn = db.connection().await.unwrap();
    orm::insert_many(&mut conn, &mut users).await.unwrap();
    let mut pairs = vec![
        Pair {
            a: 1,
            b: "x".into(),
            note: Some("1x".into()),
        },
        Pair {
            a: 1,
            b: "y".into(),
            note: None,
        },
    ];
    orm::insert_many(&mut conn, &mut pairs).await.unwrap();
}

#[tokio::test]
async fn a_repeated_lookup_is_compiled_once_and_bound_again() {
    for t in common::all_targets("prep_cache").await {
        let db = t.connect().await;
        fill(&db).await;
        let mut conn = db.connection().await.unwrap();
        let analyze = if t.is_mysql() {
            "ANALYZE TABLE prep_users"
        } else {
            "ANALYZE"
        };
        conn.execute(text(analyze)).await.unwrap();
        let _ = orm::query::<User>()
            .filter(User::id.eq(1i64))
            .one(&mut conn)
            .await
            .unwrap();
        let before = conn.compiled_cache_stats();
        let reprepares = conn.statement_stats().reprepares;
        for i in 1..=50i64 {
            let u = orm::query::<User>()
                .filter(User::id.eq(i))
                .one(&mut conn)
                .await
                .unwrap();
            // Each lookup gets its own value, not the cached statement's first one.
            assert_eq!(u.name, format!("u{i}"), "[{}]", t.label);
        }
        let after = conn.compiled_cache_stats();
        assert_eq!(after.misses, before.misses, "[{}] {after:?}", t.label);
        assert_eq!(after.hits - before.hits, 50, "[{}] {after:?}", t.label);
        assert_eq!(
            conn.statement_stats().reprepares,
            reprepares,
            "[{}] SQLite recompiled the cached lookup",
            t.label
        );
        // Another shape (a different filter column) is another entry.
        let n = orm::query::<User>()
            .filter(User::grp.eq(3))
            .count(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, 10, "[{}]", t.label);
        assert_eq!(
            conn.compiled_cache_stats().misses,
            after.misses + 1,
            "[{}]",
            t.label
        );
        drop(conn);
        t.finish().await;
    }
}

#[tokio::test]
async fn a_cache_of_size_zero_compiles_every_statement() {
    for t in common::sqlite_targets("prep_nocache").await {
        let db = Database::connect(&t.url)
            .compiled_cache_size(0)
            .await
            .unwrap();
        fill(&db).await;
        for i in 1..=3i64 {
            let u = orm::query::<User>()
                .filter(User::id.eq(i))
                .one(&db)
                .await
                .unwrap();
            assert_eq!(u.id, i);
        }
        let s = db.compiled_cache_stats();
        assert_eq!(
            (s.hits, s.misses, s.size, s.capacity),
            (0, 0, 0, 0),
            "[{}]",
            t.label
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn a_prepared_query_runs_with_new_values_on_every_terminal() {
    for t in common::all_targets("prep_query").await {
        let db = t.connect().await;
        fill(&db).await;
        let by_id = orm::query::<User>().filter(User::id.eq(param())).prepare();
        let mut conn = db.connection().await.unwrap();
        for i in [3i64, 17, 50] {
            let u = by_id.one(&mut conn, i).await.unwrap();
            assert_eq!(
                (u.id, u.name.as_str()),
                (i, format!("u{i}").as_str()),
                "[{}]",
                t.label
            );
        }
        assert!(
            by_id.one_or_none(&db, 999i64).await.unwrap().is_none(),
            "[{}]",
            t.label
        );
        assert!(
            matches!(by_id.one(&db, 999i64).await, Err(Error::NotFound)),
            "[{}]",
            t.label
        );

        // Two parameters, in SQL order, and the query's own ORDER BY / literals kept.
        let in_group = orm::query::<User>()
            .filter(User::grp.eq(param()))
            .filter(User::id.gt(param()))
            .filter(User::name.ne("u45"))
            .order_by(User::id.desc())
            .prepare();
        let rows = in_group.all(&db, (0, 30i64)).await.unwrap();
        let ids: Vec<i64> = rows.iter().map(|u| u.id).collect();
        assert_eq!(ids, [50, 40, 35], "[{}]", t.label);
        let first = in_group.first(&mut conn, (1, 0i64)).await.unwrap().unwrap();
        assert_eq!(first.id, 46, "[{}]", t.label);
        assert!(
            matches!(
                in_group.one(&db, (1, 0i64)).await,
                Err(Error::MultipleResults { count: 2 })
            ),
            "[{}]",
            t.label
        );
        // A wrong number of values is refused before anything is sent.
        let err = in_group.all(&db, 1).await.unwrap_err();
        assert!(
            err.to_string().contains("2 param() placeholders but 1"),
            "[{}] {err}",
            t.label
        );
        let sql = in_group.sql_for(db.dialect()).unwrap();
        let grp = if t.is_mysql() {
            "`prep_users`.`grp` = "
        } else {
            "\"prep_users\".\"grp\" = "
        };
        assert!(sql.contains(grp), "[{}] {sql}", t.label);
        // Compiling a param() as an ordinary statement says to prepare it.
        let err = orm::query::<User>()
            .filter(User::id.eq(param()))
            .all(&db)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("prepare"), "[{}] {err}", t.label);
        drop(conn);
        t.finish().await;
    }
}

#[tokio::test]
async fn get_reads_by_primary_key_including_composite_keys() {
    for t in common::all_targets("prep_get").await {
        let db = t.connect().await;
        fill(&db).await;
        let u: Option<User> = get(&db, 7i64).await.unwrap();
        assert_eq!(u.map(|u| u.name), Some("u7".to_owned()), "[{}]", t.label);
        let mut conn = db.connection().await.unwrap();
        for i in 1..=50i64 {
            let u: User = get(&mut conn, i).await.unwrap().unwrap();
            assert_eq!(u.name, format!("u{i}"), "[{}]", t.label);
        }
        // `get` reads only the first row; its statement must still be finished (reset), or
        // SQLite refuses a DROP TABLE on the same connection ("database table is locked").
        conn.execute(text("CREATE TABLE prep_get_after (x INTEGER)"))
            .await
            .unwrap();
        conn.execute(text("DROP TABLE prep_get_after"))
            .await
            .unwrap_or_else(|e| panic!("[{}] DROP TABLE after get: {e}", t.label));
        assert_eq!(get::<User>(&db, 0i64).await.unwrap(), None, "[{}]", t.label);
        let p: Pair = get(&db, (1i64, "y")).await.unwrap().unwrap();
        assert_eq!(p.note, None, "[{}]", t.label);
        let p: Pair = get(&db, (1i64, "x")).await.unwrap().unwrap();
        assert_eq!(p.note.as_deref(), Some("1x"), "[{}]", t.label);
        let err = get::<Pair>(&db, 1i64).await.unwrap_err();
        assert!(
            err.to_string().contains("2-column primary key"),
            "[{}] {err}",
            t.label
        );

        // Session::get on a miss reads with the same SQL, then holds the object.
        let mut s = db.session();
        let h = s.get::<User>(9i64).await.unwrap().unwrap();
        assert_eq!(s.get_ref(h).unwrap().name, "u9", "[{}]", t.label);
        assert!(
            s.get::<User>(999i64).await.unwrap().is_none(),
            "[{}]",
            t.label
        );
        let pair = s
            .get_by_key::<Pair>(vec![1i64.into(), "x".into()])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            s.get_ref(pair).unwrap().note.as_deref(),
            Some("1x"),
            "[{}]",
            t.label
        );
        drop(s);
        drop(conn);
        t.finish().await;
    }
}
