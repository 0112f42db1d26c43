// Input:
//
// #[derive(Model)]
// #[model(table = "lines")]
// pub struct Line {
//     #[column(primary_key)]
//     pub id: i64,
//     pub price: i64,
//     pub qty: i32,
//     #[column(computed = "price * qty")]
//     pub total: i64,
//     #[column(computed = "price * 2", persisted = false)]
//     pub doubled: Option<i64>,
// }
//
// Expansion (`UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites it):

impl ::oxalchemy::orm::Fields for Line {
    const HAS_PRIMARY_KEY: bool = true;
    const HAS_DEFAULTS: bool = false;
    const LAYOUT: ::oxalchemy::orm::__private::Layout = {
        let mut at = 0usize;
        let mut first_key: ::core::option::Option<usize> = ::core::option::Option::None;
        if first_key.is_none() {
            first_key = ::core::option::Option::Some(at);
        }
        at += 1;
        at += 1;
        at += 1;
        at += 1;
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
            >("id", ::core::option::Option::None)
                .primary_key(),
        );
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                i64,
            >("price", ::core::option::Option::None),
        );
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                i32,
            >("qty", ::core::option::Option::None),
        );
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                i64,
            >("total", ::core::option::Option::None)
                .computed("price * qty", true),
        );
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                Option<i64>,
            >("doubled", ::core::option::Option::None)
                .computed("price * 2", false),
        );
    }
    fn column_names(out: &mut ::std::vec::Vec<&'static str>) {
        out.push("id");
        out.push("price");
        out.push("qty");
        out.push("total");
        out.push("doubled");
    }
    fn read(
        row: &::oxalchemy::orm::__private::Row<'_>,
        idx: &mut usize,
    ) -> ::core::result::Result<Self, ::oxalchemy::orm::__private::Error> {
        let id = match row.decode::<i64>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i64>(*idx, e));
            }
        };
        *idx += 1;
        let price = match row.decode::<i64>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i64>(*idx, e));
            }
        };
        *idx += 1;
        let qty = match row.decode::<i32>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i32>(*idx, e));
            }
        };
        *idx += 1;
        let total = match row.decode::<i64>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i64>(*idx, e));
            }
        };
        *idx += 1;
        let doubled = match row.decode::<Option<i64>>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(
                    row.decode_error::<Option<i64>>(*idx, e),
                );
            }
        };
        *idx += 1;
        ::core::result::Result::Ok(Self {
            id,
            price,
            qty,
            total,
            doubled,
        })
    }
    fn read_present(
        row: &::oxalchemy::orm::__private::Row<'_>,
        idx: &mut usize,
    ) -> ::core::result::Result<
        ::core::option::Option<Self>,
        ::oxalchemy::orm::__private::Error,
    > {
        let start = *idx;
        let id = match row.decode::<::core::option::Option<i64>>(*idx) {
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
        let price = match row.decode::<i64>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i64>(*idx, e));
            }
        };
        *idx += 1;
        let qty = match row.decode::<i32>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i32>(*idx, e));
            }
        };
        *idx += 1;
        let total = match row.decode::<i64>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i64>(*idx, e));
            }
        };
        *idx += 1;
        let doubled = match row.decode::<Option<i64>>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(
                    row.decode_error::<Option<i64>>(*idx, e),
                );
            }
        };
        *idx += 1;
        ::core::result::Result::Ok(
            ::core::option::Option::Some(Self {
                id,
                price,
                qty,
                total,
                doubled,
            }),
        )
    }
    fn insert_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        if !(::oxalchemy::orm::__private::is_integer_key::<i64>()
            && ::oxalchemy::orm::__private::is_unset(&self.id))
        {
            out.push(("id", ::oxalchemy::orm::__private::ToValue::to_value(&self.id)));
        }
        out.push(("price", ::oxalchemy::orm::__private::ToValue::to_value(&self.price)));
        out.push(("qty", ::oxalchemy::orm::__private::ToValue::to_value(&self.qty)));
    }
    #[allow(unused_mut, reason = "a struct without a key to leave out marks nothing")]
    fn take_insert_row(
        &mut self,
        out: &mut ::std::vec::Vec<::oxalchemy::orm::__private::Value>,
    ) -> u64 {
        let mut omitted = 0u64;
        if ::oxalchemy::orm::__private::is_integer_key::<i64>()
            && ::oxalchemy::orm::__private::is_unset(&self.id)
        {
            omitted |= ::oxalchemy::orm::__private::omitted_at(1, 0usize);
        } else {
            out.push(::oxalchemy::orm::__private::ToValue::to_value(&self.id));
        }
        out.push(::oxalchemy::orm::__private::ToValue::to_value(&self.price));
        out.push(::oxalchemy::orm::__private::ToValue::to_value(&self.qty));
        omitted
            |= ::oxalchemy::orm::__private::omitted_at(
                1,
                0usize + 1usize + 1usize + 1usize,
            );
        omitted
            |= ::oxalchemy::orm::__private::omitted_at(
                1,
                0usize + 1usize + 1usize + 1usize + 1usize,
            );
        omitted
    }
    fn update_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        out.push(("price", ::oxalchemy::orm::__private::ToValue::to_value(&self.price)));
        out.push(("qty", ::oxalchemy::orm::__private::ToValue::to_value(&self.qty)));
    }
    fn primary_key_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        out.push(("id", ::oxalchemy::orm::__private::ToValue::to_value(&self.id)));
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
        if ::oxalchemy::orm::__private::is_integer_key::<i64>() {
            return ::core::option::Option::Some("id");
        }
        ::core::option::Option::None
    }
    fn set_generated_key(&mut self, key: i64) {
        let _ = key;
        if let ::core::result::Result::Ok(v) = ::oxalchemy::orm::__private::key_from_i64::<
            i64,
        >(key) {
            self.id = v;
        }
    }
    fn set_integer_column(&mut self, column: &str, key: i64) -> bool {
        let _ = (column, key);
        false
    }
}
impl Line {
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const id: ::oxalchemy::orm::TypedColumn<Self, i64> = ::oxalchemy::orm::TypedColumn::new(
        "id",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const price: ::oxalchemy::orm::TypedColumn<Self, i64> = ::oxalchemy::orm::TypedColumn::new(
        "price",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const qty: ::oxalchemy::orm::TypedColumn<Self, i32> = ::oxalchemy::orm::TypedColumn::new(
        "qty",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const total: ::oxalchemy::orm::TypedColumn<Self, i64> = ::oxalchemy::orm::TypedColumn::new(
        "total",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const doubled: ::oxalchemy::orm::TypedColumn<Self, Option<i64>> = ::oxalchemy::orm::TypedColumn::new(
        "doubled",
    );
}
impl ::oxalchemy::orm::__private::FromRow for Line {
    #[inline]
    fn from_row(
        row: &::oxalchemy::orm::__private::Row<'_>,
    ) -> ::core::result::Result<Self, ::oxalchemy::orm::__private::Error> {
        ::oxalchemy::orm::__private::read_model(row)
    }
}
impl ::oxalchemy::orm::Model for Line {
    const TABLE: &'static str = "lines";
    const NAME: &'static str = "Line";
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
        let mut t = ::oxalchemy::orm::__private::Table::new("lines");
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
