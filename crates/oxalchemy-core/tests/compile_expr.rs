//! Expressions, raw `text()`, placeholders, quoting and bind encoding on both dialects.

mod common;

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use common::{check, check_each, check_err, compile_on, i, t};
use oxalchemy_core::{
    and_, case, col, compile, escape_like, exists, func, lit, not_, or_, scalar, select, table,
    text, update, CompileError, Dialect, Expr, Postgres, Select, SqlType, Sqlite, Statement, Value,
};
use rust_decimal::Decimal;
use uuid::Uuid;

/// `SELECT * FROM "users" WHERE <cond>`
fn users_where(cond: Expr) -> Select {
    select(Vec::<Expr>::new()).from(table("users")).filter(cond)
}

const W: &str = r#"SELECT * FROM "users" WHERE "#;

#[track_caller]
fn check_where(cond: Expr, sqlite: &str, postgres: &str, binds: &[Value]) {
    check(
        users_where(cond),
        &format!("{W}{sqlite}"),
        &format!("{W}{postgres}"),
        binds,
    );
}

#[track_caller]
fn check_where_each(cond: Expr, sqlite: (&str, &[Value]), postgres: (&str, &[Value])) {
    check_each(
        users_where(cond),
        (&format!("{W}{}", sqlite.0), sqlite.1),
        (&format!("{W}{}", postgres.0), postgres.1),
    );
}

/// `SELECT <columns> FROM "users"`
#[track_caller]
fn check_columns<const N: usize>(
    columns: [Expr; N],
    sqlite: &str,
    postgres: &str,
    binds: &[Value],
) {
    check(
        select(columns).from(table("users")),
        &format!(r#"SELECT {sqlite} FROM "users""#),
        &format!(r#"SELECT {postgres} FROM "users""#),
        binds,
    );
}

// ---------------------------------------------------------------------------------------
// Columns and literals
// ---------------------------------------------------------------------------------------

#[test]
fn columns_plain_qualified_and_aliased() {
    let u = table("users").alias("u");
    check(
        select([
            col("id"),
            u.col("name"),
            table("users").alias("u").col("email"),
        ])
        .from(u.clone()),
        r#"SELECT "id", "u"."name", "u"."email" FROM "users" AS "u""#,
        r#"SELECT "id", "u"."name", "u"."email" FROM "users" AS "u""#,
        &[],
    );
    check_columns(
        [col("id"), table("users").col("name")],
        r#""id", "users"."name""#,
        r#""id", "users"."name""#,
        &[],
    );
}

#[test]
fn literals_are_always_bound() {
    check_where(
        col("name").eq("ann"),
        r#""name" = ?"#,
        r#""name" = $1"#,
        &[t("ann")],
    );
    // Binds compared with binds get explicit types on PostgreSQL.
    check_where(
        lit(1i64).eq(lit(1i64)),
        "? = ?",
        "$1::BIGINT = $2::BIGINT",
        &[i(1), i(1)],
    );
}

#[test]
fn sql_injection_payload_only_travels_as_a_bind() {
    let evil = "'; DROP TABLE users; --";
    let stmt: Statement = users_where(col("name").eq(evil)).into();
    for d in [&Sqlite as &dyn Dialect, &Postgres] {
        let c = compile_on(d, &stmt);
        assert!(!c.sql.contains("DROP"), "{}: {}", d.name(), c.sql);
        assert!(!c.sql.contains("--"), "{}: {}", d.name(), c.sql);
        assert!(!c.sql.contains('\''), "{}: {}", d.name(), c.sql);
        assert_eq!(c.binds, [t(evil)]);
    }
    check_where(
        col("name").eq(evil),
        r#""name" = ?"#,
        r#""name" = $1"#,
        &[t(evil)],
    );
}

// ---------------------------------------------------------------------------------------
// Comparison and boolean operators
// ---------------------------------------------------------------------------------------

#[test]
fn comparison_operators() {
    let cases: [(Expr, &str); 6] = [
        (col("age").eq(30i64), "="),
        (col("age").ne(30i64), "<>"),
        (col("age").lt(30i64), "<"),
        (col("age").le(30i64), "<="),
        (col("age").gt(30i64), ">"),
        (col("age").ge(30i64), ">="),
    ];
    for (e, op) in cases {
        check_where(
            e,
            &format!(r#""age" {op} ?"#),
            &format!(r#""age" {op} $1"#),
            &[i(30)],
        );
    }
    // Booleans and narrow integers are re-encoded for SQLite only.
    check_where_each(
        and_([col("active").eq(true), col("age").ne(30i32)]),
        (r#"("active" = ?) AND ("age" <> ?)"#, &[i(1), i(30)]),
        (
            r#"("active" = $1) AND ("age" <> $2)"#,
            &[Value::Bool(true), Value::I32(30)],
        ),
    );
    check_where(
        col("age").le(col("score")),
        r#""age" <= "score""#,
        r#""age" <= "score""#,
        &[],
    );
}

#[test]
fn and_or_parenthesise_their_members() {
    check_where(
        and_([col("age").gt(18i64), col("name").eq("ann")]),
        r#"("age" > ?) AND ("name" = ?)"#,
        r#"("age" > $1) AND ("name" = $2)"#,
        &[i(18), t("ann")],
    );
    check_where(
        or_([col("age").gt(18i64), col("name").eq("ann")]),
        r#"("age" > ?) OR ("name" = ?)"#,
        r#"("age" > $1) OR ("name" = $2)"#,
        &[i(18), t("ann")],
    );
}

#[test]
fn nested_and_or_are_flattened() {
    let (a, b, c) = (
        col("age").gt(1i64),
        col("age").lt(9i64),
        col("name").ne("x"),
    );
    let nested = and_([a.clone(), and_([b.clone(), c.clone()])]);
    assert_eq!(nested, Expr::And(vec![a.clone(), b.clone(), c.clone()]));
    check_where(
        nested,
        r#"("age" > ?) AND ("age" < ?) AND ("name" <> ?)"#,
        r#"("age" > $1) AND ("age" < $2) AND ("name" <> $3)"#,
        &[i(1), i(9), t("x")],
    );
    let nested = or_([or_([a.clone(), b.clone()]), c.clone()]);
    assert_eq!(nested, Expr::Or(vec![a.clone(), b.clone(), c.clone()]));
    check_where(
        nested,
        r#"("age" > ?) OR ("age" < ?) OR ("name" <> ?)"#,
        r#"("age" > $1) OR ("age" < $2) OR ("name" <> $3)"#,
        &[i(1), i(9), t("x")],
    );
}

#[test]
fn or_inside_and_is_parenthesised() {
    check_where(
        and_([
            col("active").eq(col("active")),
            or_([col("age").lt(18i64), col("age").gt(65i64)]),
        ]),
        r#"("active" = "active") AND (("age" < ?) OR ("age" > ?))"#,
        r#"("active" = "active") AND (("age" < $1) OR ("age" > $2))"#,
        &[i(18), i(65)],
    );
    check_where(
        or_([
            and_([col("age").gt(1i64), col("age").lt(5i64)]),
            col("name").is_null(),
        ]),
        r#"(("age" > ?) AND ("age" < ?)) OR ("name" IS NULL)"#,
        r#"(("age" > $1) AND ("age" < $2)) OR ("name" IS NULL)"#,
        &[i(1), i(5)],
    );
}

#[test]
fn single_member_and_or_are_bare() {
    check_where(
        and_([col("age").gt(1i64)]),
        r#""age" > ?"#,
        r#""age" > $1"#,
        &[i(1)],
    );
    check_where(
        or_([col("age").gt(1i64)]),
        r#""age" > ?"#,
        r#""age" > $1"#,
        &[i(1)],
    );
}

#[test]
fn empty_and_is_true_and_empty_or_is_false() {
    check_where(and_([]), "1", "true", &[]);
    check_where(or_([]), "0", "false", &[]);
    check_where(
        and_([col("age").gt(1i64), or_([])]),
        r#"("age" > ?) AND (0)"#,
        r#"("age" > $1) AND (false)"#,
        &[i(1)],
    );
    check_where(not_(and_([])), "NOT (1)", "NOT (true)", &[]);
}

#[test]
fn not_and_double_negation() {
    check_where(
        not_(col("age").gt(1i64)),
        r#"NOT ("age" > ?)"#,
        r#"NOT ("age" > $1)"#,
        &[i(1)],
    );
    check_where(
        not_(col("active")),
        r#"NOT "active""#,
        r#"NOT "active""#,
        &[],
    );
    check_where(
        not_(or_([col("age").gt(1i64), col("age").lt(0i64)])),
        r#"NOT (("age" > ?) OR ("age" < ?))"#,
        r#"NOT (("age" > $1) OR ("age" < $2))"#,
        &[i(1), i(0)],
    );
    let e = col("age").gt(1i64);
    assert_eq!(not_(not_(e.clone())), e);
    check_where(not_(not_(e)), r#""age" > ?"#, r#""age" > $1"#, &[i(1)]);
}

#[test]
fn is_null_and_is_not_null() {
    check_where(
        col("email").is_null(),
        r#""email" IS NULL"#,
        r#""email" IS NULL"#,
        &[],
    );
    check_where(
        col("email").is_not_null(),
        r#""email" IS NOT NULL"#,
        r#""email" IS NOT NULL"#,
        &[],
    );
    check_where(
        (col("age") + 1i64).is_null(),
        r#"("age" + ?) IS NULL"#,
        r#"("age" + $1) IS NULL"#,
        &[i(1)],
    );
}

#[test]
fn in_and_not_in() {
    check_where(
        col("id").in_([1i64, 2, 3]),
        r#""id" IN (?, ?, ?)"#,
        r#""id" IN ($1, $2, $3)"#,
        &[i(1), i(2), i(3)],
    );
    check_where(
        col("id").not_in([4i64, 5]),
        r#""id" NOT IN (?, ?)"#,
        r#""id" NOT IN ($1, $2)"#,
        &[i(4), i(5)],
    );
    check_where(
        col("name").in_([col("email"), lit("x")]),
        r#""name" IN ("email", ?)"#,
        r#""name" IN ("email", $1)"#,
        &[t("x")],
    );
}

#[test]
fn empty_in_is_constant_false_and_empty_not_in_constant_true() {
    let none: Vec<i64> = Vec::new();
    check_where(col("id").in_(none.clone()), "1 = 0", "1 = 0", &[]);
    check_where(col("id").not_in(none.clone()), "1 = 1", "1 = 1", &[]);
    check_where(
        and_([col("age").gt(1i64), col("id").in_(none.clone())]),
        r#"("age" > ?) AND (1 = 0)"#,
        r#"("age" > $1) AND (1 = 0)"#,
        &[i(1)],
    );
    check_where(
        not_(col("id").in_(none.clone())),
        "NOT (1 = 0)",
        "NOT (1 = 0)",
        &[],
    );
    for d in [&Sqlite as &dyn Dialect, &Postgres] {
        let c = compile_on(d, &users_where(col("id").in_(none.clone())).into());
        assert!(!c.sql.contains("IN ("), "{}", c.sql);
    }
}

#[test]
fn between_and_not_between() {
    check_where(
        col("age").between(18i64, 65i64),
        r#""age" BETWEEN ? AND ?"#,
        r#""age" BETWEEN $1 AND $2"#,
        &[i(18), i(65)],
    );
    check_where(
        col("age").not_between(18i64, 65i64),
        r#""age" NOT BETWEEN ? AND ?"#,
        r#""age" NOT BETWEEN $1 AND $2"#,
        &[i(18), i(65)],
    );
    check_where(
        col("age").between(col("score") - 1i64, col("score") + 1i64),
        r#""age" BETWEEN ("score" - ?) AND ("score" + ?)"#,
        r#""age" BETWEEN ("score" - $1) AND ("score" + $2)"#,
        &[i(1), i(1)],
    );
}

// ---------------------------------------------------------------------------------------
// LIKE family
// ---------------------------------------------------------------------------------------

#[test]
fn like_not_like_and_escape() {
    check_where(
        col("name").like("a%"),
        r#""name" LIKE ?"#,
        r#""name" LIKE $1"#,
        &[t("a%")],
    );
    check_where(
        col("name").not_like("a%"),
        r#""name" NOT LIKE ?"#,
        r#""name" NOT LIKE $1"#,
        &[t("a%")],
    );
    check_where(
        col("name").like_escape("100!%%", '!'),
        r#""name" LIKE ? ESCAPE ?"#,
        r#""name" LIKE $1 ESCAPE $2"#,
        &[t("100!%%"), t("!")],
    );
}

#[test]
fn ilike_is_lower_like_lower_on_sqlite() {
    check_where(
        col("name").ilike("A%"),
        r#"oxalchemy_lower("name") LIKE oxalchemy_lower(?)"#,
        r#""name" ILIKE $1"#,
        &[t("A%")],
    );
    check_where(
        col("name").not_ilike("A%"),
        r#"oxalchemy_lower("name") NOT LIKE oxalchemy_lower(?)"#,
        r#""name" NOT ILIKE $1"#,
        &[t("A%")],
    );
    check_where(
        col("name").ilike_escape("A!_%", '!'),
        r#"oxalchemy_lower("name") LIKE oxalchemy_lower(?) ESCAPE ?"#,
        r#""name" ILIKE $1 ESCAPE $2"#,
        &[t("A!_%"), t("!")],
    );
}

#[test]
fn contains_startswith_endswith_escape_the_users_string() {
    let user = "50%_off/x'y";
    check_where(
        col("name").contains(user),
        r#""name" LIKE ? ESCAPE ?"#,
        r#""name" LIKE $1 ESCAPE $2"#,
        &[t("%50/%/_off//x'y%"), t("/")],
    );
    check_where(
        col("name").startswith(user),
        r#""name" LIKE ? ESCAPE ?"#,
        r#""name" LIKE $1 ESCAPE $2"#,
        &[t("50/%/_off//x'y%"), t("/")],
    );
    check_where(
        col("name").endswith(user),
        r#""name" LIKE ? ESCAPE ?"#,
        r#""name" LIKE $1 ESCAPE $2"#,
        &[t("%50/%/_off//x'y"), t("/")],
    );
    check_where(
        col("name").icontains("A_b"),
        r#"oxalchemy_lower("name") LIKE oxalchemy_lower(?) ESCAPE ?"#,
        r#""name" ILIKE $1 ESCAPE $2"#,
        &[t("%A/_b%"), t("/")],
    );
    assert_eq!(escape_like("a%b_c!d", '!'), "a!%b!_c!!d");
    assert_eq!(escape_like("plain", '/'), "plain");
}

// ---------------------------------------------------------------------------------------
// Arithmetic, functions, labels, CASE, CAST
// ---------------------------------------------------------------------------------------

#[test]
fn arithmetic_operators() {
    check_columns(
        [
            col("age") + col("score"),
            col("age") - 1i64,
            col("age") * 2i64,
            col("age") / 3i64,
            col("age") % 4i64,
            -col("age"),
            col("name").concat("!"),
        ],
        r#""age" + "score", "age" - ?, "age" * ?, "age" / ?, "age" % ?, -"age", "name" || ?"#,
        r#""age" + "score", "age" - $1, "age" * $2, "age" / $3, "age" % $4, -"age", "name" || $5"#,
        &[i(1), i(2), i(3), i(4), t("!")],
    );
}

#[test]
fn arithmetic_nesting_is_explicit() {
    check_columns(
        [
            (col("age") + col("score")) * 2i64,
            col("age") - (col("score") - 1i64),
            -(col("age") + 1i64),
            -(-col("age")),
            -lit(5i64),
            col("age") - -col("score"),
        ],
        r#"("age" + "score") * ?, "age" - ("score" - ?), -("age" + ?), -(-"age"), -?, "age" - -"score""#,
        r#"("age" + "score") * $1, "age" - ("score" - $2), -("age" + $3), -(-"age"), -$4::BIGINT, "age" - -"score""#,
        &[i(2), i(1), i(1), i(5)],
    );
}

#[test]
fn labelled_operands_keep_their_parentheses() {
    // A label only shows in the select list; as an operand it is its (compound) expression.
    let total = (col("age") + col("score")).label("total");
    check(
        select([total.clone(), total.clone() * 2i64])
            .from(table("users"))
            .filter(and_([
                or_([col("age").gt(1i64), col("age").lt(0i64)]).label("odd"),
                col("name").is_not_null(),
            ])),
        r#"SELECT "age" + "score" AS "total", ("age" + "score") * ? FROM "users" WHERE (("age" > ?) OR ("age" < ?)) AND ("name" IS NOT NULL)"#,
        r#"SELECT "age" + "score" AS "total", ("age" + "score") * $1 FROM "users" WHERE (("age" > $2) OR ("age" < $3)) AND ("name" IS NOT NULL)"#,
        &[i(2), i(1), i(0)],
    );
}

#[test]
fn aggregate_functions() {
    check_columns(
        [
            func::count(col("id")),
            func::count_star(),
            func::count_distinct(col("name")),
            func::sum(col("age")),
            func::avg(col("age")),
            func::min(col("age")),
            func::max(col("age")),
        ],
        r#"count("id"), count(*), count(DISTINCT "name"), sum("age"), avg("age"), min("age"), max("age")"#,
        r#"count("id"), count(*), count(DISTINCT "name"), sum("age"), avg("age"), min("age"), max("age")"#,
        &[],
    );
}

#[test]
fn scalar_functions() {
    check_columns(
        [
            func::coalesce([col("email"), lit("none")]),
            func::lower(col("name")),
            func::upper(col("name")),
            func::length(col("name")),
            func::abs(col("age")),
        ],
        r#"coalesce("email", ?), lower("name"), upper("name"), length("name"), abs("age")"#,
        r#"coalesce("email", $1), lower("name"), upper("name"), length("name"), abs("age")"#,
        &[t("none")],
    );
}

#[test]
fn now_differs_per_dialect() {
    check_columns([func::now()], "CURRENT_TIMESTAMP", "now()", &[]);
    check_where(
        col("created_at").lt(func::now()),
        r#""created_at" < CURRENT_TIMESTAMP"#,
        r#""created_at" < now()"#,
        &[],
    );
}

#[test]
fn function_arguments_are_expressions() {
    check_columns(
        [func::sum(col("age") * col("score")).label("weighted")],
        r#"sum("age" * "score") AS "weighted""#,
        r#"sum("age" * "score") AS "weighted""#,
        &[],
    );
}

#[test]
fn label_in_select_list_and_order_by() {
    let n = func::count_star().label("n");
    check(
        select([col("age"), n.clone()])
            .from(table("users"))
            .group_by([col("age")])
            .order_by(n.clone().desc().nulls_last()),
        r#"SELECT "age", count(*) AS "n" FROM "users" GROUP BY "age" ORDER BY "n" DESC NULLS LAST"#,
        r#"SELECT "age", count(*) AS "n" FROM "users" GROUP BY "age" ORDER BY "n" DESC NULLS LAST"#,
        &[],
    );
    // Outside the select list and ordering, a label is its expression.
    check(
        select([col("age")])
            .from(table("users"))
            .group_by([col("age")])
            .having(n.gt(1i64)),
        r#"SELECT "age" FROM "users" GROUP BY "age" HAVING count(*) > ?"#,
        r#"SELECT "age" FROM "users" GROUP BY "age" HAVING count(*) > $1"#,
        &[i(1)],
    );
}

#[test]
fn case_when_else() {
    check_columns(
        [case()
            .when(col("age").lt(18i64), "minor")
            .when(col("age").lt(65i64), "adult")
            .else_("senior")
            .label("bracket")],
        r#"CASE WHEN "age" < ? THEN ? WHEN "age" < ? THEN ? ELSE ? END AS "bracket""#,
        r#"CASE WHEN "age" < $1 THEN $2 WHEN "age" < $3 THEN $4 ELSE $5 END AS "bracket""#,
        &[i(18), t("minor"), i(65), t("adult"), t("senior")],
    );
    check_where(
        case()
            .when(col("email").is_null(), col("name"))
            .end()
            .eq("x"),
        r#"CASE WHEN "email" IS NULL THEN "name" END = ?"#,
        r#"CASE WHEN "email" IS NULL THEN "name" END = $1"#,
        &[t("x")],
    );
}

#[test]
fn cast_type_names_per_dialect() {
    // SQLite CASTs by type affinity: text-stored dates, times and JSON are cast to TEXT (their
    // DDL names DATE / DATETIME / JSON have NUMERIC affinity: '2024-01-02' would become 2024).
    check_columns(
        [
            col("age").cast(SqlType::Text),
            col("name").cast(SqlType::String(Some(20))),
            col("score").cast(SqlType::Double),
            col("score").cast(SqlType::Float),
            col("id").cast(SqlType::BigInteger),
            col("id").cast(SqlType::SmallInteger),
            col("score").cast(SqlType::Numeric(Some((10, 2)))),
            col("created_at").cast(SqlType::DateTime { timezone: true }),
            col("created_at").cast(SqlType::DateTime { timezone: false }),
            col("created_at").cast(SqlType::Date),
            col("created_at").cast(SqlType::Time),
            col("active").cast(SqlType::Boolean),
            col("bio").cast(SqlType::Binary),
            col("bio").cast(SqlType::Json),
            col("bio").cast(SqlType::JsonB),
        ],
        concat!(
            r#"CAST("age" AS TEXT), CAST("name" AS VARCHAR(20)), CAST("score" AS DOUBLE), "#,
            r#"CAST("score" AS REAL), CAST("id" AS BIGINT), CAST("id" AS SMALLINT), "#,
            r#"CAST("score" AS NUMERIC(10, 2)), CAST("created_at" AS TEXT), "#,
            r#"CAST("created_at" AS TEXT), CAST("created_at" AS TEXT), CAST("created_at" AS TEXT), "#,
            r#"CAST("active" AS BOOLEAN), CAST("bio" AS BLOB), CAST("bio" AS TEXT), "#,
            r#"CAST("bio" AS TEXT)"#,
        ),
        concat!(
            r#"CAST("age" AS TEXT), CAST("name" AS VARCHAR(20)), CAST("score" AS DOUBLE PRECISION), "#,
            r#"CAST("score" AS REAL), CAST("id" AS BIGINT), CAST("id" AS SMALLINT), "#,
            r#"CAST("score" AS NUMERIC(10, 2)), CAST("created_at" AS TIMESTAMP WITH TIME ZONE), "#,
            r#"CAST("created_at" AS TIMESTAMP WITHOUT TIME ZONE), CAST("created_at" AS DATE), "#,
            r#"CAST("created_at" AS TIME WITHOUT TIME ZONE), "#,
            r#"CAST("active" AS BOOLEAN), CAST("bio" AS BYTEA), CAST("bio" AS JSON), "#,
            r#"CAST("bio" AS JSONB)"#,
        ),
        &[],
    );
    check_columns(
        [
            lit("5").cast(SqlType::Integer),
            col("bio").cast(SqlType::Uuid),
        ],
        r#"CAST(? AS INTEGER), CAST("bio" AS CHAR(36))"#,
        r#"CAST($1 AS INTEGER), CAST("bio" AS UUID)"#,
        &[t("5")],
    );
}

// ---------------------------------------------------------------------------------------
// Subqueries
// ---------------------------------------------------------------------------------------

#[test]
fn scalar_subquery() {
    let u = table("users").alias("u");
    let p = table("posts").alias("p");
    let n_posts = select([func::count_star()])
        .from(p.clone())
        .filter(p.col("user_id").eq(u.col("id")));
    check(
        select([u.col("name"), scalar(n_posts).label("n_posts")]).from(u.clone()),
        r#"SELECT "u"."name", (SELECT count(*) FROM "posts" AS "p" WHERE "p"."user_id" = "u"."id") AS "n_posts" FROM "users" AS "u""#,
        r#"SELECT "u"."name", (SELECT count(*) FROM "posts" AS "p" WHERE "p"."user_id" = "u"."id") AS "n_posts" FROM "users" AS "u""#,
        &[],
    );
    let max_score = select([func::max(col("score"))]).from(table("posts"));
    check_where(
        col("score").eq(scalar(max_score)),
        r#""score" = (SELECT max("score") FROM "posts")"#,
        r#""score" = (SELECT max("score") FROM "posts")"#,
        &[],
    );
}

#[test]
fn in_subquery_and_not_in_subquery() {
    let authors = || {
        select([col("user_id")])
            .from(table("posts"))
            .filter(col("score").gt(10i64))
    };
    check_where(
        col("id").in_subquery(authors()),
        r#""id" IN (SELECT "user_id" FROM "posts" WHERE "score" > ?)"#,
        r#""id" IN (SELECT "user_id" FROM "posts" WHERE "score" > $1)"#,
        &[i(10)],
    );
    check_where(
        col("id").not_in_subquery(authors()),
        r#""id" NOT IN (SELECT "user_id" FROM "posts" WHERE "score" > ?)"#,
        r#""id" NOT IN (SELECT "user_id" FROM "posts" WHERE "score" > $1)"#,
        &[i(10)],
    );
}

#[test]
fn exists_and_not_exists() {
    let u = table("users");
    let p = table("posts");
    let has_posts = || {
        select([p.col("id")])
            .from(p.clone())
            .filter(p.col("user_id").eq(u.col("id")))
    };
    check_where(
        exists(has_posts()),
        r#"EXISTS (SELECT "posts"."id" FROM "posts" WHERE "posts"."user_id" = "users"."id")"#,
        r#"EXISTS (SELECT "posts"."id" FROM "posts" WHERE "posts"."user_id" = "users"."id")"#,
        &[],
    );
    check_where(
        Expr::Exists {
            query: Box::new(has_posts()),
            negated: true,
        },
        r#"NOT EXISTS (SELECT "posts"."id" FROM "posts" WHERE "posts"."user_id" = "users"."id")"#,
        r#"NOT EXISTS (SELECT "posts"."id" FROM "posts" WHERE "posts"."user_id" = "users"."id")"#,
        &[],
    );
    check_where(
        not_(exists(has_posts())),
        r#"NOT (EXISTS (SELECT "posts"."id" FROM "posts" WHERE "posts"."user_id" = "users"."id"))"#,
        r#"NOT (EXISTS (SELECT "posts"."id" FROM "posts" WHERE "posts"."user_id" = "users"."id"))"#,
        &[],
    );
    check_where(
        and_([col("active").eq(col("active")), exists(has_posts())]),
        r#"("active" = "active") AND (EXISTS (SELECT "posts"."id" FROM "posts" WHERE "posts"."user_id" = "users"."id"))"#,
        r#"("active" = "active") AND (EXISTS (SELECT "posts"."id" FROM "posts" WHERE "posts"."user_id" = "users"."id"))"#,
        &[],
    );
}

#[test]
fn postgres_placeholders_are_numbered_in_text_order_across_subqueries_and_ctes() {
    let recent = select([col("id")])
        .from(table("posts"))
        .filter(col("score").ge(1i64))
        .cte("recent");
    let stmt = select([
        col("name"),
        scalar(
            select([func::count_star()])
                .from(table("comments"))
                .filter(col("body").ne("spam")),
        )
        .label("n"),
    ])
    .with(recent.clone())
    .from(table("users"))
    .filter(col("id").in_subquery(select([col("id")]).from(recent.table())))
    .filter(col("age").between(2i64, 3i64))
    .filter(col("name").contains("z"))
    .filter(text("age <> :a").bind("a", 4i64).into())
    .limit(5)
    .offset(6);
    let binds = [
        i(1),
        t("spam"),
        i(2),
        i(3),
        t("%z%"),
        t("/"),
        i(4),
        i(5),
        i(6),
    ];
    check_each(
        stmt,
        (
            concat!(
                r#"WITH "recent" AS (SELECT "id" FROM "posts" WHERE "score" >= ?) "#,
                r#"SELECT "name", (SELECT count(*) FROM "comments" WHERE "body" <> ?) AS "n" FROM "users" "#,
                r#"WHERE ("id" IN (SELECT "id" FROM "recent")) AND ("age" BETWEEN ? AND ?) "#,
                r#"AND ("name" LIKE ? ESCAPE ?) AND (age <> ?) LIMIT 5 OFFSET 6"#,
            ),
            // SQLite writes LIMIT / OFFSET inline.
            &binds[..7],
        ),
        (
            concat!(
                r#"WITH "recent" AS (SELECT "id" FROM "posts" WHERE "score" >= $1) "#,
                r#"SELECT "name", (SELECT count(*) FROM "comments" WHERE "body" <> $2) AS "n" FROM "users" "#,
                r#"WHERE ("id" IN (SELECT "id" FROM "recent")) AND ("age" BETWEEN $3 AND $4) "#,
                r#"AND ("name" LIKE $5 ESCAPE $6) AND (age <> $7) LIMIT $8 OFFSET $9"#,
            ),
            &binds,
        ),
    );
}

// ---------------------------------------------------------------------------------------
// text()
// ---------------------------------------------------------------------------------------

#[test]
fn text_named_binds_repeated_name() {
    check(
        text("SELECT id FROM users WHERE id = :id OR manager_id = :id OR name = :name")
            .bind("id", 5i64)
            .bind("name", "ann"),
        "SELECT id FROM users WHERE id = ? OR manager_id = ? OR name = ?",
        "SELECT id FROM users WHERE id = $1 OR manager_id = $2 OR name = $3",
        &[i(5), i(5), t("ann")],
    );
    check(text("SELECT 1"), "SELECT 1", "SELECT 1", &[]);
    check(
        text("SELECT id FROM users WHERE id=:a_1 OR age=:b2")
            .bind("b2", 2i64)
            .bind("a_1", 1i64),
        "SELECT id FROM users WHERE id=? OR age=?",
        "SELECT id FROM users WHERE id=$1 OR age=$2",
        &[i(1), i(2)],
    );
}

#[test]
fn text_leaves_casts_quotes_and_escaped_colons_alone() {
    check(
        text("SELECT :v::text, 'a::b', x::int FROM t").bind("v", 1i64),
        "SELECT ?::text, 'a::b', x::int FROM t",
        "SELECT $1::text, 'a::b', x::int FROM t",
        &[i(1)],
    );
    check(
        text(r#"SELECT ':x', 'it''s :y' AS "col:z" FROM users WHERE id = :id"#).bind("id", 1i64),
        r#"SELECT ':x', 'it''s :y' AS "col:z" FROM users WHERE id = ?"#,
        r#"SELECT ':x', 'it''s :y' AS "col:z" FROM users WHERE id = $1"#,
        &[i(1)],
    );
    check(
        text(r"SELECT (ARRAY[1, 2, 3])[:lo\:2], '\:' AS q").bind("lo", 1i64),
        r"SELECT (ARRAY[1, 2, 3])[?:2], '\:' AS q",
        r"SELECT (ARRAY[1, 2, 3])[$1:2], '\:' AS q",
        &[i(1)],
    );
    // A colon not followed by a name is just a colon.
    check(
        text("SELECT (ARRAY[1, 2, 3])[2:3], 'a' || ':'"),
        "SELECT (ARRAY[1, 2, 3])[2:3], 'a' || ':'",
        "SELECT (ARRAY[1, 2, 3])[2:3], 'a' || ':'",
        &[],
    );
}

#[test]
fn text_skips_comments_escape_and_dollar_strings() {
    // Issue 10 item 11: the apostrophes in these comments used to open a "string" that hid
    // the real placeholder after them (UnusedBind).
    check(
        text("SELECT :a -- don't :x\n, /* it's :y */ :b")
            .bind("a", 1i64)
            .bind("b", 2i64),
        "SELECT ? -- don't :x\n, /* it's :y */ ?",
        "SELECT $1 -- don't :x\n, /* it's :y */ $2",
        &[i(1), i(2)],
    );
    check(
        text(r"SELECT E'it\'s :x', $$it's :y$$, $f$ :z $f$, :a::text").bind("a", 1i64),
        r"SELECT E'it\'s :x', $$it's :y$$, $f$ :z $f$, ?::text",
        r"SELECT E'it\'s :x', $$it's :y$$, $f$ :z $f$, $1::text",
        &[i(1)],
    );
}

#[test]
fn text_missing_and_unused_binds_are_errors() {
    check_err(
        text("SELECT * FROM users WHERE id = :id"),
        CompileError::MissingBind("id".into()),
    );
    check_err(
        text("SELECT * FROM users WHERE id = :id")
            .bind("id", 1i64)
            .bind("extra", 2i64),
        CompileError::UnusedBind("extra".into()),
    );
    check_err(
        text("SELECT ':id'").bind("id", 1i64),
        CompileError::UnusedBind("id".into()),
    );
    // The error surfaces from inside a larger statement too.
    check_err(
        users_where(text("age > :min").into()),
        CompileError::MissingBind("min".into()),
    );
}

#[test]
fn text_as_expression_is_numbered_with_the_rest() {
    check(
        users_where(col("id").gt(1i64)).filter(text("age > :min").bind("min", 18i64).into()),
        r#"SELECT * FROM "users" WHERE ("id" > ?) AND (age > ?)"#,
        r#"SELECT * FROM "users" WHERE ("id" > $1) AND (age > $2)"#,
        &[i(1), i(18)],
    );
    check_where(
        text("age > :min").bind("min", 18i64).into(),
        "age > ?",
        "age > $1",
        &[i(18)],
    );
}

// ---------------------------------------------------------------------------------------
// Identifiers
// ---------------------------------------------------------------------------------------

#[test]
fn identifiers_with_embedded_quotes_are_doubled() {
    let w = table("we\"ird").alias("a\"b");
    check(
        select([w.col("co\"l"), col("x\"\"y").label("l\"bl")])
            .from(w.clone())
            .order_by(col("x\"\"y").label("l\"bl")),
        r#"SELECT "a""b"."co""l", "x""""y" AS "l""bl" FROM "we""ird" AS "a""b" ORDER BY "l""bl""#,
        r#"SELECT "a""b"."co""l", "x""""y" AS "l""bl" FROM "we""ird" AS "a""b" ORDER BY "l""bl""#,
        &[],
    );
    check(
        update(table("we\"ird")).set("co\"l", 1i64),
        r#"UPDATE "we""ird" SET "co""l" = ?"#,
        r#"UPDATE "we""ird" SET "co""l" = $1"#,
        &[i(1)],
    );
    // Keywords and odd names are quoted, never interpreted.
    check(
        select([col("select"), col("a b"), col("Mixed")]).from(table("order")),
        r#"SELECT "select", "a b", "Mixed" FROM "order""#,
        r#"SELECT "select", "a b", "Mixed" FROM "order""#,
        &[],
    );
}

// ---------------------------------------------------------------------------------------
// Bind encoding and limits
// ---------------------------------------------------------------------------------------

#[test]
fn bind_encoding_per_dialect() {
    let uuid = Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
    let date = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
    let time = NaiveTime::from_hms_micro_opt(13, 14, 15, 500).unwrap();
    let naive = date.and_hms_micro_opt(3, 4, 5, 123_456).unwrap();
    let tz = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
    let dec = Decimal::from_str("12.50").unwrap();
    let json = serde_json::json!({"a": [1, "x"]});
    let values = [
        Value::Bool(true),
        Value::Bool(false),
        Value::I16(7),
        Value::I32(8),
        Value::I64(9),
        Value::F32(1.5),
        Value::F64(2.5),
        Value::Text("s".into()),
        Value::Bytes(vec![0, 255]),
        Value::Json(json.clone()),
        Value::Uuid(uuid),
        Value::Date(date),
        Value::Time(time),
        Value::DateTime(naive),
        Value::DateTimeTz(tz),
        Value::Decimal(dec),
        Value::Null,
    ];
    let stmt = select(values.iter().map(lit));
    let sqlite_sql = format!("SELECT {}", vec!["?"; values.len()].join(", "));
    // Bare binds in a select list are cast to their value's type on PostgreSQL (NULL is not).
    let pg_sql = "SELECT $1::BOOLEAN, $2::BOOLEAN, $3::SMALLINT, $4::INTEGER, $5::BIGINT, \
                  $6::REAL, $7::DOUBLE PRECISION, $8::TEXT, $9::BYTEA, $10::JSONB, $11::UUID, \
                  $12::DATE, $13::TIME, $14::TIMESTAMP, $15::TIMESTAMPTZ, $16::NUMERIC, $17"
        .to_owned();
    check_each(
        stmt,
        (
            &sqlite_sql,
            &[
                i(1),
                i(0),
                i(7),
                i(8),
                i(9),
                Value::F64(1.5),
                Value::F64(2.5),
                t("s"),
                Value::Bytes(vec![0, 255]),
                t(r#"{"a":[1,"x"]}"#),
                t("67e55044-10b1-426f-9247-bb680e5fe0c8"),
                t("2024-01-02"),
                t("13:14:15.000500"),
                t("2024-01-02 03:04:05.123456"),
                t("2024-01-02 03:04:05.000000+00:00"),
                t("12.50"),
                Value::Null,
            ],
        ),
        (&pg_sql, &values),
    );
}

#[test]
fn rust_values_convert_to_bind_values() {
    let fixed = DateTime::parse_from_rfc3339("2024-01-02T05:04:05+02:00").unwrap();
    let utc = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
    assert_eq!(Value::from(fixed), Value::DateTimeTz(utc));
    assert_eq!(Value::from(Some(3i32)), Value::I32(3));
    assert_eq!(Value::from(None::<i32>), Value::Null);
    assert_eq!(Value::from("x"), t("x"));
    check_each(
        select([lit(fixed), lit(3i32)]),
        (
            "SELECT ?, ?",
            &[t("2024-01-02 03:04:05.000000+00:00"), i(3)],
        ),
        (
            "SELECT $1::TIMESTAMPTZ, $2::INTEGER",
            &[Value::DateTimeTz(utc), Value::I32(3)],
        ),
    );
}

#[test]
fn max_binds_per_dialect() {
    assert_eq!(Sqlite.max_binds(), 32766);
    assert_eq!(Postgres.max_binds(), 65535);
}

#[test]
fn compile_accepts_any_dialect_object() {
    let stmt: Statement = users_where(col("id").eq(1i64)).into();
    let dialects: [Box<dyn Dialect>; 2] = [Box::new(Sqlite), Box::new(Postgres)];
    let sql: Vec<String> = dialects
        .iter()
        .map(|d| compile(d.as_ref(), &stmt).unwrap().sql)
        .collect();
    assert_eq!(
        sql,
        [
            r#"SELECT * FROM "users" WHERE "id" = ?"#,
            r#"SELECT * FROM "users" WHERE "id" = $1"#
        ]
    );
}

#[test]
fn comparing_with_null_becomes_is_null() {
    let none: Option<i64> = None;
    check_where(
        col("email").eq(none),
        r#""email" IS NULL"#,
        r#""email" IS NULL"#,
        &[],
    );
    check_where(
        col("email").ne(Value::Null),
        r#""email" IS NOT NULL"#,
        r#""email" IS NOT NULL"#,
        &[],
    );
}

#[test]
fn arrays_and_addresses_bind_as_one_value() {
    let ip = std::net::IpAddr::from([10, 0, 0, 1]);
    check_each(
        select([lit(vec![1i64, 2]), lit(ip), lit(vec![None, Some("a")])]),
        (
            "SELECT ?, ?, ?",
            &[t("[1,2]"), t("10.0.0.1"), t(r#"[null,"a"]"#)],
        ),
        (
            "SELECT $1::BIGINT[], $2::INET, $3::TEXT[]",
            &[
                Value::Array(vec![i(1), i(2)]),
                Value::Inet {
                    addr: ip,
                    prefix: 32,
                },
                Value::Array(vec![Value::Null, t("a")]),
            ],
        ),
    );
    // An array of NULLs only: the server infers its type from context.
    check_each(
        users_where(col("tags").eq(lit(vec![None::<String>]))),
        (r#"SELECT * FROM "users" WHERE "tags" = ?"#, &[t("[null]")]),
        (
            r#"SELECT * FROM "users" WHERE "tags" = $1"#,
            &[Value::Array(vec![Value::Null])],
        ),
    );
}
