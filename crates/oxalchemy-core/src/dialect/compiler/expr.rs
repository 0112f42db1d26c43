//! Expressions: columns, binds, operators, AND / OR / NOT, IN, BETWEEN, LIKE / ILIKE,
//! functions, labels, CASE, CAST and subqueries.
//!
//! The compiler never relies on operator precedence: every compound operand is parenthesised
//! ([`Compiler::operand`]). Binds the database cannot type from context (`SELECT $1`,
//! `$1 + $2`) are cast where the dialect asks for it ([`crate::Dialect::bind_cast`]).

use super::{Compiler, Place, R};
use crate::expr::{Expr, Function, Ident};
use crate::query::Select;
use crate::value::Value;

impl Compiler<'_> {
    /// An expression outside the select list and ORDER BY.
    pub(super) fn expr(&mut self, e: &Expr) -> R {
        self.expr_in(e, Place::Other)
    }

    /// `a, b, …`
    pub(super) fn expr_list(&mut self, exprs: &[Expr], place: Place) -> R {
        for (i, e) in exprs.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.expr_in(e, place)?;
        }
        Ok(())
    }

    /// An expression standing at `place`. Where its binds' types cannot be inferred, they are
    /// cast for the whole expression.
    pub(super) fn expr_in(&mut self, e: &Expr, place: Place) -> R {
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
            Expr::Bind(v) => self.bind_from(v),
            Expr::Param => self.param(),
            Expr::Excluded(name) if self.d.on_duplicate_key_update() => {
                self.push("VALUES(");
                self.ident(name);
                self.push(")");
            }
            Expr::Excluded(name) => {
                self.push("excluded.");
                self.ident(name);
            }
            Expr::Binary { op, operands } => {
                let [left, right] = &**operands;
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
            Expr::And(items) => self.junction(items, Junction::And)?,
            Expr::Or(items) => self.junction(items, Junction::Or)?,
            Expr::IsNull { expr, negated } => {
                self.operand(expr)?;
                self.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => self.in_list(expr, list, *negated)?,
            Expr::InSubquery {
                expr,
                query,
                negated,
            } => {
                self.operand(expr)?;
                self.push(if *negated { " NOT IN " } else { " IN " });
                self.subquery(query)?;
            }
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => self.between(expr, low, high, *negated)?,
            Expr::Like {
                expr,
                pattern,
                escape,
                case_insensitive,
                negated,
            } => self.like(expr, pattern, *escape, *case_insensitive, *negated)?,
            Expr::Func {
                func,
                args,
                distinct,
            } => self.func(*func, args, *distinct)?,
            Expr::CountStar => self.push("count(*)"),
            Expr::Label { expr, name } => self.label(expr, name, place)?,
            Expr::Case { whens, else_ } => self.case(whens, else_.as_deref())?,
            Expr::Cast { expr, ty } => {
                self.push("CAST(");
                self.expr(expr)?;
                self.push(" AS ");
                self.d.write_cast_type(&mut self.sql, ty);
                self.push(")");
            }
            Expr::Subquery(q) => self.subquery(q)?,
            Expr::Exists { query, negated } => {
                self.push(if *negated { "NOT EXISTS " } else { "EXISTS " });
                self.subquery(query)?;
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

    /// The operand of a prefix operator (`-`, `NOT`): parenthesised unless it is atomic.
    fn operand_always_paren(&mut self, e: &Expr) -> R {
        match e {
            Expr::Column { .. }
            | Expr::Bind(_)
            | Expr::Param
            | Expr::Func { .. }
            | Expr::Nested(_) => self.expr(e),
            _ => {
                self.push("(");
                self.expr(e)?;
                self.push(")");
                Ok(())
            }
        }
    }

    /// `a AND b AND …` / `a OR b OR …`; an empty junction is its identity (true for AND,
    /// false for OR), so `and_([])` filters nothing and `or_([])` everything.
    fn junction(&mut self, items: &[Expr], junction: Junction) -> R {
        let (sep, empty) = match junction {
            Junction::And => (" AND ", true),
            Junction::Or => (" OR ", false),
        };
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

    /// `x [NOT] IN (a, b, …)`.
    fn in_list(&mut self, expr: &Expr, list: &[Expr], negated: bool) -> R {
        if list.is_empty() {
            // `x IN ()` is a syntax error; an empty set contains nothing. `1 = 1` reads the
            // same on every database, unlike a boolean literal.
            self.push(if negated { "1 = 1" } else { "1 = 0" });
            return Ok(());
        }
        self.operand(expr)?;
        self.push(if negated { " NOT IN (" } else { " IN (" });
        self.expr_list(list, Place::Other)?;
        self.push(")");
        Ok(())
    }

    /// `x [NOT] BETWEEN low AND high`
    fn between(&mut self, expr: &Expr, low: &Expr, high: &Expr, negated: bool) -> R {
        self.operand(expr)?;
        self.push(if negated {
            " NOT BETWEEN "
        } else {
            " BETWEEN "
        });
        self.operand(low)?;
        self.push(" AND ");
        self.operand(high)?;
        Ok(())
    }

    /// `x [NOT] LIKE p [ESCAPE c]`; a case-insensitive match is `ILIKE` where the dialect has
    /// it ([`crate::Dialect::native_ilike`]) and `f(x) LIKE f(p)` elsewhere, with `f` the
    /// dialect's [`crate::Dialect::case_fold_function`].
    fn like(
        &mut self,
        expr: &Expr,
        pattern: &Expr,
        escape: Option<char>,
        case_insensitive: bool,
        negated: bool,
    ) -> R {
        let not = if negated { " NOT" } else { "" };
        if case_insensitive && !self.d.native_ilike() {
            let fold = self.d.case_fold_function();
            self.push(fold);
            self.push("(");
            self.expr(expr)?;
            self.push(")");
            self.push(not);
            self.push(" LIKE ");
            self.push(fold);
            self.push("(");
            self.expr(pattern)?;
            self.push(")");
        } else {
            self.operand(expr)?;
            self.push(not);
            self.push(if case_insensitive {
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
        Ok(())
    }

    /// `name([DISTINCT] args)`; the current timestamp is the dialect's
    /// ([`crate::Dialect::now_sql`]).
    fn func(&mut self, func: Function, args: &[Expr], distinct: bool) -> R {
        if func == Function::Now {
            let now = self.d.now_sql();
            self.push(now);
            return Ok(());
        }
        self.push(func.name());
        self.push("(");
        if distinct {
            self.push("DISTINCT ");
        }
        self.expr_list(args, Place::Other)?;
        self.push(")");
        Ok(())
    }

    /// `expr AS "name"` in the select list, `"name"` in ORDER BY / GROUP BY, the bare
    /// expression elsewhere.
    fn label(&mut self, expr: &Expr, name: &Ident, place: Place) -> R {
        match place {
            Place::Column => {
                self.expr(expr)?;
                self.push(" AS ");
                self.ident(name);
            }
            Place::Ordering => self.ident(name),
            Place::Other => self.expr(expr)?,
        }
        Ok(())
    }

    /// `CASE WHEN c THEN v … [ELSE v] END`
    fn case(&mut self, whens: &[(Expr, Expr)], else_: Option<&Expr>) -> R {
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
        Ok(())
    }

    /// `(SELECT …)`
    fn subquery(&mut self, q: &Select) -> R {
        self.push("(");
        self.select(q)?;
        self.push(")");
        Ok(())
    }
}

/// An expression with no column or typed function in it: its binds' types cannot be inferred.
fn untyped(e: &Expr) -> bool {
    match e {
        Expr::Bind(v) => !v.is_null(),
        Expr::Neg(x) | Expr::Nested(x) => untyped(x),
        Expr::Label { expr, .. } => untyped(expr),
        Expr::Binary { operands, .. } => operands.iter().all(untyped),
        _ => false,
    }
}

/// Which junction [`Compiler::junction`] writes.
#[derive(Clone, Copy)]
enum Junction {
    And,
    Or,
}
