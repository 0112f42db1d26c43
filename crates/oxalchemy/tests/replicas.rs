//! Read replicas and failover on a throwaway PostgreSQL primary + streaming standby
//! (`pg_basebackup -R`): replica reads see committed data once replayed; a read session that
//! wrote reads its write at once; a replica over the staleness bound is skipped; a stopped
//! replica sends reads to the primary with no error and comes back; after the primary is
//! stopped and the standby promoted, new transactions succeed through the multi-host URL
//! while the in-flight one fails with `ConnectionLost`, and no reported commit is missing.
//! Plus the same API on SQLite (a "replica" that is another file) without a cluster.

mod replica_cluster;

use std::time::{Duration, Instant};

use oxalchemy::orm::{query, ReadSessionExt};
use oxalchemy::prelude::*;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "replica_note")]
struct Note {
    #[column(primary_key, autoincrement = false)]
    pub id: i64,
    pub body: String,
}

/// Polls `check` every 50 ms until it is true, up to `limit`; panics with `what` after.
async fn eventually<F: AsyncFnMut() -> bool>(what: &str, limit: Duration, mut check: F) {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn in_recovery(conn: &mut Connection) -> bool {
    conn.query_scalar(text("SELECT pg_is_in_recovery()"))
        .await
        .unwrap()
}

async fn server_port(db: &Database) -> i32 {
    db.query_scalar(text("SELECT inet_server_port()"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_and_streaming_standby() {
    let Some(cluster) = replica_cluster::Cluster::start("rep") else {
        return;
    };
    let limit = Duration::from_secs(20);
    let db = Database::connect(cluster.primary_url())
        .replicas([cluster.standby_url()])
        .replica_check_interval(Duration::from_millis(100))
        .replica_retry_backoff(Duration::from_millis(200))
        .pool_size(4)
        .await
        .unwrap();
    assert!(db.has_replicas());
    let mut md = MetaData::new();
    md.add(Note::table());
    db.create_all(&md).await.unwrap();

    // Plain reads go to the standby and see a commit once it is replayed.
    let mut n = Note {
        id: 1,
        body: "first".into(),
    };
    oxalchemy::orm::insert(&db, &mut n).await.unwrap();
    assert!(in_recovery(&mut db.replica().connection().await.unwrap()).await);
    eventually("the standby replays the insert", limit, async || {
        query::<Note>()
            .all(&db.replica())
            .await
            .is_ok_and(|r| r.len() == 1)
    })
    .await;
    let mut conn = db.read_connection().await.unwrap();
    assert!(
        in_recovery(&mut conn).await,
        "read_connection is a standby's"
    );
    drop(conn);

    // A read session reads on the standby until it writes, then its own write at once.
    let mut rs = db.read_session();
    assert!(in_recovery_session(rs.reads()).await);
    let h = rs.writes().add(Note {
        id: 2,
        body: "mine".into(),
    });
    rs.writes().flush().await.unwrap();
    assert!(
        !in_recovery_session(rs.reads()).await,
        "reads moved to the primary"
    );
    let again = rs
        .reads()
        .get::<Note>(2)
        .await
        .unwrap()
        .expect("own write visible");
    assert_eq!(again, h);
    rs.commit().await.unwrap();

    // Staleness: replay paused on the standby while the primary writes; a Database with
    // a 300 ms bound stops reading from it, and reads it again once replay resumes.
    let bounded = Database::connect(cluster.primary_url())
        .replicas([cluster.standby_url()])
        .replica_check_interval(Duration::from_millis(100))
        .max_replica_staleness(Duration::from_millis(300))
        .pool_size(2)
        .await
        .unwrap();
    let standby = Database::connect(cluster.standby_url())
        .pool_size(1)
        .await
        .unwrap();
    standby
        .execute(text("SELECT pg_wal_replay_pause()"))
        .await
        .unwrap();
    for id in 10..13 {
        let mut n = Note {
            id,
            body: "while paused".into(),
        };
        oxalchemy::orm::insert(&db, &mut n).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eventually("the lagging standby is marked stale", limit, async || {
        bounded.replica_status()[0].stale
    })
    .await;
    let status = bounded.replica_status()[0].clone();
    assert!(
        !status.usable && status.lag.unwrap() > Duration::from_millis(300),
        "{status:?}"
    );
    assert!(!in_recovery(&mut bounded.replica().connection().await.unwrap()).await);
    assert!(bounded.replica_fallbacks() > 0);
    // Without a bound the lagging standby is still used.
    assert!(in_recovery(&mut db.replica().connection().await.unwrap()).await);
    standby
        .execute(text("SELECT pg_wal_replay_resume()"))
        .await
        .unwrap();
    eventually("the standby is fresh again", limit, async || {
        bounded.replica_status()[0].usable
    })
    .await;
    standby.close();
    drop(standby);
    bounded.close();

    // A stopped standby: reads go to the primary with no error, and it comes back.
    cluster.stop("standby", "fast");
    for _ in 0..5 {
        let mut conn = db
            .read_connection()
            .await
            .expect("reads fall back with no error");
        assert!(!in_recovery(&mut conn).await);
    }
    let status = db.replica_status()[0].clone();
    assert!(!status.usable && status.failures >= 1, "{status:?}");
    assert!(status.last_error.is_some());
    assert!(!in_recovery(&mut db.replica().connection().await.unwrap()).await);
    cluster.start_standby();
    eventually("the restarted standby is used again", limit, async || {
        db.replica_status()[0].usable
    })
    .await;
    assert!(in_recovery(&mut db.read_connection().await.unwrap()).await);
    eprintln!("replica status: {:?}", db.replica_status());

    // Failover through the multi-host URL.
    let fdb = Database::connect(cluster.multi_host_url())
        .pool_size(2)
        .pool_timeout(Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(server_port(&fdb).await, i32::from(cluster.primary_port));
    let committed: i64 = 100;
    fdb.execute(
        text("INSERT INTO replica_note (id, body) VALUES (:id, 'committed')").bind("id", committed),
    )
    .await
    .unwrap();
    // The standby has it before the primary goes (synchronous enough: wait for replay).
    let standby = Database::connect(cluster.standby_url())
        .pool_size(1)
        .await
        .unwrap();
    eventually("the standby replays the last commit", limit, async || {
        standby
            .query_scalar::<i64>(text("SELECT count(*) FROM replica_note WHERE id = 100"))
            .await
            .is_ok_and(|n| n == 1)
    })
    .await;
    standby.close();
    drop(standby);
    let mut tx = fdb.connection().await.unwrap().begin_owned().await.unwrap();
    tx.execute(text(
        "INSERT INTO replica_note (id, body) VALUES (101, 'in flight')",
    ))
    .await
    .unwrap();
    cluster.stop("primary", "fast");
    let err = match tx
        .execute(text(
            "INSERT INTO replica_note (id, body) VALUES (102, 'in flight')",
        ))
        .await
    {
        Err(e) => e,
        Ok(_) => panic!("a statement succeeded on a stopped primary"),
    };
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    drop(tx);
    // Before the promotion no host accepts writes: new transactions fail, typed.
    let err = fdb.execute(text("SELECT 1")).await.unwrap_err();
    assert!(
        matches!(err, Error::Connect { .. } | Error::PoolTimeout { .. }),
        "{err:?}"
    );
    cluster.promote_standby();
    let started = Instant::now();
    let mut done = false;
    while !done {
        assert!(
            started.elapsed() < limit,
            "no write succeeded after the promotion"
        );
        done = fdb
            .transaction(async |tx| {
                tx.execute(text(
                    "INSERT INTO replica_note (id, body) VALUES (200, 'after')",
                ))
                .await
            })
            .await
            .is_ok();
        if !done {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(server_port(&fdb).await, i32::from(cluster.standby_port));
    let ids: Vec<(i64,)> = fdb
        .query(text(
            "SELECT id FROM replica_note WHERE id >= 100 ORDER BY id",
        ))
        .await
        .unwrap();
    // The committed row survived; the in-flight one is absent, not half-applied.
    assert_eq!(ids, [(100,), (200,)]);
    fdb.close();
    db.close();
}

async fn in_recovery_session(s: &mut Session) -> bool {
    let r: Vec<(bool,)> = s.select(text("SELECT pg_is_in_recovery()")).await.unwrap();
    r[0].0
}

/// The API without a standby: a "replica" that is another SQLite file is used for reads;
/// writes and the read session's reads after writing go to the primary.
#[tokio::test]
async fn sqlite_replica_routing() {
    let primary = oxalchemy_testing::TempSqliteFile::new("replicas_primary");
    let copy = oxalchemy_testing::TempSqliteFile::new("replicas_copy");
    let replica = Database::connect(copy.url()).await.unwrap();
    let mut md = MetaData::new();
    md.add(Note::table());
    replica.create_all(&md).await.unwrap();
    let db = Database::connect(primary.url())
        .replicas([copy.url()])
        .await
        .unwrap();
    db.create_all(&md).await.unwrap();
    let mut n = Note {
        id: 1,
        body: "on primary".into(),
    };
    oxalchemy::orm::insert(&db, &mut n).await.unwrap();
    // The copy has no rows: reads through replica() went there.
    assert!(query::<Note>().all(&db.replica()).await.unwrap().is_empty());
    assert_eq!(query::<Note>().all(&db).await.unwrap().len(), 1);
    let mut rs = db.read_session();
    assert!(rs.reads().get::<Note>(1).await.unwrap().is_none());
    rs.writes().add(Note {
        id: 2,
        body: "x".into(),
    });
    assert!(rs.has_written());
    assert!(rs.reads().get::<Note>(1).await.unwrap().is_some());
    rs.commit().await.unwrap();
    assert_eq!(query::<Note>().all(&db).await.unwrap().len(), 2);
    let status = db.replica_status();
    assert_eq!(status.len(), 1);
    assert!(status[0].usable && status[0].reads >= 2, "{status:?}");
    assert_eq!(
        Database::connect("sqlite::memory:")
            .await
            .unwrap()
            .replica_status()
            .len(),
        0
    );
}
