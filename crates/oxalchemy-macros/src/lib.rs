//! oxalchemy's derives: `#[derive(Model)]`, `#[derive(Mixin)]`, `#[derive(DbEnum)]`,
//! `#[derive(DbType)]` (transparent newtypes) and `#[derive(FromRow)]` (query result structs),
//! and the `#[oxalchemy::test]` attribute.
//!
//! Use them through the `oxalchemy` crate (`use oxalchemy::prelude::*;`): the generated code
//! names `::oxalchemy::orm`, so this crate is not meant to be a direct dependency.
//!
//! The derives stay thin: they read attributes and emit calls into `oxalchemy::orm`, so
//! errors point at the user's attribute and the generated code is small. What each derive
//! generates for representative inputs is committed under `tests/expand/` (expansion
//! snapshots, checked by this crate's tests).
//!
//! Layout, in the order the input flows: `attrs` parses attributes into typed values,
//! `field` decides what each field is, `model` reads the struct and its table; then one
//! module per generated impl (`fields_impl`, `columns`, `relationships`, `from_row`,
//! `model_impl`, `mixin`), and `db_enum` for enums.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::{parse_macro_input, DeriveInput};

mod attrs;
mod columns;
mod db_enum;
mod db_type;
mod dto;
mod field;
mod fields_impl;
mod from_row;
mod mixin;
mod model;
mod model_impl;
mod paths;
mod relationships;
mod test_attr;

#[cfg(test)]
mod expand_tests;

use field::DeriveKind;
use model::{StructModel, TableModel};
use relationships::Relationships;

/// Maps a struct to a table.
///
/// ```
/// use chrono::{DateTime, Utc};
/// use oxalchemy::prelude::*;
///
/// #[derive(Mixin, Clone, Debug, Default)]
/// pub struct Timestamps {
///     #[column(default = now)]                 pub created_at: DateTime<Utc>,
///     #[column(default = now, onupdate = now)] pub updated_at: DateTime<Utc>,
/// }
///
/// #[derive(Model, Clone, Debug, Default)]
/// #[model(table = "users", index(name = "idx_users_username_email", columns(username, email)))]
/// pub struct User {
///     #[column(primary_key)]                   pub id: i64,
///     #[column(length = 50, unique)]           pub username: String,
///     #[column(length = 255, unique)]          pub email: String,
///     #[column(json, server_default = "'{}'")] pub settings: serde_json::Value,
///     #[model(flatten)]                        pub ts: Timestamps,
///     #[relationship(back_populates = "author")] pub posts: Many<Post>,
/// }
///
/// #[derive(Model, Clone, Debug, Default)]
/// #[model(table = "posts")]
/// pub struct Post {
///     #[column(primary_key)]                                   pub id: i64,
///     #[column(foreign_key = "users.id", on_delete = "cascade")] pub author_id: i64,
///     #[relationship(back_populates = "posts")]                pub author: One<User>,
/// }
///
/// // The generated constants make typed queries.
/// let _by_name = User::username.eq("ada".to_string());
/// assert_eq!(<User as oxalchemy::orm::Model>::TABLE, "users");
/// ```
///
/// The struct must have named fields, no generic parameters and a primary key (its own or a
/// flattened mixin's). Fields that are not stored are rebuilt with `Default` when a row is
/// read; a field is "unset" (for `default`, generated keys and `version`) while it equals
/// its type's `Default`.
///
/// # What it generates
///
/// - `impl Fields`: column definitions, row decoding, INSERT/UPDATE values, defaults,
///   onupdate, per-field validators, the version counter, database-generated keys.
/// - `impl Model`: table name, the `Table` definition, primary key, relationships, eager
///   loaders, the whole-object validator.
/// - `impl FromRow`, so `Database::fetch_all::<User>(…)` works.
/// - Constants for typed queries: `User::username: TypedColumn<User, String>` per column
///   and `User::posts: Relationship<User, Post>` per relationship.
/// - `impl Flattens<Mixin>` per flattened mixin, which gives the model the mixin's
///   column constants (`User::created_at`, with `TimestampsColumns` in scope).
///
/// # Struct attributes: `#[model(…)]`
///
/// | key | meaning |
/// | --- | --- |
/// | `table = "name"` | the table name; default: the struct name in snake case (`BlogPost` → `blog_post`) |
/// | `index(columns(a, b), name = "…", unique)` | an index over fields `a`, `b`; `name` and `unique` optional |
/// | `unique(columns(a, b), name = "…")` | a unique constraint; `name` optional |
/// | `check(name = "…", sql = "…")` | a CHECK constraint |
/// | `validate = path` | a `fn(&Self) -> Result<(), impl ToString>` run by `Model::validate` after the field validators |
/// | `hooks` | the model implements `oxalchemy::orm::Hooks` (`before_insert`, `after_update`, …), which the session calls at flush |
///
/// Several `#[model(…)]` attributes accumulate. `columns(…)` names fields; a renamed column
/// is found by its field name.
///
/// # Field attributes: `#[column(…)]`
///
/// Every field that is not flattened, skipped or a relationship is a column.
///
/// | key | meaning |
/// | --- | --- |
/// | `primary_key` | part of the primary key; a lone integer key left at 0 is generated by the database |
/// | `autoincrement = false` | never let the database generate this key |
/// | `length = n` | `VARCHAR(n)` for text |
/// | `unique`, `index` | a single-column unique constraint / index |
/// | `default = expr` | set on insert while the field is unset: `now` (the current time), a lower-case function name (called), or a value (converted with `Into`) |
/// | `server_default = "sql"` | the column's SQL `DEFAULT` |
/// | `comment = "text"` | the column's comment (PostgreSQL; compared by autogenerate) |
/// | `collation = "name"` | the column's `COLLATE` (`"C"`, `"NOCASE"`, …) |
/// | `computed = "sql"` | a generated column (`GENERATED ALWAYS AS (sql) STORED`): read, never written by INSERT or UPDATE; the field keeps its value after a flush until the row is loaded again |
/// | `persisted = false` | with `computed`: `VIRTUAL` instead of `STORED` (SQLite; PostgreSQL 18+) |
/// | `onupdate = expr` | set on every update; same forms as `default` |
/// | `foreign_key = "table.column"` | a foreign key |
/// | `on_delete = "…"`, `on_update = "…"` | the foreign key's action: `"cascade"`, `"set null"`, `"set default"`, `"restrict"`, `"no action"` |
/// | `json`, `jsonb` | store any serde type as JSON (`jsonb`: binary JSON on PostgreSQL) |
/// | `name = "column"` | the column's name; default: the field's name (without `r#`) |
/// | `validate = path` | a `fn(&T) -> Result<(), impl ToString>` run by `Model::validate` |
/// | `version` | an integer optimistic-concurrency counter: starts at 1, checked and bumped by every UPDATE |
/// | `skip` | not a column (as `#[model(skip)]`) |
///
/// # Field attributes: `#[model(…)]`
///
/// | key | meaning |
/// | --- | --- |
/// | `flatten` | the field's type is a `#[derive(Mixin)]` whose columns are embedded, before the model's own |
/// | `skip` | not stored; `Default` when a row is read |
///
/// # Field attributes: `#[relationship(…)]`
///
/// On a `Many<T>` field (one-to-many, or many-to-many with `secondary`) or a `One<T>` field
/// (many-to-one: this table holds the foreign key). A `Many<T>` / `One<T>` field without the
/// attribute is a relationship with the defaults.
///
/// | key | meaning |
/// | --- | --- |
/// | `back_populates = "field"` | the reverse relationship on `T`; kept in sync by the session |
/// | `secondary = "table"` | the association table of a many-to-many relationship (`Many<T>` only) |
/// | `foreign_key = "column"` | the foreign-key column, when it cannot be inferred |
/// | `order_by = "column"` | the column of `T` a collection is ordered by |
/// | `cascade = "…"` | a list of `all`, `save-update`, `merge`, `delete`, `delete-orphan`: `all`/`delete` delete children with their parent, `delete-orphan` deletes a child unlinked from its parent |
/// | `passive_deletes` | leave child rows to the database's `ON DELETE CASCADE` |
/// | `lazy = "…"` | `"raise"` (default: loaded only when a query asks; reading it unloaded is an error, never a query), `"selectin"` or `"joined"` (loaded by every query of the model) |
#[proc_macro_derive(Model, attributes(model, column, relationship))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_model(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Reusable columns, embedded in models with `#[model(flatten)]`.
///
/// ```
/// use chrono::{DateTime, Utc};
/// use oxalchemy::prelude::*;
///
/// #[derive(Mixin, Clone, Debug, Default)]
/// pub struct Timestamps {
///     #[column(default = now)]                 pub created_at: DateTime<Utc>,
///     #[column(default = now, onupdate = now)] pub updated_at: DateTime<Utc>,
/// }
///
/// #[derive(Model, Clone, Debug, Default)]
/// pub struct Note {
///     #[column(primary_key)] pub id: i64,
///     #[model(flatten)]      pub ts: Timestamps,
/// }
///
/// // The mixin's columns, on the model, with the trait in scope.
/// let _recent = Note::created_at.is_not_null();
/// assert_eq!(<Note as oxalchemy::orm::Model>::columns(), ["created_at", "updated_at", "id"]);
/// ```
///
/// A mixin's fields take the same `#[column(…)]` and `#[model(flatten)]` / `#[model(skip)]`
/// attributes as a model's (see [`macro@Model`]); mixins can flatten mixins.
/// A mixin has no table of its own and no relationships.
///
/// # What it generates
///
/// - `impl Fields`, which a flattening model's `Fields` delegates to.
/// - A trait `<Name>Columns` (here `TimestampsColumns`) with one `TypedColumn` constant per
///   column, implemented for every model that flattens the mixin: with the trait in scope,
///   `User::created_at` works as a model's own column does.
#[proc_macro_derive(Mixin, attributes(model, column, relationship))]
pub fn derive_mixin(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_mixin(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A fieldless enum stored as text, or as a PostgreSQL enum type.
///
/// ```
/// use oxalchemy::prelude::*;
///
/// #[derive(DbEnum, Clone, Copy, Debug, Default, PartialEq)]
/// #[db_enum(name = "user_status")]
/// pub enum Status {
///     #[default]
///     #[db_enum(rename = "active")]
///     Active,
///     Suspended,
/// }
///
/// assert_eq!(Status::Active.as_str(), "active");
/// assert_eq!(Status::from_db_str("Suspended"), Some(Status::Suspended));
/// ```
///
/// The enum can then be a column type (`pub status: Status`, or `Option<Status>`) and be
/// compared in typed queries (`User::status.eq(Status::Active)`).
///
/// # Enum attributes: `#[db_enum(…)]`
///
/// | key | meaning |
/// | --- | --- |
/// | `name = "type"` | the database type name (PostgreSQL type, or CHECK label); default: the enum name in snake case |
/// | `native` | a PostgreSQL `CREATE TYPE … AS ENUM`; without it, text with a CHECK of the variants |
///
/// # Variant attributes: `#[db_enum(…)]`
///
/// | key | meaning |
/// | --- | --- |
/// | `rename = "text"` | the stored text; default: the variant's name |
///
/// # What it generates
///
/// `impl DbEnum` (type name, variants, text conversions), the value conversions (`ToValue`,
/// `From<Enum> for Value`, `FromSql`), `SqlField` (the column type) and `Operand` for the
/// enum and `Option` of it.
#[proc_macro_derive(DbEnum, attributes(db_enum))]
pub fn derive_db_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_db_enum(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A single-field struct stored exactly as the type it wraps (a transparent newtype).
///
/// ```
/// use oxalchemy::prelude::*;
///
/// #[derive(DbType, Clone, Debug, Default, PartialEq)]
/// pub struct Email(String);
///
/// #[derive(Model, Clone, Debug, Default, PartialEq)]
/// #[model(table = "accounts")]
/// pub struct Account {
///     #[column(primary_key)]
///     pub id: i64,
///     #[column(length = 255, unique)]
///     pub email: Email,
///     pub backup: Option<Email>,
/// }
///
/// // Compared with its own type; a `String` wrapper also gets like / ilike / contains.
/// let _ = Account::email.eq(Email("ann@example.com".into()));
/// let _ = Account::email.ilike("%@example.com");
/// assert_eq!(Value::from(Email("a".into())), Value::Text("a".into()));
/// ```
///
/// The wrapped type can be any column type (`i64`, `Uuid`, `DateTime<Utc>`, …): the column's
/// SQL type, binding and decoding are the inner type's, so autogenerate sees the inner type
/// and a newtype round trips as it. The struct must have exactly one field (tuple or named)
/// and no generic parameters.
///
/// # What it generates
///
/// `ToValue`, `From<Newtype> for Value`, `FromSql` (every driver method delegates to the
/// inner type), `SqlField`, `ArrayElement` (a `Vec` of it is an array column), `Operand` for
/// the newtype and `Option` of it, and `TextType` when the inner type is `String`.
#[proc_macro_derive(DbType)]
pub fn derive_db_type(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    db_type::expand_db_type(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Decodes a plain struct (a DTO) from the rows of any query: joins, aggregates, `text()`.
///
/// ```
/// use oxalchemy::prelude::*;
///
/// #[derive(FromRow, Debug, PartialEq)]
/// struct PostCount {
///     username: String,
///     #[from_row(rename = "n")]
///     posts: i64,
///     last_post: Option<String>,
/// }
///
/// # async fn demo(db: &Database) -> Result<(), Error> {
/// let counts: Vec<PostCount> = db
///     .query(
///         select([col("username"), func::count(col("posts.id")).label("n"), func::max(col("title")).label("last_post")])
///             .from(table("users"))
///             .join(table("posts"), col("users.id").eq(col("posts.author_id")))
///             .group_by([col("username")]),
///     )
///     .await?;
/// # Ok(()) }
/// ```
///
/// A struct with named fields reads each field from the column with the field's name, in
/// any order; a tuple struct reads by position. A column missing from the result is
/// `Error::Decode` naming it and listing the columns the result has; a value of the wrong
/// type names the column and the Rust type. Use `Option<T>` for columns that can be NULL
/// (an outer join, an aggregate over no rows).
///
/// # Field attributes: `#[from_row(…)]`
///
/// | key | meaning |
/// | --- | --- |
/// | `rename = "column"` | read this column instead of the field's name |
/// | `json` | the column holds JSON, decoded into the field's type through serde |
///
/// A model already implements `FromRow` (`#[derive(Model)]` generates it); this derive is
/// for the shapes a query returns that are not models.
#[proc_macro_derive(FromRow, attributes(from_row))]
pub fn derive_from_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    dto::expand_from_row(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// `#[derive(Model)]`: `Fields`, the constants, `Flattens`, `FromRow`, `Model`.
fn expand_model(input: DeriveInput) -> syn::Result<TokenStream2> {
    let model = StructModel::parse(&input, DeriveKind::Model)?;
    let table = TableModel::parse(&input, &model)?;
    let relationships = Relationships::new(&model);
    let name = model.name;
    let fields = fields_impl::fields_impl(&model);
    let key_check = model_impl::key_from_mixins_check(&model);
    let column_consts = columns::column_consts(&model, &quote!(pub));
    let relationship_consts = &relationships.consts;
    let flattens = mixin::flattens_impls(&model);
    let from_row = from_row::from_row_impl(name);
    let model_impl = model_impl::model_impl(&model, &table, &relationships);
    Ok(quote! {
        #fields
        #key_check
        impl #name {
            #(#column_consts)*
            #(#relationship_consts)*
        }
        #(#flattens)*
        #from_row
        #model_impl
    })
}

/// `#[derive(Mixin)]`: `Fields` and the `<Name>Columns` trait.
fn expand_mixin(input: DeriveInput) -> syn::Result<TokenStream2> {
    let mixin = StructModel::parse(&input, DeriveKind::Mixin)?;
    let fields = fields_impl::fields_impl(&mixin);
    let columns_trait = mixin::columns_trait(&mixin);
    Ok(quote! {
        #fields
        #columns_trait
    })
}

/// `#[derive(DbEnum)]`.
fn expand_db_enum(input: DeriveInput) -> syn::Result<TokenStream2> {
    db_enum::expand_db_enum(&input)
}

/// An async test on the backends it names, each a `#[test]` of its own, isolated per test;
/// use it as `#[oxalchemy::test(…)]` (the facade's `testing` feature). The function takes
/// what it tests with — `Session`, `&mut Session`, `&mut Connection`, `&TestContext`,
/// `&TestTransaction`, or `Database` / `&Database` with `fresh` — and returns `()` or
/// `Result<(), E: Debug>`.
///
/// | argument | meaning |
/// | --- | --- |
/// | `sqlite`, `sqlite_file`, `postgres`, `mysql` | the backends (at least one): `my_test::sqlite`, `my_test::postgres`, … (`mysql` needs the `mysql` feature) |
/// | `fresh` | a database (schema, on PostgreSQL) of the test's own with real commits, instead of the rollback fixture |
/// | `schema = path::to::f` | tables created from `f()`, a `Registry` or `MetaData` |
/// | `migrations = path::to::ALL` | the schema built by running these migrations to `head` |
/// | `fixtures("a.sql", seed, …)` | data loaded before the test, in order: SQL files (relative to `Cargo.toml`) and `async fn(&mut Session) -> Result<(), E>` |
///
/// PostgreSQL is `TEST_DATABASE_URL`, else an ephemeral server; without either the test
/// fails saying how to get one, unless `OXALCHEMY_TEST_SKIP_POSTGRES=1` (then it prints that
/// it skipped). MySQL / MariaDB is `TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`),
/// a database per test, skipped only with `OXALCHEMY_TEST_SKIP_MYSQL=1`.
/// What it runs is `oxalchemy::testing::TestCase`; the expansion is pinned in
/// `tests/expand/test_attr.rs`.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    test_attr::expand_or_error(args.into(), item.into()).into()
}
