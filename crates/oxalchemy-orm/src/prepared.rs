//! Statements compiled once and run many times: [`Prepared`] queries for hot loops
//! (`query::<User>().filter(User::id.eq(param())).prepare()`), and [`get`], a model's row by
//! primary key through SQL compiled once per model and dialect.
//!
//! Both skip what an ordinary query does on every call: building the `Select` tree, and
//! walking it for the compiled-statement cache. Each keeps its SQL per dialect (a prepared
//! query may run on several databases), so one execution is: look the SQL up, fill its
//! parameter slots, run it.

use std::any::TypeId;
use std::collections::HashMap;

use rustc_hash::FxBuildHasher;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use oxalchemy_core::dialect::{compile_prepared, Params, PreparedSql};
use oxalchemy_core::expr::Ident;
use oxalchemy_core::{and_, param, Dialect, Expr, Select, Value};
use oxalchemy_engine::{Connection, Error};

use crate::errors::mapping;
use crate::model::Model;
use crate::query::{at_most_one, fetch_compiled, query, Exec, Query};

/// Which rows a terminal call asks for: its LIMIT is part of the compiled SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rows {
    /// As the query says.
    All,
    /// LIMIT 1
    First,
    /// LIMIT 2, to tell one row from several.
    AtMostOne,
}

/// A model query compiled once per dialect and run with new [`param`] values each time:
/// `query::<User>().filter(User::id.eq(param())).prepare()`, then `q.one(&db, 5)`.
///
/// Parameters are numbered in the order their placeholders appear in the SQL; pass one
/// value, or a tuple of up to four, per execution. Loader options apply as in the query.
/// Share it (`Arc`, a `static` `LazyLock`) across tasks: it is `Send + Sync`.
pub struct Prepared<M> {
    query: Query<M>,
    /// The SQL per dialect (by name) and terminal call.
    compiled: Mutex<Vec<(&'static str, Rows, Arc<PreparedSql>)>>,
}

impl<M> std::fmt::Debug for Prepared<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl<M: Model> Query<M> {
    /// This query compiled once per dialect (at its first execution there) and run with new
    /// [`param`] values each time: for hot loops. See [`Prepared`].
    pub fn prepare(self) -> Prepared<M> {
        Prepared {
            query: self,
            compiled: Mutex::new(Vec::new()),
        }
    }
}

impl<M: Model> Prepared<M> {
    /// The SQL for `dialect` and `rows`, compiled at the first call.
    fn sql(&self, dialect: &dyn Dialect, rows: Rows) -> Result<Arc<PreparedSql>, Error> {
        let name = dialect.name();
        let mut compiled = self.compiled.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, _, sql)) = compiled.iter().find(|(d, r, _)| *d == name && *r == rows) {
            return Ok(sql.clone());
        }
        let mut select = self.query.joined_select()?;
        match rows {
            Rows::All => {}
            Rows::First => select = select.limit(1),
            Rows::AtMostOne => select = select.limit(2),
        }
        let sql = Arc::new(compile_prepared(dialect, &select.into())?);
        compiled.push((name, rows, sql.clone()));
        Ok(sql)
    }

    async fn run(&self, ex: Exec<'_>, rows: Rows, params: Vec<Value>) -> Result<Vec<M>, Error> {
        let mut held = None;
        let conn = ex.connection(&mut held).await?;
        let dialect = conn.dialect();
        let (sql, binds) = self.sql(dialect, rows)?.bind_shared(dialect, params)?;
        if self.query.loaders().is_empty() {
            // No loader needs the statement again: run the shared SQL as it is.
            return conn.query_read_sql(&sql, &binds).await;
        }
        let c = oxalchemy_core::Compiled {
            sql: sql.as_ref().to_owned(),
            binds,
        };
        let mut log = Vec::new();
        fetch_compiled(self.query.loaders(), &c, conn, &mut log).await
    }

    /// The SQL this query sends on `dialect` (from [`Prepared::all`]), placeholders and all.
    pub fn sql_for(&self, dialect: &dyn Dialect) -> Result<String, Error> {
        Ok(self.sql(dialect, Rows::All)?.sql().to_owned())
    }

    /// Every matching row, with `params` for the placeholders.
    pub async fn all<'e>(
        &self,
        ex: impl Into<Exec<'e>>,
        params: impl Params,
    ) -> Result<Vec<M>, Error> {
        self.run(ex.into(), Rows::All, params.into_values()).await
    }

    /// The first row (LIMIT 1), if any.
    pub async fn first<'e>(
        &self,
        ex: impl Into<Exec<'e>>,
        params: impl Params,
    ) -> Result<Option<M>, Error> {
        Ok(self
            .run(ex.into(), Rows::First, params.into_values())
            .await?
            .pop())
    }

    /// At most one row, else [`Error::MultipleResults`]. Fetches at most two.
    pub async fn one_or_none<'e>(
        &self,
        ex: impl Into<Exec<'e>>,
        params: impl Params,
    ) -> Result<Option<M>, Error> {
        at_most_one(
            self.run(ex.into(), Rows::AtMostOne, params.into_values())
                .await?,
        )
    }

    /// Exactly one row, else [`Error::NotFound`] / [`Error::MultipleResults`].
    pub async fn one<'e>(&self, ex: impl Into<Exec<'e>>, params: impl Params) -> Result<M, Error> {
        self.one_or_none(ex, params).await?.ok_or(Error::NotFound)
    }
}

/// `SELECT <M's columns> FROM <M's table> WHERE <key columns> = <params>`, compiled once per
/// model and dialect for the life of the process.
pub(crate) fn get_sql<M: Model>(dialect: &dyn Dialect) -> Result<Arc<PreparedSql>, Error> {
    // Hashed with FxHash: the keys are our own (a type id and a dialect's name), and this
    // lookup runs on every `get`.
    type Map = RwLock<HashMap<(TypeId, &'static str), Arc<PreparedSql>, FxBuildHasher>>;
    static SQL: OnceLock<Map> = OnceLock::new();
    let map = SQL.get_or_init(Default::default);
    let key = (TypeId::of::<M>(), dialect.name());
    if let Some(sql) = map.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(sql.clone());
    }
    let table = Ident::new_static(M::TABLE);
    let cond = and_(M::primary_key_columns().iter().map(|c| {
        Expr::Column {
            table: Some(table.clone()),
            name: Ident::new_static(c),
        }
        .eq(param())
    }));
    let select: Select = query::<M>().filter(cond).statement();
    let sql = Arc::new(compile_prepared(dialect, &select.into())?);
    map.write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, sql.clone());
    Ok(sql)
}

/// The key values for `M`, checked against its primary key's column count.
pub(crate) fn key_values<M: Model>(key: Vec<Value>) -> Result<Vec<Value>, Error> {
    let columns = M::primary_key_columns();
    if key.len() != columns.len() {
        return Err(mapping(format!(
            "{} has a {}-column primary key ({}); {} values were given",
            M::NAME,
            columns.len(),
            columns.join(", "),
            key.len()
        )));
    }
    Ok(key)
}

/// The `M` row with primary key `key` (one value, or a tuple in key-column order for a
/// composite key), or `None`: `orm::get::<User>(&db, 5)`. Its SQL is compiled once per model
/// and dialect; relationships declared eager are loaded as by [`query`].
pub async fn get<'e, M: Model>(
    ex: impl Into<Exec<'e>>,
    key: impl Params,
) -> Result<Option<M>, Error> {
    let key = key_values::<M>(key.into_values())?;
    let mut held = None;
    let conn: &mut Connection = ex.into().connection(&mut held).await?;
    let dialect = conn.dialect();
    let (sql, binds) = get_sql::<M>(dialect)?.bind_shared(dialect, key)?;
    if M::default_loaders().is_empty() {
        // A key matches at most one row: read the first, as the raw driver's `query_row`.
        return conn.query_first_read_sql(&sql, &binds).await;
    }
    // Eager relationships (joined ones change the SQL): the ordinary query.
    let cond = and_(M::primary_key_columns().iter().zip(binds).map(|(col, v)| {
        Expr::Column {
            table: Some(Ident::new_static(M::TABLE)),
            name: Ident::new_static(col),
        }
        .eq(v)
    }));
    Ok(query::<M>().filter(cond).all(conn).await?.pop())
}
