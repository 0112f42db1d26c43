//! `#[column(computed = "…")]`: a model declares a generated column; `create_all` makes it,
//! inserts and updates leave it to the database, reads return what the database computed,
//! and autogenerate finds the table equal to the model.

mod common;

use oxalchemy::migrate::diff::diff;
use oxalchemy::migrate::reflect::reflect;
use oxalchemy::orm;
use oxalchemy::prelude::*;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "mcp_lines")]
struct Line {
    #[column(primary_key)]
    id: i64,
    price: i64,
    qty: i32,
    #[column(computed = "price * qty")]
    total: i64,
}

#[test]
fn the_generated_column_is_on_the_table() {
    let t = Line::table();
    let total = t.column_named("total").unwrap();
    let computed = total.computed.as_ref().expect("computed");
    assert_eq!(
        (computed.sql.as_str(), computed.stored),
        ("price * qty", true)
    );
    assert!(t.column_named("price").unwrap().computed.is_none());
}

#[tokio::test]
async fn computed_columns_are_read_never_written() {
    for t in common::all_targets("model_computed").await {
        let db = t.connect().await;
        let mut md = MetaData::new();
        md.add(Line::table());
        db.create_all(&md).await.unwrap();

        // A value in the field is not sent: the database would refuse it.
        let mut line = Line {
            price: 7,
            qty: 3,
            total: -1,
            ..Default::default()
        };
        orm::insert(&db, &mut line).await.unwrap();
        let back = orm::query::<Line>().one(&db).await.unwrap();
        assert_eq!(
            (back.price, back.qty, back.total),
            (7, 3, 21),
            "[{}]",
            t.label
        );

        let mut back = back;
        back.qty = 10;
        back.total = 0;
        orm::update(&db, &mut back).await.unwrap();
        let again = orm::query::<Line>().one(&db).await.unwrap();
        assert_eq!(again.total, 70, "[{}]", t.label);

        // Autogenerate: the generated column compares equal to the model's.
        let mut conn = db.connection().await.unwrap();
        let current = reflect(&mut conn).await.unwrap();
        let d = diff(db.dialect(), &md, &current, &|_| true);
        assert!(d.is_empty(), "[{}] {:#?}", t.label, d.upgrade);
        assert!(d.warnings.is_empty(), "[{}] {:?}", t.label, d.warnings);
        drop(conn);
        db.close();
        t.finish().await;
    }
}
