use oxalchemy::prelude::*;

#[derive(DbType)]
pub struct Pair(String, String);

fn main() {}
