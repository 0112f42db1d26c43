//! Declarative models on SQLite and PostgreSQL: the guide's User/Post/Tag/post_tags,
//! create_all, typed columns, plain model queries, persistence, validators.

mod blog;
mod common;

use blog::*;
use oxalchemy::orm::{self, RelationshipKind};
use oxalchemy::prelude::*;

fn user(name: &str) -> User {
    User {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        settings: serde_json::json!({"theme": "dark"}),
        ..Default::default()
    }
}

#[test]
fn metadata_lists_columns_mixins_first_and_relationships() {
    assert_eq!(User::TABLE, "users");
    assert_eq!(
        User::columns(),
        [
            "id",
            "created_at",
            "updated_at",
            "username",
            "email",
            "settings",
            "status",
            "karma"
        ]
    );
    let posts = &User::relationships()[0];
    assert_eq!(
        (posts.name, posts.kind, posts.target, posts.back_populates),
        (
            "posts",
            RelationshipKind::OneToMany,
            "posts",
            Some("author")
        )
    );
    let rels: Vec<_> = Post::relationships()
        .iter()
        .map(|r| (r.name, r.kind, r.target, r.secondary))
        .collect();
    assert_eq!(
        rels,
        [
            ("author", RelationshipKind::ManyToOne, "users", None),
            (
                "tags",
                RelationshipKind::ManyToMany,
                "tags",
                Some("post_tags")
            ),
        ]
    );
    registry().check().unwrap();
    // A relationship to an unregistered model is reported.
    let err = Registry::new().model::<Post>().check().unwrap_err();
    assert!(err.to_string().contains("users"), "{err}");

    let md = registry().metadata();
    let names: Vec<_> = md
        .sorted_tables()
        .unwrap()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(names, ["users", "posts", "tags", "post_tags"]);
    let users = md.table("users").unwrap();
    let id = users.column_named("id").unwrap();
    assert!(id.primary_key && id.autoincrement && !id.nullable);
    assert!(users.column_named("karma").unwrap().nullable);
    assert!(!users.column_named("username").unwrap().nullable);
}

/// Stamps without a key, flattened before a model's own key.
#[derive(Mixin, Clone, Debug, Default, PartialEq)]
struct LayoutStamps {
    pub created: i64,
    pub updated: i64,
}

/// A composite key after a mixin and a plain column: the first key column is the 4th.
#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "layout_late_key")]
struct LateKey {
    #[model(flatten)]
    pub stamps: LayoutStamps,
    pub note: String,
    #[column(primary_key)]
    pub code: String,
    #[column(primary_key)]
    pub n: i64,
}

/// The derive's compile-time layout (how rows of several models find an outer-joined
/// model's key and skip its columns) agrees with the column lists built at run time.
fn layout_agrees<M: Model>(columns: usize, first_key: usize) {
    let layout = <M as orm::Fields>::LAYOUT;
    assert_eq!(layout.columns, M::columns().len(), "{}", M::NAME);
    let key = M::primary_key_columns()[0];
    let at = M::columns().iter().position(|c| *c == key);
    assert_eq!(layout.first_key, at, "{}", M::NAME);
    assert_eq!(
        (layout.columns, layout.first_key),
        (columns, Some(first_key))
    );
}

#[test]
fn the_compile_time_layout_matches_the_columns() {
    layout_agrees::<User>(8, 0);
    layout_agrees::<Post>(Post::columns().len(), 0);
    layout_agrees::<LateKey>(5, 3);
    assert_eq!(<LayoutStamps as orm::Fields>::LAYOUT.first_key, None);
    assert_eq!(<LayoutStamps as orm::Fields>::LAYOUT.columns, 2);
}

#[test]
fn typed_columns_compile_to_qualified_sql() {
    let q = orm::query::<User>()
        .filter(or_([
            User::username.ilike("%a%"),
            User::email.contains("100%"),
        ]))
        .filter(User::karma.eq(None::<i32>))
        .filter(User::status.eq(Status::Active))
        .order_by(User::created_at.desc())
        .limit(5);
    let c = oxalchemy::core::compile(&oxalchemy::core::Postgres, &q.statement().into()).unwrap();
    assert!(
        c.sql
            .starts_with(r#"SELECT "users"."id", "users"."created_at""#),
        "{}",
        c.sql
    );
    assert!(
        c.sql.contains(r#""users"."username" ILIKE $1"#),
        "{}",
        c.sql
    );
    assert!(c.sql.contains(r#""users"."karma" IS NULL"#), "{}", c.sql);
    assert!(
        c.sql.contains(r#"ORDER BY "users"."created_at" DESC"#),
        "{}",
        c.sql
    );
    // Columns compare across models when their Rust types agree.
    let join_cond = Post::author_id.eq(User::id);
    let c = oxalchemy::core::compile(
        &oxalchemy::core::Sqlite,
        &select([func::count_star()])
            .from(table("posts"))
            .filter(join_cond)
            .into(),
    )
    .unwrap();
    assert!(
        c.sql.contains(r#""posts"."author_id" = "users"."id""#),
        "{}",
        c.sql
    );
}

#[tokio::test]
async fn create_insert_query_update_delete_on_both_databases() {
    for t in common::all_targets("models_crud").await {
        let db = t.connect().await;
        let md = registry().metadata();
        db.create_all(&md).await.unwrap();
        db.create_all(&md).await.unwrap(); // existing tables are skipped

        let mut ann = user("ann");
        orm::insert(&db, &mut ann)
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", t.label));
        assert!(ann.base.id > 0, "[{}] id generated and read back", t.label);
        assert!(
            ann.ts.created_at.timestamp() > 1_700_000_000,
            "default applied"
        );
        assert!(ann.ts.updated_at >= ann.ts.created_at);
        assert_eq!(ann.status, Status::Active);

        let mut others = vec![user("bob"), user("cyd"), user("dee")];
        let mut conn = db.connection().await.unwrap();
        orm::insert_many(&mut conn, &mut others).await.unwrap();
        drop(conn);
        let ids: Vec<i64> = others.iter().map(|u| u.base.id).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "[{}] {ids:?}", t.label);

        let mut post = Post {
            title: "Hello".into(),
            content: Some("100% real_content".into()),
            author_id: ann.base.id,
            ..Default::default()
        };
        orm::insert(&db, &mut post).await.unwrap();

        // Plain reads: Vec<User> straight from rows.
        let all = orm::query::<User>()
            .order_by(User::id.asc())
            .all(&db)
            .await
            .unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(
            all[0], ann,
            "[{}] the stored row equals the inserted object",
            t.label
        );
        assert!(
            !all[0].posts.is_loaded(),
            "relationships are never loaded implicitly"
        );
        let found = orm::query::<User>()
            .filter(or_([
                User::username.ilike("%YD%"),
                User::email.ilike("%DEE@%"),
            ]))
            .order_by(User::username.desc())
            .all(&db)
            .await
            .unwrap();
        let names: Vec<&str> = found.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["dee", "cyd"], "[{}]", t.label);
        let first = orm::query::<User>()
            .filter(User::username.in_(["bob", "cyd"]))
            .order_by(User::id.asc())
            .first(&db)
            .await
            .unwrap();
        assert_eq!(first.map(|u| u.username), Some("bob".to_owned()));
        assert!(
            orm::query::<User>()
                .filter(User::username.eq("zed"))
                .first(&db)
                .await
                .unwrap()
                .is_none(),
            "[{}] first() of no rows is None",
            t.label
        );
        // LIMIT 2: `.one()` reads two rows of the several that match, and counts them.
        assert!(matches!(
            orm::query::<User>().one(&db).await,
            Err(Error::MultipleResults { count: 2 })
        ));
        assert!(orm::query::<User>()
            .filter(User::username.eq("zed"))
            .one_or_none(&db)
            .await
            .unwrap()
            .is_none());
        assert!(matches!(
            orm::query::<User>()
                .filter(User::username.eq("zed"))
                .one(&db)
                .await,
            Err(Error::NotFound)
        ));
        let n = orm::query::<User>()
            .filter(User::karma.is_null())
            .count(&db)
            .await
            .unwrap();
        assert_eq!(n, 4);
        let posts = orm::query::<Post>()
            .filter(Post::content.contains("100% real_"))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].author_id, ann.base.id);

        // Update: onupdate applied, only this row changed.
        let before = ann.ts.updated_at;
        std::thread::sleep(std::time::Duration::from_millis(5));
        ann.karma = Some(7);
        ann.status = Status::Suspended;
        orm::update(&db, &mut ann).await.unwrap();
        assert!(ann.ts.updated_at > before, "[{}] onupdate", t.label);
        let again = orm::query::<User>()
            .filter(User::id.eq(ann.base.id))
            .one(&db)
            .await
            .unwrap();
        assert_eq!(again, ann);
        assert_eq!(again.status, Status::Suspended);

        // Delete cascades to posts (ON DELETE CASCADE declared on the model).
        orm::delete(&db, &ann).await.unwrap();
        assert!(matches!(orm::delete(&db, &ann).await, Err(Error::NotFound)));
        assert_eq!(
            orm::query::<Post>().count(&db).await.unwrap(),
            0,
            "[{}]",
            t.label
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn validators_reject_bad_input_and_nothing_is_written() {
    for t in common::all_targets("models_validation").await {
        let db = t.connect().await;
        db.create_all(&registry().metadata()).await.unwrap();

        let mut blank = user("   ");
        blank.email = "blank@example.com".into();
        let err = orm::insert(&db, &mut blank).await.unwrap_err();
        match &err {
            Error::Validation(v) => {
                assert_eq!((v.model, v.field), ("User", Some("username")));
                assert!(v.message.contains("blank"));
            }
            other => panic!("[{}] expected Validation, got {other:?}", t.label),
        }
        assert_eq!(
            err.to_string(),
            "invalid User.username: must not be blank; nothing was written"
        );

        let mut bad_email = user("eve");
        bad_email.email = "nope".into();
        let err = orm::insert(&db, &mut bad_email).await.unwrap_err();
        assert!(
            matches!(&err, Error::Validation(v) if v.field == Some("email")),
            "{err}"
        );

        // The whole-object validator.
        let mut negative = user("neg");
        negative.karma = Some(-1);
        let err = orm::insert(&db, &mut negative).await.unwrap_err();
        assert!(
            matches!(&err, Error::Validation(v) if v.field.is_none()),
            "{err}"
        );

        // One bad object in a batch: nothing of the batch is written.
        let mut batch = vec![user("ok1"), user(""), user("ok2")];
        let mut conn = db.connection().await.unwrap();
        assert!(matches!(
            orm::insert_many(&mut conn, &mut batch).await,
            Err(Error::Validation(_))
        ));
        drop(conn);
        assert_eq!(
            orm::query::<User>().count(&db).await.unwrap(),
            0,
            "[{}]",
            t.label
        );

        // Validators run before UPDATE too.
        let mut ok = user("fine");
        orm::insert(&db, &mut ok).await.unwrap();
        ok.username = String::new();
        assert!(matches!(
            orm::update(&db, &mut ok).await,
            Err(Error::Validation(_))
        ));
        let stored = orm::query::<User>().one(&db).await.unwrap();
        assert_eq!(stored.username, "fine", "[{}]", t.label);

        // A database constraint (unique username) is still a typed integrity error.
        let mut dup = user("fine");
        dup.email = "other@example.com".into();
        let err = orm::insert(&db, &mut dup).await.unwrap_err();
        assert!(
            matches!(&err, Error::Integrity(i) if i.constraint() == Some("uq_users_username")),
            "[{}] {err:?}",
            t.label
        );
        t.finish().await;
    }
}
