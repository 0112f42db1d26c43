//! `copy_in` / `copy_in_stream` (PostgreSQL binary COPY; multi-row INSERTs elsewhere),
//! `bulk_insert` switching to COPY past its threshold, and COPY out (`Query::copy_out`,
//! `copy_out_all`, `copy_out_to`; a streamed SELECT elsewhere): awkward values round trip
//! exactly, rows stream without being collected, progress is reported, a failure keeps
//! nothing. Every case runs on SQLite (memory, file), PostgreSQL and MariaDB.

mod common;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use futures_util::TryStreamExt;
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

#[tokio::test]
async fn structs_giving_their_own_key_among_generated_ones_keep_order_and_keys() {
    for t in common::all_targets("copy_struct_keys").await {
        let db = setup(&t).await;
        // Every 97th struct gives its own key (negative, never generated): another column
        // set in the middle of a statement's rows, and of a COPY.
        let given = |i: usize| i % 97 == 5;
        let key_of = |i: usize| -(i as i64) - 1;
        let rows = |range: std::ops::Range<usize>| {
            range
                .map(|i| CopyRow {
                    id: if given(i) { key_of(i) } else { 0 },
                    ..row(i)
                })
                .collect::<Vec<_>>()
        };
        // By COPY on PostgreSQL (past the threshold), multi-row INSERTs elsewhere.
        let n = bulk_insert::<CopyRow>(rows(0..1_300))
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(n, 1_300, "[{}]", t.label);
        // Keys asked for: multi-row INSERTs everywhere, the keys in the order given.
        let keys = bulk_insert::<CopyRow>(rows(1_300..1_500))
            .returning_keys()
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(keys.len(), 200, "[{}]", t.label);
        let back: std::collections::HashMap<String, CopyRow> = all(&db)
            .await
            .into_iter()
            .map(|r| (r.code.clone(), r))
            .collect();
        assert_eq!(back.len(), 1_500, "[{}]", t.label);
        for i in 0..1_500 {
            let stored = &back[&format!("c{i:05}")];
            if given(i) {
                assert_eq!(stored.id, key_of(i), "[{}] row {i}", t.label);
            }
            if i >= 1_300 {
                assert_eq!(stored.id, keys[i - 1_300], "[{}] row {i}", t.label);
            }
            let want = CopyRow {
                id: stored.id,
                ..row(i)
            };
            assert_eq!(stored, &want, "[{}] row {i}", t.label);
        }
        t.finish().await;
    }
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "copy_out_pairs")]
struct Pair {
    #[column(primary_key)]
    id: i64,
    a: i64,
    b: i64,
}

/// Counts the rows of a binary COPY's bytes (header, tuples, trailer), checking the format
/// on the way: what `copy_out_to` writes must be what `COPY … FROM STDIN` reads.
fn binary_copy_rows(bytes: &[u8], columns: i16) -> usize {
    let signature = b"PGCOPY\n\xff\r\n\0";
    assert!(bytes.starts_with(signature), "no binary COPY signature");
    let u32_at = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    let extension = u32_at(signature.len() + 4) as usize;
    let mut at = signature.len() + 8 + extension;
    let mut rows = 0;
    loop {
        let fields = i16::from_be_bytes(bytes[at..at + 2].try_into().unwrap());
        at += 2;
        if fields == -1 {
            assert_eq!(at, bytes.len(), "bytes after the trailer");
            return rows;
        }
        assert_eq!(fields, columns);
        for _ in 0..fields {
            let len = u32_at(at) as i32;
            at += 4 + len.max(0) as usize;
        }
        rows += 1;
    }
}

#[tokio::test]
async fn copy_out_reads_back_exactly_what_copy_in_wrote() {
    for t in common::all_targets("copy_out_round_trip").await {
        let db = setup(&t).await;
        let rows: Vec<CopyRow> = (0..300).map(row).collect();
        copy_in::<CopyRow>(rows.clone()).execute(&db).await.unwrap();
        let ordered = || orm::query::<CopyRow>().order_by(CopyRow::id.asc());
        let vec = ordered().copy_out_all(&db).await.unwrap();
        assert_eq!(unkeyed(vec.clone()), rows, "[{}]", t.label);
        // The stream form gives the same models, keys included, as a plain query.
        let streamed: Vec<CopyRow> = ordered().copy_out(&db).try_collect().await.unwrap();
        assert_eq!(streamed, vec, "[{}]", t.label);
        assert_eq!(streamed, all(&db).await, "[{}]", t.label);
        // The whole table, unordered, holds the same rows.
        let mut table = orm::query::<CopyRow>().copy_out_all(&db).await.unwrap();
        table.sort_by_key(|r| r.id);
        assert_eq!(table, vec, "[{}]", t.label);
        t.finish().await;
    }
}

#[tokio::test]
async fn copy_out_of_a_filtered_query() {
    for t in common::all_targets("copy_out_filter").await {
        let db = setup(&t).await;
        let rows: Vec<CopyRow> = (0..90).map(row).collect();
        copy_in::<CopyRow>(rows.clone()).execute(&db).await.unwrap();
        // Without bound values: COPY itself on PostgreSQL.
        let nulls = || {
            orm::query::<CopyRow>()
                .filter(CopyRow::note.is_null())
                .order_by(CopyRow::id.asc())
        };
        let (got, sql) = logged(nulls().copy_out_all(&db)).await;
        let got = unkeyed(got.unwrap());
        assert_eq!(
            sql.contains("TO STDOUT (FORMAT binary)"),
            t.is_postgres(),
            "[{}] {sql}",
            t.label
        );
        let want: Vec<CopyRow> = rows.iter().filter(|r| r.note.is_none()).cloned().collect();
        assert_eq!(want.len(), 30);
        assert_eq!(got, want, "[{}]", t.label);
        // With bound values: the streamed SELECT, same rows.
        let karma = || {
            orm::query::<CopyRow>()
                .filter(CopyRow::karma.gt(0))
                .filter(CopyRow::code.ne("c00001"))
                .order_by(CopyRow::id.asc())
        };
        let (got, sql) = logged(karma().copy_out_all(&db)).await;
        let got = unkeyed(got.unwrap());
        assert!(!sql.contains("COPY"), "[{}] {sql}", t.label);
        assert!(sql.contains("SELECT"), "[{}] {sql}", t.label);
        let want: Vec<CopyRow> = rows
            .iter()
            .filter(|r| r.karma.is_some_and(|k| k > 0) && r.code != "c00001")
            .cloned()
            .collect();
        assert!(!want.is_empty());
        assert_eq!(got, want, "[{}]", t.label);
        // The raw bytes: PostgreSQL only, and only without bound values.
        let mut out = Vec::new();
        let raw = nulls().copy_out_to(&db, &mut out).await;
        if t.is_postgres() {
            let written = raw.unwrap();
            assert_eq!(written, out.len() as u64, "[{}]", t.label);
            let columns = CopyRow::columns().len() as i16;
            assert_eq!(binary_copy_rows(&out, columns), 30, "[{}]", t.label);
            let err = karma().copy_out_to(&db, &mut out).await.unwrap_err();
            assert!(
                matches!(err, Error::Unsupported { .. }) && err.to_string().contains("bound"),
                "[{}] {err:?}",
                t.label
            );
        } else {
            let err = raw.unwrap_err();
            assert!(
                matches!(err, Error::Unsupported { .. }) && err.to_string().contains("copy_out"),
                "[{}] {err:?}",
                t.label
            );
            assert!(out.is_empty());
        }
        // The pool's connections are usable afterwards.
        assert_eq!(all(&db).await.len(), 90, "[{}]", t.label);
        t.finish().await;
    }
}

#[tokio::test]
async fn copy_out_hands_rows_over_before_the_result_is_read() {
    for t in common::all_targets("copy_out_streamed").await {
        let db = t.connect().await;
        db.create_all(&Registry::new().model::<Pair>().metadata())
            .await
            .unwrap();
        // Row 2,000 (of 3,000) has b = 0.
        let pairs = (1..=3_000i64).map(|i| Pair {
            id: 0,
            a: i,
            b: i64::from(i != 2_000),
        });
        copy_in::<Pair>(pairs).execute(&db).await.unwrap();
        if t.is_postgres() {
            // `a / b = a` has no bound value, so COPY runs it; row 2,000 divides by zero.
            // A collected read sees only the error; the stream hands out the 1,999 rows
            // before it first (a sequential scan, in insertion order; no ORDER BY, which
            // would evaluate every row before sending one): rows are not collected.
            let q = || {
                orm::query::<Pair>().filter((Pair::a.expr() / Pair::b.expr()).eq(Pair::a.expr()))
            };
            assert!(q().copy_out_all(&db).await.is_err());
            {
                let mut s = std::pin::pin!(q().copy_out(&db));
                let mut before_error = 0;
                let err = loop {
                    match s.try_next().await {
                        Ok(Some(p)) => {
                            before_error += 1;
                            assert_eq!(p.a, before_error);
                        }
                        Err(e) => break e,
                        Ok(None) => panic!("the division by zero was not reported"),
                    }
                };
                assert_eq!(before_error, 1_999, "{err}");
                assert_eq!(err.sqlstate(), Some("22012"), "{err:?}");
                assert!(
                    s.try_next().await.unwrap().is_none(),
                    "a stream ends after its error"
                );
            }
            // The raw bytes reach the writer as they arrive: those of the rows before the
            // error were written when it came.
            let mut out = CountingSink(0);
            let err = q().copy_out_to(&db, &mut out).await.unwrap_err();
            assert_eq!(err.sqlstate(), Some("22012"), "{err:?}");
            assert!(out.0 > 1_999 * 3 * 8, "only {} bytes written", out.0);
            // The pool's connections are usable afterwards.
            let n = orm::query::<Pair>()
                .copy_out(&db)
                .try_collect::<Vec<_>>()
                .await;
            assert_eq!(n.unwrap().len(), 3_000);
        } else {
            // The streamed SELECT reads in chunks: a row added after the first chunk was
            // read is still seen.
            let mut s = std::pin::pin!(orm::query::<Pair>().copy_out(&db));
            let first = s.try_next().await.unwrap().unwrap();
            assert_eq!(first.a, 1);
            orm::insert(&db, &mut Pair { id: 0, a: -1, b: 1 })
                .await
                .unwrap();
            let rest: Vec<Pair> = s.try_collect().await.unwrap();
            assert_eq!(rest.len(), 3_000, "[{}]", t.label);
            assert_eq!(rest.last().map(|p| p.a), Some(-1), "[{}]", t.label);
        }
        t.finish().await;
    }
}

/// The statements logged (target `oxalchemy::sql`) while `f` runs on this thread.
async fn logged<T>(f: impl std::future::Future<Output = T>) -> (T, String) {
    let out = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(out.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let value = f.await;
    drop(guard);
    let text = String::from_utf8_lossy(&out.0.lock().unwrap()).into_owned();
    (value, text)
}

#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn a_failing_writer_abandons_the_copy_and_the_connection_recovers() {
    for t in common::all_targets("copy_out_writer_fails").await {
        if !t.is_postgres() {
            // Raw COPY bytes exist only on PostgreSQL (copy_out_of_a_filtered_query checks
            // the refusal elsewhere).
            t.finish().await;
            continue;
        }
        let db = setup(&t).await;
        copy_in::<CopyRow>((0..500).map(row))
            .execute(&db)
            .await
            .unwrap();
        let mut conn = db.connection().await.unwrap();
        let mut out = FailingSink { left: 4_096 };
        let err = orm::query::<CopyRow>()
            .copy_out_to(&mut conn, &mut out)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::CopyWrite { .. }),
            "[{}] {err:?}",
            t.label
        );
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("disk full"), "[{}]", t.label);
        // The same connection, abandoned mid-COPY, is reset and answers the next query.
        let back = orm::query::<CopyRow>()
            .copy_out_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(back.len(), 500, "[{}]", t.label);
        drop(conn);
        t.finish().await;
    }
}

/// A writer that accepts `left` bytes, then fails as a full disk would.
struct FailingSink {
    left: usize,
}

impl tokio::io::AsyncWrite for FailingSink {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.left == 0 {
            return std::task::Poll::Ready(Err(std::io::Error::other("disk full")));
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        std::task::Poll::Ready(Ok(n))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// A writer that keeps nothing but the number of bytes written to it.
struct CountingSink(u64);

impl tokio::io::AsyncWrite for CountingSink {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0 += buf.len() as u64;
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
