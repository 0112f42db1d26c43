//! Statements compiled once and run many times with new values: [`PreparedSql`], made by
//! [`compile_prepared`] from a statement with [`param`](crate::expr::param) placeholders,
//! and by the statement cache ([`crate::dialect::StatementCache`]) from a statement's shape.
//!
//! A compiled statement's binds are of two kinds: values the statement's shape fixes (a
//! LIMIT count the dialect binds, a LIKE escape character, a literal a prepared statement
//! was built with) and values that change from one execution to the next (parameters, or
//! the literals of a cached statement). [`BindSource`] says which each bind is, so binding
//! new values is filling slots, never compiling again.

use std::sync::Arc;

use super::{compile_tracked, CompileError, Compiled};
use crate::dialect::Dialect;
use crate::query::Statement;
use crate::value::{ToValue, Value};

/// Where a bind of a [`PreparedSql`] gets its value at each execution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BindSource {
    /// Fixed by the statement's shape, already in the dialect's encoding.
    Const(Value),
    /// The n-th value given at execution, encoded for the dialect then.
    Param(usize),
}

/// SQL compiled once for one dialect, with slots for the values given at each execution:
/// what [`compile_prepared`] returns and the statement cache keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedSql {
    /// Shared, so each execution hands the driver the same text without copying it.
    sql: Arc<str>,
    binds: Vec<BindSource>,
    params: usize,
}

impl PreparedSql {
    pub(crate) fn new(sql: String, binds: Vec<BindSource>, params: usize) -> Self {
        PreparedSql {
            sql: sql.into(),
            binds,
            params,
        }
    }

    /// The SQL, with the dialect's placeholders.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The SQL, shared.
    pub(crate) fn shared_sql(&self) -> Arc<str> {
        self.sql.clone()
    }

    /// How many values each execution takes.
    pub fn param_count(&self) -> usize {
        self.params
    }

    /// The statement with `params` bound (in placeholder order), ready for the driver;
    /// [`CompileError::ParamCount`] when their number is not [`Self::param_count`].
    pub fn bind(
        &self,
        dialect: &dyn Dialect,
        params: Vec<Value>,
    ) -> Result<Compiled, CompileError> {
        let (sql, binds) = self.bind_shared(dialect, params)?;
        Ok(Compiled {
            sql: sql.as_ref().to_owned(),
            binds,
        })
    }

    /// As [`Self::bind`], with the SQL shared rather than copied: what the ORM's hot paths
    /// (`get`, prepared queries) hand the driver on every execution.
    pub fn bind_shared(
        &self,
        dialect: &dyn Dialect,
        mut params: Vec<Value>,
    ) -> Result<(Arc<str>, Vec<Value>), CompileError> {
        if params.len() != self.params {
            return Err(CompileError::ParamCount {
                expected: self.params,
                got: params.len(),
            });
        }
        // The usual shape (a lookup by key, a LIMIT written inline): the binds are exactly
        // the parameters in order, so they are encoded in place, in the caller's vector.
        let in_order = self.binds.len() == params.len()
            && self
                .binds
                .iter()
                .enumerate()
                .all(|(i, b)| matches!(b, BindSource::Param(n) if *n == i));
        if in_order {
            for v in &mut params {
                *v = dialect.encode(std::mem::replace(v, Value::Null));
            }
            return Ok((self.sql.clone(), params));
        }
        let binds = self.fill_binds(dialect, |i| std::mem::replace(&mut params[i], Value::Null));
        Ok((self.sql.clone(), binds))
    }

    /// The binds with each [`BindSource::Param`] slot filled by `value(n)`.
    fn fill_binds(
        &self,
        dialect: &dyn Dialect,
        mut value: impl FnMut(usize) -> Value,
    ) -> Vec<Value> {
        self.binds
            .iter()
            .map(|b| match b {
                BindSource::Const(v) => v.clone(),
                BindSource::Param(i) => dialect.encode(value(*i)),
            })
            .collect()
    }

    /// The statement with each [`BindSource::Param`] slot filled by `value(n)`, the SQL
    /// shared and the binds appended to `out` (a buffer the caller reuses).
    pub(crate) fn fill_shared_into(
        &self,
        dialect: &dyn Dialect,
        mut value: impl FnMut(usize) -> Value,
        out: &mut Vec<Value>,
    ) -> Arc<str> {
        out.extend(self.binds.iter().map(|b| match b {
            BindSource::Const(v) => v.clone(),
            BindSource::Param(i) => dialect.encode(value(*i)),
        }));
        self.sql.clone()
    }
}

/// Compiles a statement whose values come later: every [`param`](crate::expr::param)
/// becomes a placeholder, numbered in SQL order; [`PreparedSql::bind`] then gives each
/// execution its values without compiling again.
pub fn compile_prepared(
    dialect: &dyn Dialect,
    stmt: &Statement,
) -> Result<PreparedSql, CompileError> {
    let c = compile_tracked(dialect, stmt, false)?;
    let mut params = c.params.iter().enumerate().peekable();
    let binds = c
        .binds
        .into_iter()
        .enumerate()
        .map(|(i, v)| match params.peek() {
            Some(&(n, &at)) if at == i => {
                params.next();
                BindSource::Param(n)
            }
            _ => BindSource::Const(v),
        })
        .collect();
    Ok(PreparedSql::new(c.sql, binds, c.params.len()))
}

/// The values of one execution of a prepared statement, in placeholder order: one value
/// (anything [`ToValue`]), or a tuple of up to four.
pub trait Params {
    /// The values, in placeholder order.
    fn into_values(self) -> Vec<Value>;
}

impl<T: ToValue> Params for T {
    fn into_values(self) -> Vec<Value> {
        vec![self.to_value()]
    }
}

impl Params for () {
    fn into_values(self) -> Vec<Value> {
        Vec::new()
    }
}

macro_rules! tuple_params {
    ($($name:ident),+) => {
        impl<$($name: ToValue),+> Params for ($($name,)+) {
            #[allow(non_snake_case)] // the type parameters double as the values' names
            fn into_values(self) -> Vec<Value> {
                let ($($name,)+) = self;
                vec![$($name.to_value()),+]
            }
        }
    };
}
tuple_params!(A);
tuple_params!(A, B);
tuple_params!(A, B, C);
tuple_params!(A, B, C, D);
