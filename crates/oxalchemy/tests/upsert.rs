//! Model-level upsert (`orm::upsert::<M>(rows).on_conflict(…).update(…)`): insert-or-update
//! with RETURNING, DO NOTHING, WHERE on the update, expressions over the existing and the
//! proposed row, a constraint named by its name, sessions kept consistent. Every case runs
//! on SQLite (memory, file) and PostgreSQL.

mod common;

use oxalchemy::orm::{self, upsert, Mapping};
use oxalchemy::prelude::*;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "upsert_users")]
struct Member {
    #[column(primary_key)]
    id: i64,
    #[column(unique, length = 100)]
    email: String,
    name: String,
    karma: i32,
    #[column(default = "new")]
    status: String,
}

fn member(email: &str, name: &str, karma: i32) -> Member {
    Member {
        email: email.into(),
        name: name.into(),
        karma,
        ..Default::default()
    }
}

async fn setup(t: &common::Target) -> Database {
    let db = t.connect().await;
    db.create_all(&Registry::new().model::<Member>().metadata())
        .await
        .unwrap();
    orm::insert_many(
        &mut db.connection().await.unwrap(),
        &mut [
            member("ann@x.org", "Ann", 10),
            member("bob@x.org", "Bob", 200),
        ],
    )
    .await
    .unwrap();
    db
}

async fn members(db: &Database) -> Vec<Member> {
    orm::query::<Member>()
        .order_by(Member::email.asc())
        .all(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn insert_or_update_returns_the_rows_written() {
    for t in common::all_targets("upsert_returning").await {
        let db = setup(&t).await;
        let before = members(&db).await;
        let mut written = upsert::<Member>([
            member("ann@x.org", "Ann B.", 11),
            member("cat@x.org", "Cat", 3),
        ])
        .on_conflict(Member::email)
        .update((Member::name, Member::karma))
        .returning(&db)
        .await
        .unwrap();
        written.sort_by(|a, b| a.email.cmp(&b.email));
        assert_eq!(written.len(), 2, "[{}]", t.label);
        // Ann kept her key and status, and took the proposed name and karma.
        assert_eq!(written[0].id, before[0].id, "[{}]", t.label);
        assert_eq!(
            (
                written[0].name.as_str(),
                written[0].karma,
                written[0].status.as_str()
            ),
            ("Ann B.", 11, "new")
        );
        assert_eq!(written[1].email, "cat@x.org");
        assert_eq!(members(&db).await.len(), 3);
        assert_eq!(
            written,
            members(&db)
                .await
                .into_iter()
                .filter(|m| m.email != "bob@x.org")
                .collect::<Vec<_>>()
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn do_nothing_skips_conflicts_and_returns_only_inserted_rows() {
    for t in common::all_targets("upsert_nothing").await {
        let db = setup(&t).await;
        let rows = [
            Mapping::<Member>::new()
                .set(Member::email, "bob@x.org")
                .set(Member::name, "Robert")
                .set(Member::karma, 0),
            Mapping::new()
                .set(Member::email, "dan@x.org")
                .set(Member::name, "Dan")
                .set(Member::karma, 1),
        ];
        let written = upsert::<Member>(rows.clone())
            .on_conflict(Member::email)
            .do_nothing()
            .returning(&db)
            .await;
        if t.is_mysql() {
            // MySQL's DO NOTHING is `ON DUPLICATE KEY UPDATE c = c`, whose RETURNING would
            // return the skipped rows too: a typed error saying so, and nothing written.
            let err = written.unwrap_err();
            assert!(
                matches!(err, Error::Compile(_)) && err.to_string().contains("skipped rows"),
                "[{}] {err}",
                t.label
            );
            assert_eq!(members(&db).await.len(), 2, "[{}]", t.label);
            let n = upsert::<Member>(rows.clone())
                .on_conflict(Member::email)
                .do_nothing()
                .execute(&db)
                .await
                .unwrap();
            // The count includes the skipped row (CLIENT_FOUND_ROWS counts rows found).
            assert_eq!(n, 2, "[{}]", t.label);
        } else {
            let written = written.unwrap();
            assert_eq!(written.len(), 1, "[{}]", t.label);
            assert_eq!(
                (written[0].email.as_str(), written[0].status.as_str()),
                ("dan@x.org", "new")
            );
        }
        let dan: Vec<Member> = members(&db).await;
        assert_eq!(
            (dan[2].email.as_str(), dan[2].status.as_str()),
            ("dan@x.org", "new"),
            "[{}]",
            t.label
        );
        // With no target: a conflict on any unique constraint is skipped.
        let n = upsert::<Member>(rows)
            .do_nothing()
            .execute(&db)
            .await
            .unwrap();
        // Nothing inserted; MySQL counts the two rows found (CLIENT_FOUND_ROWS).
        assert_eq!(n, if t.is_mysql() { 2 } else { 0 }, "[{}]", t.label);
        assert_eq!(members(&db).await[1].name, "Bob");
        assert_eq!(members(&db).await.len(), 3, "[{}]", t.label);
        t.finish().await;
    }
}

#[tokio::test]
async fn where_and_expressions_over_both_rows() {
    for t in common::all_targets("upsert_where").await {
        let db = setup(&t).await;
        // Add the proposed karma to the existing one, only where the existing is under 100.
        let result = upsert::<Member>([member("ann@x.org", "x", 5), member("bob@x.org", "y", 5)])
            .on_conflict(Member::email)
            .set(Member::karma, Member::karma.expr() + excluded("karma"))
            .where_(Member::karma.lt(100))
            .execute(&db)
            .await;
        if t.is_mysql() {
            // ON DUPLICATE KEY UPDATE has no WHERE: a typed error naming the way round (IF()
            // in the assignments), and nothing written.
            let err = result.unwrap_err();
            assert!(
                matches!(err, Error::Compile(_)) && err.to_string().contains("IF()"),
                "[{}] {err}",
                t.label
            );
            assert_eq!(members(&db).await[0].karma, 10, "[{}]", t.label);
            t.finish().await;
            continue;
        }
        let n = result.unwrap();
        assert_eq!(n, 1, "[{}]", t.label);
        let all = members(&db).await;
        assert_eq!(
            (all[0].karma, all[0].name.as_str()),
            (15, "Ann"),
            "[{}]",
            t.label
        );
        assert_eq!(all[1].karma, 200, "[{}]", t.label);
        t.finish().await;
    }
}

#[tokio::test]
async fn a_constraint_by_name_on_postgresql_and_a_clear_error_on_sqlite() {
    // On MariaDB as on SQLite: ON DUPLICATE KEY UPDATE has no conflict target, so a
    // constraint's name is refused (naming the columns instead).
    for t in common::all_targets("upsert_constraint").await {
        let db = setup(&t).await;
        let call = || {
            upsert::<Member>([member("ann@x.org", "Ann C.", 1)])
                .on_constraint(db_constraint_name())
                .update(Member::name)
        };
        if t.is_postgres() {
            let name: Vec<(String,)> = db
                .query(text(
                    "SELECT conname::text FROM pg_constraint \
                     WHERE conrelid = 'upsert_users'::regclass AND contype = 'u'",
                ))
                .await
                .unwrap();
            assert_eq!(name[0].0, db_constraint_name(), "[{}]", t.label);
            assert_eq!(call().execute(&db).await.unwrap(), 1);
            assert_eq!(members(&db).await[0].name, "Ann C.");
        } else {
            let err = call().execute(&db).await.unwrap_err().to_string();
            assert!(err.contains("ON CONSTRAINT"), "[{}] {err}", t.label);
            assert!(err.contains("columns"), "[{}] {err}", t.label);
        }
        t.finish().await;
    }
}

/// The name the default naming convention gives the unique constraint on `email`.
fn db_constraint_name() -> &'static str {
    "uq_upsert_users_email"
}

#[tokio::test]
async fn a_session_flushes_first_and_rereads_the_objects_it_holds() {
    for t in common::all_targets("upsert_session").await {
        let db = setup(&t).await;
        let mut s = db.session();
        let ann = s
            .query::<Member>()
            .filter(Member::email.eq("ann@x.org"))
            .one()
            .await
            .unwrap();
        s.add(member("eve@x.org", "Eve", 7));
        upsert::<Member>([
            member("ann@x.org", "Ann D.", 42),
            member("eve@x.org", "Eve B.", 8),
        ])
        .on_conflict(Member::email)
        .update((Member::name, Member::karma))
        .execute(&mut s)
        .await
        .unwrap();
        assert_eq!(s.get_ref(ann).unwrap().name, "Ann D.", "[{}]", t.label);
        assert_eq!(s.get_ref(ann).unwrap().karma, 42, "[{}]", t.label);
        s.commit().await.unwrap();
        let all = members(&db).await;
        assert_eq!(all.len(), 3);
        assert_eq!((all[2].name.as_str(), all[2].karma), ("Eve B.", 8));
        t.finish().await;
    }
}

#[tokio::test]
async fn saying_nothing_about_conflicts_is_a_mapping_error() {
    for t in common::all_targets("upsert_unset").await {
        let db = setup(&t).await;
        let err = upsert::<Member>([member("z@x.org", "Z", 0)])
            .on_conflict(Member::email)
            .execute(&db)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Mapping { .. }),
            "[{}] {err:?}",
            t.label
        );
        assert!(err.to_string().contains("do_nothing"), "{err}");
        let err = upsert::<Member>([member("z@x.org", "Z", 0)])
            .update(Member::name)
            .execute(&db)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("on_conflict"), "{err}");
        assert_eq!(members(&db).await.len(), 2);
        t.finish().await;
    }
}
