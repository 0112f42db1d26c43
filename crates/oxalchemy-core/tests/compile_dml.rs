//! SELECT / INSERT / UPDATE / DELETE / UNION / WITH on both dialects: exact SQL and binds.

mod common;

use common::{check, check_each, check_err, compile_on, i, t};
use oxalchemy_core::query::{ConflictTarget, FromItem, OnConflict};
use oxalchemy_core::{
    and_, col, delete, excluded, func, insert, lit, scalar, select, star, table, update,
    CompileError, Dialect, Expr, Ident, Insert, Postgres, Sqlite, Statement, TableRef, Value,
};

fn users() -> TableRef {
    table("users")
}

fn no_columns() -> Vec<Expr> {
    Vec::new()
}

// ---------------------------------------------------------------------------------------
// SELECT
// ---------------------------------------------------------------------------------------

#[test]
fn select_qualified_columns_from_table() {
    let u = users();
    check(
        select([u.col("id"), u.col("name")]).from(u.clone()),
        r#"SELECT "users"."id", "users"."name" FROM "users""#,
        r#"SELECT "users"."id", "users"."name" FROM "users""#,
        &[],
    );
}

#[test]
fn select_from_aliased_and_schema_qualified_tables() {
    let u = users().alias("u");
    check(
        select([u.col("id"), u.star()]).from(u.clone()),
        r#"SELECT "u"."id", "u".* FROM "users" AS "u""#,
        r#"SELECT "u"."id", "u".* FROM "users" AS "u""#,
        &[],
    );
    let s = users().schema("app");
    check(
        select([s.col("id")]).from(s.clone()),
        r#"SELECT "users"."id" FROM "app"."users""#,
        r#"SELECT "users"."id" FROM "app"."users""#,
        &[],
    );
    let sa = users().schema("app").alias("u");
    check(
        select([sa.col("id")]).from(sa.clone()),
        r#"SELECT "u"."id" FROM "app"."users" AS "u""#,
        r#"SELECT "u"."id" FROM "app"."users" AS "u""#,
        &[],
    );
}

#[test]
fn select_star_and_no_from() {
    check(
        select(no_columns()).from(users()),
        r#"SELECT * FROM "users""#,
        r#"SELECT * FROM "users""#,
        &[],
    );
    check(
        select([star()]).from(users()),
        r#"SELECT * FROM "users""#,
        r#"SELECT * FROM "users""#,
        &[],
    );
    // PostgreSQL cannot infer a bare bind's type in the select list: it is cast.
    check(
        select([lit(1i64)]),
        "SELECT ?",
        "SELECT $1::BIGINT",
        &[i(1)],
    );
}

#[test]
fn select_from_several_tables_and_subquery() {
    check(
        select([col("name"), col("title")])
            .from(users())
            .from(table("posts")),
        r#"SELECT "name", "title" FROM "users", "posts""#,
        r#"SELECT "name", "title" FROM "users", "posts""#,
        &[],
    );
    let inner = select([func::count_star().label("n")])
        .from(users())
        .filter(col("age").gt(18i64));
    check(
        select([col("n")])
            .from_subquery(inner, "sub")
            .filter(col("n").gt(1i64)),
        r#"SELECT "n" FROM (SELECT count(*) AS "n" FROM "users" WHERE "age" > ?) AS "sub" WHERE "n" > ?"#,
        r#"SELECT "n" FROM (SELECT count(*) AS "n" FROM "users" WHERE "age" > $1) AS "sub" WHERE "n" > $2"#,
        &[i(18), i(1)],
    );
}

#[test]
fn select_inner_and_left_joins() {
    let u = users().alias("u");
    let p = table("posts").alias("p");
    let c = table("comments").alias("c");
    check(
        select([u.col("name"), p.col("title"), c.col("body")])
            .from(u.clone())
            .join(p.clone(), p.col("user_id").eq(u.col("id")))
            .left_join(
                c.clone(),
                and_([c.col("post_id").eq(p.col("id")), c.col("body").ne("spam")]),
            ),
        r#"SELECT "u"."name", "p"."title", "c"."body" FROM "users" AS "u" JOIN "posts" AS "p" ON "p"."user_id" = "u"."id" LEFT OUTER JOIN "comments" AS "c" ON ("c"."post_id" = "p"."id") AND ("c"."body" <> ?)"#,
        r#"SELECT "u"."name", "p"."title", "c"."body" FROM "users" AS "u" JOIN "posts" AS "p" ON "p"."user_id" = "u"."id" LEFT OUTER JOIN "comments" AS "c" ON ("c"."post_id" = "p"."id") AND ("c"."body" <> $1)"#,
        &[t("spam")],
    );
}

#[test]
fn select_join_to_subquery() {
    let counts = select([col("user_id"), func::count_star().label("n")])
        .from(table("posts"))
        .group_by([col("user_id")]);
    let stmt = select([users().col("name"), table("pc").col("n")])
        .from(users())
        .left_join(
            FromItem::Subquery {
                query: Box::new(counts),
                alias: "pc".into(),
            },
            table("pc").col("user_id").eq(users().col("id")),
        );
    check(
        stmt,
        r#"SELECT "users"."name", "pc"."n" FROM "users" LEFT OUTER JOIN (SELECT "user_id", count(*) AS "n" FROM "posts" GROUP BY "user_id") AS "pc" ON "pc"."user_id" = "users"."id""#,
        r#"SELECT "users"."name", "pc"."n" FROM "users" LEFT OUTER JOIN (SELECT "user_id", count(*) AS "n" FROM "posts" GROUP BY "user_id") AS "pc" ON "pc"."user_id" = "users"."id""#,
        &[],
    );
}

#[test]
fn select_where_group_by_having_order_by_limit_offset() {
    let u = users();
    let n = func::count_star().label("n");
    let stmt = select([u.col("age"), n.clone()])
        .from(u.clone())
        .filter(u.col("active").eq(true))
        .filter(u.col("age").ge(18i64))
        .group_by([u.col("age")])
        .having(func::count_star().gt(1i64))
        .order_by(n.desc())
        .order_by(u.col("age"))
        .limit(10)
        .offset(20);
    check_each(
        stmt,
        (
            r#"SELECT "users"."age", count(*) AS "n" FROM "users" WHERE ("users"."active" = ?) AND ("users"."age" >= ?) GROUP BY "users"."age" HAVING count(*) > ? ORDER BY "n" DESC, "users"."age" LIMIT 10 OFFSET 20"#,
            &[i(1), i(18), i(1)],
        ),
        (
            r#"SELECT "users"."age", count(*) AS "n" FROM "users" WHERE ("users"."active" = $1) AND ("users"."age" >= $2) GROUP BY "users"."age" HAVING count(*) > $3 ORDER BY "n" DESC, "users"."age" LIMIT $4 OFFSET $5"#,
            &[Value::Bool(true), i(18), i(1), i(10), i(20)],
        ),
    );
}

#[test]
fn select_having_twice_is_anded() {
    check(
        select([col("age")])
            .from(users())
            .group_by([col("age")])
            .having(func::count_star().gt(1i64))
            .having(func::max(col("score")).lt(9.5f64)),
        r#"SELECT "age" FROM "users" GROUP BY "age" HAVING (count(*) > ?) AND (max("score") < ?)"#,
        r#"SELECT "age" FROM "users" GROUP BY "age" HAVING (count(*) > $1) AND (max("score") < $2)"#,
        &[i(1), Value::F64(9.5)],
    );
}

#[test]
fn label_is_named_in_group_by_and_order_by() {
    let lname = func::lower(col("name")).label("lname");
    check(
        select([lname.clone(), func::count_star()])
            .from(users())
            .group_by([lname.clone()])
            .order_by(lname.desc()),
        r#"SELECT lower("name") AS "lname", count(*) FROM "users" GROUP BY "lname" ORDER BY "lname" DESC"#,
        r#"SELECT lower("name") AS "lname", count(*) FROM "users" GROUP BY "lname" ORDER BY "lname" DESC"#,
        &[],
    );
}

#[test]
fn order_by_directions_and_nulls() {
    let u = users();
    check(
        select([u.col("id")])
            .from(u.clone())
            .order_by(u.col("name").asc().nulls_first())
            .order_by(u.col("age").desc().nulls_last())
            .order_by(u.col("email").asc().nulls_last())
            .order_by(u.col("score").desc().nulls_first())
            .order_by(u.col("id")),
        r#"SELECT "users"."id" FROM "users" ORDER BY "users"."name" NULLS FIRST, "users"."age" DESC NULLS LAST, "users"."email" NULLS LAST, "users"."score" DESC NULLS FIRST, "users"."id""#,
        r#"SELECT "users"."id" FROM "users" ORDER BY "users"."name" NULLS FIRST, "users"."age" DESC NULLS LAST, "users"."email" NULLS LAST, "users"."score" DESC NULLS FIRST, "users"."id""#,
        &[],
    );
}

#[test]
fn order_by_expression() {
    check(
        select([col("id")])
            .from(users())
            .order_by((col("age") * 2i64).desc()),
        r#"SELECT "id" FROM "users" ORDER BY "age" * ? DESC"#,
        r#"SELECT "id" FROM "users" ORDER BY "age" * $1 DESC"#,
        &[i(2)],
    );
}

#[test]
fn limit_alone() {
    // SQLite writes row counts inline (a bound LIMIT makes it re-prepare on every bind);
    // PostgreSQL binds them, keeping one prepared statement for every page.
    check_each(
        select([col("id")]).from(users()).limit(10),
        (r#"SELECT "id" FROM "users" LIMIT 10"#, &[]),
        (r#"SELECT "id" FROM "users" LIMIT $1"#, &[i(10)]),
    );
    check_each(
        select([col("id")]).from(users()).limit(0),
        (r#"SELECT "id" FROM "users" LIMIT 0"#, &[]),
        (r#"SELECT "id" FROM "users" LIMIT $1"#, &[i(0)]),
    );
}

#[test]
fn offset_alone_needs_limit_minus_one_on_sqlite() {
    check_each(
        select([col("id")]).from(users()).offset(5),
        (r#"SELECT "id" FROM "users" LIMIT -1 OFFSET 5"#, &[]),
        (r#"SELECT "id" FROM "users" OFFSET $1"#, &[i(5)]),
    );
    check_each(
        select([col("id")])
            .from(users())
            .filter(col("age").gt(3i64))
            .order_by(col("id"))
            .offset(5),
        (
            r#"SELECT "id" FROM "users" WHERE "age" > ? ORDER BY "id" LIMIT -1 OFFSET 5"#,
            &[i(3)],
        ),
        (
            r#"SELECT "id" FROM "users" WHERE "age" > $1 ORDER BY "id" OFFSET $2"#,
            &[i(3), i(5)],
        ),
    );
}

#[test]
fn limit_and_offset() {
    check_each(
        select([col("id")])
            .from(users())
            .filter(col("name").eq("x"))
            .limit(10)
            .offset(20),
        (
            r#"SELECT "id" FROM "users" WHERE "name" = ? LIMIT 10 OFFSET 20"#,
            &[t("x")],
        ),
        (
            r#"SELECT "id" FROM "users" WHERE "name" = $1 LIMIT $2 OFFSET $3"#,
            &[t("x"), i(10), i(20)],
        ),
    );
    // The builder order does not matter.
    check_each(
        select([col("id")]).from(users()).offset(20).limit(10),
        (r#"SELECT "id" FROM "users" LIMIT 10 OFFSET 20"#, &[]),
        (
            r#"SELECT "id" FROM "users" LIMIT $1 OFFSET $2"#,
            &[i(10), i(20)],
        ),
    );
}

#[test]
fn limit_or_offset_beyond_i64_is_an_error() {
    check_err(
        select([col("id")]).from(users()).limit(u64::MAX),
        CompileError::OutOfRange(u64::MAX),
    );
    let too_big = i64::MAX as u64 + 1;
    check_err(
        select([col("id")]).from(users()).offset(too_big),
        CompileError::OutOfRange(too_big),
    );
    check_each(
        select([col("id")]).from(users()).limit(i64::MAX as u64),
        (r#"SELECT "id" FROM "users" LIMIT 9223372036854775807"#, &[]),
        (r#"SELECT "id" FROM "users" LIMIT $1"#, &[i(i64::MAX)]),
    );
}

#[test]
fn select_distinct() {
    check(
        select([col("name")]).from(users()).distinct(),
        r#"SELECT DISTINCT "name" FROM "users""#,
        r#"SELECT DISTINCT "name" FROM "users""#,
        &[],
    );
    check(
        select(no_columns()).from(users()).distinct(),
        r#"SELECT DISTINCT * FROM "users""#,
        r#"SELECT DISTINCT * FROM "users""#,
        &[],
    );
}

// ---------------------------------------------------------------------------------------
// UNION / WITH
// ---------------------------------------------------------------------------------------

#[test]
fn union_and_union_all_then_order_and_limit() {
    let stmt = select([col("name")])
        .from(users())
        .filter(col("age").gt(30i64))
        .union(
            select([col("title")])
                .from(table("posts"))
                .filter(col("score").gt(5i64)),
        )
        .union_all(select([col("body")]).from(table("comments")))
        .order_by(col("name"))
        .limit(3);
    check_each(
        stmt,
        (
            r#"SELECT "name" FROM "users" WHERE "age" > ? UNION SELECT "title" FROM "posts" WHERE "score" > ? UNION ALL SELECT "body" FROM "comments" ORDER BY "name" LIMIT 3"#,
            &[i(30), i(5)],
        ),
        (
            r#"SELECT "name" FROM "users" WHERE "age" > $1 UNION SELECT "title" FROM "posts" WHERE "score" > $2 UNION ALL SELECT "body" FROM "comments" ORDER BY "name" LIMIT $3"#,
            &[i(30), i(5), i(3)],
        ),
    );
}

#[test]
fn union_member_with_clauses_it_cannot_carry_is_refused() {
    let base = || select([col("name")]).from(users());
    let members = [
        base().order_by(col("name")),
        base().limit(1),
        base().offset(1),
        // A member's own WITH or UNION would be silently dropped.
        base().with(select([col("id")]).from(users()).cte("c")),
        base().union(select([col("title")]).from(table("posts"))),
    ];
    for member in members {
        let stmt: Statement = base().union_all(member).into();
        for d in [&Sqlite as &dyn Dialect, &Postgres] {
            match oxalchemy_core::compile(d, &stmt) {
                Err(CompileError::Unsupported(_, name)) => assert_eq!(name, d.name()),
                other => panic!("{}: expected Unsupported, got {other:?}", d.name()),
            }
        }
    }
}

#[test]
fn union_member_distinct_and_group_by_are_kept() {
    check(
        select([col("name")]).from(users()).union(
            select([col("title")])
                .from(table("posts"))
                .distinct()
                .group_by([col("title")])
                .having(func::count_star().gt(2i64)),
        ),
        r#"SELECT "name" FROM "users" UNION SELECT DISTINCT "title" FROM "posts" GROUP BY "title" HAVING count(*) > ?"#,
        r#"SELECT "name" FROM "users" UNION SELECT DISTINCT "title" FROM "posts" GROUP BY "title" HAVING count(*) > $1"#,
        &[i(2)],
    );
}

#[test]
fn cte() {
    let active = select([col("id"), col("name")])
        .from(users())
        .filter(col("active").eq(true))
        .cte("active_users");
    let a = active.table();
    check_each(
        select([a.col("name")])
            .with(active.clone())
            .from(a.clone())
            .filter(a.col("id").gt(10i64)),
        (
            r#"WITH "active_users" AS (SELECT "id", "name" FROM "users" WHERE "active" = ?) SELECT "active_users"."name" FROM "active_users" WHERE "active_users"."id" > ?"#,
            &[i(1), i(10)],
        ),
        (
            r#"WITH "active_users" AS (SELECT "id", "name" FROM "users" WHERE "active" = $1) SELECT "active_users"."name" FROM "active_users" WHERE "active_users"."id" > $2"#,
            &[Value::Bool(true), i(10)],
        ),
    );
}

#[test]
fn several_ctes_with_columns() {
    let adults = select([col("id")])
        .from(users())
        .filter(col("age").ge(18i64))
        .cte_with_columns("adults", ["uid"]);
    let prolific = select([col("user_id"), func::count_star()])
        .from(table("posts"))
        .group_by([col("user_id")])
        .having(func::count_star().gt(5i64))
        .cte_with_columns("prolific", ["uid", "n"]);
    let (a, p) = (adults.table(), prolific.table());
    check(
        select([a.col("uid"), p.col("n")])
            .with(adults.clone())
            .with(prolific.clone())
            .from(a.clone())
            .join(p.clone(), p.col("uid").eq(a.col("uid"))),
        r#"WITH "adults" ("uid") AS (SELECT "id" FROM "users" WHERE "age" >= ?), "prolific" ("uid", "n") AS (SELECT "user_id", count(*) FROM "posts" GROUP BY "user_id" HAVING count(*) > ?) SELECT "adults"."uid", "prolific"."n" FROM "adults" JOIN "prolific" ON "prolific"."uid" = "adults"."uid""#,
        r#"WITH "adults" ("uid") AS (SELECT "id" FROM "users" WHERE "age" >= $1), "prolific" ("uid", "n") AS (SELECT "user_id", count(*) FROM "posts" GROUP BY "user_id" HAVING count(*) > $2) SELECT "adults"."uid", "prolific"."n" FROM "adults" JOIN "prolific" ON "prolific"."uid" = "adults"."uid""#,
        &[i(18), i(5)],
    );
}

#[test]
fn recursive_cte_with_union_all_and_columns() {
    let cnt = table("cnt");
    let seed = select([lit(1i64).cast(oxalchemy_core::SqlType::BigInteger)]);
    let step = select([cnt.col("n") + 1i64])
        .from(cnt.clone())
        .filter(cnt.col("n").lt(10i64));
    let cte = seed.union_all(step).cte_with_columns("cnt", ["n"]);
    check(
        select([cnt.col("n")])
            .with_recursive(cte)
            .from(cnt.clone())
            .order_by(cnt.col("n")),
        r#"WITH RECURSIVE "cnt" ("n") AS (SELECT CAST(? AS BIGINT) UNION ALL SELECT "cnt"."n" + ? FROM "cnt" WHERE "cnt"."n" < ?) SELECT "cnt"."n" FROM "cnt" ORDER BY "cnt"."n""#,
        r#"WITH RECURSIVE "cnt" ("n") AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT "cnt"."n" + $2 FROM "cnt" WHERE "cnt"."n" < $3) SELECT "cnt"."n" FROM "cnt" ORDER BY "cnt"."n""#,
        &[i(1), i(1), i(10)],
    );
}

#[test]
fn recursive_cte_over_a_table() {
    // An org chart: every report of user 1, at any depth.
    let u = users();
    let chain = table("chain");
    let seed = select([u.col("id"), u.col("manager_id")])
        .from(u.clone())
        .filter(u.col("id").eq(1i64));
    let step = select([u.col("id"), u.col("manager_id")])
        .from(u.clone())
        .join(chain.clone(), u.col("manager_id").eq(chain.col("id")));
    let stmt = select([chain.col("id")])
        .with_recursive(seed.union(step).cte("chain"))
        .from(chain.clone());
    check(
        stmt,
        r#"WITH RECURSIVE "chain" AS (SELECT "users"."id", "users"."manager_id" FROM "users" WHERE "users"."id" = ? UNION SELECT "users"."id", "users"."manager_id" FROM "users" JOIN "chain" ON "users"."manager_id" = "chain"."id") SELECT "chain"."id" FROM "chain""#,
        r#"WITH RECURSIVE "chain" AS (SELECT "users"."id", "users"."manager_id" FROM "users" WHERE "users"."id" = $1 UNION SELECT "users"."id", "users"."manager_id" FROM "users" JOIN "chain" ON "users"."manager_id" = "chain"."id") SELECT "chain"."id" FROM "chain""#,
        &[i(1)],
    );
}

// ---------------------------------------------------------------------------------------
// INSERT
// ---------------------------------------------------------------------------------------

#[test]
fn insert_one_row() {
    check(
        insert(users())
            .columns(["name", "age"])
            .values([lit("ann"), lit(30i64)]),
        r#"INSERT INTO "users" ("name", "age") VALUES (?, ?)"#,
        r#"INSERT INTO "users" ("name", "age") VALUES ($1, $2)"#,
        &[t("ann"), i(30)],
    );
}

#[test]
fn insert_many_rows_with_expressions_and_null() {
    check(
        insert(users())
            .columns(["name", "age", "created_at"])
            .values([lit("ann"), lit(30i64), func::now()])
            .values([lit("bob"), lit(None::<i64>), func::now()]),
        r#"INSERT INTO "users" ("name", "age", "created_at") VALUES (?, ?, CURRENT_TIMESTAMP), (?, ?, CURRENT_TIMESTAMP)"#,
        r#"INSERT INTO "users" ("name", "age", "created_at") VALUES ($1, $2, now()), ($3, $4, now())"#,
        &[t("ann"), i(30), t("bob"), Value::Null],
    );
}

#[test]
fn insert_returning() {
    check(
        insert(users())
            .columns(["name"])
            .values(["ann"])
            .returning([col("id"), col("name").label("n")]),
        r#"INSERT INTO "users" ("name") VALUES (?) RETURNING "id", "name" AS "n""#,
        r#"INSERT INTO "users" ("name") VALUES ($1) RETURNING "id", "name" AS "n""#,
        &[t("ann")],
    );
}

#[test]
fn insert_on_conflict_do_nothing() {
    check(
        insert(users())
            .columns(["email"])
            .values(["a@x.org"])
            .on_conflict_do_nothing(Vec::<Ident>::new()),
        r#"INSERT INTO "users" ("email") VALUES (?) ON CONFLICT DO NOTHING"#,
        r#"INSERT INTO "users" ("email") VALUES ($1) ON CONFLICT DO NOTHING"#,
        &[t("a@x.org")],
    );
    check(
        insert(users())
            .columns(["email"])
            .values(["a@x.org"])
            .on_conflict_do_nothing(["email"])
            .returning([col("id")]),
        r#"INSERT INTO "users" ("email") VALUES (?) ON CONFLICT ("email") DO NOTHING RETURNING "id""#,
        r#"INSERT INTO "users" ("email") VALUES ($1) ON CONFLICT ("email") DO NOTHING RETURNING "id""#,
        &[t("a@x.org")],
    );
}

#[test]
fn insert_on_conflict_do_update_with_excluded() {
    check(
        insert(users())
            .columns(["email", "name", "age"])
            .values([lit("a@x.org"), lit("ann"), lit(30i64)])
            .on_conflict_do_update(
                ["email"],
                [
                    (Ident::from("name"), excluded("name")),
                    (Ident::from("age"), users().col("age") + 1i64),
                ],
            )
            .returning([col("id")]),
        r#"INSERT INTO "users" ("email", "name", "age") VALUES (?, ?, ?) ON CONFLICT ("email") DO UPDATE SET "name" = excluded."name", "age" = "users"."age" + ? RETURNING "id""#,
        r#"INSERT INTO "users" ("email", "name", "age") VALUES ($1, $2, $3) ON CONFLICT ("email") DO UPDATE SET "name" = excluded."name", "age" = "users"."age" + $4 RETURNING "id""#,
        &[t("a@x.org"), t("ann"), i(30), i(1)],
    );
}

#[test]
fn insert_on_conflict_do_update_where_and_composite_target() {
    let mut ins = insert(table("memberships"))
        .columns(["user_id", "group_id", "role"])
        .values([lit(1i64), lit(2i64), lit("admin")]);
    ins.on_conflict = Some(OnConflict::DoUpdate {
        target: ConflictTarget::Columns(vec!["user_id".into(), "group_id".into()]),
        set: vec![("role".into(), excluded("role"))],
        where_: Some(table("memberships").col("role").ne(excluded("role"))),
    });
    check(
        ins,
        r#"INSERT INTO "memberships" ("user_id", "group_id", "role") VALUES (?, ?, ?) ON CONFLICT ("user_id", "group_id") DO UPDATE SET "role" = excluded."role" WHERE "memberships"."role" <> excluded."role""#,
        r#"INSERT INTO "memberships" ("user_id", "group_id", "role") VALUES ($1, $2, $3) ON CONFLICT ("user_id", "group_id") DO UPDATE SET "role" = excluded."role" WHERE "memberships"."role" <> excluded."role""#,
        &[i(1), i(2), t("admin")],
    );
}

#[test]
fn insert_on_conflict_do_update_needs_a_target() {
    check_err(
        insert(users())
            .columns(["email"])
            .values(["a@x.org"])
            .on_conflict_do_update(
                Vec::<Ident>::new(),
                [(Ident::from("email"), excluded("email"))],
            ),
        CompileError::MissingConflictTarget,
    );
}

#[test]
fn insert_default_values() {
    check(
        insert(users()),
        r#"INSERT INTO "users" DEFAULT VALUES"#,
        r#"INSERT INTO "users" DEFAULT VALUES"#,
        &[],
    );
    check(
        insert(users()).returning([col("id")]),
        r#"INSERT INTO "users" DEFAULT VALUES RETURNING "id""#,
        r#"INSERT INTO "users" DEFAULT VALUES RETURNING "id""#,
        &[],
    );
    check(
        insert(users()).values(Vec::<Expr>::new()),
        r#"INSERT INTO "users" DEFAULT VALUES"#,
        r#"INSERT INTO "users" DEFAULT VALUES"#,
        &[],
    );
}

#[test]
fn insert_shape_errors() {
    check_err(
        insert(users()).columns(["name"]),
        CompileError::EmptyInsert("users".into()),
    );
    check_err(
        insert(users())
            .columns(["name", "age"])
            .values([lit("a"), lit(1i64)])
            .values([lit("b")]),
        CompileError::RowLength {
            table: "users".into(),
            row: 1,
            expected: 2,
            got: 1,
        },
    );
    check_err(
        insert(users()).values(["a"]),
        CompileError::RowLength {
            table: "users".into(),
            row: 0,
            expected: 0,
            got: 1,
        },
    );
}

// ---------------------------------------------------------------------------------------
// Insert::chunked
// ---------------------------------------------------------------------------------------

fn rows_insert(columns: usize, rows: usize) -> Insert {
    let names: Vec<Ident> = (0..columns).map(|c| Ident::from(format!("c{c}"))).collect();
    let mut ins = insert(table("bulk")).columns(names);
    for r in 0..rows {
        ins = ins.values((0..columns).map(|c| lit((r * columns + c) as i64)));
    }
    ins
}

fn chunk_sizes(chunks: &[Insert]) -> Vec<usize> {
    chunks.iter().map(|c| c.rows.len()).collect()
}

#[test]
fn chunked_keeps_a_small_insert_whole() {
    let ins = rows_insert(2, 3);
    assert_eq!(ins.clone().chunked(6), vec![ins.clone()]);
    assert_eq!(ins.clone().chunked(100), vec![ins]);
    let empty = insert(table("bulk"));
    assert_eq!(empty.clone().chunked(1), vec![empty]);
}

#[test]
fn chunked_splits_by_bind_count_in_order() {
    let chunks = rows_insert(3, 10).chunked(7);
    assert_eq!(chunk_sizes(&chunks), [2, 2, 2, 2, 2]);
    check(
        chunks[0].clone(),
        r#"INSERT INTO "bulk" ("c0", "c1", "c2") VALUES (?, ?, ?), (?, ?, ?)"#,
        r#"INSERT INTO "bulk" ("c0", "c1", "c2") VALUES ($1, $2, $3), ($4, $5, $6)"#,
        &[i(0), i(1), i(2), i(3), i(4), i(5)],
    );
    // Every value appears exactly once, in order, across the chunks.
    let all: Vec<Value> = chunks
        .iter()
        .flat_map(|c| compile_on(&Postgres, &c.clone().into()).binds)
        .collect();
    assert_eq!(all, (0..30).map(i).collect::<Vec<_>>());

    assert_eq!(chunk_sizes(&rows_insert(3, 5).chunked(7)), [2, 2, 1]);
    // A row larger than the limit still goes out, alone.
    assert_eq!(chunk_sizes(&rows_insert(2, 3).chunked(1)), [1, 1, 1]);
}

#[test]
fn chunked_fits_the_dialect_limits() {
    for (dialect, expected) in [
        (
            &Sqlite as &dyn Dialect,
            vec![10922, 10922, 10922, 10922, 6312],
        ),
        (&Postgres as &dyn Dialect, vec![21845, 21845, 6310]),
    ] {
        let chunks = rows_insert(3, 50_000).chunked(dialect.max_binds());
        assert_eq!(chunk_sizes(&chunks), expected, "{}", dialect.name());
        for (n, chunk) in chunks.into_iter().enumerate() {
            let c = compile_on(dialect, &chunk.into());
            assert!(c.binds.len() <= dialect.max_binds(), "{}", dialect.name());
            if n == 0 {
                // Full chunks use the limit exactly (3 divides both limits).
                assert_eq!(c.binds.len(), dialect.max_binds(), "{}", dialect.name());
            }
        }
    }
}

#[test]
fn chunked_counts_on_conflict_and_returning_binds() {
    let upsert = |ins: Insert| {
        ins.on_conflict_do_update(["c0"], [(Ident::from("c1"), excluded("c1") + 1i64)])
            .returning([col("c0"), lit(7i64).label("tag")])
    };
    // 2 binds per row plus 2 in every chunk: with 5 allowed, one row per chunk.
    let chunks = upsert(rows_insert(2, 3)).chunked(5);
    assert_eq!(chunk_sizes(&chunks), [1, 1, 1]);
    check(
        chunks[1].clone(),
        r#"INSERT INTO "bulk" ("c0", "c1") VALUES (?, ?) ON CONFLICT ("c0") DO UPDATE SET "c1" = excluded."c1" + ? RETURNING "c0", ? AS "tag""#,
        r#"INSERT INTO "bulk" ("c0", "c1") VALUES ($1, $2) ON CONFLICT ("c0") DO UPDATE SET "c1" = excluded."c1" + $3 RETURNING "c0", $4::BIGINT AS "tag""#,
        &[i(2), i(3), i(1), i(7)],
    );

    // At the real limit: 16383 two-value rows fill SQLite's 32766 exactly, so one more
    // bind in the DO UPDATE must push a row into a second chunk.
    let big = rows_insert(2, 16383).on_conflict_do_update(["c0"], [(Ident::from("c1"), lit(0i64))]);
    let chunks = big.chunked(Sqlite.max_binds());
    assert_eq!(chunk_sizes(&chunks), [16382, 1]);
    for chunk in chunks {
        assert!(compile_on(&Sqlite, &chunk.into()).binds.len() <= Sqlite.max_binds());
    }
}

#[test]
fn chunked_counts_actual_binds_per_row() {
    // `now()` binds nothing: one bind per row, so three rows fit in three binds.
    let mut ins = insert(users()).columns(["name", "created_at"]);
    for n in 0..6 {
        ins = ins.values([lit(format!("u{n}")), func::now()]);
    }
    assert_eq!(chunk_sizes(&ins.chunked(3)), [3, 3]);
}

// ---------------------------------------------------------------------------------------
// UPDATE / DELETE
// ---------------------------------------------------------------------------------------

#[test]
fn update_set_where_returning() {
    check(
        update(users())
            .set("name", "bob")
            .set("age", col("age") + 1i64)
            .filter(col("id").eq(5i64))
            .returning([col("id"), col("name")]),
        r#"UPDATE "users" SET "name" = ?, "age" = "age" + ? WHERE "id" = ? RETURNING "id", "name""#,
        r#"UPDATE "users" SET "name" = $1, "age" = "age" + $2 WHERE "id" = $3 RETURNING "id", "name""#,
        &[t("bob"), i(1), i(5)],
    );
}

#[test]
fn update_without_where_and_with_two_filters() {
    check_each(
        update(users()).set("active", false),
        (r#"UPDATE "users" SET "active" = ?"#, &[i(0)]),
        (r#"UPDATE "users" SET "active" = $1"#, &[Value::Bool(false)]),
    );
    check(
        update(users())
            .set("bio", lit(None::<String>))
            .filter(col("id").gt(1i64))
            .filter(col("id").lt(9i64)),
        r#"UPDATE "users" SET "bio" = ? WHERE ("id" > ?) AND ("id" < ?)"#,
        r#"UPDATE "users" SET "bio" = $1 WHERE ("id" > $2) AND ("id" < $3)"#,
        &[Value::Null, i(1), i(9)],
    );
}

#[test]
fn update_with_scalar_subquery_numbers_binds_in_order() {
    let avg = select([func::avg(col("score"))])
        .from(table("posts"))
        .filter(col("user_id").eq(7i64));
    check(
        update(users())
            .set("score", scalar(avg))
            .filter(col("id").eq(7i64)),
        r#"UPDATE "users" SET "score" = (SELECT avg("score") FROM "posts" WHERE "user_id" = ?) WHERE "id" = ?"#,
        r#"UPDATE "users" SET "score" = (SELECT avg("score") FROM "posts" WHERE "user_id" = $1) WHERE "id" = $2"#,
        &[i(7), i(7)],
    );
}

#[test]
fn update_without_assignments_is_an_error() {
    check_err(
        update(users()).filter(col("id").eq(1i64)),
        CompileError::EmptyUpdate("users".into()),
    );
}

#[test]
fn delete_where_returning() {
    check(
        delete(users())
            .filter(col("id").eq(5i64))
            .returning([col("id")]),
        r#"DELETE FROM "users" WHERE "id" = ? RETURNING "id""#,
        r#"DELETE FROM "users" WHERE "id" = $1 RETURNING "id""#,
        &[i(5)],
    );
    check(
        delete(users()),
        r#"DELETE FROM "users""#,
        r#"DELETE FROM "users""#,
        &[],
    );
    check(
        delete(table("posts")).filter(
            col("user_id").in_subquery(
                select([col("id")])
                    .from(users())
                    .filter(col("age").lt(13i64)),
            ),
        ),
        r#"DELETE FROM "posts" WHERE "user_id" IN (SELECT "id" FROM "users" WHERE "age" < ?)"#,
        r#"DELETE FROM "posts" WHERE "user_id" IN (SELECT "id" FROM "users" WHERE "age" < $1)"#,
        &[i(13)],
    );
}

#[test]
fn on_conflict_do_update_without_assignments_is_an_error() {
    let stmt = insert(table("t"))
        .columns(["a"])
        .values([1])
        .on_conflict_do_update(["a"], Vec::<(&str, Expr)>::new());
    for d in [&Sqlite as &dyn Dialect, &Postgres] {
        assert_eq!(
            oxalchemy_core::compile(d, &stmt.clone().into()),
            Err(CompileError::EmptyUpdate("t".into()))
        );
    }
}

#[test]
fn upsert_set_takes_str_names_and_a_where() {
    let stmt = insert(table("counters"))
        .columns(["name", "hits"])
        .values([lit("home"), lit(1i64)])
        .on_conflict_do_update(
            ["name"],
            [("hits", table("counters").col("hits") + excluded("hits"))],
        )
        .on_conflict_where(table("counters").col("hits").lt(lit(100i64)));
    check(
        stmt,
        r#"INSERT INTO "counters" ("name", "hits") VALUES (?, ?) ON CONFLICT ("name") DO UPDATE SET "hits" = "counters"."hits" + excluded."hits" WHERE "counters"."hits" < ?"#,
        r#"INSERT INTO "counters" ("name", "hits") VALUES ($1, $2) ON CONFLICT ("name") DO UPDATE SET "hits" = "counters"."hits" + excluded."hits" WHERE "counters"."hits" < $3"#,
        &[t("home"), i(1), i(100)],
    );
}

#[test]
fn upsert_on_a_named_constraint_is_postgresql_only() {
    let stmt = insert(table("users"))
        .columns(["email"])
        .values(["a@x.org"])
        .on_constraint_do_update("users_email_key", [("email", excluded("email"))]);
    assert_eq!(
        compile_on(&Postgres, &stmt.clone().into()).sql,
        r#"INSERT INTO "users" ("email") VALUES ($1) ON CONFLICT ON CONSTRAINT "users_email_key" DO UPDATE SET "email" = excluded."email""#
    );
    let nothing = insert(table("users"))
        .columns(["email"])
        .values(["a@x.org"])
        .on_constraint_do_nothing("users_email_key");
    assert_eq!(
        compile_on(&Postgres, &nothing.clone().into()).sql,
        r#"INSERT INTO "users" ("email") VALUES ($1) ON CONFLICT ON CONSTRAINT "users_email_key" DO NOTHING"#
    );
    for stmt in [stmt, nothing] {
        assert!(matches!(
            oxalchemy_core::compile(&Sqlite, &stmt.into()),
            Err(CompileError::Unsupported(_, "sqlite"))
        ));
    }
}

#[test]
fn a_conflict_where_without_do_update_is_an_error() {
    let stmt = insert(table("t"))
        .columns(["a"])
        .values([1])
        .on_conflict_do_nothing(["a"])
        .on_conflict_where(col("a").gt(lit(0i64)));
    for d in [&Sqlite as &dyn Dialect, &Postgres] {
        assert!(matches!(
            oxalchemy_core::compile(d, &stmt.clone().into()),
            Err(CompileError::Unsupported(..))
        ));
    }
}
