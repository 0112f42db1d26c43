//! SELECT: the select list, FROM and joins, WHERE / GROUP BY / HAVING, CTEs (`WITH
//! [RECURSIVE]`), set operations (`UNION [ALL]`), ORDER BY and LIMIT / OFFSET.

use std::fmt::Write as _;

use super::{CompileError, Compiler, Place, R};
use crate::expr::{Nulls, OrderBy};
use crate::query::{Cte, FromItem, JoinKind, Select, SetOp};

impl Compiler<'_> {
    /// A whole SELECT: its CTEs, its core, its UNION members, then ORDER BY / LIMIT / OFFSET
    /// (which apply to the whole compound).
    pub(super) fn select(&mut self, s: &Select) -> R {
        self.ctes(&s.ctes, s.recursive)?;
        self.select_core(s)?;
        for (op, member) in &s.compound {
            self.union_member(*op, member)?;
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
        self.limit_offset(s.limit, s.offset)
    }

    /// ` UNION [ALL] SELECT …`
    fn union_member(&mut self, op: SetOp, member: &Select) -> R {
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
        self.select_core(member)
    }

    /// ` LIMIT n OFFSET m`, bound or written inline as the dialect prefers
    /// ([`crate::Dialect::inline_limits`]). Where the dialect cannot write OFFSET alone
    /// ([`crate::Dialect::offset_requires_limit`]) an OFFSET gets `LIMIT -1` (no limit).
    fn limit_offset(&mut self, limit: Option<u64>, offset: Option<u64>) -> R {
        match (limit, offset) {
            (Some(l), _) => {
                self.push(" LIMIT ");
                self.count(l)?;
            }
            (None, Some(_)) if self.d.offset_requires_limit() => self.push(self.d.no_limit_sql()),
            (None, _) => {}
        }
        if let Some(o) = offset {
            self.push(" OFFSET ");
            self.count(o)?;
        }
        Ok(())
    }

    /// A row count: an integer this library produced from a `u64`, never user text, so
    /// writing it inline is as safe as binding it.
    fn count(&mut self, n: u64) -> R {
        if self.d.inline_limits() {
            let n = i64::try_from(n).map_err(|_| CompileError::OutOfRange(n))?;
            // Writing to a String cannot fail.
            let _ = write!(self.sql, "{n}");
            Ok(())
        } else {
            self.bind_count(n)
        }
    }

    /// `WITH [RECURSIVE] "name" ("col", …) AS (SELECT …), … ` (nothing when there are none).
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

    /// `SELECT [DISTINCT] … FROM … JOIN … WHERE … GROUP BY … HAVING …`: the part of a SELECT
    /// that a UNION member may carry.
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
        self.where_clause(s.where_.as_ref())?;
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

    /// A table, or `(SELECT …) AS "alias"`.
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

    /// `expr [DESC] [NULLS FIRST | NULLS LAST]`
    fn order_item(&mut self, o: &OrderBy) -> R {
        if o.nulls.is_some() && !self.d.native_nulls_order() {
            // `expr IS NULL` sorts NULLs last ascending (false < true), first descending.
            self.expr_in(&o.expr, Place::Other)?;
            self.push(match o.nulls {
                Some(Nulls::First) => " IS NULL DESC, ",
                _ => " IS NULL, ",
            });
            self.expr_in(&o.expr, Place::Ordering)?;
            if o.desc {
                self.push(" DESC");
            }
            return Ok(());
        }
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
}
