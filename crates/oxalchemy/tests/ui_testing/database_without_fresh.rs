use oxalchemy::Database;

#[oxalchemy::test(sqlite)]
async fn uses_the_pool(_db: Database) {}

fn main() {}
