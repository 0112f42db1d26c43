// Input:
//
// #[oxalchemy::test(sqlite_file, fresh, migrations = migrations::ALL)]
// async fn runs_sql(conn: &mut Connection) -> Result<(), Error> {
//     conn.execute(text("DELETE FROM users")).await?;
//     Ok(())
// }
//
// Expansion (`UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites it):

#[cfg_attr(not(test), allow(dead_code))]
async fn runs_sql(conn: &mut Connection) -> Result<(), Error> {
    conn.execute(text("DELETE FROM users")).await?;
    Ok(())
}
#[cfg(test)]
#[doc(hidden)]
fn __oxalchemy_test_runs_sql() -> ::oxalchemy::testing::TestCase {
    ::oxalchemy::testing::TestCase::new(
            ::core::concat!(::core::module_path!(), "::", "runs_sql"),
        )
        .fresh()
        .migrations(migrations::ALL)
}
/// The test on each backend it names.
#[cfg(test)]
mod runs_sql {
    #[test]
    fn sqlite_file() {
        super::__oxalchemy_test_runs_sql()
            .run(
                ::oxalchemy::testing::Backend::SqliteFile,
                async |__ctx| {
                    let mut __conn = ::oxalchemy::testing::__private::connection(__ctx)
                        .await;
                    super::runs_sql(&mut __conn).await
                },
            )
    }
}
