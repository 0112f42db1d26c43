//! `copy_in` / `copy_in_stream` (PostgreSQL binary COPY; multi-row INSERTs elsewhere) and
//! `bulk_insert` switching to COPY past its threshold: awkward values round trip exactly,
//! rows stream without being collected, progress is reported, a failure keeps nothing.
//! Every case runs on SQLite (memory, file) and PostgreSQL.

mod common;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use oxalchemy::orm::{self, bulk_insert, copy_in, copy_in_stream, Mapping, Session};
use oxalchemy::prelude::*;
use rust_decimal::Decimal;
use std::str::FromStr;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "copy_rows")]
struct CopyRow {
    #[column(primary_key)]
    id: i64,
    #[column(unique)]
    code: String,
    note: Option<String>,
    doc: serde_json::Value,
    at: NaiveDateTime,
    instant: Option<DateTime<Utc>>,
    amount: Decimal,
    tags: Vec<String>,
    holes: Vec<Option<i32>>,
    key: uuid::Uuid,
    flag: bool,
    score: f64,
    karma: Option<i32>,
    #[column(default = "fresh")]
    status: String,
}

const AWKWARD: &[&str] = &[
    "",
    "plain",
    "it's \"quoted\"",
    "tab\there",
    "line\nbreak\r\nand return",
    "back\\slash \\N \\. and \\\\",
    "unicode: żółć 日本語 🦀 \u{200b}",
    "comma, semicolon; pipe |",
    "NULL",
];

fn row(i: usize) -> CopyRow {
    let text = AWKWARD[i % AWKWARD.len()];
    CopyRow {
        id: 0,
        code: format!("c{i:05}"),
        note: (!i.is_multiple_of(3)).then(|| text.to_owned()),
        doc: serde_json::json!({
            "i": i,
            "text": text,
            "nested": {"list": [1, null, "two"], "quote": "\"'\\"},
        }),
        at: NaiveDate::from_ymd_opt(2024, 2, 29)
            .unwrap()
            .and_hms_micro_opt(23, 59, 59, 999_999 - i as u32)
            .unwrap(),
        instant: i.is_multiple_of(2).then(|| {
            DateTime::from_timestamp(1_700_000_000 + i as i64, (i as u32 % 1000) * 1000).unwrap()
        }),
        amount: Decimal::from_str(&format!("{i}.{:04}", i % 10_000)).unwrap()
            * Decimal::NEGATIVE_ONE,
        tags: vec![text.to_owned(), format!("t{i}"), String::new()],
        holes: vec![Some(i as i32), None, Some(-1)],
        key: uuid::Uuid::from_u128(0x1234_5678_9abc_def0_0000_0000_0000_0000 + i as u128),
        flag: i % 2 == 1,
        score: i as f64 / 7.0,
        karma: (!i.is_multiple_of(5)).then_some(i as i32 - 50),
        status: "given".into(),
    }
}

async fn setup(t: &common::Target) -> Database {
    let db = t.connect().await;
    db.create_all(&Registry::new().model::<CopyRow>().metadata())
        .await
        .unwrap();
    db
}

async fn all(db: &Database) -> Vec<CopyRow> {
    orm::query::<CopyRow>()
        .order_by(CopyRow::id.asc())
        .all(db)
        .await
        .unwrap()
}

/// What was written, without the generated key.
fn unkeyed(mut rows: Vec<CopyRow>) -> Vec<CopyRow> {
    for r in &mut rows {
        r.id = 0;
    }
    rows
}

#[tokio::test]
async fn awkward_values_round_trip_exactly() {
    for t in common::all_targets("copy_round_trip").await {
        let db = setup(&t).await;
        let rows: Vec<CopyRow> = (0..300).map(row).collect();
        let n = copy_in::<CopyRow>(rows.clone()).execute(&db).await.unwrap();
        assert_eq!(n, 300, "[{}]", t.label);
        let back = all(&db).await;
        for (sent, got) in rows.iter().zip(unkeyed(back.clone())) {
            assert_eq!(&got, sent, "[{}]", t.label);
        }
        assert_eq!(back.len(), 300, "[{}]", t.label);
        t.finish().await;
    }
}

#[tokio::test]
async fn a_stream_is_sent_as_it_arrives_with_progress() {
    for t in common::all_targets("copy_stream").await {
        let db = setup(&t).await;
        // An async source: each row is made when the COPY asks for it, so the rows made so
        // far can never run far ahead of the rows sent.
        let made = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = made.clone();
        let source = futures_util::stream::unfold(0usize, move |i| {
            let counter = counter.clone();
            async move {
                (i < 2_500).then(|| {
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let m = Mapping::<CopyRow>::new()
                        .set(CopyRow::code, format!("s{i}"))
                        .set(CopyRow::doc, serde_json::json!([i]))
                        .set(CopyRow::at, NaiveDateTime::default())
                        .set(CopyRow::amount, Decimal::new(i as i64, 2))
                        .set(CopyRow::key, uuid::Uuid::from_u128(i as u128))
                        .set(CopyRow::flag, true)
                        .set(CopyRow::score, 0.5)
                        .set(CopyRow::tags, Vec::<String>::new())
                        .set(CopyRow::holes, vec![None]);
                    (m, i + 1)
                })
            }
        });
        let mut seen = Vec::new();
        let n = copy_in_stream::<CopyRow>(source)
            .progress(|done| seen.push(done))
            .progress_every(1_000)
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(n, 2_500, "[{}]", t.label);
        assert_eq!(made.load(std::sync::atomic::Ordering::Relaxed), 2_500);
        if t.is_postgres() {
            assert_eq!(seen, [1_000, 2_000, 2_500], "[{}]", t.label);
        } else {
            // SQLite reports per INSERT chunk of 10,000 rows, and at the end.
            assert_eq!(seen.last(), Some(&2_500), "[{}]", t.label);
        }
        let back = all(&db).await;
        assert_eq!(back.len(), 2_500);
        // Columns left out got their defaults (`status`) or NULL (`note`).
        assert!(back.iter().all(|r| r.status == "fresh" && r.note.is_none()));
        assert_eq!(back[1_234].code, "s1234");
        assert_eq!(back[1_234].amount, Decimal::new(1_234, 2));
        t.finish().await;
    }
}

#[tokio::test]
async fn rows_naming_other_columns_start_another_copy() {
    for t in common::all_targets("copy_mixed").await {
        let db = setup(&t).await;
        let base = |i: usize| {
            Mapping::<CopyRow>::new()
                .set(CopyRow::code, format!("m{i}"))
                .set(CopyRow::doc, serde_json::Value::Null)
                .set(CopyRow::at, NaiveDateTime::default())
                .set(CopyRow::amount, Decimal::ONE)
                .set(CopyRow::key, uuid::Uuid::nil())
                .set(CopyRow::flag, false)
                .set(CopyRow::score, 1.0)
                .set(CopyRow::tags, vec!["x".to_owned()])
                .set(CopyRow::holes, Vec::<Option<i32>>::new())
        };
        let rows = (0..30).map(|i| match i % 10 {
            0..5 => base(i),
            _ => base(i).set(CopyRow::note, Some(format!("n{i}"))),
        });
        let n = copy_in::<CopyRow>(rows).execute(&db).await.unwrap();
        assert_eq!(n, 30, "[{}]", t.label);
        let back = all(&db).await;
        assert_eq!(back[7].code, "m7");
        assert_eq!(back[7].note.as_deref(), Some("n7"));
        assert_eq!(back[12].note, None);
        t.finish().await;
    }
}

#[tokio::test]
async fn a_duplicate_mid_copy_keeps_nothing_and_names_the_constraint() {
    for t in common::all_targets("copy_duplicate").await {
        let db = setup(&t).await;
        let mut rows: Vec<CopyRow> = (0..2_000).map(row).collect();
        rows[1_500].code = rows[10].code.clone();
        let err = copy_in::<CopyRow>(rows.clone())
            .execute(&db)
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::Integrity(_)), "[{}] {err:?}", t.label);
        assert!(text.contains("code"), "[{}] {text}", t.label);
        assert!(all(&db).await.is_empty(), "[{}]", t.label);
        // bulk_insert past its COPY threshold fails the same way.
        let err = bulk_insert::<CopyRow>(rows).execute(&db).await.unwrap_err();
        assert!(matches!(err, Error::Integrity(_)), "[{}] {err:?}", t.label);
        assert!(all(&db).await.is_empty(), "[{}]", t.label);
        // The pool's connections are usable afterwards.
        assert_eq!(
            copy_in::<CopyRow>((0..3).map(row))
                .execute(&db)
                .await
                .unwrap(),
            3
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn bulk_insert_uses_copy_past_its_threshold_in_a_session() {
    for t in common::all_targets("copy_threshold").await {
        let db = setup(&t).await;
        let mut s: Session = db.session();
        bulk_insert::<CopyRow>((0..1_200).map(row))
            .execute(&mut s)
            .await
            .unwrap();
        bulk_insert::<CopyRow>((1_200..1_300).map(row))
            .execute(&mut s)
            .await
            .unwrap();
        bulk_insert::<CopyRow>((1_300..2_600).map(row))
            .copy_threshold(None)
            .execute(&mut s)
            .await
            .unwrap();
        let copies = s
            .statements()
            .iter()
            .filter(|q| q.starts_with("COPY"))
            .count();
        assert_eq!(copies, usize::from(t.is_postgres()), "[{}]", t.label);
        s.commit().await.unwrap();
        let back = unkeyed(all(&db).await);
        assert_eq!(
            back,
            (0..2_600).map(row).collect::<Vec<_>>(),
            "[{}]",
            t.label
        );
        t.finish().await;
    }
}
