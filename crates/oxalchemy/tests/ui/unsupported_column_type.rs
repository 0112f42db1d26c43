use oxalchemy::prelude::*;

#[derive(Default)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[derive(Model, Default)]
pub struct Place {
    #[column(primary_key)]
    pub id: i64,
    pub location: Point,
}

fn main() {}
