//! Writing single models (and batches) without a session: defaults and validators run first,
//! generated keys and server defaults are read back with RETURNING (on a server without it,
//! MySQL, the key from `LAST_INSERT_ID()` and then the row selected by its key). Each write
//! invalidates the process-local cache's reads of the tables it changed (see [`crate::cache`]).

use oxalchemy_core::expr::{and_, col, Ident};
use oxalchemy_core::query::{delete as delete_stmt, insert as insert_stmt, update as update_stmt};
use oxalchemy_core::{Expr, IntoExpr, Statement, Value};
use oxalchemy_engine::{Connection, Error};

use crate::errors::mapping;
use crate::model::Model;
use crate::query::Exec;

fn returning_all<M: Model>() -> impl Iterator<Item = Expr> {
    M::columns().iter().map(|c| col(Ident::new_static(c)))
}

/// `k1 = v1 AND k2 = v2 …` for a primary key (shared with the session).
pub(crate) fn key_filter(pk: &[(&'static str, Value)]) -> Expr {
    and_(
        pk.iter()
            .map(|(c, v)| col(Ident::new_static(c)).eq(v.clone())),
    )
}

/// Inserts `obj` after applying its defaults and validators; `obj` is then replaced by the
/// stored row (generated key, server defaults).
pub async fn insert<'e, M: Model>(ex: impl Into<Exec<'e>>, obj: &mut M) -> Result<(), Error> {
    crate::defaults::with_one_now(|| obj.apply_defaults());
    obj.validate()?;
    let mut values = Vec::with_capacity(M::columns().len());
    obj.insert_values(&mut values);
    let (columns, row): (Vec<&'static str>, Vec<Value>) = values.into_iter().unzip();
    let mut held = None;
    let conn = ex.into().connection(&mut held).await?;
    if !conn.dialect().insert_returning() {
        let done = insert_then_select(conn, obj, columns, row).await;
        // Invalidated whether or not the read-back worked: the INSERT may have run.
        crate::cache::invalidate_tables([M::TABLE]);
        return done;
    }
    let stmt = insert_stmt(oxalchemy_core::table(M::TABLE))
        .columns(columns.into_iter().map(Ident::new_static))
        .values(row.into_iter().map(IntoExpr::into_expr))
        .returning(returning_all::<M>());
    let mut stored: Vec<M> = conn.query(Statement::Insert(stmt)).await?;
    crate::cache::invalidate_tables([M::TABLE]);
    *obj = stored.pop().ok_or(Error::NotFound)?;
    Ok(())
}

/// [`insert`] on a server without `INSERT … RETURNING` (MySQL; MariaDB before 10.5 or with
/// `returning=off`): the plain INSERT, the generated key (if the database makes one) from
/// `LAST_INSERT_ID()` (exact for a single row under every AUTO_INCREMENT lock mode), then
/// the stored row (server defaults included) selected by its key on the same connection.
async fn insert_then_select<M: Model>(
    conn: &mut Connection,
    obj: &mut M,
    columns: Vec<&'static str>,
    row: Vec<Value>,
) -> Result<(), Error> {
    let generated = M::generated_key_column().filter(|k| !columns.contains(k));
    let stmt = Statement::Insert(
        insert_stmt(oxalchemy_core::table(M::TABLE))
            .columns(columns.into_iter().map(Ident::new_static))
            .values(row.into_iter().map(IntoExpr::into_expr)),
    );
    if generated.is_some() {
        let compiled = oxalchemy_core::compile(conn.dialect(), &stmt)?;
        let keys = conn
            .insert_returning_rowids(&compiled, M::TABLE, 1)
            .await?
            .unwrap_or_default();
        let key = keys.first().copied().ok_or_else(|| Error::InsertRowCount {
            table: M::TABLE.to_owned(),
            sent: 1,
            returned: 0,
        })?;
        obj.set_generated_key(key);
    } else {
        conn.execute(stmt).await?;
    }
    let mut pk = Vec::new();
    obj.primary_key_values(&mut pk);
    let select = oxalchemy_core::select(returning_all::<M>())
        .from(oxalchemy_core::table(M::TABLE))
        .filter(key_filter(&pk));
    let mut stored: Vec<M> = conn.query(Statement::Select(select)).await?;
    *obj = stored.pop().ok_or(Error::NotFound)?;
    Ok(())
}

/// Inserts many objects with multi-row INSERTs (chunked to the dialect's bind limit) inside
/// one transaction (a savepoint when one is open): all are written or none. Every object is
/// validated before anything is written, then replaced by its stored row. Objects must
/// agree on which columns they set (all or none with a generated key).
pub async fn insert_many<M: Model>(conn: &mut Connection, objs: &mut [M]) -> Result<(), Error> {
    if objs.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::with_capacity(objs.len());
    let mut columns: Option<Vec<&'static str>> = None;
    // One instant for every `default = now` of the batch, as a session flush has.
    crate::defaults::with_one_now(|| objs.iter_mut().for_each(M::apply_defaults));
    for obj in objs.iter_mut() {
        obj.validate()?;
        let mut values = Vec::with_capacity(M::columns().len());
        obj.insert_values(&mut values);
        let (cols, row): (Vec<&'static str>, Vec<Value>) = values.into_iter().unzip();
        match &columns {
            None => columns = Some(cols),
            Some(c) if *c == cols => {}
            Some(_) => {
                return Err(mapping(format!(
                    "insert_many::<{}>: objects set different columns (some have a generated \
                     key, some do not); insert them in separate calls",
                    M::NAME
                )))
            }
        }
        rows.push(row);
    }
    let columns = columns.unwrap_or_default();
    if !conn.dialect().insert_returning() {
        // No RETURNING (MySQL): each row as `insert` writes it (its key from
        // LAST_INSERT_ID(), then its stored row by key), all in one transaction.
        let mut tx = conn.begin().await?;
        for (obj, row) in objs.iter_mut().zip(rows) {
            insert_then_select(&mut tx, obj, columns.clone(), row).await?;
        }
        tx.commit().await?;
        crate::cache::invalidate_tables([M::TABLE]);
        return Ok(());
    }
    let max_binds = conn.dialect().max_binds();
    let per_row = columns.len().max(1);
    let rows_per_chunk = (max_binds / per_row).max(1);
    // One executor, several statements: collect the statements first.
    let mut stmts = Vec::new();
    for chunk in rows.chunks(rows_per_chunk) {
        let mut stmt = insert_stmt(oxalchemy_core::table(M::TABLE))
            .columns(columns.iter().map(|c| Ident::new_static(c)))
            .returning(returning_all::<M>());
        for row in chunk {
            stmt = stmt.values(row.iter().cloned().map(IntoExpr::into_expr));
        }
        stmts.push(stmt);
    }
    let mut stored: Vec<M> = Vec::with_capacity(objs.len());
    let mut tx = conn.begin().await?;
    for stmt in stmts {
        stored.extend(tx.query::<M>(Statement::Insert(stmt)).await?);
    }
    if stored.len() != objs.len() {
        return Err(Error::InsertRowCount {
            table: M::TABLE.to_owned(),
            sent: objs.len(),
            returned: stored.len(),
        });
    }
    tx.commit().await?;
    crate::cache::invalidate_tables([M::TABLE]);
    for (obj, row) in objs.iter_mut().zip(stored) {
        *obj = row;
    }
    Ok(())
}

/// Writes every non-key column of `obj` (after onupdate values and validators) to the row
/// with its primary key; `obj` is replaced by the stored row. No matching row is
/// [`Error::NotFound`].
pub async fn update<'e, M: Model>(ex: impl Into<Exec<'e>>, obj: &mut M) -> Result<(), Error> {
    crate::defaults::with_one_now(|| obj.apply_onupdate());
    obj.validate()?;
    let mut values = Vec::new();
    obj.update_values(&mut values);
    let mut pk = Vec::new();
    obj.primary_key_values(&mut pk);
    let mut stmt = update_stmt(oxalchemy_core::table(M::TABLE));
    for (c, v) in values {
        stmt = stmt.set(Ident::new_static(c), v);
    }
    let stmt = stmt.filter(key_filter(&pk));
    let mut held = None;
    let conn = ex.into().connection(&mut held).await?;
    let mut stored: Vec<M> = if conn.dialect().update_returning() {
        conn.query(Statement::Update(stmt.returning(returning_all::<M>())))
            .await?
    } else {
        // No UPDATE … RETURNING (MySQL, MariaDB): the row is read back by its key.
        if conn.execute(Statement::Update(stmt)).await? == 0 {
            return Err(Error::NotFound);
        }
        let select = oxalchemy_core::select(returning_all::<M>())
            .from(oxalchemy_core::table(M::TABLE))
            .filter(key_filter(&pk));
        conn.query(Statement::Select(select)).await?
    };
    crate::cache::invalidate_tables([M::TABLE]);
    *obj = stored.pop().ok_or(Error::NotFound)?;
    Ok(())
}

/// Deletes the row with `obj`'s primary key. No matching row is [`Error::NotFound`].
pub async fn delete<'e, M: Model>(ex: impl Into<Exec<'e>>, obj: &M) -> Result<(), Error> {
    let mut pk = Vec::new();
    obj.primary_key_values(&mut pk);
    let n = ex
        .into()
        .run(Statement::Delete(
            delete_stmt(oxalchemy_core::table(M::TABLE)).filter(key_filter(&pk)),
        ))
        .await?;
    crate::cache::invalidate_tables(crate::cache::delete_tables::<M>());
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}
