// Input:
//
// #[oxalchemy::test(postgres, mysql, schema = blog::registry)]
// async fn counts_users(s: &mut Session) -> Result<(), Error> {
//     assert_eq!(s.query:: < User > ().count(). await ?, 0);
//     Ok(())
// }
//
// Expansion (`UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites it):

#[cfg_attr(not(test), allow(dead_code))]
async fn counts_users(s: &mut Session) -> Result<(), Error> {
    assert_eq!(s.query:: < User > ().count(). await ?, 0);
    Ok(())
}
#[cfg(test)]
#[doc(hidden)]
fn __oxalchemy_test_counts_users() -> ::oxalchemy::testing::TestCase {
    ::oxalchemy::testing::TestCase::new(
            ::core::concat!(::core::module_path!(), "::", "counts_users"),
        )
        .schema(blog::registry())
}
/// The test on each backend it names.
#[cfg(test)]
mod counts_users {
    #[test]
    fn postgres() {
        super::__oxalchemy_test_counts_users()
            .run(
                ::oxalchemy::testing::Backend::Postgres,
                async |__ctx| {
                    let mut __session = ::oxalchemy::orm::SessionExt::session(__ctx);
                    super::counts_users(&mut __session).await
                },
            )
    }
    #[test]
    fn mysql() {
        super::__oxalchemy_test_counts_users()
            .run(
                ::oxalchemy::testing::Backend::Mysql,
                async |__ctx| {
                    let mut __session = ::oxalchemy::orm::SessionExt::session(__ctx);
                    super::counts_users(&mut __session).await
                },
            )
    }
}
