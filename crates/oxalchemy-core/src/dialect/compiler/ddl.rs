//! DDL: CREATE / DROP TABLE, CREATE / DROP INDEX, CREATE / DROP TYPE (native enums), and the
//! column and constraint definitions `ALTER TABLE` reuses.
//!
//! DDL cannot carry binds, so this is the one place values are inlined as literals
//! (server defaults), always escaped. Names come from metadata and are always quoted.

use super::{CompileError, Compiler, R};
use crate::dialect::quote_literal;
use crate::expr::Ident;
use crate::schema::{
    Column, Constraint, CreateEnumType, CreateIndex, CreateTable, DropEnumType, DropIndex,
    DropTable, NamingConvention, ServerDefault,
};
use crate::value::Value;

impl Compiler<'_> {
    /// A value inlined as a literal, in the dialect's encoding (server defaults).
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
            Value::Bytes(b) => self.d.write_bytes_literal(&mut self.sql, &b),
            Value::Json(j) => quote_literal(&mut self.sql, &j.to_string()),
            Value::Uuid(u) => quote_literal(&mut self.sql, &u.hyphenated().to_string()),
            Value::Date(d) => quote_literal(&mut self.sql, &d.to_string()),
            Value::Time(t) => quote_literal(&mut self.sql, &t.to_string()),
            Value::DateTime(t) => quote_literal(&mut self.sql, &t.to_string()),
            Value::DateTimeTz(t) => quote_literal(&mut self.sql, &t.to_rfc3339()),
            Value::Decimal(d) => {
                let _ = write!(self.sql, "{d}");
            }
            // Quoted: the text is not checked to be digits, and both databases read a quoted
            // number or address in a NUMERIC / INET context.
            Value::Numeric(n) => quote_literal(&mut self.sql, &n),
            Value::Inet { addr, prefix } => {
                quote_literal(&mut self.sql, &crate::value_types::inet_text(&addr, prefix))
            }
            // SQLite encodes arrays as JSON text; on PostgreSQL an ARRAY constructor (an
            // empty one as the literal '{}', whose type comes from the column).
            Value::Array(items) if items.is_empty() => self.push("'{}'"),
            Value::Array(items) => {
                self.push("ARRAY[");
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        self.push(", ");
                    }
                    self.literal(v)?;
                }
                self.push("]");
            }
        }
        Ok(())
    }

    /// A float written so it reads back exactly; NaN and infinities have no SQL literal.
    fn float_literal(&mut self, f: f64) -> R {
        if !f.is_finite() {
            return Err(CompileError::NonFiniteLiteral(f));
        }
        use std::fmt::Write;
        let _ = write!(self.sql, "{f:?}");
        Ok(())
    }

    /// `CREATE TABLE [IF NOT EXISTS] t (columns, PRIMARY KEY, constraints)`
    pub(super) fn create_table(&mut self, s: &CreateTable) -> R {
        let mut table = s.table.clone();
        // Names from the table's MetaData win; anything still unnamed gets the default convention.
        table.apply_naming(&NamingConvention::default());
        // Key columns in a type the database can key (MySQL: no whole-TEXT keys).
        let table = crate::dialect::key_sized(self.d, &table);
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
                pk_inline = match &c.identity {
                    Some(identity) => self.d.write_identity_column(
                        &mut self.sql,
                        &c.ty,
                        pk_name.as_str(),
                        identity,
                    ),
                    None => {
                        self.d
                            .write_autoincrement_column(&mut self.sql, &c.ty, pk_name.as_str())
                    }
                };
                if !pk_inline {
                    self.push(" NOT NULL");
                }
                self.server_default(c)?;
                self.inline_comment(c.comment.as_deref(), " COMMENT ");
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
        if self.d.indexes_in_create_table() {
            for ix in &table.indexes {
                self.push(if ix.unique {
                    ", UNIQUE INDEX "
                } else {
                    ", INDEX "
                });
                if let Some(name) = &ix.name {
                    self.ident(name);
                    self.push(" ");
                }
                self.push("(");
                for (i, name) in ix.columns.iter().enumerate() {
                    if i > 0 {
                        self.push(", ");
                    }
                    self.ident(name);
                    let ty = table
                        .columns
                        .iter()
                        .find(|c| c.name == *name)
                        .map(|c| &c.ty);
                    if let Some(n) = ty.and_then(|ty| self.d.index_prefix_length(ty)) {
                        use std::fmt::Write;
                        let _ = write!(self.sql, "({n})");
                    }
                }
                self.push(")");
            }
        }
        self.push(")");
        self.push(self.d.create_table_suffix());
        self.inline_comment(table.comment.as_deref(), " COMMENT=");
        Ok(())
    }

    /// `{keyword}'comment'` where the dialect writes comments in the DDL (MySQL).
    fn inline_comment(&mut self, comment: Option<&str>, keyword: &str) {
        if let (true, Some(text)) = (self.d.inline_comments(), comment) {
            self.push(keyword);
            quote_literal(&mut self.sql, text);
        }
    }

    /// A column's type, COLLATE, GENERATED, NOT NULL and DEFAULT (everything after its
    /// name). A generated column has no default.
    pub(super) fn column_body(&mut self, c: &Column) -> R {
        self.d.write_type(&mut self.sql, &c.ty);
        if let Some(collation) = &c.collation {
            self.push(" COLLATE ");
            self.ident(&Ident::from(collation.clone()));
        }
        if let Some(computed) = &c.computed {
            self.push(" GENERATED ALWAYS AS (");
            self.push(&computed.sql);
            self.push(if computed.stored {
                ") STORED"
            } else {
                ") VIRTUAL"
            });
        }
        if !c.nullable && (c.computed.is_none() || self.d.computed_not_null()) {
            self.push(" NOT NULL");
        }
        if c.computed.is_none() {
            self.server_default(c)?;
        }
        self.inline_comment(c.comment.as_deref(), " COMMENT ");
        Ok(())
    }

    /// ` DEFAULT …`, if the column has a server default.
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
    pub(super) fn constraint(&mut self, schema: Option<&Ident>, con: &Constraint) {
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
                if let Some(schema) = fk.ref_schema.as_ref().or(schema) {
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
                if fk.deferrable {
                    self.push(" DEFERRABLE");
                    if fk.initially_deferred {
                        self.push(" INITIALLY DEFERRED");
                    }
                }
            }
        }
    }

    /// `CONSTRAINT "n" `, if the constraint is named.
    fn constraint_name(&mut self, name: Option<&Ident>) {
        if let Some(n) = name {
            self.push("CONSTRAINT ");
            self.ident(n);
            self.push(" ");
        }
    }

    /// `DROP TABLE [IF EXISTS] t`
    pub(super) fn drop_table(&mut self, s: &DropTable) {
        self.push("DROP TABLE ");
        if s.if_exists {
            self.push("IF EXISTS ");
        }
        self.unaliased_table_ref(&s.table);
    }

    /// `CREATE [UNIQUE] INDEX [IF NOT EXISTS] "ix" ON t ("a", …)`; an unnamed index gets
    /// the default naming convention's name.
    pub(super) fn create_index(&mut self, s: &CreateIndex) {
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
        self.unaliased_table_ref(&s.table);
        self.push(" (");
        self.idents(&s.index.columns);
        for (i, e) in s.index.expressions.iter().enumerate() {
            if i > 0 || !s.index.columns.is_empty() {
                self.push(", ");
            }
            // An expression key needs its own parentheses unless it is a function call.
            let call = e.ends_with(')') && !e.starts_with('(');
            if call {
                self.push(e);
            } else {
                self.push("(");
                self.push(e);
                self.push(")");
            }
        }
        self.push(")");
        if let Some(w) = &s.index.where_clause {
            self.push(" WHERE ");
            self.push(w);
        }
    }

    /// `CREATE TYPE "t" AS ENUM ('a', …)`, where the dialect has native enums.
    pub(super) fn create_enum_type(&mut self, s: &CreateEnumType) -> R {
        if !self.d.native_enums() {
            return Err(CompileError::Unsupported(
                "CREATE TYPE … AS ENUM (use a non-native SqlType::Enum, a VARCHAR with a CHECK, on this database)",
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

    /// `DROP TYPE [IF EXISTS] "t"`, where the dialect has native enums.
    pub(super) fn drop_enum_type(&mut self, s: &DropEnumType) -> R {
        if !self.d.native_enums() {
            return Err(CompileError::Unsupported(
                "DROP TYPE (this database has no enum types to drop)",
                self.d.name(),
            ));
        }
        self.push("DROP TYPE ");
        if s.if_exists {
            self.push("IF EXISTS ");
        }
        self.ident(&s.name);
        Ok(())
    }

    /// `DROP INDEX [IF EXISTS] ["schema".]"ix"`
    pub(super) fn drop_index(&mut self, s: &DropIndex) {
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
