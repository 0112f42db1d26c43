//! oxalchemy ORM runtime: what `#[derive(Model)]` and `#[derive(Mixin)]` generate calls into,
//! and the unit-of-work [`Session`].
//!
//! * [`Model`] / [`Fields`]: a struct's table metadata, row decoding, column values, defaults,
//!   validation. The derive writes these impls; nothing here is reflection.
//! * [`TypedColumn`]: `User::username`, a column constant whose comparisons are type-checked
//!   (`User::username.eq(5)` does not compile).
//! * [`Query`]: the one model query builder. The executor is chosen at the terminal call:
//!   `query::<User>()….all(&db)` returns owned structs decoded straight from the driver's
//!   rows; `s.query::<User>()….all()` returns [`Handle`]s to a session's objects.
//! * [`Session`]: identity map, change detection, `flush` in foreign-key order, SAVEPOINTs.
//! * Loader options ([`selectinload`], [`joinedload`], [`contains_eager`], [`load`]): fill
//!   [`Many`] / [`One`] relationship fields; an unloaded one reads as [`NotLoaded`], never
//!   as a hidden query.
//! * [`insert`], [`insert_many`], [`update`], [`delete`]: persistence of single objects
//!   without a session, applying defaults, onupdate values and validators first.
//! * [`bulk_insert`], [`bulk_update`], [`bulk_delete`]: many rows (structs or [`Mapping`]s)
//!   in few statements, nothing read back unless asked; on a pool, a connection or a
//!   session. [`copy_in`] / [`copy_in_stream`]: PostgreSQL binary COPY of streamed rows;
//!   [`Query::copy_out`] / [`Query::copy_out_to`]: COPY out, as models or raw bytes.
//!   [`upsert`]: INSERT … ON CONFLICT of model rows.
//! * [`Registry`]: the explicit list of models that makes a `MetaData` (see ARCHITECTURE.md).
//!
//! Mistakes in the mapping (a relationship without a foreign key to follow, a key of the
//! wrong size, …) are `oxalchemy_engine::Error::Mapping`, found before anything is sent.

mod bulk;
mod cache;
mod column;
mod copy_out;
mod errors;
mod field_types;
mod hooks;
mod loading;
mod model;
mod persist;
mod prepared;
mod query;
mod read_session;
mod registry;
mod relation;
mod relation_serde;
mod retry;
mod rows;
mod session;
mod sharding;
mod stream;

pub use bulk::{
    bulk_delete, bulk_insert, bulk_update, copy_in, copy_in_stream, upsert, BulkDelete, BulkExec,
    BulkInsert, BulkInsertKeys, BulkUpdate, Columns, CopyRows, DeleteKey, InsertRow, Mapping,
    UpdateCache, UpdateRow, Upsert, DEFAULT_COPY_THRESHOLD,
};
pub use cache::{
    cached, clear_process_cache, invalidate_tables, process_cache_stats, CachedQuery, CachedSelect,
    ProcessCacheStats, PROCESS_CACHE_CAPACITY,
};
pub use column::{Operand, TextType, TypedColumn};
#[cfg(feature = "ipnetwork")]
pub use field_types::Cidr;
pub use hooks::{HookFns, HookResult, Hooks};
// Plumbing of the loader options: named by `Loader::joined` only, not for users.
#[doc(hidden)]
pub use loading::JoinedLoader;
pub use loading::{contains_eager, joinedload, load, selectinload, JoinedLoad, Loader, SelectIn};
pub use model::{
    DbEnum, Fields, Flattens, Model, RelationshipDef, RelationshipKind, SqlField, ValidationError,
};
pub use persist::{delete, insert, insert_many, update};
pub use prepared::{get, Prepared};
pub use query::{query, Exec, Query, Unbound};
pub use registry::Registry;
pub use rows::{
    entity, ColumnRows, Entity, EntityList, MixedRows, OuterJoined, ReadAs, RowOf, RowsQuery,
    SelectItem, SelectList, Whole,
};
// The item kinds `query_columns` combines, and the models behind a missing-join hint; named
// only by the traits' impls.
#[doc(hidden)]
pub use rows::{kind as row_kind, ItemKind, ModelHint};
// The positions `OuterJoined` infers; named only by its impls.
#[doc(hidden)]
pub use rows::at as row_position;
// `RelationshipSlot` is built by `#[derive(Model)]`'s relationship constants; not for users.
pub use read_session::{ReadSession, ReadSessionExt};
#[doc(hidden)]
pub use relation::RelationshipSlot;
pub use relation::{Many, NotLoaded, One, Relationship};
pub use retry::SessionRetryExt;
pub use session::{
    AddAll, AddOne, Handle, ObjectState, Session, SessionEvents, SessionExt, SessionMaker,
    SessionQuery,
};
pub use sharding::{ShardKey, Sharded, ShardedQueryExt};
pub use stream::STREAM_CHUNK;

pub mod defaults;

/// Used by generated code only; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::model::{
        column_for, json_column_for, read_model, read_present_checked, Layout, SqlField,
    };
    pub use crate::session::{fill_many, fill_one, take_many, take_one, Assigned, Fill};
    pub use oxalchemy_core::schema::{Column, Index, ReferentialAction, Table};
    pub use oxalchemy_core::{Expr, SqlType, ToValue, Value};
    pub use oxalchemy_engine::{
        __impl_transparent_from_sql, ArrayElement, DecodeError, Error, FromRow, FromSql, Row,
        ValidationError,
    };
    pub use serde;
    pub use std::sync::OnceLock;

    /// Column names are `&'static str` in generated code; the key list is built once per
    /// model from them, so this only runs once per key column.
    pub fn leak_name(name: &str) -> &'static str {
        Box::leak(name.to_owned().into_boxed_str())
    }

    /// Converts a generated key into the key field's type (`i64`, `i32`, `i16`).
    pub fn key_from_i64<T: SqlField>(key: i64) -> Result<T, Error> {
        T::from_text(key.to_string()).map_err(|e| Error::Decode {
            column: "generated key".into(),
            rust_type: std::any::type_name::<T>(),
            reason: e.into_message(),
        })
    }

    /// Whether a key column of type `T` is an integer (then 0 means "let the database
    /// generate it"). The plain integers are known by type, a constant after
    /// monomorphisation: asked for every row a bulk insert converts, building and dropping
    /// the column's `SqlType` each time would cost more than the answer.
    pub fn is_integer_key<T: SqlField + 'static>() -> bool {
        use std::any::TypeId;
        let t = TypeId::of::<T>();
        if t == TypeId::of::<i64>() || t == TypeId::of::<i32>() || t == TypeId::of::<i16>() {
            return true;
        }
        T::sql_type(None).is_integer()
    }

    /// The bind value of a field whose row is given up (`Fields::take_insert_values`): text
    /// and bytes are moved out, leaving the field empty; any other type converts as its
    /// `ToValue` does. (The type test is on `T` itself, so it is exact whatever the field's
    /// type was spelled as, and compiles to nothing after monomorphisation.)
    pub fn take_value<T: ToValue + 'static>(v: &mut T) -> Value {
        let any: &mut dyn std::any::Any = &mut *v;
        if let Some(s) = any.downcast_mut::<String>() {
            return Value::Text(std::mem::take(s));
        }
        if let Some(s) = any.downcast_mut::<Option<String>>() {
            return s.take().map_or(Value::Null, Value::Text);
        }
        if let Some(b) = any.downcast_mut::<Vec<u8>>() {
            return Value::Bytes(std::mem::take(b));
        }
        if let Some(b) = any.downcast_mut::<Option<Vec<u8>>>() {
            return b.take().map_or(Value::Null, Value::Bytes);
        }
        v.to_value()
    }

    /// `#[column(json)]` on a type that is not a `serde_json::Value`: encode through serde.
    pub fn json_value<T: serde::Serialize>(v: &T) -> Value {
        match serde_json::to_value(v) {
            Ok(j) => Value::Json(j),
            Err(_) => Value::Null,
        }
    }

    /// Reads the JSON column named `name` into any `DeserializeOwned` type
    /// (`#[derive(FromRow)]`'s `#[from_row(json)]`).
    pub fn json_get_named<T: serde::de::DeserializeOwned>(
        row: &Row<'_>,
        name: &str,
    ) -> Result<T, Error> {
        let j: serde_json::Value = row.get_named(name)?;
        serde_json::from_value(j).map_err(|e| Error::Decode {
            column: name.to_owned(),
            rust_type: std::any::type_name::<T>(),
            reason: e.to_string(),
        })
    }

    /// Reads a JSON column into any `DeserializeOwned` type.
    pub fn json_get<T: serde::de::DeserializeOwned>(row: &Row<'_>, idx: usize) -> Result<T, Error> {
        let j: serde_json::Value = row.get(idx)?;
        serde_json::from_value(j).map_err(|e| Error::Decode {
            column: row.column_name(idx),
            rust_type: std::any::type_name::<T>(),
            reason: e.to_string(),
        })
    }

    /// Whether a field still holds its type's default (then `#[column(default)]` applies and
    /// an autoincrement key is left to the database).
    pub fn is_unset<T: Default + PartialEq>(v: &T) -> bool {
        *v == T::default()
    }

    /// The columns a part of a struct leaves out of an INSERT (`mask`, bit i for its column
    /// i) as bits of the struct's columns, the part's first column being at `at`. Columns
    /// past the 64th are not marked (`Fields::take_insert_row`).
    #[inline]
    pub const fn omitted_at(mask: u64, at: usize) -> u64 {
        if at < 64 {
            mask << at
        } else {
            0
        }
    }
}
