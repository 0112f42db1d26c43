use oxalchemy::orm::Session;

#[oxalchemy::test(sqlite, mssql)]
async fn creates_users(_s: Session) {}

fn main() {}
