// Input:
//
// #[derive(Model)]
// #[model(table = "posts")]
// pub struct Post {
//     #[column(primary_key)]
//     pub id: i32,
//     #[column(foreign_key = "users.id", on_delete = "cascade", on_update = "no action")]
//     pub author_id: i64,
//     #[column(foreign_key = "groups.id", on_delete = "set null")]
//     pub group_id: Option<i64>,
//     pub r#type: String,
//     #[relationship(back_populates = "posts", lazy = "joined")]
//     pub author: One<User>,
//     #[relationship(secondary = "post_tags", passive_deletes)]
//     pub tags: Many<Tag>,
//     pub comments: Many<Comment>,
// }
//
// Expansion (`UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites it):

impl ::oxalchemy::orm::Fields for Post {
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
        ::oxalchemy::orm::__private::Layout {
            columns: at,
            first_key,
        }
    };
    fn describe(out: &mut ::std::vec::Vec<::oxalchemy::orm::__private::Column>) {
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                i32,
            >("id", ::core::option::Option::None)
                .primary_key(),
        );
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                i64,
            >("author_id", ::core::option::Option::None)
                .references("users", "id")
                .on_delete(::oxalchemy::orm::__private::ReferentialAction::Cascade)
                .on_update(::oxalchemy::orm::__private::ReferentialAction::NoAction),
        );
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                Option<i64>,
            >("group_id", ::core::option::Option::None)
                .references("groups", "id")
                .on_delete(::oxalchemy::orm::__private::ReferentialAction::SetNull),
        );
        out.push(
            ::oxalchemy::orm::__private::column_for::<
                String,
            >("type", ::core::option::Option::None),
        );
    }
    fn column_names(out: &mut ::std::vec::Vec<&'static str>) {
        out.push("id");
        out.push("author_id");
        out.push("group_id");
        out.push("type");
    }
    fn read(
        row: &::oxalchemy::orm::__private::Row<'_>,
        idx: &mut usize,
    ) -> ::core::result::Result<Self, ::oxalchemy::orm::__private::Error> {
        let id = match row.decode::<i32>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i32>(*idx, e));
            }
        };
        *idx += 1;
        let author_id = match row.decode::<i64>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i64>(*idx, e));
            }
        };
        *idx += 1;
        let group_id = match row.decode::<Option<i64>>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(
                    row.decode_error::<Option<i64>>(*idx, e),
                );
            }
        };
        *idx += 1;
        let r#type = match row.decode::<String>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<String>(*idx, e));
            }
        };
        *idx += 1;
        ::core::result::Result::Ok(Self {
            id,
            author_id,
            group_id,
            r#type,
            author: <One<User>>::unloaded_field("Post::author"),
            tags: <Many<Tag>>::unloaded_field("Post::tags"),
            comments: <Many<Comment>>::unloaded_field("Post::comments"),
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
        let id = match row.decode::<::core::option::Option<i32>>(*idx) {
            ::core::result::Result::Ok(::core::option::Option::Some(v)) => v,
            ::core::result::Result::Ok(::core::option::Option::None) => {
                *idx = start + <Self as ::oxalchemy::orm::Fields>::LAYOUT.columns;
                return ::core::result::Result::Ok(::core::option::Option::None);
            }
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(
                    row.decode_error::<::core::option::Option<i32>>(*idx, e),
                );
            }
        };
        *idx += 1;
        let author_id = match row.decode::<i64>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<i64>(*idx, e));
            }
        };
        *idx += 1;
        let group_id = match row.decode::<Option<i64>>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(
                    row.decode_error::<Option<i64>>(*idx, e),
                );
            }
        };
        *idx += 1;
        let r#type = match row.decode::<String>(*idx) {
            ::core::result::Result::Ok(v) => v,
            ::core::result::Result::Err(e) => {
                return ::core::result::Result::Err(row.decode_error::<String>(*idx, e));
            }
        };
        *idx += 1;
        ::core::result::Result::Ok(
            ::core::option::Option::Some(Self {
                id,
                author_id,
                group_id,
                r#type,
                author: <One<User>>::unloaded_field("Post::author"),
                tags: <Many<Tag>>::unloaded_field("Post::tags"),
                comments: <Many<Comment>>::unloaded_field("Post::comments"),
            }),
        )
    }
    fn insert_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        if !(::oxalchemy::orm::__private::is_integer_key::<i32>()
            && ::oxalchemy::orm::__private::is_unset(&self.id))
        {
            out.push(("id", ::oxalchemy::orm::__private::ToValue::to_value(&self.id)));
        }
        out.push((
            "author_id",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.author_id),
        ));
        out.push((
            "group_id",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.group_id),
        ));
        out.push(("type", ::oxalchemy::orm::__private::ToValue::to_value(&self.r#type)));
    }
    fn take_insert_values(
        &mut self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        if !(::oxalchemy::orm::__private::is_integer_key::<i32>()
            && ::oxalchemy::orm::__private::is_unset(&self.id))
        {
            out.push(("id", ::oxalchemy::orm::__private::ToValue::to_value(&self.id)));
        }
        out.push((
            "author_id",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.author_id),
        ));
        out.push((
            "group_id",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.group_id),
        ));
        out.push((
            "type",
            ::oxalchemy::orm::__private::take_value::<String>(&mut self.r#type),
        ));
    }
    #[allow(unused_mut, reason = "a struct without a key to leave out marks nothing")]
    fn take_insert_row(
        &mut self,
        out: &mut ::std::vec::Vec<::oxalchemy::orm::__private::Value>,
    ) -> u64 {
        let mut omitted = 0u64;
        if ::oxalchemy::orm::__private::is_integer_key::<i32>()
            && ::oxalchemy::orm::__private::is_unset(&self.id)
        {
            omitted |= ::oxalchemy::orm::__private::omitted_at(1, 0usize);
        } else {
            out.push(::oxalchemy::orm::__private::ToValue::to_value(&self.id));
        }
        out.push(::oxalchemy::orm::__private::ToValue::to_value(&self.author_id));
        out.push(::oxalchemy::orm::__private::ToValue::to_value(&self.group_id));
        out.push(::oxalchemy::orm::__private::take_value::<String>(&mut self.r#type));
        omitted
    }
    fn update_values(
        &self,
        out: &mut ::std::vec::Vec<(&'static str, ::oxalchemy::orm::__private::Value)>,
    ) {
        out.push((
            "author_id",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.author_id),
        ));
        out.push((
            "group_id",
            ::oxalchemy::orm::__private::ToValue::to_value(&self.group_id),
        ));
        out.push(("type", ::oxalchemy::orm::__private::ToValue::to_value(&self.r#type)));
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
        if ::oxalchemy::orm::__private::is_integer_key::<i32>() {
            return ::core::option::Option::Some("id");
        }
        ::core::option::Option::None
    }
    fn set_generated_key(&mut self, key: i64) {
        let _ = key;
        if let ::core::result::Result::Ok(v) = ::oxalchemy::orm::__private::key_from_i64::<
            i32,
        >(key) {
            self.id = v;
        }
    }
    fn set_integer_column(&mut self, column: &str, key: i64) -> bool {
        let _ = (column, key);
        if column == "author_id" {
            if let ::core::result::Result::Ok(v) = ::oxalchemy::orm::__private::key_from_i64::<
                i64,
            >(key) {
                self.author_id = v;
                return true;
            }
        }
        if column == "group_id" {
            if let ::core::result::Result::Ok(v) = ::oxalchemy::orm::__private::key_from_i64::<
                Option<i64>,
            >(key) {
                self.group_id = v;
                return true;
            }
        }
        false
    }
}
impl Post {
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const id: ::oxalchemy::orm::TypedColumn<Self, i32> = ::oxalchemy::orm::TypedColumn::new(
        "id",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const author_id: ::oxalchemy::orm::TypedColumn<Self, i64> = ::oxalchemy::orm::TypedColumn::new(
        "author_id",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const group_id: ::oxalchemy::orm::TypedColumn<Self, Option<i64>> = ::oxalchemy::orm::TypedColumn::new(
        "group_id",
    );
    #[allow(
        non_upper_case_globals,
        reason = "column constants are spelled like the fields: `User::username`"
    )]
    pub const r#type: ::oxalchemy::orm::TypedColumn<Self, String> = ::oxalchemy::orm::TypedColumn::new(
        "type",
    );
    #[allow(
        non_upper_case_globals,
        reason = "relationship constants are spelled like the fields: `User::posts`"
    )]
    pub const author: ::oxalchemy::orm::Relationship<Self, User> = ::oxalchemy::orm::Relationship::new(
        "author",
        ::oxalchemy::orm::RelationshipSlot::One(|
            m: &mut Self,
        | -> &mut ::oxalchemy::orm::One<User> { &mut m.author }),
    );
    #[allow(
        non_upper_case_globals,
        reason = "relationship constants are spelled like the fields: `User::posts`"
    )]
    pub const tags: ::oxalchemy::orm::Relationship<Self, Tag> = ::oxalchemy::orm::Relationship::new(
        "tags",
        ::oxalchemy::orm::RelationshipSlot::Many(|
            m: &mut Self,
        | -> &mut ::oxalchemy::orm::Many<Tag> { &mut m.tags }),
    );
    #[allow(
        non_upper_case_globals,
        reason = "relationship constants are spelled like the fields: `User::posts`"
    )]
    pub const comments: ::oxalchemy::orm::Relationship<Self, Comment> = ::oxalchemy::orm::Relationship::new(
        "comments",
        ::oxalchemy::orm::RelationshipSlot::Many(|
            m: &mut Self,
        | -> &mut ::oxalchemy::orm::Many<Comment> { &mut m.comments }),
    );
}
impl ::oxalchemy::orm::__private::FromRow for Post {
    #[inline]
    fn from_row(
        row: &::oxalchemy::orm::__private::Row<'_>,
    ) -> ::core::result::Result<Self, ::oxalchemy::orm::__private::Error> {
        ::oxalchemy::orm::__private::read_model(row)
    }
}
impl ::oxalchemy::orm::Model for Post {
    const TABLE: &'static str = "posts";
    const NAME: &'static str = "Post";
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
        let mut t = ::oxalchemy::orm::__private::Table::new("posts");
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
        ::std::vec![::std::sync::Arc::new(::oxalchemy::orm::joinedload(Self::author))]
    }
    fn relationships() -> &'static [::oxalchemy::orm::RelationshipDef] {
        static RELATIONSHIPS: [::oxalchemy::orm::RelationshipDef; 3usize] = [
            ::oxalchemy::orm::RelationshipDef {
                name: "author",
                kind: ::oxalchemy::orm::RelationshipKind::ManyToOne,
                target: <User as ::oxalchemy::orm::Model>::TABLE,
                back_populates: ::core::option::Option::Some("posts"),
                secondary: ::core::option::Option::None,
                foreign_key: ::core::option::Option::None,
                order_by: ::core::option::Option::None,
                target_table: <User as ::oxalchemy::orm::Model>::table,
                cascade_delete: false,
                delete_orphan: false,
                passive_deletes: false,
            },
            ::oxalchemy::orm::RelationshipDef {
                name: "tags",
                kind: ::oxalchemy::orm::RelationshipKind::ManyToMany,
                target: <Tag as ::oxalchemy::orm::Model>::TABLE,
                back_populates: ::core::option::Option::None,
                secondary: ::core::option::Option::Some("post_tags"),
                foreign_key: ::core::option::Option::None,
                order_by: ::core::option::Option::None,
                target_table: <Tag as ::oxalchemy::orm::Model>::table,
                cascade_delete: false,
                delete_orphan: false,
                passive_deletes: true,
            },
            ::oxalchemy::orm::RelationshipDef {
                name: "comments",
                kind: ::oxalchemy::orm::RelationshipKind::OneToMany,
                target: <Comment as ::oxalchemy::orm::Model>::TABLE,
                back_populates: ::core::option::Option::None,
                secondary: ::core::option::Option::None,
                foreign_key: ::core::option::Option::None,
                order_by: ::core::option::Option::None,
                target_table: <Comment as ::oxalchemy::orm::Model>::table,
                cascade_delete: false,
                delete_orphan: false,
                passive_deletes: false,
            },
        ];
        &RELATIONSHIPS
    }
    fn validate(
        &self,
    ) -> ::core::result::Result<(), ::oxalchemy::orm::__private::ValidationError> {
        <Self as ::oxalchemy::orm::Fields>::validate_fields(self, Self::NAME)?;
        ::core::result::Result::Ok(())
    }
    fn take_assigned(&mut self, out: &mut ::oxalchemy::orm::__private::Assigned) {
        ::oxalchemy::orm::__private::take_one(&mut self.author, "author", out);
        ::oxalchemy::orm::__private::take_many(&mut self.tags, "tags", out);
        ::oxalchemy::orm::__private::take_many(&mut self.comments, "comments", out);
    }
    fn fill_relationship(
        &mut self,
        name: &str,
        fill: &mut ::oxalchemy::orm::__private::Fill,
    ) {
        match name {
            "author" => ::oxalchemy::orm::__private::fill_one(&mut self.author, fill),
            "tags" => ::oxalchemy::orm::__private::fill_many(&mut self.tags, fill),
            "comments" => {
                ::oxalchemy::orm::__private::fill_many(&mut self.comments, fill)
            }
            _ => {}
        }
    }
    fn take_relationships(
        &mut self,
    ) -> ::std::boxed::Box<dyn ::core::any::Any + ::core::marker::Send> {
        ::std::boxed::Box::new((
            ::core::mem::replace(
                &mut self.author,
                <One<User>>::unloaded_field("Post::author"),
            ),
            ::core::mem::replace(
                &mut self.tags,
                <Many<Tag>>::unloaded_field("Post::tags"),
            ),
            ::core::mem::replace(
                &mut self.comments,
                <Many<Comment>>::unloaded_field("Post::comments"),
            ),
        ))
    }
    fn restore_relationships(
        &mut self,
        saved: ::std::boxed::Box<dyn ::core::any::Any + ::core::marker::Send>,
    ) {
        if let ::core::result::Result::Ok(saved) = saved
            .downcast::<(One<User>, Many<Tag>, Many<Comment>)>()
        {
            let (author, tags, comments) = *saved;
            self.author = author;
            self.tags = tags;
            self.comments = comments;
        }
    }
}
