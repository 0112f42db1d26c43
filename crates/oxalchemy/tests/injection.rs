//! Hostile input through every API that takes SQL text or a name, on SQLite (memory, file)
//! and PostgreSQL: values round-trip byte for byte, identifiers are quoted, and nothing else
//! in the database changes (a canary row survives every case).

mod common;
#[path = "injection/migration_ops.rs"]
mod migration_ops;

use oxalchemy::migrate::reflect::reflect;
use oxalchemy::prelude::*;

/// `text()` placeholders after comments, strings, dollar quotes and casts are found on a
/// real server, and colons inside those constructs are left alone (issue 10 item 11).
#[tokio::test]
async fn text_binds_after_comments_and_strings() {
    for t in common::all_targets("injection_text_lexer").await {
        let db = t.connect().await;
        let l = t.label;
        let got: (i64, String) = db
            .query_one(
                text(if t.is_mysql() {
                    // MySQL's CAST names its integer type SIGNED.
                    "SELECT CAST(:a AS SIGNED) -- don't :x\n, /* it's :y */ :b || ':z' || 'it''s :w'"
                } else {
                    "SELECT CAST(:a AS BIGINT) -- don't :x\n, /* it's :y */ :b || ':z' || 'it''s :w'"
                })
                    .bind("a", 1i64)
                    .bind("b", "b"),
            )
            .await
            .unwrap_or_else(|e| panic!("[{l}] comments: {e}"));
        assert_eq!(got, (1, "b:zit's :w".to_owned()), "[{l}]");
        let got: String = db
            .query_scalar(text(r#"SELECT "a:b" FROM (SELECT :v AS "a:b") AS s"#).bind("v", "ok"))
            .await
            .unwrap_or_else(|e| panic!("[{l}] quoted identifier: {e}"));
        assert_eq!(got, "ok", "[{l}]");
        if t.is_postgres() {
            let got: (String, String, String, i64) = db
                .query_one(
                    text(r"SELECT E'it\'s :x', $$it's :y$$, $t$ :z $t$ || :s, :n::bigint")
                        .bind("s", "s")
                        .bind("n", 7i64),
                )
                .await
                .unwrap_or_else(|e| panic!("[{l}] dollar and E strings: {e}"));
            assert_eq!(
                got,
                ("it's :x".into(), "it's :y".into(), " :z s".into(), 7),
                "[{l}]"
            );
        }
        t.finish().await;
    }
}

// ---------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------

/// Text values that would change a statement if they were ever pasted into its SQL.
/// `SELECT CAST(:v AS TEXT)`; MySQL's CAST names text CHAR.
fn cast_text(t: &common::Target) -> &'static str {
    if t.is_mysql() {
        "SELECT CAST(:v AS CHAR)"
    } else {
        "SELECT CAST(:v AS TEXT)"
    }
}

const HOSTILE_VALUES: &[&str] = &[
    "'",
    "''",
    "\"",
    ";",
    "'; DROP TABLE canary; --",
    "\"; DROP TABLE canary; --",
    "'); DELETE FROM canary; --",
    "--",
    "/*",
    "*/ SELECT 1; /*",
    "\\",
    "\\'",
    "\\\\'; DROP TABLE canary; --",
    "$$",
    "$tag$ DROP TABLE canary $tag$",
    ":name",
    "?",
    "$1",
    "%s",
    "SELECT",
    "NULL",
    "DROP TABLE canary",
    "E'\\x27'",
    "日本語 🎉 ünï",
    "\r\n\t",
    "\u{feff}\u{202e}",
    "",
];

/// Bytes that are not UTF-8 (and a NUL, and a quote), for binary columns.
const HOSTILE_BYTES: &[u8] = &[0xff, 0xfe, 0x00, b'\'', 0xc3, 0x28, b';', 0x80, b'-', b'-'];

/// A table name with a quote, spaces, a semicolon and a comment in it.
const TABLE: &str = "t\"x; DROP TABLE canary;--";
/// A second table named by a reserved word, referencing the first.
const CHILD: &str = "select";
/// Column names: a reserved word, quotes and spaces, unicode, comment openers.
const ID: &str = "from";
const VAL: &str = "va\"l ue;--";
const BYTES: &str = "b'ÿtes/*";
const INDEXED: &str = "ünï表 \"x\"";
/// An index name with a quote and a semicolon.
const INDEX: &str = "ix \"evil\"; --";

/// The table every case must leave alone: it still has its one row afterwards.
async fn make_canary(db: &Database, label: &str) {
    let mut md = MetaData::new();
    md.add(
        Table::new("canary")
            .column(Column::new("id", SqlType::Integer).primary_key())
            .column(Column::new("note", SqlType::Text).not_null()),
    );
    db.create_all(&md)
        .await
        .unwrap_or_else(|e| panic!("[{label}] canary: {e}"));
    db.execute(
        insert(table("canary"))
            .columns(["id", "note"])
            .values([lit(1), lit("alive")]),
    )
    .await
    .unwrap_or_else(|e| panic!("[{label}] canary row: {e}"));
}

async fn assert_canary(db: &Database, label: &str, after: &str) {
    let rows: Vec<(i32, String)> = db
        .query(select([col("id"), col("note")]).from(table("canary")))
        .await
        .unwrap_or_else(|e| panic!("[{label}] canary after {after}: {e}"));
    assert_eq!(rows, [(1, "alive".to_owned())], "[{label}] after {after}");
}

fn hostile_metadata() -> MetaData {
    let mut md = MetaData::new();
    md.add(
        Table::new(TABLE)
            .column(Column::new(ID, SqlType::Integer).primary_key())
            .column(Column::new(VAL, SqlType::Text))
            .column(Column::new(BYTES, SqlType::Binary))
            .column(Column::new(INDEXED, SqlType::String(Some(40))).index())
            .index(Index::new([VAL, ID]).named(INDEX).unique()),
    );
    md.add(
        Table::new(CHILD)
            .column(Column::new(ID, SqlType::Integer).primary_key())
            .column(Column::new("parent; --", SqlType::Integer).references(TABLE, ID)),
    );
    md
}

/// Every hostile value through INSERT, SELECT … WHERE, UPDATE and DELETE with bound values,
/// on tables and columns with hostile names made by `create_all`.
#[tokio::test]
async fn hostile_values_and_names_through_core_statements() {
    for t in common::all_targets("injection_core").await {
        let db = t.connect().await;
        let l = t.label;
        make_canary(&db, l).await;
        db.create_all(&hostile_metadata())
            .await
            .unwrap_or_else(|e| panic!("[{l}] create_all with hostile names: {e}"));
        assert_canary(&db, l, "create_all").await;
        let tx = table(TABLE);
        for (i, v) in HOSTILE_VALUES.iter().enumerate() {
            let id = i32::try_from(i).unwrap();
            db.execute(
                insert(table(TABLE))
                    .columns([ID, VAL, BYTES, INDEXED])
                    .values([lit(id), lit(*v), lit(HOSTILE_BYTES.to_vec()), lit("x")]),
            )
            .await
            .unwrap_or_else(|e| panic!("[{l}] insert {v:?}: {e}"));
            let back: (i32, String, Vec<u8>) = db
                .query_one(
                    select([tx.col(ID), tx.col(VAL), tx.col(BYTES)])
                        .from(tx.clone())
                        .filter(tx.col(VAL).eq(*v)),
                )
                .await
                .unwrap_or_else(|e| panic!("[{l}] select {v:?}: {e}"));
            assert_eq!(back, (id, (*v).to_owned(), HOSTILE_BYTES.to_vec()), "[{l}]");
        }
        // UPDATE each value to the next one, then find it by the new value.
        for (i, pair) in HOSTILE_VALUES.windows(2).enumerate() {
            let id = i32::try_from(i).unwrap();
            let new = format!("{}{}", pair[1], pair[0]);
            let n = db
                .execute(
                    update(table(TABLE))
                        .set(VAL, new.as_str())
                        .filter(and_([col(VAL).eq(pair[0]), col(ID).eq(id)])),
                )
                .await
                .unwrap_or_else(|e| panic!("[{l}] update {:?}: {e}", pair[0]));
            assert_eq!(n, 1, "[{l}] update {:?}", pair[0]);
            let got: String = db
                .query_scalar(select([col(VAL)]).from(tx.clone()).filter(col(ID).eq(id)))
                .await
                .unwrap();
            assert_eq!(got, new, "[{l}]");
        }
        assert_canary(&db, l, "inserts and updates").await;
        // DELETE by a hostile value removes exactly its row.
        let last = HOSTILE_VALUES.len() - 1;
        let n = db
            .execute(delete(table(TABLE)).filter(col(VAL).eq(HOSTILE_VALUES[last])))
            .await
            .unwrap_or_else(|e| panic!("[{l}] delete: {e}"));
        assert_eq!(n, 1, "[{l}]");
        let left: i64 = db
            .query_scalar(select([func::count(star())]).from(tx.clone()))
            .await
            .unwrap();
        assert_eq!(left, i64::try_from(last).unwrap(), "[{l}]");
        // The foreign key to the hostile table works.
        db.execute(
            insert(table(CHILD))
                .columns([ID, "parent; --"])
                .values([lit(1), lit(0)]),
        )
        .await
        .unwrap_or_else(|e| panic!("[{l}] child insert: {e}"));
        assert_canary(&db, l, "delete").await;
        db.drop_all(&hostile_metadata())
            .await
            .unwrap_or_else(|e| panic!("[{l}] drop_all: {e}"));
        assert_canary(&db, l, "drop_all").await;
        t.finish().await;
    }
}

/// A quoted identifier for hand-written `text()` SQL.
fn quoted(name: &str) -> String {
    let mut out = String::new();
    oxalchemy::core::dialect::quote_ident(&mut out, name);
    out
}

/// Every hostile value bound into `text()` SQL, as a value and into a hostile table.
#[tokio::test]
async fn hostile_values_through_text_binds() {
    for t in common::all_targets("injection_text").await {
        let db = t.connect().await;
        let l = t.label;
        make_canary(&db, l).await;
        db.create_all(&hostile_metadata()).await.unwrap();
        let insert_sql = format!(
            "INSERT INTO {} ({}, {}, {}) VALUES (:id, :v, :b) -- it's :not_a_bind",
            quoted(TABLE),
            quoted(ID),
            quoted(VAL),
            quoted(BYTES)
        );
        let select_sql = format!(
            "SELECT {}, {} FROM {} WHERE {} = :id /* it's :not_a_bind */",
            quoted(VAL),
            quoted(BYTES),
            quoted(TABLE),
            quoted(ID)
        );
        for (i, v) in HOSTILE_VALUES.iter().enumerate() {
            let echoed: String = db
                .query_scalar(text(cast_text(&t)).bind("v", *v))
                .await
                .unwrap_or_else(|e| panic!("[{l}] echo {v:?}: {e}"));
            assert_eq!(echoed, *v, "[{l}]");
            let id = i64::try_from(i).unwrap();
            db.execute(
                text(insert_sql.as_str())
                    .bind("id", id)
                    .bind("v", *v)
                    .bind("b", HOSTILE_BYTES.to_vec()),
            )
            .await
            .unwrap_or_else(|e| panic!("[{l}] text insert {v:?}: {e}"));
            let back: (String, Vec<u8>) = db
                .query_one(text(select_sql.as_str()).bind("id", id))
                .await
                .unwrap_or_else(|e| panic!("[{l}] text select {v:?}: {e}"));
            assert_eq!(back, ((*v).to_owned(), HOSTILE_BYTES.to_vec()), "[{l}]");
        }
        assert_canary(&db, l, "text binds").await;

        t.finish().await;
    }
}

/// A 10 MB string of quotes, semicolons and comment openers, and a NUL byte.
#[tokio::test]
async fn huge_and_nul_values() {
    for t in common::all_targets("injection_huge_nul").await {
        let db = t.connect().await;
        let l = t.label;
        make_canary(&db, l).await;
        db.create_all(&hostile_metadata()).await.unwrap();
        // A 10 MB string of quotes, semicolons and comment openers, byte for byte (in a
        // table of its own: an indexed column cannot hold it on PostgreSQL).
        let mut md = MetaData::new();
        md.add(
            Table::new("big; --")
                .column(Column::new(ID, SqlType::Integer).primary_key())
                .column(Column::new(VAL, SqlType::Text)),
        );
        db.create_all(&md).await.unwrap();
        let big: String = "'; DROP TABLE canary; -- /* $$ \\ ".repeat(10 * 1024 * 1024 / 32);
        assert!(big.len() >= 10 * 1024 * 1024);
        db.execute(
            insert(table("big; --"))
                .columns([ID, VAL])
                .values([lit(1), lit(big.as_str())]),
        )
        .await
        .unwrap_or_else(|e| panic!("[{l}] 10 MB insert: {e}"));
        let back: String = db
            .query_scalar(
                text(format!(
                    "SELECT {} FROM {} WHERE {} = :id",
                    quoted(VAL),
                    quoted("big; --"),
                    quoted(ID)
                ))
                .bind("id", 1i64),
            )
            .await
            .unwrap_or_else(|e| panic!("[{l}] 10 MB select: {e}"));
        assert!(back == big, "[{l}] the 10 MB string came back changed");
        let echoed: String = db
            .query_scalar(text(cast_text(&t)).bind("v", big.as_str()))
            .await
            .unwrap_or_else(|e| panic!("[{l}] 10 MB echo: {e}"));
        assert!(echoed == big, "[{l}] the 10 MB bind came back changed");
        assert_canary(&db, l, "10 MB string").await;

        // NUL: SQLite stores and returns it; PostgreSQL's text cannot hold it and the server
        // refuses it, which must arrive as a typed error (not a panic, not a truncation).
        let nul = "a\0b'; DROP TABLE canary; --";
        let result = db
            .execute(
                insert(table(TABLE))
                    .columns([ID, VAL])
                    .values([lit(10_001), lit(nul)]),
            )
            .await;
        if t.is_postgres() {
            let err = result.expect_err("PostgreSQL refuses NUL in text");
            assert!(
                matches!(&err, Error::Database { code: Some(c), .. } if c == "22021"),
                "[{l}] NUL: expected SQLSTATE 22021, got {err:?}"
            );
        } else {
            result.unwrap_or_else(|e| panic!("[{l}] NUL insert: {e}"));
            let back: String = db
                .query_scalar(
                    select([col(VAL)])
                        .from(table(TABLE))
                        .filter(col(ID).eq(10_001)),
                )
                .await
                .unwrap_or_else(|e| panic!("[{l}] NUL select: {e}"));
            assert_eq!(back, nul, "[{l}] NUL round trip");
        }
        assert_canary(&db, l, "NUL").await;
        t.finish().await;
    }
}

// ---------------------------------------------------------------------------------------
// Names in the rest of the statement API, and reflection
// ---------------------------------------------------------------------------------------

/// Hostile names as an upsert's conflict target and SET list, in RETURNING, as a table
/// alias, a label and a CTE name; then reflection and autogenerate read the hostile schema
/// back and find nothing to change.
#[tokio::test]
async fn hostile_names_through_upserts_aliases_ctes_and_reflection() {
    for t in common::all_targets("injection_names").await {
        let db = t.connect().await;
        let l = t.label;
        make_canary(&db, l).await;
        let md = hostile_metadata();
        db.create_all(&md).await.unwrap();
        let upsert = |v: &str| {
            insert(table(TABLE))
                .columns([ID, VAL])
                .values([lit(1), lit(v)])
                .on_conflict_do_update([ID], [(VAL, excluded(VAL))])
                .returning([col(VAL)])
        };
        for v in [HOSTILE_VALUES[4], HOSTILE_VALUES[9]] {
            let back: String = db
                .query_scalar(upsert(v))
                .await
                .unwrap_or_else(|e| panic!("[{l}] upsert {v:?}: {e}"));
            assert_eq!(back, v, "[{l}]");
        }
        let aliased = table(TABLE).alias("a\"s; --");
        let cte = select([aliased.col(VAL).label("lab\"el; --")])
            .from(aliased.clone())
            .cte("c\"te; DROP TABLE canary");
        let got: String = db
            .query_scalar(
                select([cte.table().col("lab\"el; --")])
                    .with(cte.clone())
                    .from(cte.table()),
            )
            .await
            .unwrap_or_else(|e| panic!("[{l}] alias, label and CTE: {e}"));
        assert_eq!(got, HOSTILE_VALUES[9], "[{l}]");
        assert_canary(&db, l, "upserts and CTEs").await;

        if t.is_mysql() {
            // Reflection has no MySQL reader yet (issue 18, migrations): the rest of this
            // test is the reflected names.
            t.finish().await;
            continue;
        }
        let mut conn = db.connection().await.unwrap();
        let current = reflect(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("[{l}] reflect: {e}"));
        drop(conn);
        for name in [TABLE, CHILD] {
            let table = current
                .tables()
                .iter()
                .find(|t| t.name.as_str() == name)
                .unwrap_or_else(|| panic!("[{l}] reflection lost table {name:?}"));
            let wanted = md
                .tables()
                .iter()
                .find(|t| t.name.as_str() == name)
                .unwrap();
            let names = |t: &Table| {
                t.columns
                    .iter()
                    .map(|c| c.name.as_str().to_owned())
                    .collect::<Vec<_>>()
            };
            assert_eq!(names(table), names(wanted), "[{l}] columns of {name:?}");
        }
        let changes = oxalchemy::migrate::diff::diff(db.dialect(), &md, &current, &|t| {
            t != "canary" && t != "oxalchemy_version"
        });
        assert!(
            changes.is_empty(),
            "[{l}] autogenerate found changes: {changes:?}"
        );
        t.finish().await;
    }
}

// ---------------------------------------------------------------------------------------
// The ORM: a model whose table and column names are hostile
// ---------------------------------------------------------------------------------------

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "o\"rm; DROP TABLE canary; --")]
struct Hostile {
    #[column(primary_key)]
    id: i64,
    #[column(name = "va\"l; /* select */")]
    val: String,
    #[column(name = "order")]
    data: Vec<u8>,
}

/// Session add / flush / get / change / query / delete on a model with hostile names and
/// hostile values.
#[tokio::test]
async fn hostile_names_and_values_through_the_orm() {
    for t in common::all_targets("injection_orm").await {
        let db = t.connect().await;
        let l = t.label;
        make_canary(&db, l).await;
        db.create_all(&Registry::new().model::<Hostile>().metadata())
            .await
            .unwrap_or_else(|e| panic!("[{l}] create_all: {e}"));
        let mut s = db.session();
        let handles: Vec<_> = HOSTILE_VALUES
            .iter()
            .map(|v| {
                s.add(Hostile {
                    val: (*v).to_owned(),
                    data: HOSTILE_BYTES.to_vec(),
                    ..Default::default()
                })
            })
            .collect();
        s.commit()
            .await
            .unwrap_or_else(|e| panic!("[{l}] flush: {e}"));
        let first = s[handles[0]].id;
        s[handles[0]].val = HOSTILE_VALUES[4].to_owned();
        s.commit()
            .await
            .unwrap_or_else(|e| panic!("[{l}] update: {e}"));
        let mut fresh = db.session();
        let h = fresh
            .get::<Hostile>(first)
            .await
            .unwrap_or_else(|e| panic!("[{l}] get: {e}"))
            .expect("the row");
        assert_eq!(fresh[h].val, HOSTILE_VALUES[4], "[{l}]");
        assert_eq!(fresh[h].data, HOSTILE_BYTES, "[{l}]");
        let found = fresh
            .query::<Hostile>()
            .filter(Hostile::val.eq(HOSTILE_VALUES[9]))
            .all()
            .await
            .unwrap_or_else(|e| panic!("[{l}] query: {e}"));
        assert_eq!(found.len(), 1, "[{l}]");
        assert_eq!(fresh[found[0]].val, HOSTILE_VALUES[9], "[{l}]");
        fresh.delete(h);
        fresh
            .commit()
            .await
            .unwrap_or_else(|e| panic!("[{l}] delete: {e}"));
        let left: i64 = db
            .query_scalar(select([func::count(star())]).from(table("o\"rm; DROP TABLE canary; --")))
            .await
            .unwrap();
        assert_eq!(
            left,
            i64::try_from(HOSTILE_VALUES.len() - 1).unwrap(),
            "[{l}]"
        );
        drop((s, fresh));
        assert_canary(&db, l, "ORM").await;
        t.finish().await;
    }
}

/// Bytes that are not UTF-8 where text is expected: SQLite stores what it is given, and
/// reading it back as a `String` must be a typed decode error, not a panic or a lossy
/// string; PostgreSQL refuses a bytea where text is expected.
#[tokio::test]
async fn invalid_utf8_read_as_text_is_a_typed_error() {
    for t in common::all_targets("injection_utf8").await {
        let db = t.connect().await;
        let l = t.label;
        let result: Result<String, Error> = db
            .query_scalar(
                // MariaDB's CAST to text replaces invalid bytes with `?` on the server;
                // read the bytes themselves as text there, so the driver's check is tested.
                text(if t.is_mysql() {
                    "SELECT :v".to_owned()
                } else {
                    cast_text(&t).to_owned()
                })
                .bind("v", HOSTILE_BYTES.to_vec()),
            )
            .await;
        match result {
            Ok(s) => panic!("[{l}] invalid UTF-8 came back as the string {s:?}"),
            Err(e) if t.is_postgres() => assert!(
                matches!(&e, Error::Database { code: Some(_), .. }),
                "[{l}] expected a server error, got {e:?}"
            ),
            Err(e) => assert!(
                matches!(&e, Error::Decode { .. }),
                "[{l}] expected a decode error, got {e:?}"
            ),
        }
        t.finish().await;
    }
}

/// A PostgreSQL schema with a hostile name: tables with an index and a foreign key created
/// in it, and statements that qualify their tables with it.
#[tokio::test]
async fn hostile_schema_names_on_postgresql() {
    let Some(t) = common::postgres_target("injection_schema").await else {
        return;
    };
    let db = t.connect().await;
    let l = t.label;
    make_canary(&db, l).await;
    // The process id keeps two runs of the suite on one server apart.
    let schema = format!("sch\"ema; DROP TABLE canary; -- {}", std::process::id());
    db.execute(text(format!("CREATE SCHEMA {}", quoted(&schema))))
        .await
        .unwrap();
    let mut md = MetaData::new();
    md.add(
        Table::new("parent")
            .schema(schema.clone())
            .column(Column::new(ID, SqlType::Integer).primary_key()),
    );
    md.add(
        Table::new(TABLE)
            .schema(schema.clone())
            .column(Column::new(ID, SqlType::Integer).primary_key())
            .column(Column::new(VAL, SqlType::Text).index())
            .column(Column::new("p", SqlType::Integer).references("parent", ID)),
    );
    db.create_all(&md)
        .await
        .unwrap_or_else(|e| panic!("[{l}] create_all in a hostile schema: {e}"));
    db.execute(
        insert(table("parent").schema(schema.clone()))
            .columns([ID])
            .values([lit(7)]),
    )
    .await
    .unwrap();
    let tx = table(TABLE).schema(schema.clone());
    db.execute(insert(tx.clone()).columns([ID, VAL, "p"]).values([
        lit(1),
        lit(HOSTILE_VALUES[4]),
        lit(7),
    ]))
    .await
    .unwrap_or_else(|e| panic!("[{l}] insert: {e}"));
    let got: String = db
        .query_scalar(
            select([tx.col(VAL)])
                .from(tx.clone())
                .filter(tx.col(ID).eq(1)),
        )
        .await
        .unwrap_or_else(|e| panic!("[{l}] select: {e}"));
    assert_eq!(got, HOSTILE_VALUES[4]);
    db.drop_all(&md)
        .await
        .unwrap_or_else(|e| panic!("[{l}] drop_all: {e}"));
    db.execute(text(format!("DROP SCHEMA {} CASCADE", quoted(&schema))))
        .await
        .unwrap();
    assert_canary(&db, l, "hostile schema").await;
    t.finish().await;
}
