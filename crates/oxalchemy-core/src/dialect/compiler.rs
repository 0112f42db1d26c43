use super::{quote_ident, quote_literal, Dialect};
use crate::expr::{Expr, Function, Ident, Nulls, OrderBy, TableRef, TextSql};
use crate::query::{
    Cte, Delete, FromItem, Insert, JoinKind, OnConflict, Select, SetOp, Statement, Update,
};
use crate::schema::{
    Column, Constraint, CreateEnumType, CreateIndex, CreateTable, DropEnumType, DropIndex,
    DropTable, NamingConvention, ServerDefault,
};
use crate::value::Value;

/// SQL text and its bind values, already encoded for the dialect.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    pub sql: String,
    pub binds: Vec<Value>,
}

/// A statement that cannot be turned into valid SQL. Raised before anything is sent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompileError {
    #[error("text(): the SQL uses :{0} but no value was bound for it; add .bind(\"{0}\", value)")]
    MissingBind(String),
    #[error("text(): .bind(\"{0}\", …) was given but the SQL has no :{0} placeholder")]
    UnusedBind(String),
    #[error("INSERT into {table}: row {row} has {got} values but {expected} columns were named")]
    RowLength {
        table: String,
        row: usize,
        expected: usize,
        got: usize,
    },
    #[error("INSERT into {0} has no rows; add .values(…) at least once")]
    EmptyInsert(String),
    #[error("UPDATE of {0} sets no columns; add .set(column, value)")]
    EmptyUpdate(String),
    #[error("ON CONFLICT DO UPDATE needs conflict target columns")]
    MissingConflictTarget,
    #[error("{0} is not supported by the {1} dialect")]
    Unsupported(&'static str, &'static str),
    #[error("LIMIT/OFFSET value {0} is larger than i64::MAX")]
    OutOfRange(u64),
    #[error("a float server default must be finite, got {0}")]
    NonFiniteLiteral(f64),
}

/// A column definition for `ALTER TABLE … ADD COLUMN`: `"name" TYPE [NOT NULL] [DEFAULT …]`.
pub fn column_definition(dialect: &dyn Dialect, column: &Column) -> Result<String, CompileError> {
    let mut c = Compiler {
        d: dialect,
        sql: String::new(),
        binds: Vec::new(),
        cast_binds: false,
    };
    c.ident(&column.name);
    c.push(" ");
    c.column_body(column)?;
    Ok(c.sql)
}

/// A table constraint for `ALTER TABLE … ADD`: `CONSTRAINT "n" UNIQUE (…)` and friends.
pub fn constraint_definition(
    dialect: &dyn Dialect,
    schema: Option<&Ident>,
    con: &Constraint,
) -> String {
    let mut c = Compiler {
        d: dialect,
        sql: String::new(),
        binds: Vec::new(),
        cast_binds: false,
    };
    c.constraint(schema, con);
    c.sql
}

/// Compiles any statement for `dialect`.
pub fn compile(dialect: &dyn Dialect, stmt: &Statement) -> Result<Compiled, CompileError> {
    let mut c = Compiler {
        d: dialect,
        sql: String::with_capacity(128),
        binds: Vec::new(),
        cast_binds: false,
    };
    match stmt {
        Statement::Select(s) => c.select(s)?,
        Statement::Insert(s) => c.insert(s)?,
        Statement::Update(s) => c.update(s)?,
        Statement::Delete(s) => c.delete(s)?,
        Statement::Text(t) => c.text(t)?,
        Statement::CreateTable(s) => c.create_table(s)?,
        Statement::DropTable(s) => c.drop_table(s),
        Statement::CreateIndex(s) => c.create_index(s),
        Statement::DropIndex(s) => c.drop_index(s),
        Statement::CreateEnumType(s) => c.create_enum_type(s)?,
        Statement::DropEnumType(s) => c.drop_enum_type(s)?,
    }
    Ok(Compiled {
        sql: c.sql,
        binds: c.binds,
    })
}

/// How many bind parameters `e` compiles to (the same on every dialect). Used to chunk bulk
/// inserts under [`Dialect::max_binds`].
pub(crate) fn bind_count(e: &Expr) -> usize {
    match e {
        Expr::Bind(_) => 1,
        Expr::Column { .. } | Expr::Star(_) | Expr::Excluded(_) | Expr::CountStar => 0,
        e => {
            let mut c = Compiler {
                d: &super::Postgres,
                sql: String::new(),
                binds: Vec::new(),
                cast_binds: false,
            };
            // An invalid expression fails when the statement itself is compiled.
            let _ = c.expr(e);
            c.binds.len()
        }
    }
}

/// Where an expression stands: labels render differently in each place.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The select list: `expr AS "label"`.
    Column,
    /// ORDER BY / GROUP BY: a label is referred to by name.
    Ordering,
    Other,
}

struct Compiler<'d> {
    d: &'d dyn Dialect,
    sql: String,
    binds: Vec<Value>,
    /// Inside an expression made only of binds, where the database cannot infer their types.
    cast_binds: bool,
}

/// An expression with no column or typed function in it: its binds' types cannot be inferred.
fn untyped(e: &Expr) -> bool {
    match e {
        Expr::Bind(v) => !v.is_null(),
        Expr::Neg(x) | Expr::Nested(x) => untyped(x),
        Expr::Label { expr, .. } => untyped(expr),
        Expr::Binary { left, right, .. } => untyped(left) && untyped(right),
        _ => false,
    }
}

type R = Result<(), CompileError>;

impl Compiler<'_> {
    fn push(&mut self, s: &str) {
        self.sql.push_str(s);
    }
    fn ident(&mut self, name: &Ident) {
        quote_ident(&mut self.sql, name.as_str());
    }
    fn idents(&mut self, names: &[Ident]) {
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.ident(n);
        }
    }
    fn bind(&mut self, v: Value) {
        let cast = if self.cast_binds {
            self.d.bind_cast(&v)
        } else {
            None
        };
        self.binds.push(self.d.encode(v));
        self.d.write_placeholder(&mut self.sql, self.binds.len());
        if let Some(ty) = cast {
            self.push("::");
            self.push(ty);
        }
    }
    fn bind_count(&mut self, n: u64) -> R {
        let n = i64::try_from(n).map_err(|_| CompileError::OutOfRange(n))?;
        self.bind(Value::I64(n));
        Ok(())
    }

    fn table_ref(&mut self, t: &TableRef) {
        if let Some(s) = &t.schema {
            self.ident(s);
            self.push(".");
        }
        self.ident(&t.name);
        if let Some(a) = &t.alias {
            self.push(" AS ");
            self.ident(a);
        }
    }

    fn write_from_item(&mut self, f: &FromItem) -> R {
        match f {
            FromItem::Table(t) => self.table_ref(t),
            FromItem::Subquery { query, alias } => {
                self.push("(");
                self.select(query)?;
                self.push(") AS ");
                self.ident(alias);
            }
        }
        Ok(())
    }

    fn expr_list(&mut self, exprs: &[Expr], place: Place) -> R {
        for (i, e) in exprs.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.expr_in(e, place)?;
        }
        Ok(())
    }

    fn ctes(&mut self, ctes: &[Cte], recursive: bool) -> R {
        if ctes.is_empty() {
            return Ok(());
        }
        self.push(if recursive {
            "WITH RECURSIVE "
        } else {
            "WITH "
        });
        for (i, cte) in ctes.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.ident(&cte.name);
            if !cte.columns.is_empty() {
                self.push(" (");
                self.idents(&cte.columns);
                self.push(")");
            }
            self.push(" AS (");
            self.select(&cte.query)?;
            self.push(")");
        }
        self.push(" ");
        Ok(())
    }

    fn select(&mut self, s: &Select) -> R {
        self.ctes(&s.ctes, s.recursive)?;
        self.select_core(s)?;
        for (op, member) in &s.compound {
            // select_core renders none of these for a member: refuse rather than drop them.
            if !member.order_by.is_empty()
                || member.limit.is_some()
                || member.offset.is_some()
                || !member.ctes.is_empty()
                || !member.compound.is_empty()
            {
                return Err(CompileError::Unsupported(
                    "ORDER BY / LIMIT / OFFSET / WITH / a nested UNION inside a UNION member (wrap it in a subquery)",
                    self.d.name(),
                ));
            }
            self.push(match op {
                SetOp::Union => " UNION ",
                SetOp::UnionAll => " UNION ALL ",
            });
            self.select_core(member)?;
        }
        if !s.order_by.is_empty() {
            self.push(" ORDER BY ");
            for (i, o) in s.order_by.iter().enumerate() {
                if i > 0 {
                    self.push(", ");
                }
                self.order_item(o)?;
            }
        }
        match (s.limit, s.offset) {
            (Some(l), _) => {
                self.push(" LIMIT ");
                self.bind_count(l)?;
            }
            (None, Some(_)) if self.d.offset_requires_limit() => self.push(" LIMIT -1"),
            (None, _) => {}
        }
        if let Some(o) = s.offset {
            self.push(" OFFSET ");
            self.bind_count(o)?;
        }
        Ok(())
    }

    fn select_core(&mut self, s: &Select) -> R {
        self.push("SELECT ");
        if s.distinct {
            self.push("DISTINCT ");
        }
        if s.columns.is_empty() {
            self.push("*");
        } else {
            self.expr_list(&s.columns, Place::Column)?;
        }
        if !s.from.is_empty() {
            self.push(" FROM ");
            for (i, f) in s.from.iter().enumerate() {
                if i > 0 {
                    self.push(", ");
                }
                self.write_from_item(f)?;
            }
        }
        for j in &s.joins {
            self.push(match j.kind {
                JoinKind::Inner => " JOIN ",
                JoinKind::Left => " LEFT OUTER JOIN ",
            });
            self.write_from_item(&j.target)?;
            self.push(" ON ");
            self.expr(&j.on)?;
        }
        if let Some(w) = &s.where_ {
            self.push(" WHERE ");
            self.expr(w)?;
        }
        if !s.group_by.is_empty() {
            self.push(" GROUP BY ");
            self.expr_list(&s.group_by, Place::Ordering)?;
        }
        if let Some(h) = &s.having {
            self.push(" HAVING ");
            self.expr(h)?;
        }
        Ok(())
    }

    fn order_item(&mut self, o: &OrderBy) -> R {
        self.expr_in(&o.expr, Place::Ordering)?;
        if o.desc {
            self.push(" DESC");
        }
        match o.nulls {
            Some(Nulls::First) => self.push(" NULLS FIRST"),
            Some(Nulls::Last) => self.push(" NULLS LAST"),
            None => {}
        }
        Ok(())
    }

    fn returning(&mut self, r: &[Expr]) -> R {
        if !r.is_empty() {
            self.push(" RETURNING ");
            self.expr_list(r, Place::Column)?;
        }
        Ok(())
    }

    fn insert(&mut self, s: &Insert) -> R {
        self.push("INSERT INTO ");
        self.table_ref(&s.table);
        let table = s.table.name.to_string();
        if s.columns.is_empty() {
            match s.rows.as_slice() {
                [] => self.push(" DEFAULT VALUES"),
                [row] if row.is_empty() => self.push(" DEFAULT VALUES"),
                rows => {
                    return Err(CompileError::RowLength {
                        table,
                        row: 0,
                        expected: 0,
                        got: rows[0].len(),
                    })
                }
            }
        } else {
            if s.rows.is_empty() {
                return Err(CompileError::EmptyInsert(table));
            }
            self.push(" (");
            self.idents(&s.columns);
            self.push(") VALUES ");
            for (i, row) in s.rows.iter().enumerate() {
                if row.len() != s.columns.len() {
                    return Err(CompileError::RowLength {
                        table,
                        row: i,
                        expected: s.columns.len(),
                        got: row.len(),
                    });
                }
                if i > 0 {
                    self.push(", ");
                }
                self.push("(");
                self.expr_list(row, Place::Other)?;
                self.push(")");
            }
        }
        match &s.on_conflict {
            None => {}
            Some(OnConflict::DoNothing { target }) => {
                self.push(" ON CONFLICT");
                if !target.is_empty() {
                    self.push(" (");
                    self.idents(target);
                    self.push(")");
                }
                self.push(" DO NOTHING");
            }
            Some(OnConflict::DoUpdate {
                target,
                set,
                where_,
            }) => {
                if target.is_empty() {
                    return Err(CompileError::MissingConflictTarget);
                }
                if set.is_empty() {
                    return Err(CompileError::EmptyUpdate(s.table.name.to_string()));
                }
                self.push(" ON CONFLICT (");
                self.idents(target);
                self.push(") DO UPDATE SET ");
                self.assignments(set)?;
                if let Some(w) = where_ {
                    self.push(" WHERE ");
                    self.expr(w)?;
                }
            }
        }
        self.returning(&s.returning)
    }

    fn assignments(&mut self, set: &[(Ident, Expr)]) -> R {
        for (i, (col, e)) in set.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.ident(col);
            self.push(" = ");
            self.expr(e)?;
        }
        Ok(())
    }

    fn update(&mut self, s: &Update) -> R {
        if s.set.is_empty() {
            return Err(CompileError::EmptyUpdate(s.table.name.to_string()));
        }
        self.push("UPDATE ");
        self.table_ref(&s.table);
        self.push(" SET ");
        self.assignments(&s.set)?;
        if let Some(w) = &s.where_ {
            self.push(" WHERE ");
            self.expr(w)?;
        }
        self.returning(&s.returning)
    }

    fn delete(&mut self, s: &Delete) -> R {
        self.push("DELETE FROM ");
        self.table_ref(&s.table);
        if let Some(w) = &s.where_ {
            self.push(" WHERE ");
            self.expr(w)?;
        }
        self.returning(&s.returning)
    }

    /// Replaces `:name` with bind markers. Quoted strings and identifiers, `::` casts and `\:`
    /// are left as written (the backslash is dropped).
    fn text(&mut self, t: &TextSql) -> R {
        let mut used = vec![false; t.binds.len()];
        let src = t.sql.as_str();
        let bytes = src.as_bytes();
        let mut quote: Option<u8> = None;
        let mut i = 0;
        let mut start = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if let Some(q) = quote {
                if b == q {
                    quote = None;
                }
                i += 1;
                continue;
            }
            match b {
                b'\'' | b'"' => {
                    quote = Some(b);
                    i += 1;
                }
                b'\\' if bytes.get(i + 1) == Some(&b':') => {
                    self.sql.push_str(&src[start..i]);
                    start = i + 1;
                    i += 2;
                }
                b':' if bytes.get(i + 1) == Some(&b':') => i += 2,
                b':' if bytes
                    .get(i + 1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
                {
                    let name_start = i + 1;
                    let mut end = name_start;
                    while end < bytes.len()
                        && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                    {
                        end += 1;
                    }
                    let name = &src[name_start..end];
                    let pos = t
                        .binds
                        .iter()
                        .position(|(n, _)| n == name)
                        .ok_or_else(|| CompileError::MissingBind(name.to_owned()))?;
                    used[pos] = true;
                    self.sql.push_str(&src[start..i]);
                    self.bind(t.binds[pos].1.clone());
                    i = end;
                    start = end;
                }
                _ => i += 1,
            }
        }
        self.sql.push_str(&src[start..]);
        if let Some(pos) = used.iter().position(|u| !u) {
            return Err(CompileError::UnusedBind(t.binds[pos].0.clone()));
        }
        Ok(())
    }

    fn expr(&mut self, e: &Expr) -> R {
        self.expr_in(e, Place::Other)
    }

    /// An operand of an operator: compound expressions are parenthesised, so the compiler
    /// never depends on operator precedence.
    fn operand(&mut self, e: &Expr) -> R {
        // A label outside the select list renders as its bare expression, so its
        // precedence is the inner expression's.
        let mut inner = e;
        while let Expr::Label { expr, .. } = inner {
            inner = expr;
        }
        let compound = matches!(
            inner,
            Expr::Binary { .. }
                | Expr::And(_)
                | Expr::Or(_)
                | Expr::Not(_)
                | Expr::IsNull { .. }
                | Expr::InList { .. }
                | Expr::InSubquery { .. }
                | Expr::Between { .. }
                | Expr::Like { .. }
                | Expr::Exists { .. }
                | Expr::Text(_)
        );
        if compound {
            self.push("(");
            self.expr(e)?;
            self.push(")");
            Ok(())
        } else {
            self.expr(e)
        }
    }

    fn junction(&mut self, items: &[Expr], sep: &str, empty: bool) -> R {
        match items {
            [] => {
                let lit = self.d.bool_literal(empty);
                self.push(lit);
            }
            [one] => self.expr(one)?,
            items => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        self.push(sep);
                    }
                    self.operand(e)?;
                }
            }
        }
        Ok(())
    }

    fn expr_in(&mut self, e: &Expr, place: Place) -> R {
        if !self.cast_binds
            && (place == Place::Column || matches!(e, Expr::Binary { .. } | Expr::Neg(_)))
            && untyped(e)
        {
            self.cast_binds = true;
            let result = self.expr_in_typed(e, place);
            self.cast_binds = false;
            return result;
        }
        self.expr_in_typed(e, place)
    }

    fn expr_in_typed(&mut self, e: &Expr, place: Place) -> R {
        match e {
            Expr::Column { table, name } => {
                if let Some(t) = table {
                    self.ident(t);
                    self.push(".");
                }
                self.ident(name);
            }
            Expr::Star(None) => self.push("*"),
            Expr::Star(Some(t)) => {
                self.ident(t);
                self.push(".*");
            }
            Expr::Bind(v) => self.bind(v.clone()),
            Expr::Excluded(name) => {
                self.push("excluded.");
                self.ident(name);
            }
            Expr::Binary { op, left, right } => {
                self.operand(left)?;
                self.push(" ");
                self.push(op.sql());
                self.push(" ");
                self.operand(right)?;
            }
            Expr::Neg(inner) => {
                self.push("-");
                self.operand_always_paren(inner)?;
            }
            Expr::Not(inner) => {
                self.push("NOT ");
                self.operand_always_paren(inner)?;
            }
            Expr::And(items) => self.junction(items, " AND ", true)?,
            Expr::Or(items) => self.junction(items, " OR ", false)?,
            Expr::IsNull { expr, negated } => {
                self.operand(expr)?;
                self.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                if list.is_empty() {
                    // `x IN ()` is a syntax error; an empty set contains nothing.
                    let lit = self.d.bool_literal(*negated);
                    self.push("1 = ");
                    self.push(if lit == "1" || lit == "true" {
                        "1"
                    } else {
                        "0"
                    });
                } else {
                    self.operand(expr)?;
                    self.push(if *negated { " NOT IN (" } else { " IN (" });
                    self.expr_list(list, Place::Other)?;
                    self.push(")");
                }
            }
            Expr::InSubquery {
                expr,
                query,
                negated,
            } => {
                self.operand(expr)?;
                self.push(if *negated { " NOT IN (" } else { " IN (" });
                self.select(query)?;
                self.push(")");
            }
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                self.operand(expr)?;
                self.push(if *negated {
                    " NOT BETWEEN "
                } else {
                    " BETWEEN "
                });
                self.operand(low)?;
                self.push(" AND ");
                self.operand(high)?;
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                case_insensitive,
                negated,
            } => {
                let not = if *negated { " NOT" } else { "" };
                if *case_insensitive && !self.d.native_ilike() {
                    self.push("lower(");
                    self.expr(expr)?;
                    self.push(")");
                    self.push(not);
                    self.push(" LIKE lower(");
                    self.expr(pattern)?;
                    self.push(")");
                } else {
                    self.operand(expr)?;
                    self.push(not);
                    self.push(if *case_insensitive {
                        " ILIKE "
                    } else {
                        " LIKE "
                    });
                    self.operand(pattern)?;
                }
                if let Some(c) = escape {
                    self.push(" ESCAPE ");
                    self.bind(Value::Text(c.to_string()));
                }
            }
            Expr::Func {
                func: Function::Now,
                ..
            } => {
                let now = self.d.now_sql();
                self.push(now);
            }
            Expr::Func {
                func,
                args,
                distinct,
            } => {
                self.push(func.name());
                self.push("(");
                if *distinct {
                    self.push("DISTINCT ");
                }
                self.expr_list(args, Place::Other)?;
                self.push(")");
            }
            Expr::CountStar => self.push("count(*)"),
            Expr::Label { expr, name } => match place {
                Place::Column => {
                    self.expr(expr)?;
                    self.push(" AS ");
                    self.ident(name);
                }
                Place::Ordering => self.ident(name),
                Place::Other => self.expr(expr)?,
            },
            Expr::Case { whens, else_ } => {
                self.push("CASE");
                for (cond, then) in whens {
                    self.push(" WHEN ");
                    self.expr(cond)?;
                    self.push(" THEN ");
                    self.expr(then)?;
                }
                if let Some(e) = else_ {
                    self.push(" ELSE ");
                    self.expr(e)?;
                }
                self.push(" END");
            }
            Expr::Cast { expr, ty } => {
                self.push("CAST(");
                self.expr(expr)?;
                self.push(" AS ");
                self.d.write_cast_type(&mut self.sql, ty);
                self.push(")");
            }
            Expr::Subquery(q) => {
                self.push("(");
                self.select(q)?;
                self.push(")");
            }
            Expr::Exists { query, negated } => {
                self.push(if *negated { "NOT EXISTS (" } else { "EXISTS (" });
                self.select(query)?;
                self.push(")");
            }
            Expr::Text(t) => self.text(t)?,
            Expr::Nested(inner) => {
                self.push("(");
                self.expr(inner)?;
                self.push(")");
            }
        }
        Ok(())
    }

    fn operand_always_paren(&mut self, e: &Expr) -> R {
        match e {
            Expr::Column { .. } | Expr::Bind(_) | Expr::Func { .. } | Expr::Nested(_) => {
                self.expr(e)
            }
            _ => {
                self.push("(");
                self.expr(e)?;
                self.push(")");
                Ok(())
            }
        }
    }

    // ---- DDL: literals are inlined here (DDL cannot carry binds); names come from metadata.

    fn literal(&mut self, v: &Value) -> R {
        use std::fmt::Write;
        match self.d.encode(v.clone()) {
            Value::Null => self.push("NULL"),
            Value::Bool(b) => self.push(if b { "TRUE" } else { "FALSE" }),
            Value::I16(n) => {
                let _ = write!(self.sql, "{n}");
            }
            Value::I32(n) => {
                let _ = write!(self.sql, "{n}");
            }
            Value::I64(n) => {
                let _ = write!(self.sql, "{n}");
            }
            Value::F32(f) => return self.float_literal(f64::from(f)),
            Value::F64(f) => return self.float_literal(f),
            Value::Text(s) => quote_literal(&mut self.sql, &s),
            Value::Bytes(b) => {
                let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                if self.d.native_enums() {
                    let _ = write!(self.sql, "'\\x{hex}'");
                } else {
                    let _ = write!(self.sql, "X'{hex}'");
                }
            }
            Value::Json(j) => quote_literal(&mut self.sql, &j.to_string()),
            Value::Uuid(u) => quote_literal(&mut self.sql, &u.hyphenated().to_string()),
            Value::Date(d) => quote_literal(&mut self.sql, &d.to_string()),
            Value::Time(t) => quote_literal(&mut self.sql, &t.to_string()),
            Value::DateTime(t) => quote_literal(&mut self.sql, &t.to_string()),
            Value::DateTimeTz(t) => quote_literal(&mut self.sql, &t.to_rfc3339()),
            Value::Decimal(d) => {
                let _ = write!(self.sql, "{d}");
            }
        }
        Ok(())
    }

    fn float_literal(&mut self, f: f64) -> R {
        if !f.is_finite() {
            return Err(CompileError::NonFiniteLiteral(f));
        }
        use std::fmt::Write;
        let _ = write!(self.sql, "{f:?}");
        Ok(())
    }

    fn create_table(&mut self, s: &CreateTable) -> R {
        let mut table = s.table.clone();
        // Names from the table's MetaData win; anything still unnamed gets the default convention.
        table.apply_naming(&NamingConvention::default());
        self.push("CREATE TABLE ");
        if s.if_not_exists {
            self.push("IF NOT EXISTS ");
        }
        self.table_ref(&table.as_ref());
        self.push(" (");
        let pk: Vec<Ident> = table.primary_key().map(|c| c.name.clone()).collect();
        let pk_name = table
            .primary_key_name
            .clone()
            .unwrap_or_else(|| Ident::from(format!("pk_{}", table.name)));
        let mut pk_inline = false;
        for (i, c) in table.columns.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.ident(&c.name);
            self.push(" ");
            if c.autoincrement && c.primary_key && pk.len() == 1 && c.ty.is_integer() {
                pk_inline =
                    self.d
                        .write_autoincrement_column(&mut self.sql, &c.ty, pk_name.as_str());
                if !pk_inline {
                    self.push(" NOT NULL");
                }
                self.server_default(c)?;
            } else {
                self.column_body(c)?;
            }
        }
        if !pk.is_empty() && !pk_inline {
            self.push(", CONSTRAINT ");
            self.ident(&pk_name);
            self.push(" PRIMARY KEY (");
            self.idents(&pk);
            self.push(")");
        }
        for con in &table.constraints {
            self.push(", ");
            self.constraint(table.schema.as_ref(), con);
        }
        self.push(")");
        Ok(())
    }

    /// A column's type, NOT NULL and DEFAULT (everything after its name).
    fn column_body(&mut self, c: &Column) -> R {
        self.d.write_type(&mut self.sql, &c.ty);
        if !c.nullable {
            self.push(" NOT NULL");
        }
        self.server_default(c)
    }

    fn server_default(&mut self, c: &Column) -> R {
        match &c.server_default {
            None => {}
            Some(ServerDefault::Sql(sql)) => {
                self.push(" DEFAULT ");
                // SQLite accepts a function call as a default only in parentheses;
                // PostgreSQL accepts them too.
                let call = sql.contains('(') && !(sql.starts_with('(') && sql.ends_with(')'));
                if call {
                    self.push("(");
                    self.push(sql);
                    self.push(")");
                } else {
                    self.push(sql);
                }
            }
            Some(ServerDefault::Value(v)) => {
                self.push(" DEFAULT ");
                self.literal(v)?;
            }
        }
        Ok(())
    }

    /// `CONSTRAINT "n" UNIQUE (…)` / `CHECK (…)` / `FOREIGN KEY (…) REFERENCES …`.
    fn constraint(&mut self, schema: Option<&Ident>, con: &Constraint) {
        match con {
            Constraint::Unique { name, columns } => {
                self.constraint_name(name.as_ref());
                self.push("UNIQUE (");
                self.idents(columns);
                self.push(")");
            }
            Constraint::Check { name, sql, .. } => {
                self.constraint_name(name.as_ref());
                self.push("CHECK (");
                self.push(sql);
                self.push(")");
            }
            Constraint::ForeignKey(fk) => {
                self.constraint_name(fk.name.as_ref());
                self.push("FOREIGN KEY (");
                self.idents(&fk.columns);
                self.push(") REFERENCES ");
                if let Some(schema) = schema {
                    self.ident(schema);
                    self.push(".");
                }
                self.ident(&fk.ref_table);
                self.push(" (");
                self.idents(&fk.ref_columns);
                self.push(")");
                if let Some(a) = fk.on_delete {
                    self.push(" ON DELETE ");
                    self.push(a.sql());
                }
                if let Some(a) = fk.on_update {
                    self.push(" ON UPDATE ");
                    self.push(a.sql());
                }
            }
        }
    }

    fn constraint_name(&mut self, name: Option<&Ident>) {
        if let Some(n) = name {
            self.push("CONSTRAINT ");
            self.ident(n);
            self.push(" ");
        }
    }

    fn drop_table(&mut self, s: &DropTable) {
        self.push("DROP TABLE ");
        if s.if_exists {
            self.push("IF EXISTS ");
        }
        let t = TableRef {
            alias: None,
            ..s.table.clone()
        };
        self.table_ref(&t);
    }

    fn create_index(&mut self, s: &CreateIndex) {
        self.push(if s.index.unique {
            "CREATE UNIQUE INDEX "
        } else {
            "CREATE INDEX "
        });
        if s.if_not_exists {
            self.push("IF NOT EXISTS ");
        }
        let name = s.index.name.clone().unwrap_or_else(|| {
            let cols: Vec<&str> = s.index.columns.iter().map(Ident::as_str).collect();
            let conv = NamingConvention::default();
            conv.render(&conv.index, s.table.name.as_str(), &cols, "", "")
        });
        // SQLite wants the schema on the index name, PostgreSQL puts the index in the
        // table's schema; an unqualified name works for both when no schema is set.
        self.ident(&name);
        self.push(" ON ");
        let t = TableRef {
            alias: None,
            ..s.table.clone()
        };
        self.table_ref(&t);
        self.push(" (");
        self.idents(&s.index.columns);
        self.push(")");
    }

    fn create_enum_type(&mut self, s: &CreateEnumType) -> R {
        if !self.d.native_enums() {
            return Err(CompileError::Unsupported(
                "CREATE TYPE … AS ENUM",
                self.d.name(),
            ));
        }
        self.push("CREATE TYPE ");
        self.ident(&s.name);
        self.push(" AS ENUM (");
        for (i, v) in s.variants.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            quote_literal(&mut self.sql, v);
        }
        self.push(")");
        Ok(())
    }

    fn drop_enum_type(&mut self, s: &DropEnumType) -> R {
        if !self.d.native_enums() {
            return Err(CompileError::Unsupported("DROP TYPE", self.d.name()));
        }
        self.push("DROP TYPE ");
        if s.if_exists {
            self.push("IF EXISTS ");
        }
        self.ident(&s.name);
        Ok(())
    }

    fn drop_index(&mut self, s: &DropIndex) {
        self.push("DROP INDEX ");
        if s.if_exists {
            self.push("IF EXISTS ");
        }
        if let Some(schema) = &s.schema {
            self.ident(schema);
            self.push(".");
        }
        self.ident(&s.name);
    }
}
