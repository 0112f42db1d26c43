//! The dialects' capability flags match what the databases do: transactional DDL rolls
//! back, advisory locks exist where claimed, savepoints work, replica lag is readable.

mod common;

use oxalchemy::core::dialect::Capabilities;
use oxalchemy::prelude::*;

#[tokio::test]
async fn capability_flags_match_the_database() {
    for t in common::all_targets("capabilities").await {
        let db = t.connect().await;
        let caps = db.dialect().capabilities();
        let expected = if t.is_postgres() {
            Capabilities::POSTGRES
        } else if t.is_mysql() {
            Capabilities::MYSQL
        } else {
            Capabilities::SQLITE
        };
        assert_eq!(caps, expected, "[{}]", t.label);

        // Transactional DDL: a CREATE TABLE rolled back is gone.
        let mut conn = db.connection().await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        tx.execute(text("CREATE TABLE caps_ddl (id INTEGER)"))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        let exists = conn.execute(text("SELECT * FROM caps_ddl")).await.is_ok();
        assert_eq!(!exists, caps.transactional_ddl, "[{}]", t.label);

        let advisory = if t.is_mysql() {
            "SELECT GET_LOCK('caps', 0) = 1 AND RELEASE_LOCK('caps') = 1"
        } else {
            "SELECT pg_try_advisory_xact_lock(42)"
        };
        let has_advisory = conn.query_scalar::<bool>(text(advisory)).await.is_ok();
        assert_eq!(has_advisory, caps.advisory_locks, "[{}]", t.label);
        let has_lag = conn
            .query_scalar::<Option<f64>>(text(
                "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8",
            ))
            .await
            .is_ok();
        assert_eq!(has_lag, caps.replica_lag, "[{}]", t.label);

        let mut tx = conn.begin().await.unwrap();
        let sp = tx.savepoint().await;
        assert_eq!(sp.is_ok(), caps.savepoints, "[{}]", t.label);
        drop(sp);
        tx.rollback().await.unwrap();
        drop(conn);
        drop(db);
        t.finish().await;
    }
}
