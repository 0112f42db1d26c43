//! MySQL's path for generated keys, run against the live MariaDB with `returning=off` (the
//! dialect is then `MySql::MYSQL`, as on MySQL 8 or MariaDB before 10.5): keys from
//! `LAST_INSERT_ID()` for one row and for multi-row INSERTs (MariaDB's
//! `innodb_autoinc_lock_mode` is 1, "consecutive"), and `orm::insert` reading what the
//! server stored (here a trigger's value) back by key.

mod common;

use oxalchemy::orm;
use oxalchemy::prelude::*;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "nr_accounts")]
struct Account {
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 50)]
    pub username: String,
    /// Set by the server: a trigger fills it when the INSERT leaves it NULL.
    #[column(length = 20)]
    pub status: Option<String>,
}

fn metadata() -> MetaData {
    Registry::new().model::<Account>().metadata()
}

/// The MariaDB target, connected with `returning=off`.
async fn without_returning(test: &str) -> Option<(common::Target, Database)> {
    let target = common::mysql_target(test).await?;
    let sep = if target.url.contains('?') { '&' } else { '?' };
    let db = Database::connect(format!("{}{sep}returning=off", target.url))
        .await
        .expect("connect");
    assert!(
        !db.dialect().insert_returning(),
        "returning=off was ignored"
    );
    db.create_all(&metadata()).await.expect("create");
    db.execute(text(
        "CREATE TRIGGER nr_status BEFORE INSERT ON nr_accounts FOR EACH ROW \
         SET NEW.status = COALESCE(NEW.status, 'new')",
    ))
    .await
    .expect("trigger");
    Some((target, db))
}

/// Every stored row as (id, username).
async fn stored(db: &Database) -> Vec<(i64, String)> {
    db.query(text("SELECT id, username FROM nr_accounts ORDER BY id"))
        .await
        .expect("select")
}

#[tokio::test]
async fn the_url_switches_returning_off_and_auto_keeps_it() {
    let Some(target) = common::mysql_target("nr_url").await else {
        return;
    };
    let auto = Database::connect(&target.url).await.expect("connect");
    // MariaDB 10.11 here: RETURNING is there unless switched off.
    assert!(auto.dialect().insert_returning());
    drop(auto);
    let sep = if target.url.contains('?') { '&' } else { '?' };
    let err = Database::connect(format!("{}{sep}returning=sometimes", target.url))
        .await
        .expect_err("an unknown value");
    assert!(err.to_string().contains("auto or off"), "{err}");
    target.finish().await;
}

#[tokio::test]
async fn insert_reads_the_key_from_last_insert_id_and_the_stored_row_by_key() {
    let Some((target, db)) = without_returning("nr_insert").await else {
        return;
    };
    // A row already there, so the generated key is not simply 1.
    db.execute(text(
        "INSERT INTO nr_accounts (id, username) VALUES (41, 'zed')",
    ))
    .await
    .expect("seed");
    let mut ann = Account {
        username: "ann".into(),
        ..Default::default()
    };
    orm::insert(&db, &mut ann).await.expect("insert");
    assert_eq!(ann.id, 42);
    assert_eq!(
        ann.status.as_deref(),
        Some("new"),
        "the stored row read back"
    );
    let mut conn = db.connection().await.expect("conn");
    let mut many: Vec<Account> = ["bob", "cyd", "dan"]
        .into_iter()
        .map(|n| Account {
            username: n.into(),
            ..Default::default()
        })
        .collect();
    orm::insert_many(&mut conn, &mut many)
        .await
        .expect("insert_many");
    drop(conn);
    let ids: Vec<i64> = many.iter().map(|a| a.id).collect();
    assert_eq!(ids, [43, 44, 45]);
    assert!(many.iter().all(|a| a.status.as_deref() == Some("new")));
    assert_eq!(
        stored(&db).await,
        [
            (41, "zed"),
            (42, "ann"),
            (43, "bob"),
            (44, "cyd"),
            (45, "dan")
        ]
        .map(|(i, n)| (i, n.to_owned()))
    );
    db.close();
    target.finish().await;
}

#[tokio::test]
async fn session_flush_gives_one_and_many_rows_their_keys() {
    let Some((target, db)) = without_returning("nr_flush").await else {
        return;
    };
    db.execute(text(
        "INSERT INTO nr_accounts (id, username) VALUES (100, 'zed')",
    ))
    .await
    .expect("seed");
    // One row.
    let mut s = db.session();
    let one = s.add(Account {
        username: "one".into(),
        ..Default::default()
    });
    s.commit().await.expect("flush one");
    assert_eq!(s[one].id, 101);
    s.close().await.expect("close");
    // Many rows: one multi-row INSERT (lock mode 1 gives them consecutive values), each
    // object given the key of its own row.
    let mut s = db.session();
    let handles = s.add_all((0..1_500).map(|i| Account {
        username: format!("u{i}"),
        ..Default::default()
    }));
    s.commit().await.expect("flush many");
    let inserts = s
        .statements()
        .iter()
        .filter(|sql| sql.starts_with("INSERT"))
        .count();
    assert_eq!(inserts, 1, "{:?}", s.statements().len());
    let given: Vec<(i64, String)> = handles
        .iter()
        .map(|h| (s[*h].id, s[*h].username.clone()))
        .collect();
    s.close().await.expect("close");
    let rows = stored(&db).await;
    assert_eq!(rows.len(), 1_502);
    assert_eq!(&rows[2..], &given[..]);
    assert_eq!(given[0].0, 102);
    db.close();
    target.finish().await;
}

/// A session flush whose keys come from `LAST_INSERT_ID()` (no RETURNING), its future
/// dropped at each point in turn: the commit writes the rows exactly once with the keys
/// the session holds, or is refused and writes nothing; never an INSERT that reads
/// another statement's answer (its row count and `LAST_INSERT_ID()`).
#[tokio::test]
async fn a_flush_dropped_midway_writes_once_or_nothing_without_returning() {
    let Some((target, db)) = without_returning("nr_dropped_flush").await else {
        return;
    };
    let mut expected: Vec<String> = Vec::new();
    for polls in 1..=12usize {
        let mut s = db.session();
        let _ = s.query::<Account>().all().await.expect("read");
        let a = s.add(Account {
            username: format!("{polls} a"),
            ..Default::default()
        });
        let b = s.add(Account {
            username: format!("{polls} b"),
            ..Default::default()
        });
        let finished = common::poll_then_drop(s.flush(), polls).await;
        if let Some(result) = finished {
            result.expect("flush");
        }
        match s.commit().await {
            Ok(()) => {
                let keys = [
                    (s[a].id, s[a].username.clone()),
                    (s[b].id, s[b].username.clone()),
                ];
                let rows = stored(&db).await;
                for key in keys {
                    assert!(
                        rows.contains(&key),
                        "{polls} polls: {key:?} not stored as held"
                    );
                }
                expected.push(format!("{polls} a"));
                expected.push(format!("{polls} b"));
            }
            Err(e) => assert!(
                matches!(
                    e,
                    oxalchemy::Error::TransactionAbandoned
                        | oxalchemy::Error::ConnectionLost { .. }
                ),
                "{polls} polls: {e}"
            ),
        }
        s.close().await.expect("close");
        let names: Vec<String> = stored(&db).await.into_iter().map(|(_, n)| n).collect();
        let mut sorted = expected.clone();
        sorted.sort();
        let mut got = names.clone();
        got.sort();
        assert_eq!(got, sorted, "{polls} polls: each row once, or none");
    }
    drop(db);
    target.finish().await;
}
