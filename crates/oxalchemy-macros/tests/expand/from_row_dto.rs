// Input:
//
// #[derive(FromRow)]
// pub struct PostCount {
//     pub username: String,
//     #[from_row(rename = "n")]
//     pub posts: i64,
//     #[from_row(json)]
//     pub tags: Vec<String>,
// }
//
// Expansion (`UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites it):

impl ::oxalchemy::orm::__private::FromRow for PostCount {
    fn from_row(
        row: &::oxalchemy::orm::__private::Row<'_>,
    ) -> ::core::result::Result<Self, ::oxalchemy::orm::__private::Error> {
        ::core::result::Result::Ok(PostCount {
            username: row.get_named::<String>("username")?,
            posts: row.get_named::<i64>("n")?,
            tags: ::oxalchemy::orm::__private::json_get_named::<
                Vec<String>,
            >(row, "tags")?,
        })
    }
}
