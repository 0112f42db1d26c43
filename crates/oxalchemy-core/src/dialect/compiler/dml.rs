//! Data modification: INSERT (multi-row, DEFAULT VALUES, upsert with `ON CONFLICT`), UPDATE
//! and DELETE, each with an optional RETURNING list.

use super::{CompileError, Compiler, Place, R};
use crate::expr::{Expr, Ident};
use crate::query::{ConflictTarget, Delete, Insert, OnConflict, Update};

impl Compiler<'_> {
    /// `INSERT INTO t ("a", …) VALUES (…), (…) [ON CONFLICT …] [RETURNING …]`
    pub(super) fn insert(&mut self, s: &Insert) -> R {
        self.push("INSERT INTO ");
        self.table_ref(&s.table);
        if s.columns.is_empty() {
            self.default_values(s)?;
        } else {
            self.values(s)?;
        }
        if s.conflict_where_without_update {
            return Err(CompileError::Unsupported(
                "on_conflict_where without an ON CONFLICT … DO UPDATE (call \
                 on_conflict_do_update / on_constraint_do_update first)",
                self.d.name(),
            ));
        }
        match &s.on_conflict {
            None => {}
            Some(c) if self.d.on_duplicate_key_update() => self.on_duplicate_key(s, c)?,
            Some(OnConflict::DoNothing { target }) => {
                self.push(" ON CONFLICT");
                self.conflict_target(target)?;
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
                self.push(" ON CONFLICT");
                self.conflict_target(target)?;
                self.push(" DO UPDATE SET ");
                self.assignments(set)?;
                self.where_clause(where_.as_ref())?;
            }
        }
        self.returning(&s.returning)
    }

    /// ` ("a", "b")` or ` ON CONSTRAINT "name"`; nothing for no columns.
    fn conflict_target(&mut self, target: &ConflictTarget) -> R {
        match target {
            ConflictTarget::Columns(c) if c.is_empty() => {}
            ConflictTarget::Columns(c) => {
                self.push(" (");
                self.idents(c);
                self.push(")");
            }
            ConflictTarget::Constraint(name) => {
                if !self.d.conflict_on_constraint() {
                    return Err(CompileError::Unsupported(
                        "ON CONFLICT ON CONSTRAINT (name the constraint's columns instead)",
                        self.d.name(),
                    ));
                }
                self.push(" ON CONSTRAINT ");
                self.ident(name);
            }
        }
        Ok(())
    }

    /// ` DEFAULT VALUES`: an insert naming no columns may carry one empty row at most.
    fn default_values(&mut self, s: &Insert) -> R {
        match s.rows.as_slice() {
            [] => self.push(self.d.default_values_sql()),
            [row] if row.is_empty() => self.push(self.d.default_values_sql()),
            rows => {
                return Err(CompileError::RowLength {
                    table: s.table.name.to_string(),
                    row: 0,
                    expected: 0,
                    got: rows[0].len(),
                })
            }
        }
        Ok(())
    }

    /// ` ("a", "b") VALUES (…), (…)`; every row must have one value per column.
    fn values(&mut self, s: &Insert) -> R {
        if s.rows.is_empty() {
            return Err(CompileError::EmptyInsert(s.table.name.to_string()));
        }
        self.push(" (");
        self.idents(&s.columns);
        self.push(") VALUES ");
        for (i, row) in s.rows.iter().enumerate() {
            if row.len() != s.columns.len() {
                return Err(CompileError::RowLength {
                    table: s.table.name.to_string(),
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
        Ok(())
    }

    /// `UPDATE t SET "a" = …, … [WHERE …] [RETURNING …]`
    pub(super) fn update(&mut self, s: &Update) -> R {
        if s.set.is_empty() {
            return Err(CompileError::EmptyUpdate(s.table.name.to_string()));
        }
        self.push("UPDATE ");
        self.table_ref(&s.table);
        self.push(" SET ");
        self.assignments(&s.set)?;
        self.where_clause(s.where_.as_ref())?;
        if !s.returning.is_empty() && !self.d.update_returning() {
            return Err(CompileError::Unsupported(
                "UPDATE … RETURNING (read the rows back with a SELECT by key)",
                self.d.name(),
            ));
        }
        self.returning(&s.returning)
    }

    /// MySQL's upsert: ` ON DUPLICATE KEY UPDATE "a" = VALUES("a"), …`. The conflict target
    /// is implied (any unique key); DO NOTHING assigns a conflict column to itself (a no-op
    /// that, unlike `INSERT IGNORE`, turns no other error into a warning).
    fn on_duplicate_key(&mut self, s: &Insert, c: &OnConflict) -> R {
        let target = match c {
            OnConflict::DoNothing { target } | OnConflict::DoUpdate { target, .. } => target,
        };
        // ON DUPLICATE KEY has no target: a constraint's name could be neither checked nor
        // used, so it is refused as on SQLite rather than ignored.
        if matches!(target, ConflictTarget::Constraint(_)) {
            return Err(CompileError::Unsupported(
                "ON CONFLICT ON CONSTRAINT (name the constraint's columns instead)",
                self.d.name(),
            ));
        }
        // The no-op update that skips a duplicate still "writes" it: RETURNING would return
        // the skipped rows with the inserted ones, so it is refused rather than wrong.
        if matches!(c, OnConflict::DoNothing { .. }) && !s.returning.is_empty() {
            return Err(CompileError::Unsupported(
                "ON CONFLICT DO NOTHING with RETURNING (ON DUPLICATE KEY UPDATE returns the \
                 skipped rows too, so the inserted ones cannot be told apart; insert without \
                 RETURNING, or upsert with an update)",
                self.d.name(),
            ));
        }
        match c {
            OnConflict::DoNothing { target } => {
                let named = match target {
                    ConflictTarget::Columns(cols) => cols.first(),
                    ConflictTarget::Constraint(_) => None,
                };
                let col = named
                    .or_else(|| s.columns.first())
                    .ok_or(CompileError::MissingConflictTarget)?;
                self.push(" ON DUPLICATE KEY UPDATE ");
                self.ident(col);
                self.push(" = ");
                self.ident(col);
            }
            OnConflict::DoUpdate { set, where_, .. } => {
                if where_.is_some() {
                    return Err(CompileError::Unsupported(
                        "ON CONFLICT … DO UPDATE … WHERE (ON DUPLICATE KEY UPDATE has no WHERE; use IF() in the assignments)",
                        self.d.name(),
                    ));
                }
                if set.is_empty() {
                    return Err(CompileError::EmptyUpdate(s.table.name.to_string()));
                }
                self.push(" ON DUPLICATE KEY UPDATE ");
                self.assignments(set)?;
            }
        }
        Ok(())
    }

    /// `DELETE FROM t [WHERE …] [RETURNING …]`
    pub(super) fn delete(&mut self, s: &Delete) -> R {
        self.push("DELETE FROM ");
        self.table_ref(&s.table);
        self.where_clause(s.where_.as_ref())?;
        self.returning(&s.returning)
    }

    /// `"a" = expr, "b" = expr` (UPDATE SET and ON CONFLICT DO UPDATE SET).
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

    /// ` RETURNING expr, …` (labels become `AS` aliases, as in a select list).
    fn returning(&mut self, r: &[Expr]) -> R {
        if !r.is_empty() && !self.d.insert_returning() {
            return Err(CompileError::Unsupported(
                "RETURNING (this server has none: MySQL; MariaDB has it from 10.5)",
                self.d.name(),
            ));
        }
        if !r.is_empty() {
            self.push(" RETURNING ");
            self.expr_list(r, Place::Column)?;
        }
        Ok(())
    }
}
