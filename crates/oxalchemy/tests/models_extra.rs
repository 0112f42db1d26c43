//! Model features beyond the guide: composite keys, column-name overrides, native enums,
//! JSON through serde, nullable foreign keys.

mod common;

use oxalchemy::orm;
use oxalchemy::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
struct Prefs {
    pub theme: String,
    pub page_size: u32,
}

#[derive(DbEnum, Clone, Copy, Debug, Default, PartialEq)]
#[db_enum(name = "role_kind", native)]
enum Role {
    #[default]
    Member,
    Admin,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "groups")]
struct Group {
    #[column(primary_key)]
    pub id: i32,
    #[column(name = "group_name", length = 80)]
    pub name: String,
    #[column(json)]
    pub prefs: Prefs,
    #[column(jsonb)]
    pub extra: Option<Prefs>,
    #[column(foreign_key = "groups.id", on_delete = "set null")]
    pub parent_id: Option<i32>,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(
    table = "memberships",
    unique(name = "uq_membership_nick", columns(group_id, nick))
)]
struct Membership {
    #[column(primary_key, foreign_key = "groups.id", on_delete = "cascade")]
    pub group_id: i32,
    #[column(primary_key)]
    pub user_id: i64,
    pub role: Role,
    #[column(length = 30)]
    pub nick: String,
}

fn registry() -> Registry {
    Registry::new().model::<Group>().model::<Membership>()
}

#[tokio::test]
async fn composite_keys_renamed_columns_native_enums_and_json() {
    assert_eq!(
        Group::columns(),
        ["id", "group_name", "prefs", "extra", "parent_id"]
    );
    assert_eq!(Group::name.name(), "group_name");
    for t in common::all_targets("models_extra").await {
        let db = t.connect().await;
        let md = registry().metadata();
        db.create_all(&md).await.unwrap();

        let prefs = Prefs {
            theme: "dark".into(),
            page_size: 50,
        };
        let mut root = Group {
            name: "root".into(),
            prefs: prefs.clone(),
            ..Default::default()
        };
        orm::insert(&db, &mut root).await.unwrap();
        let mut child = Group {
            name: "child".into(),
            prefs: Prefs::default(),
            extra: Some(prefs.clone()),
            parent_id: Some(root.id),
            ..Default::default()
        };
        orm::insert(&db, &mut child).await.unwrap();
        let back = orm::query::<Group>()
            .filter(Group::name.eq("child"))
            .one(&db)
            .await
            .unwrap();
        assert_eq!(back, child, "[{}]", t.label);
        assert_eq!(back.extra, Some(prefs));

        // Composite key: both parts written even when one is 0.
        let mut m = Membership {
            group_id: root.id,
            user_id: 0,
            role: Role::Admin,
            nick: "zero".into(),
        };
        orm::insert(&db, &mut m).await.unwrap();
        assert_eq!(m.user_id, 0, "[{}]", t.label);
        let mut m2 = Membership {
            group_id: root.id,
            user_id: 7,
            role: Role::Member,
            nick: "seven".into(),
        };
        orm::insert(&db, &mut m2).await.unwrap();
        let admins = orm::query::<Membership>()
            .filter(Membership::role.eq(Role::Admin))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(admins, [m.clone()], "[{}]", t.label);
        // Same composite key again: a unique (primary key) violation.
        let err = orm::insert(&db, &mut m.clone()).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Integrity(IntegrityError::UniqueViolation { .. })
            ),
            "[{}] {err:?}",
            t.label
        );
        // Update and delete address the row by both key columns.
        m2.nick = "lucky".into();
        orm::update(&db, &mut m2).await.unwrap();
        orm::delete(&db, &m).await.unwrap();
        let left = orm::query::<Membership>().all(&db).await.unwrap();
        assert_eq!(left, [m2.clone()], "[{}]", t.label);

        if t.is_postgres() {
            // The enum is a real PostgreSQL type.
            let ty: String = db
                .query_scalar(text(
                    "SELECT t.typtype::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                     WHERE t.typname = 'role_kind' AND n.nspname = current_schema()",
                ))
                .await
                .unwrap();
            assert_eq!(ty, "e");
        }
        // ON DELETE SET NULL from the model's foreign key.
        orm::delete(&db, &root).await.unwrap();
        let orphan = orm::query::<Group>().one(&db).await.unwrap();
        assert_eq!(orphan.parent_id, None, "[{}]", t.label);
        t.finish().await;
    }
}
