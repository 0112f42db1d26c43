//! [`upsert`]: INSERT … ON CONFLICT of model rows (structs or mappings), the conflict target
//! named by columns or constraint, DO UPDATE of chosen columns (with a WHERE) or DO NOTHING,
//! optionally RETURNING the rows written.

use std::marker::PhantomData;

use oxalchemy_core::expr::{col, excluded, Ident};
use oxalchemy_core::query::ConflictTarget;
use oxalchemy_core::{compile, Expr, IntoExpr, Statement, Value};
use oxalchemy_engine::{Connection, Error};

use super::exec::{finish, log};
use super::insert::InsertRow;
use super::{group_for, BulkExec, Group, Pairs};
use crate::column::TypedColumn;
use crate::errors::mapping;
use crate::model::Model;

/// Columns of `M` named by their constants: one column (`User::email`), a tuple of
/// columns of different types (`(User::name, User::updated_at)`), or an array / `Vec` of
/// columns of one type.
pub trait Columns<M> {
    /// The column names, in order.
    fn names(self) -> Vec<&'static str>;
}

impl<M: Model, T> Columns<M> for TypedColumn<M, T> {
    fn names(self) -> Vec<&'static str> {
        vec![self.name()]
    }
}

impl<M: Model, T, const N: usize> Columns<M> for [TypedColumn<M, T>; N] {
    fn names(self) -> Vec<&'static str> {
        self.iter().map(TypedColumn::name).collect()
    }
}

impl<M: Model, T> Columns<M> for Vec<TypedColumn<M, T>> {
    fn names(self) -> Vec<&'static str> {
        self.iter().map(TypedColumn::name).collect()
    }
}

macro_rules! tuple_columns {
    ($($t:ident $v:ident),+) => {
        impl<M: Model, $($t),+> Columns<M> for ($(TypedColumn<M, $t>,)+) {
            fn names(self) -> Vec<&'static str> {
                let ($($v,)+) = self;
                vec![$($v.name()),+]
            }
        }
    };
}
tuple_columns!(A a);
tuple_columns!(A a, B b);
tuple_columns!(A a, B b, C c);
tuple_columns!(A a, B b, C c, D d);
tuple_columns!(A a, B b, C c, D d, E e);
tuple_columns!(A a, B b, C c, D d, E e, F f);
tuple_columns!(A a, B b, C c, D d, E e, F f, G g);
tuple_columns!(A a, B b, C c, D d, E e, F f, G g, H h);

/// Inserts rows of `M` (structs, their defaults and validators applied, or
/// [`Mapping`](crate::Mapping)s), and decides what a row that conflicts with a unique
/// constraint does: name the constraint with [`on_conflict`](Upsert::on_conflict) (its
/// columns) or [`on_constraint`](Upsert::on_constraint) (its name, PostgreSQL), then
/// [`update`](Upsert::update) columns from the proposed row, [`set`](Upsert::set) them to
/// expressions, or [`do_nothing`](Upsert::do_nothing). Run with
/// [`execute`](Upsert::execute) (rows written) or [`returning`](Upsert::returning) (the
/// rows written, as models). All or nothing, like the bulk calls; on a session, pending
/// work is flushed first and held objects of the upserted rows are re-read.
///
/// ```no_run
/// # use oxalchemy_orm::{upsert, Model, TypedColumn};
/// # async fn f<User: Model + Clone>(db: &oxalchemy_engine::Database, users: Vec<User>,
/// #     email: TypedColumn<User, String>, name: TypedColumn<User, String>,
/// #     karma: TypedColumn<User, i32>) -> Result<(), oxalchemy_engine::Error> {
/// let written = upsert::<User>(users)
///     .on_conflict(email)
///     .update((name, karma))
///     .execute(db)
///     .await?;
/// # let _ = written; Ok(()) }
/// ```
pub fn upsert<M: Model>(rows: impl IntoIterator<Item = impl InsertRow<M>>) -> Upsert<M> {
    Upsert {
        rows: crate::defaults::with_one_now(|| group_rows::<M>(rows)),
        target: None,
        action: Action::Unset,
        where_: None,
        _model: PhantomData,
    }
}

enum Action {
    Unset,
    Nothing,
    Update(Vec<(Ident, Expr)>),
}

/// A prepared [`upsert`].
#[must_use = "an upsert does nothing until `.execute(…)` is awaited"]
pub struct Upsert<M> {
    rows: Result<Vec<Group>, Error>,
    target: Option<ConflictTarget>,
    action: Action,
    where_: Option<Expr>,
    _model: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for Upsert<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upsert")
            .field("target", &self.target)
            .field(
                "rows",
                &self
                    .rows
                    .as_ref()
                    .map(|g| g.iter().map(Group::len).sum::<usize>()),
            )
            .finish()
    }
}

impl<M: Model + Clone> Upsert<M> {
    /// The unique constraint (or unique index) whose columns conflict: `User::email`, or a
    /// tuple of columns for a composite one.
    pub fn on_conflict(mut self, columns: impl Columns<M>) -> Self {
        self.target = Some(ConflictTarget::Columns(
            columns.names().into_iter().map(Ident::new_static).collect(),
        ));
        self
    }

    /// The unique constraint that conflicts, by name (`ON CONFLICT ON CONSTRAINT`,
    /// PostgreSQL only; on SQLite name its columns with [`on_conflict`](Self::on_conflict)).
    pub fn on_constraint(mut self, name: impl Into<String>) -> Self {
        self.target = Some(ConflictTarget::Constraint(Ident::from(name.into())));
        self
    }

    /// A conflicting row sets these columns from the proposed row (`excluded`).
    pub fn update(mut self, columns: impl Columns<M>) -> Self {
        let set = self.set_list();
        for c in columns.names() {
            set.push((Ident::new_static(c), excluded(Ident::new_static(c))));
        }
        self
    }

    /// A conflicting row sets `column` to `value`, an expression that may use the existing
    /// row (`User::karma`) and the proposed one
    /// ([`excluded`](oxalchemy_core::expr::excluded)).
    pub fn set<T>(mut self, column: TypedColumn<M, T>, value: impl IntoExpr) -> Self {
        let value = value.into_expr();
        self.set_list()
            .push((Ident::new_static(column.name()), value));
        self
    }

    /// Only existing rows matching `cond` are updated; the others are left as they are
    /// (and return no row).
    pub fn where_(mut self, cond: impl IntoExpr) -> Self {
        self.where_ = Some(cond.into_expr());
        self
    }

    /// A conflicting row is skipped (with no target: a conflict on any unique constraint).
    ///
    /// On MySQL / MariaDB this is `ON DUPLICATE KEY UPDATE c = c`: the count
    /// [`execute`](Upsert::execute) returns includes the skipped rows (the connection counts
    /// rows found), and [`returning`](Upsert::returning) is a compile error, since the
    /// skipped rows would come back with the inserted ones.
    pub fn do_nothing(mut self) -> Self {
        self.action = Action::Nothing;
        self
    }

    fn set_list(&mut self) -> &mut Vec<(Ident, Expr)> {
        if !matches!(self.action, Action::Update(_)) {
            self.action = Action::Update(Vec::new());
        }
        match &mut self.action {
            Action::Update(set) => set,
            _ => unreachable!("set to Update just above"),
        }
    }

    /// Runs the upsert; returns how many rows were inserted or updated (a skipped or
    /// WHERE-filtered conflict counts nothing).
    pub async fn execute<'e>(self, ex: impl Into<BulkExec<'e>>) -> Result<u64, Error> {
        Ok(self.run(ex.into(), false).await?.0)
    }

    /// Runs the upsert and returns the rows inserted or updated (RETURNING), as they are
    /// now in the database, in the order the database wrote them.
    pub async fn returning<'e>(self, ex: impl Into<BulkExec<'e>>) -> Result<Vec<M>, Error> {
        Ok(self.run(ex.into(), true).await?.1)
    }

    async fn run(self, ex: BulkExec<'_>, rows_back: bool) -> Result<(u64, Vec<M>), Error> {
        let groups = self.rows?;
        let on_conflict = match self.action {
            Action::Unset => {
                return Err(mapping(format!(
                    "upsert::<{}>: say what a conflicting row does: .update(columns), \
                     .set(column, value) or .do_nothing()",
                    M::NAME
                )))
            }
            Action::Nothing => {
                if self.where_.is_some() {
                    return Err(mapping(format!(
                        "upsert::<{}>: .where_(…) filters the rows .update(…) changes; with \
                         .do_nothing() there is nothing to filter",
                        M::NAME
                    )));
                }
                oxalchemy_core::query::OnConflict::DoNothing {
                    target: self.target.unwrap_or(ConflictTarget::Columns(Vec::new())),
                }
            }
            Action::Update(set) => {
                let Some(target) = self.target else {
                    return Err(mapping(format!(
                        "upsert::<{}>: .update(…) needs the conflicting unique constraint: \
                         .on_conflict(columns) or .on_constraint(name)",
                        M::NAME
                    )));
                };
                oxalchemy_core::query::OnConflict::DoUpdate {
                    target,
                    set,
                    where_: self.where_,
                }
            }
        };
        let job = Job::<M> {
            groups,
            on_conflict,
            rows_back,
            _model: PhantomData,
        };
        match ex {
            BulkExec::Exec(ex) => {
                let mut held = None;
                let conn = ex.connection(&mut held).await?;
                let (n, rows, _) = job.in_transaction(conn, None).await?;
                crate::cache::invalidate_tables([M::TABLE]);
                Ok((n, rows))
            }
            BulkExec::Session(s) => {
                let (conn, log) = s.bulk_begin().await?;
                let (n, rows, keys) = job.in_transaction(conn, Some(log)).await?;
                s.wrote_tables(std::iter::once(M::TABLE));
                s.bulk_refresh::<M>(&keys).await?;
                Ok((n, rows))
            }
        }
    }
}

fn group_rows<M: Model>(
    rows: impl IntoIterator<Item = impl InsertRow<M>>,
) -> Result<Vec<Group>, Error> {
    let mut groups = Vec::new();
    let mut last = 0;
    let mut defaults = None;
    let mut pairs = Vec::with_capacity(M::columns().len());
    for (i, row) in rows.into_iter().enumerate() {
        pairs.clear();
        row.insert_pairs(&mut defaults, &mut pairs)?;
        let group = group_for(&mut groups, &mut last, pairs.iter().map(|(c, _)| *c));
        group.push(i, pairs.drain(..).map(|(_, v)| v));
    }
    Ok(groups)
}

struct Job<M> {
    groups: Vec<Group>,
    on_conflict: oxalchemy_core::query::OnConflict,
    rows_back: bool,
    _model: PhantomData<fn() -> M>,
}

impl<M: Model> Job<M> {
    /// Returns the rows written, the models (when asked for) and, on a session, the keys
    /// of the rows written (to re-read held objects).
    async fn in_transaction(
        self,
        conn: &mut Connection,
        log: Option<&mut Vec<String>>,
    ) -> Result<(u64, Vec<M>, Vec<Pairs>), Error> {
        let mut tx = conn.begin().await?;
        let result = self.send(&mut tx, log).await;
        finish(tx, result).await
    }

    async fn send(
        self,
        conn: &mut Connection,
        mut log_to: Option<&mut Vec<String>>,
    ) -> Result<(u64, Vec<M>, Vec<Pairs>), Error> {
        let dialect = conn.dialect();
        let keys_back = log_to.is_some();
        let pk = M::primary_key_columns();
        let returning: Vec<Expr> = if self.rows_back {
            M::columns()
                .iter()
                .map(|c| col(Ident::new_static(c)))
                .collect()
        } else if keys_back {
            pk.iter().map(|c| col(Ident::new_static(c))).collect()
        } else {
            Vec::new()
        };
        let (mut n, mut models, mut keys) = (0u64, Vec::new(), Vec::new());
        for group in self.groups {
            let mut insert = oxalchemy_core::insert(oxalchemy_core::table(M::TABLE))
                .columns(group.columns.iter().map(|c| Ident::new_static(c)));
            insert.rows = group
                .into_rows()
                .map(|values| values.into_iter().map(Expr::Bind).collect())
                .collect();
            insert.on_conflict = Some(self.on_conflict.clone());
            insert.returning = returning.clone();
            for chunk in insert.chunked(dialect.max_binds()) {
                let c = compile(dialect, &Statement::Insert(chunk))?;
                log(&mut log_to, &c.sql);
                if returning.is_empty() {
                    n += conn.execute_write(&c).await?;
                    continue;
                }
                if self.rows_back {
                    let rows: Vec<M> = conn.query_write(&c).await?;
                    if keys_back {
                        for m in &rows {
                            let mut key = Vec::new();
                            m.primary_key_values(&mut key);
                            keys.push(key);
                        }
                    }
                    n += rows.len() as u64;
                    models.extend(rows);
                } else {
                    let rows = conn
                        .query_map_write(&c, |row| {
                            pk.iter()
                                .enumerate()
                                .map(|(i, c)| Ok((*c, row.get::<Value>(i)?)))
                                .collect::<Result<Pairs, Error>>()
                        })
                        .await?;
                    n += rows.len() as u64;
                    keys.extend(rows);
                }
            }
        }
        Ok((n, models, keys))
    }
}
