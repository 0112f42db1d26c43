use super::*;
use crate::expr::{and_, case, col, func, table, text, Expr, Ident};
use crate::query::select;
use crate::{Postgres, Sqlite};

/// Statements of one shape built with different literals.
fn shapes(n: i64) -> Vec<Statement> {
    let users = table("users");
    let posts = table("posts").alias("p");
    vec![
        select([users.col("id"), users.col("name")])
            .from(users.clone())
            .filter(users.col("id").eq(n))
            .limit(2)
            .into(),
        select([col("id")])
            .from(users.clone())
            .filter(and_([
                col("name").like(format!("a{n}%")),
                col("name").ilike("x%"),
                col("age").between(n, n + 10),
                col("id").in_([n, n + 1, n + 2]),
                col("karma").is_null(),
            ]))
            .order_by(col("id").desc())
            .limit(10)
            .offset(20)
            .into(),
        // Untyped binds are cast on PostgreSQL after their type.
        select([
            crate::expr::lit(n).label("x"),
            (crate::expr::lit(n) + 1i64).label("y"),
        ])
        .into(),
        select([func::count_star()])
            .from(users.clone())
            .join(posts.clone(), posts.col("user_id").eq(users.col("id")))
            .filter(posts.col("title").eq(format!("t{n}")))
            .into(),
        select([case().when(col("a").gt(n), "big").else_("small")])
            .from(users.clone())
            .filter(
                col("id").in_subquery(
                    select([col("user_id")])
                        .from(table("posts"))
                        .filter(col("n").eq(n)),
                ),
            )
            .into(),
        text("SELECT * FROM users WHERE id = :id AND name <> :name")
            .bind("id", n)
            .bind("name", format!("n{n}"))
            .into(),
    ]
}

#[test]
fn a_cached_shape_compiles_like_the_compiler_with_new_values() {
    for dialect in [&Sqlite as &dyn Dialect, &Postgres] {
        let mut cache = StatementCache::new(10);
        for n in [1, 2, 3] {
            for stmt in shapes(n) {
                assert_eq!(
                    cache.compile(dialect, &stmt),
                    compile(dialect, &stmt),
                    "{stmt:?}"
                );
            }
        }
        let stats = cache.stats();
        assert_eq!(stats.misses, shapes(0).len() as u64, "{}", dialect.name());
        assert_eq!(stats.hits, 2 * shapes(0).len() as u64);
    }
}

#[test]
fn a_select_by_reference_shares_entries_with_the_statement() {
    for dialect in [&Sqlite as &dyn Dialect, &Postgres] {
        let mut cache = StatementCache::new(10);
        for n in [1, 2, 3] {
            for stmt in shapes(n) {
                let Statement::Select(select) = &stmt else {
                    continue;
                };
                let by_ref = cache.compile_shared_select(dialect, select).unwrap();
                let expected = compile(dialect, &stmt).unwrap();
                assert_eq!(
                    (by_ref.0.as_ref(), &by_ref.1),
                    (expected.sql.as_str(), &expected.binds),
                    "{stmt:?}"
                );
                // The same shape given as a statement is the entry just used.
                let misses = cache.stats().misses;
                assert_eq!(cache.compile(dialect, &stmt).unwrap(), expected);
                assert_eq!(cache.stats().misses, misses, "{stmt:?}");
            }
        }
        let selects = shapes(0)
            .iter()
            .filter(|s| matches!(s, Statement::Select(_)))
            .count() as u64;
        // Compiled once per shape (a miss by reference is kept too), then only hits.
        assert_eq!(cache.stats().misses, selects, "{}", dialect.name());
        assert_eq!(cache.stats().hits, 5 * selects, "{}", dialect.name());
    }
}

static USERS_COLUMNS: [&str; 2] = ["id", "name"];
static POSTS_COLUMNS: [&str; 2] = ["id", "title"];

#[test]
fn a_headed_select_compiles_like_its_completed_statement() {
    let users = SelectHead {
        table: "users",
        columns: &USERS_COLUMNS,
    };
    let posts = SelectHead {
        table: "posts",
        columns: &POSTS_COLUMNS,
    };
    // The rest of a model query: a filter, a join with extra columns, ordering, limits.
    let rests = |n: i64| {
        vec![
            select(Vec::<Expr>::new()).filter(col("id").eq(n)).limit(2),
            select([col("extra")])
                .join(table("tags"), col("tag_id").eq(table("tags").col("id")))
                .filter(and_([col("id").gt(n), col("name").like(format!("a{n}%"))]))
                .order_by(col("id").desc())
                .limit(10)
                .offset(20),
        ]
    };
    for dialect in [&Sqlite as &dyn Dialect, &Postgres] {
        let mut cache = StatementCache::new(10);
        for n in [1, 2, 3] {
            for head in [&users, &posts] {
                for rest in rests(n) {
                    let mut binds = Vec::new();
                    let sql = cache
                        .compile_shared_headed_select_into(dialect, head, &rest, &mut binds)
                        .unwrap();
                    let expected =
                        compile(dialect, &Statement::Select(head.complete(rest.clone()))).unwrap();
                    assert_eq!(
                        (sql.as_ref(), &binds),
                        (expected.sql.as_str(), &expected.binds)
                    );
                }
            }
        }
        // One entry per head and rest (two heads never share one), then only hits.
        assert_eq!(cache.stats().misses, 4, "{}", dialect.name());
        assert_eq!(cache.stats().hits, 8, "{}", dialect.name());
        // The completed statement given whole is another entry: its key walks the head.
        let whole: Statement = users.complete(rests(1).remove(0)).into();
        assert_eq!(cache.compile(dialect, &whole), compile(dialect, &whole));
        assert_eq!(cache.stats().misses, 5, "{}", dialect.name());
    }
}

#[test]
fn an_uncached_headed_select_still_compiles_whole() {
    let head = SelectHead {
        table: "users",
        columns: &USERS_COLUMNS,
    };
    let rest = select(Vec::<Expr>::new()).filter(col("id").eq(7i64));
    let mut cache = StatementCache::new(0);
    let mut binds = Vec::new();
    let sql = cache
        .compile_shared_headed_select_into(&Sqlite, &head, &rest, &mut binds)
        .unwrap();
    let expected = compile(&Sqlite, &Statement::Select(head.complete(rest))).unwrap();
    assert_eq!(
        (sql.as_ref(), binds),
        (expected.sql.as_str(), expected.binds)
    );
    assert!(sql.contains(r#""users"."name""#), "{sql}");
}

#[test]
fn long_names_and_lists_keep_shapes_apart() {
    // Counts of 255 and more take the long form of the key's numbers.
    let mut cache = StatementCache::new(10);
    let q = |name: String, n: usize| -> Statement {
        select((0..n).map(|i| col(format!("{name}{i}"))))
            .from(table("t"))
            .into()
    };
    let long = "x".repeat(300);
    for stmt in [
        q(long.clone(), 1),
        q(long.clone() + "y", 1),
        q("a".into(), 254),
        q("a".into(), 255),
        q("a".into(), 256),
        q("a".into(), 255),
    ] {
        assert_eq!(cache.compile(&Postgres, &stmt), compile(&Postgres, &stmt));
    }
    assert_eq!((cache.stats().misses, cache.stats().hits), (5, 1));
}

#[test]
fn null_and_typed_literals_are_different_shapes() {
    let mut cache = StatementCache::new(10);
    let with = |v: Value| -> Statement { select([crate::expr::lit(v).label("x")]).into() };
    for v in [
        Value::I64(1),
        Value::Text("a".into()),
        Value::Null,
        Value::I64(2),
    ] {
        let stmt = with(v);
        assert_eq!(cache.compile(&Postgres, &stmt), compile(&Postgres, &stmt));
    }
    assert_eq!((cache.stats().misses, cache.stats().hits), (3, 1));
}

#[test]
fn different_names_and_limits_are_different_shapes() {
    let mut cache = StatementCache::new(10);
    let q = |name: String, limit: u64| -> Statement {
        select([col(name)]).from(table("t")).limit(limit).into()
    };
    for stmt in [
        q("a".into(), 1),
        q("b".into(), 1),
        q("a".into(), 2),
        q("a".into(), 1),
    ] {
        assert_eq!(cache.compile(&Postgres, &stmt), compile(&Postgres, &stmt));
    }
    assert_eq!((cache.stats().misses, cache.stats().hits), (3, 1));
}

#[test]
fn the_least_recently_used_shape_is_dropped_beyond_capacity() {
    let mut cache = StatementCache::new(2);
    let q = |limit: u64| -> Statement { select([col("a")]).from(table("t")).limit(limit).into() };
    for l in [1, 2, 1, 3, 1, 2] {
        cache.compile(&Sqlite, &q(l)).unwrap();
    }
    // 1, 2 miss; 1 hits; 3 misses and drops 2; 1 hits; 2 misses again.
    let s = cache.stats();
    assert_eq!((s.misses, s.hits, s.size), (4, 2, 2));
}

#[test]
fn capacity_zero_compiles_every_time() {
    let mut cache = StatementCache::new(0);
    let stmt: Statement = select([col("a")]).from(table("t")).into();
    assert_eq!(cache.compile(&Sqlite, &stmt), compile(&Sqlite, &stmt));
    assert_eq!(cache.stats(), CacheStats::default());
}

#[test]
fn a_param_placeholder_is_refused_outside_a_prepared_statement() {
    let mut cache = StatementCache::new(4);
    let stmt: Statement = select([col("a")])
        .from(table("t"))
        .filter(col("a").eq(crate::expr::param()))
        .into();
    assert_eq!(
        cache.compile(&Sqlite, &stmt),
        Err(CompileError::UnpreparedParam)
    );
    assert_eq!(compile(&Sqlite, &stmt), Err(CompileError::UnpreparedParam));
}

#[test]
fn columns_sharing_a_table_keep_shapes_apart() {
    // A column qualified by the previous column's `&'static str` table is keyed in short
    // form: which columns share a table must still tell statements apart.
    let c = |t: Option<&'static str>, n: &'static str| Expr::Column {
        table: t.map(Ident::new_static),
        name: Ident::new_static(n),
    };
    let owned = |t: &str, n: &'static str| Expr::Column {
        table: Some(Ident::from(t.to_owned())),
        name: Ident::new_static(n),
    };
    let q = |cols: Vec<Expr>| -> Statement { select(cols).from(table("t")).into() };
    let f = |cols: Vec<Expr>, cond: Expr| -> Statement {
        select(cols).from(table("t")).filter(cond).into()
    };
    let mut cache = StatementCache::new(40);
    let stmts = [
        q(vec![c(Some("t"), "a"), c(Some("t"), "b")]),
        q(vec![c(Some("t"), "a"), c(Some("u"), "b")]),
        q(vec![c(Some("u"), "a"), c(Some("t"), "b")]),
        q(vec![c(Some("u"), "a"), c(Some("u"), "b")]),
        q(vec![c(None, "a"), c(Some("t"), "b")]),
        q(vec![c(Some("t"), "a"), c(None, "b"), c(Some("t"), "b")]),
        q(vec![
            c(Some("t"), "a"),
            c(Some("t"), "b"),
            c(Some("t"), "c"),
        ]),
        q(vec![owned("t", "a"), c(Some("t"), "b")]),
        q(vec![c(Some("t"), "a"), owned("t", "b")]),
        f(vec![c(Some("t"), "a")], c(Some("t"), "b").eq(1)),
        f(vec![c(Some("t"), "a")], c(Some("u"), "b").eq(1)),
        f(vec![c(Some("u"), "a")], c(Some("u"), "b").eq(1)),
        f(vec![c(Some("u"), "a")], c(None, "b").eq(1)),
        q(vec![c(Some("t"), "a"), c(Some("t"), "b")]),
        q(vec![c(Some("u"), "a"), c(Some("t"), "b")]),
        f(vec![c(Some("t"), "a")], c(Some("t"), "b").eq(2)),
    ];
    for stmt in &stmts {
        assert_eq!(cache.compile(&Postgres, stmt), compile(&Postgres, stmt));
        assert_eq!(cache.compile(&Sqlite, stmt), compile(&Sqlite, stmt));
    }
    assert_eq!((cache.stats().misses, cache.stats().hits), (26, 6));
}
