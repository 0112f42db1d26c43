//! Hostile input through every API that takes SQL text or a name, on SQLite (memory, file)
//! and PostgreSQL: values round-trip byte for byte, identifiers are quoted, and nothing else
//! in the database changes (a canary row survives every case).

mod common;

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
                text("SELECT CAST(:a AS BIGINT) -- don't :x\n, /* it's :y */ :b || ':z' || 'it''s :w'")
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
