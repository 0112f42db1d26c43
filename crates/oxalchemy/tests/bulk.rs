//! Bulk insert / update / delete (the guide's §3 "Bulk Operations"): mappings in, nothing
//! loaded; defaults and server defaults; all or nothing; sessions kept consistent. Every case
//! runs on SQLite (memory, file) and PostgreSQL.

mod blog;
mod common;

use blog::*;
use oxalchemy::orm::{self, bulk_delete, bulk_insert, bulk_update, Mapping, ObjectState, Session};
use oxalchemy::prelude::*;
use oxalchemy::IntegrityError;

/// The guide's `bulk_create_users`: `session.bulk_insert_mappings(User, users_data)` inside
/// `session_scope`.
async fn bulk_create_users(db: &Database, users_data: Vec<Mapping<User>>) -> Result<(), Error> {
    db.session_scope(async |s: &mut Session| {
        bulk_insert::<User>(users_data).execute(s).await?;
        Ok(())
    })
    .await
}

/// The guide's `bulk_update_posts`: `session.bulk_update_mappings(Post, posts_updates)`.
async fn bulk_update_posts(db: &Database, posts_updates: Vec<Mapping<Post>>) -> Result<(), Error> {
    db.session_scope(async |s: &mut Session| {
        bulk_update::<Post>(posts_updates).execute(s).await?;
        Ok(())
    })
    .await
}

fn user_mapping(i: usize) -> Mapping<User> {
    Mapping::new()
        .set(User::username, format!("user{i}"))
        .set(User::email, format!("user{i}@example.com"))
}

async fn setup(t: &common::Target) -> Database {
    let db = t.connect().await;
    db.create_all(&registry().metadata()).await.unwrap();
    db
}

async fn count(db: &Database, table_name: &'static str) -> i64 {
    let rows: Vec<(i64,)> = db
        .query(select([func::count(star())]).from(table(table_name)))
        .await
        .unwrap();
    rows[0].0
}

#[tokio::test]
async fn bulk_create_users_fills_defaults_and_server_defaults() {
    for t in common::all_targets("bulk_create_users").await {
        let db = setup(&t).await;
        bulk_create_users(&db, (0..250).map(user_mapping).collect())
            .await
            .unwrap();
        let users = orm::query::<User>()
            .order_by(User::id.asc())
            .all(&db)
            .await
            .unwrap();
        assert_eq!(users.len(), 250, "[{}]", t.label);
        let first = &users[0];
        assert_eq!(first.username, "user0", "[{}]", t.label);
        for u in &users {
            // Server default ('{}') and the Python-side default of `status`.
            assert_eq!(u.settings, serde_json::json!({}), "[{}]", t.label);
            assert_eq!(u.status, Status::Active, "[{}]", t.label);
            assert_eq!(u.karma, None, "[{}]", t.label);
            // `default = now`: one instant for the whole call.
            assert_eq!(u.ts.created_at, first.ts.created_at, "[{}]", t.label);
            assert_eq!(u.ts.updated_at, u.ts.created_at, "[{}]", t.label);
            assert!(u.base.id > 0, "[{}]", t.label);
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn given_columns_win_over_defaults_and_structs_run_validators() {
    for t in common::all_targets("bulk_given_columns").await {
        let db = setup(&t).await;
        let when = chrono::DateTime::parse_from_rfc3339("2020-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let rows = vec![
            user_mapping(1)
                .set(User::created_at, when)
                .set(User::status, Status::Suspended)
                .set(User::settings, serde_json::json!({"theme": "dark"})),
            user_mapping(2),
        ];
        let n = bulk_insert::<User>(rows).execute(&db).await.unwrap();
        assert_eq!(n, 2, "[{}]", t.label);
        let u1 = orm::query::<User>()
            .filter(User::username.eq("user1"))
            .one(&db)
            .await
            .unwrap();
        assert_eq!(u1.ts.created_at, when, "[{}]", t.label);
        assert_ne!(u1.ts.updated_at, when, "[{}] updated_at defaulted", t.label);
        assert_eq!(u1.status, Status::Suspended, "[{}]", t.label);
        assert_eq!(u1.settings["theme"], "dark", "[{}]", t.label);

        // Structs: defaults applied, validators run before anything is written.
        let ok = User {
            username: "struct".into(),
            email: "struct@example.com".into(),
            settings: serde_json::json!({}),
            ..Default::default()
        };
        let bad = User {
            username: " ".into(),
            email: "blank@example.com".into(),
            settings: serde_json::json!({}),
            ..Default::default()
        };
        let err = bulk_insert::<User>(vec![ok.clone(), bad])
            .execute(&db)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Validation(_)), "[{}] {err:?}", t.label);
        assert_eq!(count(&db, "users").await, 2, "[{}]", t.label);
        let keys = bulk_insert::<User>(vec![ok])
            .returning_keys()
            .execute(&db)
            .await
            .unwrap();
        let stored = orm::query::<User>()
            .filter(User::id.eq(keys[0]))
            .one(&db)
            .await
            .unwrap();
        assert_eq!(stored.username, "struct", "[{}]", t.label);
        assert_eq!(stored.ts.created_at, stored.ts.updated_at, "[{}]", t.label);
        t.finish().await;
    }
}

#[tokio::test]
async fn a_unique_violation_mid_call_writes_nothing_and_names_the_constraint() {
    for t in common::all_targets("bulk_unique_violation").await {
        let db = setup(&t).await;
        // 20,000 rows span several statements on both databases; the duplicate is in a
        // later one, so earlier statements' rows must be rolled back too.
        let mut rows: Vec<Mapping<User>> = (0..20_000).map(user_mapping).collect();
        rows[17_000] = Mapping::new()
            .set(User::username, "dup")
            .set(User::email, "user3@example.com");
        let mut conn = db.connection().await.unwrap();
        let err = bulk_insert::<User>(rows)
            .execute(&mut conn)
            .await
            .unwrap_err();
        match &err {
            Error::Integrity(IntegrityError::UniqueViolation { constraint, .. }) => {
                assert_eq!(
                    constraint.as_deref(),
                    Some("uq_users_email"),
                    "[{}] {err}",
                    t.label
                );
            }
            other => panic!("[{}] expected UniqueViolation, got {other:?}", t.label),
        }
        assert_eq!(count(&db, "users").await, 0, "[{}]", t.label);
        // The connection is usable afterwards (no transaction left open or aborted).
        let n = bulk_insert::<User>((0..3).map(user_mapping))
            .execute(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, 3, "[{}]", t.label);
        drop(conn);
        assert_eq!(count(&db, "users").await, 3, "[{}]", t.label);
        t.finish().await;
    }
}

#[tokio::test]
async fn bulk_update_posts_with_mixed_column_sets() {
    for t in common::all_targets("bulk_update_posts").await {
        let db = setup(&t).await;
        let author = bulk_insert::<User>([user_mapping(0)])
            .returning_keys()
            .execute(&db)
            .await
            .unwrap()[0];
        let ids = bulk_insert::<Post>((0..6).map(|i| {
            Mapping::new()
                .set(Post::title, format!("post{i}"))
                .set(Post::author_id, author)
        }))
        .returning_keys()
        .execute(&db)
        .await
        .unwrap();
        assert_eq!(ids.len(), 6, "[{}]", t.label);
        let before = orm::query::<Post>().all(&db).await.unwrap();

        // Even rows change the title; odd rows the title and the content.
        let posts_updates: Vec<Mapping<Post>> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let m = Mapping::new()
                    .set(Post::id, *id)
                    .set(Post::title, format!("new{i}"));
                if i % 2 == 1 {
                    m.set(Post::content, Some(format!("body{i}")))
                } else {
                    m
                }
            })
            .collect();
        bulk_update_posts(&db, posts_updates).await.unwrap();

        let after = orm::query::<Post>()
            .order_by(Post::id.asc())
            .all(&db)
            .await
            .unwrap();
        for (i, p) in after.iter().enumerate() {
            assert_eq!(p.base.id, ids[i], "[{}]", t.label);
            assert_eq!(p.title, format!("new{i}"), "[{}]", t.label);
            let content = (i % 2 == 1).then(|| format!("body{i}"));
            assert_eq!(p.content, content, "[{}]", t.label);
            let old = before.iter().find(|b| b.base.id == p.base.id).unwrap();
            assert_eq!(p.ts.created_at, old.ts.created_at, "[{}]", t.label);
            assert!(
                p.ts.updated_at >= old.ts.updated_at,
                "[{}] onupdate",
                t.label
            );
            assert_eq!(p.author_id, author, "[{}] untouched", t.label);
        }

        // Two column sets, two statement texts.
        let mut s = db.session();
        bulk_update::<Post>(vec![
            Mapping::new().set(Post::id, ids[0]).set(Post::title, "a"),
            Mapping::new()
                .set(Post::id, ids[1])
                .set(Post::content, None::<String>),
            Mapping::new().set(Post::id, ids[2]).set(Post::title, "c"),
        ])
        .execute(&mut s)
        .await
        .unwrap();
        let updates: Vec<&String> = s
            .statements()
            .iter()
            .filter(|q| q.starts_with("UPDATE"))
            .collect();
        assert_eq!(updates.len(), 2, "[{}] {updates:?}", t.label);
        s.commit().await.unwrap();
        let p1 = orm::query::<Post>()
            .filter(Post::id.eq(ids[1]))
            .one(&db)
            .await
            .unwrap();
        assert_eq!(p1.content, None, "[{}]", t.label);
        assert_eq!(p1.title, "new1", "[{}]", t.label);

        // The same columns named in another order share the statement text, and each row
        // still gets its own values.
        let mut s = db.session();
        bulk_update::<Post>(vec![
            Mapping::new().set(Post::id, ids[3]).set(Post::title, "d"),
            Mapping::new().set(Post::title, "e").set(Post::id, ids[4]),
            Mapping::new().set(Post::id, ids[5]).set(Post::title, "f"),
        ])
        .execute(&mut s)
        .await
        .unwrap();
        let updates = s
            .statements()
            .iter()
            .filter(|q| q.starts_with("UPDATE"))
            .count();
        assert_eq!(updates, 1, "[{}]", t.label);
        s.commit().await.unwrap();
        let titles: Vec<String> = orm::query::<Post>()
            .order_by(Post::id.asc())
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .skip(3)
            .map(|p| p.title)
            .collect();
        assert_eq!(titles, ["d", "e", "f"], "[{}]", t.label);
        t.finish().await;
    }
}

#[tokio::test]
async fn a_missing_row_is_stale_data_and_nothing_is_kept() {
    for t in common::all_targets("bulk_update_stale").await {
        let db = setup(&t).await;
        let ids = bulk_insert::<User>((0..2).map(user_mapping))
            .returning_keys()
            .execute(&db)
            .await
            .unwrap();
        let err = bulk_update::<User>(vec![
            Mapping::new().set(User::id, ids[0]).set(User::karma, 5),
            Mapping::new().set(User::id, 999_999).set(User::karma, 6),
        ])
        .execute(&db)
        .await
        .unwrap_err();
        assert!(
            matches!(err, Error::StaleData { matched: 0, .. }),
            "[{}] {err:?}",
            t.label
        );
        let u = orm::query::<User>()
            .filter(User::id.eq(ids[0]))
            .one(&db)
            .await
            .unwrap();
        assert_eq!(u.karma, None, "[{}] rolled back", t.label);

        // A mapping without the key says so before anything is sent.
        let err = bulk_update::<User>(vec![Mapping::new().set(User::karma, 1)])
            .execute(&db)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("primary-key"),
            "[{}] {err}",
            t.label
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn bulk_delete_by_keys() {
    for t in common::all_targets("bulk_delete").await {
        let db = setup(&t).await;
        let ids = bulk_insert::<User>((0..10).map(user_mapping))
            .returning_keys()
            .execute(&db)
            .await
            .unwrap();
        let n = bulk_delete::<User, i64>(ids[..4].iter().copied().chain([123_456]))
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(n, 4, "[{}]", t.label);
        let left: Vec<i64> = orm::query::<User>()
            .order_by(User::id.asc())
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.base.id)
            .collect();
        assert_eq!(left, ids[4..], "[{}]", t.label);
        t.finish().await;
    }
}

#[tokio::test]
async fn a_session_flushes_first_and_keeps_its_objects_consistent() {
    for t in common::all_targets("bulk_session").await {
        let db = setup(&t).await;
        let ids = bulk_insert::<User>((0..3).map(user_mapping))
            .returning_keys()
            .execute(&db)
            .await
            .unwrap();
        let mut s = db.session();
        let held = s.get::<User>(ids[0]).await.unwrap().unwrap();
        let doomed = s.get::<User>(ids[1]).await.unwrap().unwrap();
        // Pending work is flushed before the bulk write (the rows see each other).
        let pending = s.add(User {
            username: "pending".into(),
            email: "pending@example.com".into(),
            settings: serde_json::json!({}),
            ..Default::default()
        });
        bulk_update::<User>(vec![Mapping::new()
            .set(User::id, ids[0])
            .set(User::karma, 7)])
        .execute(&mut s)
        .await
        .unwrap();
        assert_eq!(s[held].karma, Some(7), "[{}] held object re-read", t.label);
        assert_eq!(
            s.state(pending),
            Some(ObjectState::Persistent),
            "[{}] flushed first",
            t.label
        );
        bulk_delete::<User, i64>([ids[1]])
            .execute(&mut s)
            .await
            .unwrap();
        assert!(s.get_ref(doomed).is_none(), "[{}] dropped", t.label);
        assert!(
            s.get::<User>(ids[1]).await.unwrap().is_none(),
            "[{}] gone",
            t.label
        );
        // Everything ran in the session's transaction: a rollback undoes it all.
        s.rollback().await.unwrap();
        assert_eq!(count(&db, "users").await, 3, "[{}]", t.label);
        let u = orm::query::<User>()
            .filter(User::id.eq(ids[0]))
            .one(&db)
            .await
            .unwrap();
        assert_eq!(u.karma, None, "[{}]", t.label);
        t.finish().await;
    }
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bulk_documents")]
struct Document {
    #[column(primary_key)]
    pub id: i64,
    pub body: String,
    #[column(version)]
    pub version: i64,
}

#[tokio::test]
async fn a_row_carrying_its_version_is_checked_and_bumped() {
    for t in common::all_targets("bulk_version").await {
        let db = t.connect().await;
        db.create_all(&Registry::new().model::<Document>().metadata())
            .await
            .unwrap();
        let ids = bulk_insert::<Document>([Mapping::new().set(Document::body, "a")])
            .returning_keys()
            .execute(&db)
            .await
            .unwrap();
        let stored = || async {
            orm::query::<Document>()
                .filter(Document::id.eq(ids[0]))
                .one(&db)
                .await
                .unwrap()
        };
        let v = stored().await.version;
        let at = |version: i64, body: &str| {
            Mapping::new()
                .set(Document::id, ids[0])
                .set(Document::body, body.to_owned())
                .set(Document::version, version)
        };
        bulk_update::<Document>([at(v, "b")])
            .execute(&db)
            .await
            .unwrap();
        let d = stored().await;
        assert_eq!((d.body.as_str(), d.version), ("b", v + 1), "[{}]", t.label);
        // The same version again: another writer got there first.
        let err = bulk_update::<Document>([at(v, "c")])
            .execute(&db)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::StaleData { matched: 0, .. }),
            "[{}] {err:?}",
            t.label
        );
        assert_eq!(stored().await.body, "b", "[{}]", t.label);
        t.finish().await;
    }
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bulk_memberships")]
struct Membership {
    #[column(primary_key)]
    user_id: i64,
    #[column(primary_key, length = 20)]
    group_name: String,
    role: String,
}

#[tokio::test]
async fn bulk_delete_by_composite_keys() {
    for t in common::all_targets("bulk_delete_composite").await {
        let db = t.connect().await;
        db.create_all(&Registry::new().model::<Membership>().metadata())
            .await
            .unwrap();
        let rows = (0..1_300i64).map(|i| Membership {
            user_id: i / 2,
            group_name: format!("g{}", i % 2),
            role: "member".into(),
        });
        bulk_insert::<Membership>(rows).execute(&db).await.unwrap();
        // 1,200 keys: three statements of at most 500; one key matches nothing.
        let keys = (0..600i64)
            .flat_map(|u| [(u, "g0".to_owned()), (u, "g1".to_owned())])
            .skip(1)
            .chain([(9_999, "g0".to_owned())]);
        let n = bulk_delete::<Membership, _>(keys)
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(n, 1_199, "[{}]", t.label);
        let left = orm::query::<Membership>()
            .order_by(Membership::user_id.asc())
            .order_by(Membership::group_name.asc())
            .all(&db)
            .await
            .unwrap();
        assert_eq!(left.len(), 101, "[{}]", t.label);
        assert_eq!((left[0].user_id, left[0].group_name.as_str()), (0, "g0"));
        assert_eq!(left[1].user_id, 600);
        // A key of the wrong size is refused before anything is sent.
        let err = bulk_delete::<Membership, _>([5i64])
            .execute(&db)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("user_id, group_name"), "{err}");
        t.finish().await;
    }
}

/// Client defaults that differ from the type's zero value, and one (`score`) whose client
/// default *is* the zero value while the server's is not: a mapping is partial by which
/// columns it names, never by the values it gives.
#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bulk_zero_values")]
struct Setting {
    #[column(primary_key)]
    id: i64,
    #[column(length = 20)]
    name: String,
    #[column(default = 7)]
    level: i32,
    #[column(default = true)]
    enabled: bool,
    #[column(length = 20, default = "anon")]
    label: String,
    #[column(default = 0, server_default = "5")]
    score: i32,
    /// Set on insert, cleared by every update: an `onupdate` whose value is the zero value.
    #[column(default = true, onupdate = false)]
    pending: bool,
}

/// `n` mappings: even rows give every defaulted column its type's zero value, odd rows name
/// none of them.
fn zero_or_missing(prefix: &str, n: usize) -> Vec<Mapping<Setting>> {
    (0..n)
        .map(|i| {
            let m = Mapping::new().set(Setting::name, format!("{prefix}{i}"));
            if i.is_multiple_of(2) {
                m.set(Setting::level, 0)
                    .set(Setting::enabled, false)
                    .set(Setting::label, String::new())
            } else {
                m
            }
        })
        .collect()
}

/// Checks the rows whose name starts with `prefix`: zero values kept, defaults for the rest.
async fn check_zero_or_missing(db: &Database, label: &str, prefix: &str, n: usize) {
    let rows = orm::query::<Setting>()
        .filter(Setting::name.like(format!("{prefix}%")))
        .all(db)
        .await
        .unwrap();
    assert_eq!(rows.len(), n, "[{label}] {prefix}");
    for r in rows {
        let i: usize = r.name[prefix.len()..].parse().unwrap();
        let expected = if i.is_multiple_of(2) {
            (0, false, "")
        } else {
            (7, true, "anon")
        };
        assert_eq!(
            (r.level, r.enabled, r.label.as_str()),
            expected,
            "[{label}] {prefix}{i}: a given zero value must be stored, a missing column defaulted"
        );
        // The client default (0) wins over the server default (5) for a column left out.
        assert_eq!(r.score, 0, "[{label}] {prefix}{i}: score");
        assert!(r.pending, "[{label}] {prefix}{i}: pending");
    }
}

#[tokio::test]
async fn a_mapping_giving_a_zero_value_is_not_a_missing_column() {
    for t in common::all_targets("bulk_zero_values").await {
        let db = t.connect().await;
        db.create_all(&Registry::new().model::<Setting>().metadata())
            .await
            .unwrap();
        // Multi-row INSERTs (small), COPY on PostgreSQL (past the threshold), a session,
        // copy_in, and the keys path.
        bulk_insert::<Setting>(zero_or_missing("small", 10))
            .execute(&db)
            .await
            .unwrap();
        check_zero_or_missing(&db, t.label, "small", 10).await;
        bulk_insert::<Setting>(zero_or_missing("large", 2_400))
            .execute(&db)
            .await
            .unwrap();
        check_zero_or_missing(&db, t.label, "large", 2_400).await;
        db.session_scope(async |s: &mut Session| {
            bulk_insert::<Setting>(zero_or_missing("session", 6))
                .execute(s)
                .await?;
            Ok::<(), Error>(())
        })
        .await
        .unwrap();
        check_zero_or_missing(&db, t.label, "session", 6).await;
        orm::copy_in::<Setting>(zero_or_missing("copy", 30))
            .execute(&db)
            .await
            .unwrap();
        check_zero_or_missing(&db, t.label, "copy", 30).await;
        let keys = bulk_insert::<Setting>(zero_or_missing("keys", 4))
            .returning_keys()
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(keys.len(), 4, "[{}]", t.label);
        check_zero_or_missing(&db, t.label, "keys", 4).await;

        // A bulk update leaving `pending` out applies its onupdate (false), and one giving
        // `level` the zero value stores it.
        let n = bulk_update::<Setting>(
            keys.iter()
                .map(|k| Mapping::new().set(Setting::id, *k).set(Setting::level, 0)),
        )
        .execute(&db)
        .await
        .unwrap();
        assert_eq!(n, 4, "[{}]", t.label);
        let updated = orm::query::<Setting>()
            .filter(Setting::name.like("keys%"))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(updated.len(), 4, "[{}]", t.label);
        for r in updated {
            assert_eq!((r.level, r.pending), (0, false), "[{}] {}", t.label, r.name);
        }
        t.finish().await;
    }
}

/// A day's reading, keyed by its date: a key SQLite and MariaDB bind as text, and the narrow
/// scalars their drivers bind as they are (SQLite's widening them itself).
#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bulk_readings")]
struct Reading {
    #[column(primary_key)]
    day: chrono::NaiveDate,
    small: i16,
    count: i32,
    ratio: f32,
    flag: bool,
}

fn day(d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2024, 3, d).unwrap()
}

#[tokio::test]
async fn narrow_scalars_and_a_date_key_round_trip_and_nan_is_refused() {
    for t in common::all_targets("bulk_narrow").await {
        let db = t.connect().await;
        db.create_all(&Registry::new().model::<Reading>().metadata())
            .await
            .unwrap();
        let rows: Vec<Reading> = (1..=3)
            .map(|d| Reading {
                day: day(d),
                small: -(d as i16),
                count: d as i32 * 1000,
                ratio: d as f32 / 4.0,
                flag: d % 2 == 1,
            })
            .collect();
        let n = bulk_insert::<Reading>(rows.clone())
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(n, 3, "[{}]", t.label);
        // Updated by the date key; the key in a StaleData error is the date as given.
        let n = bulk_update::<Reading>((1..=2).map(|d| {
            Mapping::new()
                .set(Reading::flag, true)
                .set(Reading::small, 7i16)
                .set(Reading::day, day(d))
        }))
        .execute(&db)
        .await
        .unwrap();
        assert_eq!(n, 2, "[{}]", t.label);
        let got = orm::query::<Reading>()
            .order_by(Reading::day.asc())
            .all(&db)
            .await
            .unwrap();
        let mut want = rows.clone();
        for r in &mut want[..2] {
            r.flag = true;
            r.small = 7;
        }
        assert_eq!(got, want, "[{}]", t.label);
        let err = bulk_update::<Reading>([Mapping::new()
            .set(Reading::day, day(20))
            .set(Reading::count, 1)])
        .execute(&db)
        .await
        .unwrap_err();
        match &err {
            Error::StaleData { key, matched, .. } => {
                assert_eq!(*matched, 0, "[{}]", t.label);
                assert!(key.contains("Date(2024-03-20)"), "[{}] {key}", t.label);
            }
            other => panic!("[{}] expected StaleData, got {other}", t.label),
        }
        if t.is_sqlite() {
            // NaN would read back as NULL: refused, and nothing of the call is written.
            let bad = vec![
                Reading {
                    day: day(10),
                    ..Default::default()
                },
                Reading {
                    day: day(11),
                    ratio: f32::NAN,
                    ..Default::default()
                },
            ];
            let err = bulk_insert::<Reading>(bad).execute(&db).await.unwrap_err();
            assert!(
                matches!(err, Error::UnstorableValue { .. }),
                "[{}] {err}",
                t.label
            );
            let n = orm::query::<Reading>().all(&db).await.unwrap().len();
            assert_eq!(n, 3, "[{}]", t.label);
        }
        t.finish().await;
    }
}

/// Columns ahead of the key, from a mixin: its default applies to struct rows.
#[derive(Mixin, Clone, Debug, Default, PartialEq)]
struct Revision {
    #[column(default = 3)]
    pub rev: i64,
}

/// A model whose key sits after a mixin's column and that has a computed column: struct rows
/// leave out the key when it is 0 (the database generates it) and the computed column always.
#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "bulk_priced_lines")]
struct PricedLine {
    #[model(flatten)]
    pub revision: Revision,
    #[column(primary_key)]
    pub id: i64,
    #[column(length = 20)]
    pub tag: String,
    pub price: i64,
    pub qty: i32,
    #[column(computed = "price * qty")]
    pub total: i64,
}

#[tokio::test]
async fn structs_giving_their_key_and_structs_leaving_it_out_share_a_call() {
    for t in common::all_targets("bulk_given_keys").await {
        let db = t.connect().await;
        db.create_all(&Registry::new().model::<PricedLine>().metadata())
            .await
            .unwrap();
        // 150 rows: more than one statement's worth on SQLite (64), every third giving its
        // key (1e9 - i: SQLite and MariaDB generate keys after the largest so far, which is
        // then row 0's, above every later given key), the rest leaving it to the database;
        // every 10th row sets its own revision.
        let given = |i: usize| i.is_multiple_of(3);
        let rows: Vec<PricedLine> = (0..150usize)
            .map(|i| PricedLine {
                revision: Revision {
                    rev: if i.is_multiple_of(10) { 9 } else { 0 },
                },
                id: if given(i) {
                    1_000_000_000 - i as i64
                } else {
                    0
                },
                tag: format!("line{i}"),
                price: i as i64,
                qty: 2,
                total: -1,
            })
            .collect();
        let keys = bulk_insert::<PricedLine>(rows)
            .returning_keys()
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(keys.len(), 150, "[{}]", t.label);
        for (i, k) in keys.iter().enumerate() {
            if given(i) {
                assert_eq!(
                    *k,
                    1_000_000_000 - i as i64,
                    "[{}] row {i}: its own key",
                    t.label
                );
            }
        }
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), 150, "[{}] {keys:?}", t.label);
        for (i, k) in keys.iter().enumerate() {
            let got = orm::query::<PricedLine>()
                .filter(PricedLine::id.eq(*k))
                .one(&db)
                .await
                .unwrap();
            let rev = if i.is_multiple_of(10) { 9 } else { 3 };
            assert_eq!(
                (got.revision.rev, got.tag.as_str(), got.price, got.total),
                (rev, format!("line{i}").as_str(), i as i64, 2 * i as i64),
                "[{}] row {i} by its key {k}",
                t.label
            );
        }

        // Without keys asked for: a call of only generated keys, and one mixing both.
        let n = bulk_insert::<PricedLine>((0..70).map(|i| PricedLine {
            tag: format!("more{i}"),
            price: 1,
            qty: i,
            ..Default::default()
        }))
        .execute(&db)
        .await
        .unwrap();
        assert_eq!(n, 70, "[{}]", t.label);
        let n = bulk_insert::<PricedLine>((0..5).map(|i| PricedLine {
            id: if i == 2 { 500 } else { 0 },
            tag: format!("mixed{i}"),
            price: 3,
            qty: 1,
            ..Default::default()
        }))
        .execute(&db)
        .await
        .unwrap();
        assert_eq!(n, 5, "[{}]", t.label);
        let all = orm::query::<PricedLine>().all(&db).await.unwrap();
        assert_eq!(all.len(), 225, "[{}]", t.label);
        assert!(
            all.iter()
                .all(|l| l.total == l.price * i64::from(l.qty) && l.revision.rev != 0),
            "[{}] computed totals and defaulted revisions",
            t.label
        );
        assert!(
            all.iter().any(|l| l.id == 500 && l.tag == "mixed2"),
            "[{}]",
            t.label
        );
        t.finish().await;
    }
}
