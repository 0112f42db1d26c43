//! Model-level column queries and rows of several models (issue 12, item 3), on SQLite
//! (memory and file) and PostgreSQL: the guide's `get_posts_count_by_author` without Core,
//! `(User, Option<Post>)` from an outer join, `(Post, User)` from an inner one.

mod blog;
mod common;

use blog::*;
use oxalchemy::prelude::*;

async fn setup(t: &common::Target) -> Database {
    let db = t.connect().await;
    three_authors(&db).await;
    db
}

/// The guide's query, written with the models only.
async fn get_posts_count_by_author(s: &mut Session) -> Result<Vec<(String, i64)>, Error> {
    s.query_columns((User::username, func::count(Post::id).label("post_count")))
        .join_related(User::posts)?
        .group_by(User::username)
        .order_by(User::username.asc())
        .all()
        .await
}

#[tokio::test]
async fn column_queries_and_rows_of_several_models() {
    for t in common::all_targets("uow_rows").await {
        let db = setup(&t).await;
        let mut s = db.session();

        assert_eq!(
            get_posts_count_by_author(&mut s).await.unwrap(),
            [("ann".to_owned(), 2), ("cyd".to_owned(), 1)],
            "[{}]",
            t.label
        );

        // Users without posts are kept, with None.
        let rows = s
            .query_models::<(User, Option<Post>)>()
            .outerjoin_related(User::posts)
            .unwrap()
            .order_by(User::username.asc())
            .order_by(Post::title.asc())
            .all()
            .await
            .unwrap();
        let shape: Vec<(String, Option<String>)> = rows
            .iter()
            .map(|(u, p)| (u.username.clone(), p.as_ref().map(|p| p.title.clone())))
            .collect();
        assert_eq!(
            shape,
            [
                ("ann".to_owned(), Some("a1".to_owned())),
                ("ann".to_owned(), Some("a2".to_owned())),
                ("bob".to_owned(), None),
                ("cyd".to_owned(), Some("c1".to_owned())),
            ],
            "[{}]",
            t.label
        );
        // Each model is whole: keys, foreign keys and mixin columns decoded.
        for (u, p) in &rows {
            assert!(u.base.id > 0);
            if let Some(p) = p {
                assert_eq!(p.author_id, u.base.id, "[{}]", t.label);
                assert!(p.ts.created_at.timestamp() > 0);
            }
        }

        let rows = s
            .query_models::<(Post, User)>()
            .join_related(Post::author)
            .unwrap()
            .filter(User::username.eq("cyd"))
            .all()
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "[{}]", t.label);
        assert_eq!(rows[0].0.title, "c1");
        assert_eq!(rows[0].1.username, "cyd");
        assert_eq!(rows[0].0.author_id, rows[0].1.base.id);

        // Rows are owned values: the session holds none of them.
        assert!(s.is_empty(), "[{}]", t.label);
        s.close().await.unwrap();
        db.close();
        t.finish().await;
    }
}

/// Columns without a key, flattened first into [`Stamped`].
#[derive(Mixin, Clone, Debug, Default, PartialEq)]
struct Stamp {
    pub stamp: i64,
}

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "ro_owners")]
struct Owner {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
    #[relationship(back_populates = "owner")]
    pub notes: Many<Late>,
    #[relationship(back_populates = "owner")]
    pub stamped: Many<Stamped>,
}

/// The key is not the first column, and the first column is nullable.
#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "ro_late")]
struct Late {
    pub note: Option<String>,
    #[column(primary_key)]
    pub id: i64,
    #[column(foreign_key = "ro_owners.id")]
    pub owner_id: i64,
    #[relationship(back_populates = "notes")]
    pub owner: One<Owner>,
}

/// The first field is a mixin without the key.
#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "ro_stamped")]
struct Stamped {
    #[model(flatten)]
    pub stamp: Stamp,
    #[column(primary_key)]
    pub id: i64,
    #[column(foreign_key = "ro_owners.id")]
    pub owner_id: i64,
    #[relationship(back_populates = "stamped")]
    pub owner: One<Owner>,
}

/// An outer-joined model is `None` exactly when its key is NULL, wherever the key sits:
/// after a nullable column that is NULL in a present row, or after a mixin without a key.
#[tokio::test]
async fn outer_joined_models_are_absent_by_their_key_wherever_it_sits() {
    for t in common::all_targets("ro_key_at").await {
        let db = t.connect().await;
        let md = Registry::new()
            .model::<Owner>()
            .model::<Late>()
            .model::<Stamped>()
            .metadata();
        db.create_all(&md).await.unwrap();
        let mut s = db.session();
        let ann = s.add(Owner {
            name: "ann".into(),
            ..Default::default()
        });
        s.add(Owner {
            name: "bob".into(),
            ..Default::default()
        });
        for note in [None, Some("kept")] {
            let late = s.add(Late {
                note: note.map(str::to_owned),
                ..Default::default()
            });
            s.link(late, Late::owner, ann).unwrap();
        }
        let stamped = s.add(Stamped {
            stamp: Stamp { stamp: 7 },
            ..Default::default()
        });
        s.link(stamped, Stamped::owner, ann).unwrap();
        s.commit().await.unwrap();

        let rows = s
            .query_models::<(Owner, Option<Late>)>()
            .outerjoin_related(Owner::notes)
            .unwrap()
            .order_by(Owner::name.asc())
            .order_by(Late::id.asc())
            .all()
            .await
            .unwrap();
        let shape: Vec<_> = rows
            .iter()
            .map(|(o, l)| (o.name.as_str(), l.as_ref().map(|l| l.note.as_deref())))
            .collect();
        assert_eq!(
            shape,
            [
                ("ann", Some(None)),
                ("ann", Some(Some("kept"))),
                ("bob", None)
            ],
            "[{}]",
            t.label
        );

        let rows = s
            .query_models::<(Owner, Option<Stamped>)>()
            .outerjoin_related(Owner::stamped)
            .unwrap()
            .order_by(Owner::name.asc())
            .all()
            .await
            .unwrap();
        let shape: Vec<_> = rows
            .iter()
            .map(|(o, st)| (o.name.as_str(), st.as_ref().map(|st| st.stamp.stamp)))
            .collect();
        assert_eq!(shape, [("ann", Some(7)), ("bob", None)], "[{}]", t.label);
        s.close().await.unwrap();
        db.drop_all(&md).await.unwrap();
        t.finish().await;
    }
}
