// Input:
//
// #[derive(Model)]
// pub struct GroupMember {
//     #[column(primary_key, foreign_key = "groups.id")]
//     pub group_id: i64,
//     #[column(primary_key, autoincrement = false)]
//     pub user_id: i64,
// }
//
// Expansion (`UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites it):

impl ::oxalchemy::orm::Fields for GroupMember {
    const HAS_PRIMARY_KEY: bool = true;
    const HAS_DEFAULTS: bool = false;
    const LAYOUT: ::oxalchemy::orm::__private::Layout = {
        let mut at = 0usize;
        let mut first_key: ::core::option::Option<usize> = ::core::option::Option::None;
        if first_key.is_none() {
            first_key = ::core::option::Option::Some(at);
        }
        at += 1;
        if first_key.is_none() {
            first_key = ::core::option::Option::Some(at);
        }
        at += 1;
        ::oxalchemy::orm::__private::Layout {
            columns: at,
            first_key,
        }
    };
    fn describe(out: &mut ::std::vec::Vec<::oxalchemy::orm::__private::Column>) {
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                i64,
            >("group_id", ::core::option::Option::None)
                .primary_key()
                .references("groups", "id"),
        );
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                i64,
            >("user_id", ::core::option::Option::None)
                .primary_key()
                .autoincrement(false),
        );
    }
    fn column_names(out: &mut ::std::vec::Vec<&'static str>) {
        out.push("group_id");
        out.push("user_id");
    }
    fn read(
        row: &::oxalchemy::orm::__private::Row<'_>,
        idx: &mut usize,
    ) -> ::core::result::Result<Self, ::oxalchemy::orm::__private::Error> {
        let group_id = match row.decode::<i64>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i64>(*idx, e));
            }
        };
        *idx += 1;
        let user_id = match row.decode::<i64>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i64>(*idx, e));
            }
        };
        *idx += 1;
        ::core::result::Result::Ok(Self { group_id, user_id })
    }
    fn read_present(
        row: &::oxalchemy::orm::__private::Row<'_>,
        idx: &mut usize,
    ) -> ::core::result::Result<
        ::core::option::Option<Self>,
        ::oxalchemy::orm::__private::Error,
    > {
        let start = *idx;
        let group_id = match row.decode::<::core::option::Option<i64>>(*idx) {
            ::core::result::Result::Ok(::core::option::Option::Some(v)) => v,
            ::core::result::Result::Ok(::core::option::Option::None) => {
                *idx = start + <Self as ::oxalchemy::orm::Fields>::LAYOUT.columns;
                return ::core::result::Result::Ok(::core::option::Option::None);
            }
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(
                    row.decode_error::<::core::option::Option<i64>>(*idx, e),
                );
            }
        };
        *idx += 1;
        let user_id = match row.decode::<i64>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i64>(*idx, e));
            }
        };
        *idx += 1;
        ::core::result::Result::Ok(
            ::core::option::Option::Some(Self { group_id, user_id }),
        )
    }
    fn insert_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        out.push((
            "group_id",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.group_id),
        ));
        out.push((
            "user_id",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.user_id),
        ));
    }
    #[allow(unused_mut, reason = "a struct without a key to leave out marks nothing")]
    fn take_insert_row(
        &mut self,
        out: &mut ::std::vec::Vec<::oxalchemy::orm::__private::Value>,
    ) -> u64 {
        let mut omitted = 0u64;
        out.push(::oxalchemy::orm::__private::ToValue::to_value(&self.group_id));
        out.push(::oxalchemy::orm::__private::ToValue::to_value(&self.user_id));
        omitted
    }
    fn update_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {}
    fn primary_key_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        out.push((
            "group_id",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.group_id),
        ));
        out.push((
            "user_id",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.user_id),
        ));
    }
    fn apply_defaults(&mut self) {}
    fn apply_onupdate(&mut self) {}
    fn validate_fields(
        &self,
        model: &'static str,
    ) -> ::core::result::Result<(), ::oxalchemy::orm::__private::ValidationError> {
        let _ = model;
        ::core::result::Result::Ok(())
    }
    #[allow(unreachable_code, reason = "a version column returns early")]
    fn version(&self) -> ::core::option::Option<(&'static str, i64)> {
        ::core::option::Option::None
    }
    fn set_version(&mut self, version: i64) {
        let _ = version;
    }
    #[allow(unreachable_code, reason = "a generated key returns early")]
    fn generated_key_column() -> ::core::option::Option<&'static str> {
        ::core::option::Option::None
    }
    fn set_generated_key(&mut self, key: i64) {
        let _ = key;
    }
    fn set_integer_column(&mut self, column: &str, key: i64) -> bool {
        let _ = (column, key);
        if column == "group_id" {
            if let ::core::result::Result::Ok(v) = ::oxalchemy::orm::__private::key_from_i64::<
                i64,
            >(key) {
                self.group_id = v;
                return true;
            }
        }
        false
    }
}
impl GroupMember {
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const group_id: ::oxalchemy::orm::TypedColumn<Self, i64> = ::oxalchemy::orm::TypedColumn::new(
        "group_id",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const user_id: ::oxalchemy::orm::TypedColumn<Self, i64> = ::oxalchemy::orm::TypedColumn::new(
        "user_id",
    );
}
impl ::oxalchemy::orm::__private::FromRow for GroupMember {
    #[inline]
    fn from_row(
        row: &::oxalchemy::orm::__private::Row<'_>,
    ) -> ::core::result::Result<Self, ::oxalchemy::orm::__private::Error> {
        ::oxalchemy::orm::__private::read_model(row)
    }
}
impl ::oxalchemy::orm::Model for GroupMember {
    const TABLE: &'static str = "group_member";
    const NAME: &'static str = "GroupMember";
    fn columns() -> &'static [&'static str] {
        static COLUMNS: ::oxalchemy::orm::__private::OnceLock<
            ::std::vec::Vec<&'static str>,
        > = ::oxalchemy::orm::__private::OnceLock::new();
        COLUMNS
            .get_or_init(|| {
                let mut v = ::std::vec::Vec::new();
                <Self as ::oxalchemy::orm::Fields>::column_names(&mut v);
                v
            })
    }
    fn table() -> ::oxalchemy::orm::__private::Table {
        let mut columns = ::std::vec::Vec::new();
        <Self as ::oxalchemy::orm::Fields>::describe(&mut columns);
        let mut t = ::oxalchemy::orm::__private::Table::new("group_member");
        for c in columns {
            t = t.column(c);
        }
        t
    }
    fn primary_key_columns() -> &'static [&'static str] {
        static KEY: ::oxalchemy::orm::__private::OnceLock<
            ::std::vec::Vec<&'static str>,
        > = ::oxalchemy::orm::__private::OnceLock::new();
        KEY.get_or_init(|| {
            let mut columns = ::std::vec::Vec::new();
            <Self as ::oxalchemy::orm::Fields>::describe(&mut columns);
            columns
                .iter()
                .filter(|c| c.primary_key)
                .map(|c| ::oxalchemy::orm::__private::leak_name(c.name.as_str()))
                .collect()
        })
    }
    fn default_loaders() -> ::std::vec::Vec<
        ::std::sync::Arc<dyn ::oxalchemy::orm::Loader<Self>>,
    > {
        ::std::vec![]
    }
    fn relationships() -> &'static [::oxalchemy::orm::RelationshipDef] {
        static RELATIONSHIPS: [::oxalchemy::orm::RelationshipDef; 0usize] = [];
        &RELATIONSHIPS
    }
    fn validate(
        &self,
    ) -> ::core::result::Result<(), ::oxalchemy::orm::__private::ValidationError> {
        <Self as ::oxalchemy::orm::Fields>::validate_fields(self, Self::NAME)?;
        ::core::result::Result::Ok(())
    }
}
