use oxalchemy::Connection;

#[oxalchemy::test(sqlite)]
async fn runs_sql(_conn: Connection) {}

fn main() {}
