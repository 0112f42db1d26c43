// Input:
//
// #[derive(Model)]
// #[model(
//     table = "users",
//     index(name = "idx_users_username_email", columns(username, email)),
//     index(columns(karma), unique),
//     unique(name = "uq_users_email_karma", columns(email, karma)),
//     check(name = "ck_users_karma", sql = "karma >= 0"),
//     validate = check_user
// )]
// pub struct User {
//     #[column(primary_key)]
//     pub id: i64,
//     #[column(length = 50, unique, validate = not_blank)]
//     pub username: String,
//     #[column(length = 255, index, name = "email_address")]
//     pub email: String,
//     #[column(default = 10, server_default = "10")]
//     pub karma: i32,
//     #[column(default = Status::Active)]
//     pub status: Status,
//     #[column(default = new_token, onupdate = new_token)]
//     pub token: String,
//     #[column(jsonb, server_default = "'{}'")]
//     pub settings: serde_json::Value,
//     #[column(json)]
//     pub tags: Option<Vec<String>>,
//     #[column(version)]
//     pub version: i32,
//     #[model(flatten)]
//     pub ts: Timestamps,
//     #[model(skip)]
//     pub scratch: String,
//     #[relationship(
//         back_populates = "author",
//         lazy = "selectin",
//         cascade = "all, delete-orphan",
//         order_by = "title"
//     )]
//     pub posts: Many<Post>,
// }
//
// Expansion (`UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites it):

impl ::oxalchemy::orm::Fields for User {
    const HAS_PRIMARY_KEY: bool = true
        || <Timestamps as ::oxalchemy::orm::Fields>::HAS_PRIMARY_KEY;
    const HAS_DEFAULTS: bool = true
        || <Timestamps as ::oxalchemy::orm::Fields>::HAS_DEFAULTS;
    const LAYOUT: ::oxalchemy::orm::__private::Layout = {
        let mut at = 0usize;
        let mut first_key: ::core::option::Option<usize> = ::core::option::Option::None;
        if first_key.is_none() {
            if let ::core::option::Option::Some(k) = <Timestamps as ::oxalchemy::orm::Fields>::LAYOUT
                .first_key
            {
                first_key = ::core::option::Option::Some(at + k);
            }
        }
        at += <Timestamps as ::oxalchemy::orm::Fields>::LAYOUT.columns;
        if first_key.is_none() {
            first_key = ::core::option::Option::Some(at);
        }
        at += 1;
        at += 1;
        at += 1;
        at += 1;
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
        <Timestamps as ::oxalchemy::orm::Fields>::describe(out);
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                i64,
            >("id", ::core::option::Option::None)
                .primary_key(),
        );
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                String,
            >("username", ::core::option::Option::Some(50u32))
                .unique(),
        );
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                String,
            >("email_address", ::core::option::Option::Some(255u32))
                .index(),
        );
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                i32,
            >("karma", ::core::option::Option::None)
                .server_default("10"),
        );
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                Status,
            >("status", ::core::option::Option::None),
        );
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                String,
            >("token", ::core::option::Option::None),
        );
        out.push(
            ::oxalchemy::orm::__private::json_column_for("settings", true, false)
                .server_default("'{}'"),
        );
        out.push(::oxalchemy::orm::__private::json_column_for("tags", false, true));
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                i32,
            >("version", ::core::option::Option::None),
        );
    }
    fn column_names(out: &mut ::std::vec::Vec<&'static str>) {
        <Timestamps as ::oxalchemy::orm::Fields>::column_names(out);
        out.push("id");
        out.push("username");
        out.push("email_address");
        out.push("karma");
        out.push("status");
        out.push("token");
        out.push("settings");
        out.push("tags");
        out.push("version");
    }
    fn read(
        row: &::oxalchemy::orm::__private::Row<'_>,
        idx: &mut usize,
    ) -> ::core::result::Result<Self, ::oxalchemy::orm::__private::Error> {
        let ts = <Timestamps as ::oxalchemy::orm::Fields>::read(row, idx)?;
        let id = match row.decode::<i64>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i64>(*idx, e));
            }
        };
        *idx += 1;
        let username = match row.decode::<String>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<String>(*idx, e));
            }
        };
        *idx += 1;
        let email = match row.decode::<String>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<String>(*idx, e));
            }
        };
        *idx += 1;
        let karma = match row.decode::<i32>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i32>(*idx, e));
            }
        };
        *idx += 1;
        let status = match row.decode::<Status>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<Status>(*idx, e));
            }
        };
        *idx += 1;
        let token = match row.decode::<String>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<String>(*idx, e));
            }
        };
        *idx += 1;
        let settings = ::oxalchemy::orm::__private::json_get::<
            serde_json::Value,
        >(row, *idx)?;
        *idx += 1;
        let tags = ::oxalchemy::orm::__private::json_get::<
            Option<Vec<String>>,
        >(row, *idx)?;
        *idx += 1;
        let version = match row.decode::<i32>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i32>(*idx, e));
            }
        };
        *idx += 1;
        ::core::result::Result::Ok(Self {
            ts,
            id,
            username,
            email,
            karma,
            status,
            token,
            settings,
            tags,
            version,
            scratch: ::core::default::Default::default(),
            posts: <Many<Post>>::unloaded_field("User::posts"),
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
        if !::core::matches!(
            < Timestamps as ::oxalchemy::orm::Fields > ::LAYOUT.first_key,
            ::core::option::Option::Some(0)
        ) {
            return ::oxalchemy::orm::__private::read_present_checked::<Self>(row, idx);
        }
        let ts = match <Timestamps as ::oxalchemy::orm::Fields>::read_present(
            row,
            idx,
        )? {
            ::core::option::Option::Some(v) => v,
            ::core::option::Option::None => {
                *idx = start + <Self as ::oxalchemy::orm::Fields>::LAYOUT.columns;
                return ::core::result::Result::Ok(::core::option::Option::None);
            }
        };
        let id = match row.decode::<i64>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i64>(*idx, e));
            }
        };
        *idx += 1;
        let username = match row.decode::<String>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<String>(*idx, e));
            }
        };
        *idx += 1;
        let email = match row.decode::<String>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<String>(*idx, e));
            }
        };
        *idx += 1;
        let karma = match row.decode::<i32>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i32>(*idx, e));
            }
        };
        *idx += 1;
        let status = match row.decode::<Status>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<Status>(*idx, e));
            }
        };
        *idx += 1;
        let token = match row.decode::<String>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<String>(*idx, e));
            }
        };
        *idx += 1;
        let settings = ::oxalchemy::orm::__private::json_get::<
            serde_json::Value,
        >(row, *idx)?;
        *idx += 1;
        let tags = ::oxalchemy::orm::__private::json_get::<
            Option<Vec<String>>,
        >(row, *idx)?;
        *idx += 1;
        let version = match row.decode::<i32>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i32>(*idx, e));
            }
        };
        *idx += 1;
        ::core::result::Result::Ok(
            ::core::option::Option::Some(Self {
                ts,
                id,
                username,
                email,
                karma,
                status,
                token,
                settings,
                tags,
                version,
                scratch: ::core::default::Default::default(),
                posts: <Many<Post>>::unloaded_field("User::posts"),
            }),
        )
    }
    fn insert_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        ::oxalchemy::orm::Fields::insert_values(&self.ts, out);
        if !(::oxalchemy::orm::__private::is_integer_key::<i64>()
            && ::oxalchemy::orm::__private::is_unset(&self.id))
        {
            out.push(("id", ::oxalchemy::orm::__private::ToValue::to_value(&self.id)));
        }
        out.push((
            "username",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.username),
        ));
        out.push((
            "email_address",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.email),
        ));
        out.push(("karma", ::oxalchemy::orm::__private::ToValue::to_value(&self.karma)));
        out.push((
            "status",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.status),
        ));
        out.push(("token", ::oxalchemy::orm::__private::ToValue::to_value(&self.token)));
        out.push((
            "settings",
            ::oxalchemy::orm::__private::json_value::<serde_json::Value>(&self.settings),
        ));
        out.push((
            "tags",
            ::oxalchemy::orm::__private::json_value::<Option<Vec<String>>>(&self.tags),
        ));
        out.push((
            "version",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.version),
        ));
    }
    fn take_insert_values(
        &mut self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        ::oxalchemy::orm::Fields::take_insert_values(&mut self.ts, out);
        if !(::oxalchemy::orm::__private::is_integer_key::<i64>()
            && ::oxalchemy::orm::__private::is_unset(&self.id))
        {
            out.push(("id", ::oxalchemy::orm::__private::ToValue::to_value(&self.id)));
        }
        out.push((
            "username",
            ::oxalchemy::orm::__private::take_value::<String>(&mut self.username),
        ));
        out.push((
            "email_address",
            ::oxalchemy::orm::__private::take_value::<String>(&mut self.email),
        ));
        out.push(("karma", ::oxalchemy::orm::__private::ToValue::to_value(&self.karma)));
        out.push((
            "status",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.status),
        ));
        out.push((
            "token",
            ::oxalchemy::orm::__private::take_value::<String>(&mut self.token),
        ));
        out.push((
            "settings",
            ::oxalchemy::orm::__private::json_value::<serde_json::Value>(&self.settings),
        ));
        out.push((
            "tags",
            ::oxalchemy::orm::__private::json_value::<Option<Vec<String>>>(&self.tags),
        ));
        out.push((
            "version",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.version),
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
                ::oxalchemy::orm::Fields::take_insert_row(&mut self.ts, out),
                0usize,
            );
        if ::oxalchemy::orm::__private::is_integer_key::<i64>()
            && ::oxalchemy::orm::__private::is_unset(&self.id)
        {
            omitted
                |= ::oxalchemy::orm::__private::omitted_at(
                    1,
                    0usize + <Timestamps as ::oxalchemy::orm::Fields>::LAYOUT.columns,
                );
        } else {
            out.push(::oxalchemy::orm::__private::ToValue::to_value(&self.id));
        }
        out.push(::oxalchemy::orm::__private::take_value::<String>(&mut self.username));
        out.push(::oxalchemy::orm::__private::take_value::<String>(&mut self.email));
        out.push(::oxalchemy::orm::__private::ToValue::to_value(&self.karma));
        out.push(::oxalchemy::orm::__private::ToValue::to_value(&self.status));
        out.push(::oxalchemy::orm::__private::take_value::<String>(&mut self.token));
        out.push(
            ::oxalchemy::orm::__private::json_value::<serde_json::Value>(&self.settings),
        );
        out.push(
            ::oxalchemy::orm::__private::json_value::<Option<Vec<String>>>(&self.tags),
        );
        out.push(::oxalchemy::orm::__private::ToValue::to_value(&self.version));
        omitted
    }
    fn update_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        ::oxalchemy::orm::Fields::update_values(&self.ts, out);
        out.push((
            "username",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.username),
        ));
        out.push((
            "email_address",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.email),
        ));
        out.push(("karma", ::oxalchemy::orm::__private::ToValue::to_value(&self.karma)));
        out.push((
            "status",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.status),
        ));
        out.push(("token", ::oxalchemy::orm::__private::ToValue::to_value(&self.token)));
        out.push((
            "settings",
            ::oxalchemy::orm::__private::json_value::<serde_json::Value>(&self.settings),
        ));
        out.push((
            "tags",
            ::oxalchemy::orm::__private::json_value::<Option<Vec<String>>>(&self.tags),
        ));
        out.push((
            "version",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.version),
        ));
    }
    fn primary_key_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        ::oxalchemy::orm::Fields::primary_key_values(&self.ts, out);
        out.push(("id", ::oxalchemy::orm::__private::ToValue::to_value(&self.id)));
    }
    fn apply_defaults(&mut self) {
        ::oxalchemy::orm::Fields::apply_defaults(&mut self.ts);
        if ::oxalchemy::orm::__private::is_unset(&self.karma) {
            self.karma = ::core::convert::Into::into(10);
        }
        if ::oxalchemy::orm::__private::is_unset(&self.status) {
            self.status = ::core::convert::Into::into(Status::Active);
        }
        if ::oxalchemy::orm::__private::is_unset(&self.token) {
            self.token = new_token();
        }
        if ::oxalchemy::orm::__private::is_unset(&self.version) {
            if let ::core::result::Result::Ok(v) = ::core::convert::TryFrom::try_from(
                1i64,
            ) {
                self.version = v;
            }
        }
    }
    fn default_columns(out: &mut ::std::vec::Vec<&'static str>) {
        <Timestamps as ::oxalchemy::orm::Fields>::default_columns(out);
        out.push("karma");
        out.push("status");
        out.push("token");
        out.push("version");
    }
    fn apply_onupdate(&mut self) {
        ::oxalchemy::orm::Fields::apply_onupdate(&mut self.ts);
        self.token = new_token();
    }
    fn onupdate_columns(out: &mut ::std::vec::Vec<&'static str>) {
        <Timestamps as ::oxalchemy::orm::Fields>::onupdate_columns(out);
        out.push("token");
    }
    fn validate_fields(
        &self,
        model: &'static str,
    ) -> ::core::result::Result<(), ::oxalchemy::orm::__private::ValidationError> {
        let _ = model;
        ::oxalchemy::orm::Fields::validate_fields(&self.ts, model)?;
        let result: ::core::result::Result<(), _> = not_blank(&self.username);
        if let ::core::result::Result::Err(message) = result {
            return ::core::result::Result::Err(
                ::oxalchemy::orm::__private::ValidationError::new(
                    model,
                    ::core::option::Option::Some("username"),
                    ::std::string::ToString::to_string(&message),
                ),
            );
        }
        ::core::result::Result::Ok(())
    }
    #[allow(unreachable_code, reason = "a version column returns early")]
    fn version(&self) -> ::core::option::Option<(&'static str, i64)> {
        if let ::core::option::Option::Some(v) = ::oxalchemy::orm::Fields::version(
            &self.ts,
        ) {
            return ::core::option::Option::Some(v);
        }
        return ::core::option::Option::Some((
            "version",
            ::core::convert::Into::<i64>::into(self.version),
        ));
        ::core::option::Option::None
    }
    fn set_version(&mut self, version: i64) {
        let _ = version;
        ::oxalchemy::orm::Fields::set_version(&mut self.ts, version);
        if let ::core::result::Result::Ok(v) = ::core::convert::TryFrom::try_from(
            version,
        ) {
            self.version = v;
        }
    }
    #[allow(unreachable_code, reason = "a generated key returns early")]
    fn generated_key_column() -> ::core::option::Option<&'static str> {
        if let ::core::option::Option::Some(c) = <Timestamps as ::oxalchemy::orm::Fields>::generated_key_column() {
            return ::core::option::Option::Some(c);
        }
        if ::oxalchemy::orm::__private::is_integer_key::<i64>() {
            return ::core::option::Option::Some("id");
        }
        ::core::option::Option::None
    }
    fn set_generated_key(&mut self, key: i64) {
        let _ = key;
        ::oxalchemy::orm::Fields::set_generated_key(&mut self.ts, key);
        if let ::core::result::Result::Ok(v) = ::oxalchemy::orm::__private::key_from_i64::<
            i64,
        >(key) {
            self.id = v;
        }
    }
    fn set_integer_column(&mut self, column: &str, key: i64) -> bool {
        let _ = (column, key);
        if ::oxalchemy::orm::Fields::set_integer_column(&mut self.ts, column, key) {
            return true;
        }
        false
    }
}
impl User {
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
    pub const username: ::oxalchemy::orm::TypedColumn<Self, String> = ::oxalchemy::orm::TypedColumn::new(
        "username",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const email: ::oxalchemy::orm::TypedColumn<Self, String> = ::oxalchemy::orm::TypedColumn::new(
        "email_address",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const karma: ::oxalchemy::orm::TypedColumn<Self, i32> = ::oxalchemy::orm::TypedColumn::new(
        "karma",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const status: ::oxalchemy::orm::TypedColumn<Self, Status> = ::oxalchemy::orm::TypedColumn::new(
        "status",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const token: ::oxalchemy::orm::TypedColumn<Self, String> = ::oxalchemy::orm::TypedColumn::new(
        "token",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const settings: ::oxalchemy::orm::TypedColumn<Self, serde_json::Value> = ::oxalchemy::orm::TypedColumn::new(
        "settings",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const tags: ::oxalchemy::orm::TypedColumn<Self, Option<Vec<String>>> = ::oxalchemy::orm::TypedColumn::new(
        "tags",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const version: ::oxalchemy::orm::TypedColumn<Self, i32> = ::oxalchemy::orm::TypedColumn::new(
        "version",
    );
    #[allow(
        non_upper_case_globals,
        reason = "relationship constants are spelled like the fields: `User::posts`"
    )]
    pub const posts: ::oxalchemy::orm::Relationship<Self, Post> = ::oxalchemy::orm::Relationship::new(
        "posts",
        ::oxalchemy::orm::RelationshipSlot::Many(|
            m: &mut Self,
        | -> &mut ::oxalchemy::orm::Many<Post> { &mut m.posts }),
    );
}
impl ::oxalchemy::orm::Flattens<Timestamps> for User {}
impl ::oxalchemy::orm::__private::FromRow for User {
    #[inline]
    fn from_row(
        row: &::oxalchemy::orm::__private::Row<'_>,
    ) -> ::core::result::Result<Self, ::oxalchemy::orm::__private::Error> {
        ::oxalchemy::orm::__private::read_model(row)
    }
}
impl ::oxalchemy::orm::Model for User {
    const TABLE: &'static str = "users";
    const NAME: &'static str = "User";
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
        let mut t = ::oxalchemy::orm::__private::Table::new("users");
        for c in columns {
            t = t.column(c);
        }
        t = t
            .index(
                ::oxalchemy::orm::__private::Index::new(["username", "email_address"])
                    .named("idx_users_username_email"),
            );
        t = t.index(::oxalchemy::orm::__private::Index::new(["karma"]).unique());
        t = t.unique_named("uq_users_email_karma", ["email_address", "karma"]);
        t = t.check("ck_users_karma", "karma >= 0");
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
        ::std::vec![::std::sync::Arc::new(::oxalchemy::orm::selectinload(Self::posts))]
    }
    fn relationships() -> &'static [::oxalchemy::orm::RelationshipDef] {
        static RELATIONSHIPS: [::oxalchemy::orm::RelationshipDef; 1usize] = [
            ::oxalchemy::orm::RelationshipDef {
                name: "posts",
                kind: ::oxalchemy::orm::RelationshipKind::OneToMany,
                target: <Post as ::oxalchemy::orm::Model>::TABLE,
                back_populates: ::core::option::Option::Some("author"),
                secondary: ::core::option::Option::None,
                foreign_key: ::core::option::Option::None,
                order_by: ::core::option::Option::Some("title"),
                target_table: <Post as ::oxalchemy::orm::Model>::table,
                cascade_delete: true,
                delete_orphan: true,
                passive_deletes: false,
            },
        ];
        &RELATIONSHIPS
    }
    fn validate(
        &self,
    ) -> ::core::result::Result<(), ::oxalchemy::orm::__private::ValidationError> {
        <Self as ::oxalchemy::orm::Fields>::validate_fields(self, Self::NAME)?;
        let result: ::core::result::Result<(), _> = check_user(self);
        if let ::core::result::Result::Err(message) = result {
            return ::core::result::Result::Err(
                ::oxalchemy::orm::__private::ValidationError::new(
                    Self::NAME,
                    ::core::option::Option::None,
                    ::std::string::ToString::to_string(&message),
                ),
            );
        }
        ::core::result::Result::Ok(())
    }
    fn take_assigned(&mut self, out: &mut ::oxalchemy::orm::__private::Assigned) {
        ::oxalchemy::orm::__private::take_many(&mut self.posts, "posts", out);
    }
    fn fill_relationship(
        &mut self,
        name: &str,
        fill: &mut ::oxalchemy::orm::__private::Fill,
    ) {
        match name {
            "posts" => ::oxalchemy::orm::__private::fill_many(&mut self.posts, fill),
            _ => {}
        }
    }
    fn take_relationships(
        &mut self,
    ) -> ::std::boxed::Box<dyn ::core::any::Any + ::core::marker::Send> {
        ::std::boxed::Box::new((
            ::core::mem::replace(
                &mut self.posts,
                <Many<Post>>::unloaded_field("User::posts"),
            ),
        ))
    }
    fn restore_relationships(
        &mut self,
        saved: ::std::boxed::Box<dyn ::core::any::Any + ::core::marker::Send>,
    ) {
        if let ::core::result::Result::Ok(saved) = saved.downcast::<(Many<Post>,)>() {
            let (posts,) = *saved;
            self.posts = posts;
        }
    }
}
