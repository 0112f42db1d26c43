//! `#[column(comment = "…", collation = "…")]` reach the model's table, so `create_all`
//! and autogenerate see them.

use oxalchemy::prelude::*;

#[derive(Model, Clone, Debug, Default, PartialEq)]
#[model(table = "mc_notes")]
struct Note {
    #[column(primary_key)]
    id: i64,
    #[column(comment = "what the note says", collation = "C")]
    body: String,
}

#[test]
fn comment_and_collation_are_on_the_column() {
    let t = Note::table();
    let body = t.column_named("body").unwrap();
    assert_eq!(body.comment.as_deref(), Some("what the note says"));
    assert_eq!(body.collation.as_deref(), Some("C"));
    let id = t.column_named("id").unwrap();
    assert_eq!(
        (id.comment.as_deref(), id.collation.as_deref()),
        (None, None)
    );
}
