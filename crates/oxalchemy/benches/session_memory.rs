//! Session memory: the heap a [`Session`] holds per tracked object beyond the object itself,
//! for 100,000 small objects, counted by dhat's heap profiler (live bytes).
//!
//! * "objects themselves": the same 100,000 structs in a `Vec` (the struct's size plus its
//!   strings' heap) — what the application would hold without a session;
//! * `s.add` of each (pending objects, before any flush);
//! * after `commit` (persistent objects: identity map entries; no snapshots, which are
//!   taken only when an object is first handed out mutably; the statement log's INSERTs);
//! * loaded by `s.query::<M>().all()` in a fresh session;
//! * the same after changing every loaded object through `s[h]` (before the flush): each
//!   then carries the snapshot its change is detected against. Objects never handed out
//!   mutably carry none, so the lines above have no snapshots;
//! * the same after flushing the changes (clean again: no snapshots; the statement log
//!   holds the UPDATEs).
//!
//! Per held object the session keeps a 40-byte entry in its object table (the boxed
//! object, identity key, generation, state) and a slot in the identity map (~6.5 bytes at
//! 100,000 objects); a changed object also has its snapshot, the values of every non-key
//! column, in a side map. So "all changed" cannot be under 2x the objects: the snapshot
//! alone is as large as the column data it copies.
//!
//! `cargo bench -p oxalchemy --bench session_memory`

mod common;

use oxalchemy::prelude::*;

// Counts live heap bytes (dhat's heap profiler in testing mode: no file is written).
#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const N: i64 = 100_000;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bench_mem_users")]
struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 50)]
    pub username: String,
    pub karma: Option<i32>,
}

fn users() -> Vec<User> {
    (1..=N)
        .map(|i| User {
            id: i,
            username: format!("user{i:06}"),
            karma: Some(i as i32),
        })
        .collect()
}

fn live() -> isize {
    dhat::HeapStats::get().curr_bytes as isize
}

fn line(what: &str, bytes: isize, objects: isize) {
    let per = bytes as f64 / N as f64;
    let beyond = (bytes - objects) as f64 / N as f64;
    println!(
        "    {what:<32} {:>7.1} MB  {per:>6.1} B/object  {beyond:>6.1} B/object beyond the objects  {:.2}x the objects",
        bytes as f64 / 1e6,
        bytes as f64 / objects as f64
    );
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    common::run(async {
        let (path, db) = common::sqlite("session_memory").await;
        let md = Registry::new().model::<User>().metadata();
        db.create_all(&md).await.expect("create");

        let before = live();
        let plain = users();
        let objects = live() - before;
        drop(plain);
        println!(
            "session memory, {N} objects of {} bytes (+ a 10-byte username on the heap):",
            std::mem::size_of::<User>()
        );
        line("objects themselves (Vec<User>)", objects, objects);

        let mut s = db.session();
        let before = live();
        for u in users() {
            s.add(u);
        }
        line("session: added (pending)", live() - before, objects);
        s.commit().await.expect("commit");
        line("session: after commit", live() - before, objects);
        drop(s);

        let mut s = db.session();
        let before = live();
        let handles = s.query::<User>().all().await.expect("load");
        assert_eq!(handles.len(), N as usize);
        drop(handles);
        line("session: loaded by query().all()", live() - before, objects);
        s.set_autoflush(false);
        let handles = s.query::<User>().all().await.expect("load");
        for &h in &handles {
            s[h].karma = Some(0);
        }
        drop(handles);
        line("session: loaded, all changed", live() - before, objects);
        s.flush().await.expect("flush");
        line("session: all changed, flushed", live() - before, objects);
        drop(s);
        drop(db);
        common::remove_sqlite(&path);
    });
}
