// Input:
//
// #[derive(Mixin)]
// pub struct Timestamps {
//     #[column(default = now)]
//     pub created_at: DateTime<Utc>,
//     #[column(default = now, onupdate = now, name = "modified_at")]
//     pub updated_at: DateTime<Utc>,
//     #[column(length = 20)]
//     pub r#kind: String,
// }
//
// Expansion (`UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites it):

impl ::oxalchemy::orm::Fields for Timestamps {
    const HAS_PRIMARY_KEY: bool = false;
    const HAS_DEFAULTS: bool = true;
    const LAYOUT: ::oxalchemy::orm::__private::Layout = {
        let mut at = 0usize;
        let mut first_key: ::core::option::Option<usize> = ::core::option::Option::None;
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
                DateTime<Utc>,
            >("created_at", ::core::option::Option::None),
        );
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                DateTime<Utc>,
            >("modified_at", ::core::option::Option::None),
        );
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                String,
            >("kind", ::core::option::Option::Some(20u32)),
        );
    }
    fn column_names(out: &mut ::std::vec::Vec<&'static str>) {
        out.push("created_at");
        out.push("modified_at");
        out.push("kind");
    }
    fn read(
        row: &::oxalchemy::orm::__private::Row<'_>,
        idx: &mut usize,
    ) -> ::core::result::Result<Self, ::oxalchemy::orm::__private::Error> {
        let created_at = match row.decode::<DateTime<Utc>>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(
                    row.decode_error::<DateTime<Utc>>(*idx, e),
                );
            }
        };
        *idx += 1;
        let updated_at = match row.decode::<DateTime<Utc>>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(
                    row.decode_error::<DateTime<Utc>>(*idx, e),
                );
            }
        };
        *idx += 1;
        let r#kind = match row.decode::<String>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<String>(*idx, e));
            }
        };
        *idx += 1;
        ::core::result::Result::Ok(Self {
            created_at,
            updated_at,
            r#kind,
        })
    }
    fn insert_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        out.push((
            "created_at",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.created_at),
        ));
        out.push((
            "modified_at",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.updated_at),
        ));
        out.push(("kind", ::oxalchemy::orm::__private::ToValue::to_value(&self.r#kind)));
    }
    fn take_insert_values(
        &mut self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        out.push((
            "created_at",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.created_at),
        ));
        out.push((
            "modified_at",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.updated_at),
        ));
        out.push((
            "kind",
            ::oxalchemy::orm::__private::take_value::<String>(&mut self.r#kind),
        ));
    }
    #[allow(unused_mut, reason = "a struct without a key to leave out marks nothing")]
    fn take_insert_row(
        &mut self,
        out: &mut ::std::vec::Vec<::oxalchemy::orm::__private::Value>,
    ) -> u64 {
        let mut omitted = 0u64;
        out.push(::oxalchemy::orm::__private::ToValue::to_value(&self.created_at));
        out.push(::oxalchemy::orm::__private::ToValue::to_value(&self.updated_at));
        out.push(::oxalchemy::orm::__private::take_value::<String>(&mut self.r#kind));
        omitted
    }
    fn update_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        out.push((
            "created_at",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.created_at),
        ));
        out.push((
            "modified_at",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.updated_at),
        ));
        out.push(("kind", ::oxalchemy::orm::__private::ToValue::to_value(&self.r#kind)));
    }
    fn primary_key_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {}
    fn apply_defaults(&mut self) {
        if ::oxalchemy::orm::__private::is_unset(&self.created_at) {
            self.created_at = ::oxalchemy::orm::defaults::now();
        }
        if ::oxalchemy::orm::__private::is_unset(&self.updated_at) {
            self.updated_at = ::oxalchemy::orm::defaults::now();
        }
    }
    fn default_columns(out: &mut ::std::vec::Vec<&'static str>) {
        out.push("created_at");
        out.push("modified_at");
    }
    fn apply_onupdate(&mut self) {
        self.updated_at = ::oxalchemy::orm::defaults::now();
    }
    fn onupdate_columns(out: &mut ::std::vec::Vec<&'static str>) {
        out.push("modified_at");
    }
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
        false
    }
}
///The column constants of the `Timestamps` mixin on every model that flattens it (`Model::column`). Bring this trait into scope to use them.
pub trait TimestampsColumns: ::oxalchemy::orm::Model {
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    const created_at: ::oxalchemy::orm::TypedColumn<Self, DateTime<Utc>> = ::oxalchemy::orm::TypedColumn::new(
        "created_at",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    const updated_at: ::oxalchemy::orm::TypedColumn<Self, DateTime<Utc>> = ::oxalchemy::orm::TypedColumn::new(
        "modified_at",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    const r#kind: ::oxalchemy::orm::TypedColumn<Self, String> = ::oxalchemy::orm::TypedColumn::new(
        "kind",
    );
}
impl<
    M: ::oxalchemy::orm::Model + ::oxalchemy::orm::Flattens<Timestamps>,
> TimestampsColumns for M {}
