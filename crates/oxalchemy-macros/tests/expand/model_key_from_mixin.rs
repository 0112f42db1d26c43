// Input:
//
// #[derive(Model)]
// #[model(table = "events")]
// pub struct Event {
//     #[model(flatten)]
//     pub key: IdKey,
//     pub title: String,
// }
//
// Expansion (`UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites it):

impl ::oxalchemy::orm::Fields for Event {
    const HAS_PRIMARY_KEY: bool = false
        || <IdKey as ::oxalchemy::orm::Fields>::HAS_PRIMARY_KEY;
    const HAS_DEFAULTS: bool = false
        || <IdKey as ::oxalchemy::orm::Fields>::HAS_DEFAULTS;
    const LAYOUT: ::oxalchemy::orm::__private::Layout = {
        let mut at = 0usize;
        let mut first_key: ::core::option::Option<usize> = ::core::option::Option::None;
        if first_key.is_none() {
            if let ::core::option::Option::Some(k) = <IdKey as ::oxalchemy::orm::Fields>::LAYOUT
                .first_key
            {
                first_key = ::core::option::Option::Some(at + k);
            }
        }
        at += <IdKey as ::oxalchemy::orm::Fields>::LAYOUT.columns;
        at += 1;
        ::oxalchemy::orm::__private::Layout {
            columns: at,
            first_key,
        }
    };
    fn describe(out: &mut ::std::vec::Vec<::oxalchemy::orm::__private::Column>) {
        <IdKey as ::oxalchemy::orm::Fields>::describe(out);
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                String,
            >("title", ::core::option::Option::None),
        );
    }
    fn column_names(out: &mut ::std::vec::Vec<&'static str>) {
        <IdKey as ::oxalchemy::orm::Fields>::column_names(out);
        out.push("title");
    }
    fn read(
        row: &::oxalchemy::orm::__private::Row<'_>,
        idx: &mut usize,
    ) -> ::core::result::Result<Self, ::oxalchemy::orm::__private::Error> {
        let key = <IdKey as ::oxalchemy::orm::Fields>::read(row, idx)?;
        let title = match row.decode::<String>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<String>(*idx, e));
            }
        };
        *idx += 1;
        ::core::result::Result::Ok(Self { key, title })
    }
    fn read_present(
        row: &::oxalchemy::orm::__private::Row<'_>,
        idx: &mut usize,
    ) -> ::core::result::Result<
        ::core::option::Option<Self>,
        ::oxalchemy::orm::__private::Error,
    > {
        let start = *idx;
        if !::core::matches!(
            < IdKey as ::oxalchemy::orm::Fields > ::LAYOUT.first_key,
            ::core::option::Option::Some(0)
        ) {
            return ::oxalchemy::orm::__private::read_present_checked::<Self>(row, idx);
        }
        let key = match <IdKey as ::oxalchemy::orm::Fields>::read_present(row, idx)? {
            ::core::option::Option::Some(v) => v,
            ::core::option::Option::None => {
                *idx = start + <Self as ::oxalchemy::orm::Fields>::LAYOUT.columns;
                return ::core::result::Result::Ok(::core::option::Option::None);
            }
        };
        let title = match row.decode::<String>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<String>(*idx, e));
            }
        };
        *idx += 1;
        ::core::result::Result::Ok(::core::option::Option::Some(Self { key, title }))
    }
    fn insert_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        ::oxalchemy::orm::Fields::insert_values(&self.key, out);
        out.push(("title", ::oxalchemy::orm::__private::ToValue::to_value(&self.title)));
    }
    fn take_insert_values(
        &mut self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        ::oxalchemy::orm::Fields::take_insert_values(&mut self.key, out);
        out.push((
            "title",
            ::oxalchemy::orm::__private::take_value::<String>(&mut self.title),
        ));
    }
    #[allow(unused_mut, reason = "a struct without a key to leave out marks nothing")]
    fn take_insert_row(
        &mut self,
        out: &mut ::std::vec::Vec<::oxalchemy::orm::__private::Value>,
    ) -> u64 {
        let mut omitted = 0u64;
        omitted
            |= ::oxalchemy::orm::__private::omitted_at(
                ::oxalchemy::orm::Fields::take_insert_row(&mut self.key, out),
                0usize,
            );
        out.push(::oxalchemy::orm::__private::take_value::<String>(&mut self.title));
        omitted
    }
    fn update_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        ::oxalchemy::orm::Fields::update_values(&self.key, out);
        out.push(("title", ::oxalchemy::orm::__private::ToValue::to_value(&self.title)));
    }
    fn primary_key_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        ::oxalchemy::orm::Fields::primary_key_values(&self.key, out);
    }
    fn apply_defaults(&mut self) {
        ::oxalchemy::orm::Fields::apply_defaults(&mut self.key);
    }
    fn default_columns(out: &mut ::std::vec::Vec<&'static str>) {
        <IdKey as ::oxalchemy::orm::Fields>::default_columns(out);
    }
    fn apply_onupdate(&mut self) {
        ::oxalchemy::orm::Fields::apply_onupdate(&mut self.key);
    }
    fn onupdate_columns(out: &mut ::std::vec::Vec<&'static str>) {
        <IdKey as ::oxalchemy::orm::Fields>::onupdate_columns(out);
    }
    fn validate_fields(
        &self,
        model: &'static str,
    ) -> ::core::result::Result<(), ::oxalchemy::orm::__private::ValidationError> {
        let _ = model;
        ::oxalchemy::orm::Fields::validate_fields(&self.key, model)?;
        ::core::result::Result::Ok(())
    }
    #[allow(unreachable_code, reason = "a version column returns early")]
    fn version(&self) -> ::core::option::Option<(&'static str, i64)> {
        if let ::core::option::Option::Some(v) = ::oxalchemy::orm::Fields::version(
            &self.key,
        ) {
            return ::core::option::Option::Some(v);
        }
        ::core::option::Option::None
    }
    fn set_version(&mut self, version: i64) {
        let _ = version;
        ::oxalchemy::orm::Fields::set_version(&mut self.key, version);
    }
    #[allow(unreachable_code, reason = "a generated key returns early")]
    fn generated_key_column() -> ::core::option::Option<&'static str> {
        if let ::core::option::Option::Some(c) = <IdKey as ::oxalchemy::orm::Fields>::generated_key_column() {
            return ::core::option::Option::Some(c);
        }
        ::core::option::Option::None
    }
    fn set_generated_key(&mut self, key: i64) {
        let _ = key;
        ::oxalchemy::orm::Fields::set_generated_key(&mut self.key, key);
    }
    fn set_integer_column(&mut self, column: &str, key: i64) -> bool {
        let _ = (column, key);
        if ::oxalchemy::orm::Fields::set_integer_column(&mut self.key, column, key) {
            return true;
        }
        false
    }
}
const _: () = ::core::assert!(
    < Event as ::oxalchemy::orm::Fields > ::HAS_PRIMARY_KEY,
    "model `Event` has no primary key: none of its flattened mixins (`IdKey`) declares one; mark a field #[column(primary_key)]"
);
impl Event {
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const title: ::oxalchemy::orm::TypedColumn<Self, String> = ::oxalchemy::orm::TypedColumn::new(
        "title",
    );
}
impl ::oxalchemy::orm::Flattens<IdKey> for Event {}
impl ::oxalchemy::orm::__private::FromRow for Event {
    #[inline]
    fn from_row(
        row: &::oxalchemy::orm::__private::Row<'_>,
    ) -> ::core::result::Result<Self, ::oxalchemy::orm::__private::Error> {
        ::oxalchemy::orm::__private::read_model(row)
    }
}
impl ::oxalchemy::orm::Model for Event {
    const TABLE: &'static str = "events";
    const NAME: &'static str = "Event";
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
        let mut t = ::oxalchemy::orm::__private::Table::new("events");
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
