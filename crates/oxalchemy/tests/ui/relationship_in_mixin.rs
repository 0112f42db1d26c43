use oxalchemy::prelude::*;

#[derive(Model, Default)]
pub struct Tag {
    #[column(primary_key)]
    pub id: i64,
}

#[derive(Mixin, Default)]
pub struct Tagged {
    #[relationship(secondary = "item_tags")]
    pub tags: Many<Tag>,
}

fn main() {}
