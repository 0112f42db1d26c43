// Input:
//
// #[derive(FromRow)]
// pub struct Pair(String, Option<i64>);
//
// Expansion (`UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites it):

impl ::oxalchemy::orm::__private::FromRow for Pair {
    fn from_row(
        row: &::oxalchemy::orm::__private::Row<'_>,
    ) -> ::core::result::Result<Self, ::oxalchemy::orm::__private::Error> {
        ::core::result::Result::Ok(
            Pair(row.get::<String>(0usize)?, row.get::<Option<i64>>(1usize)?),
        )
    }
}
