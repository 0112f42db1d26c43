//! The cache's key: a statement's shape written as bytes (see the parent module's docs),
//! and the literals met on the way, in walk order.

use crate::expr::{Expr, Ident, OrderBy, TableRef, TextSql};
use crate::query::{FromItem, Select, SelectHead, Statement};
use crate::value::Value;

/// A statement's shape as bytes, and the literals met on the way. Every node starts with a
/// tag and every list with its length, so two different shapes never write the same bytes.
pub(super) struct Shape<'a> {
    pub(super) key: Vec<u8>,
    pub(super) values: Vec<&'a Value>,
    /// The `&'static str` table qualifying the last column written, if it had one. A column
    /// qualified by the same table (a model's columns, and its filters) is written as tag
    /// 24 and its name, without the table's ten bytes again: the key is hashed and compared
    /// on every lookup, so its length is much of a lookup's cost. Tag 24 means "the table
    /// of the column before", which the bytes before it spell, so two statements that
    /// render differently still never write the same key.
    pub(super) last_table: Option<&'static str>,
}

impl<'a> Shape<'a> {
    #[inline]
    pub(super) fn tag(&mut self, t: u8) {
        self.key.push(t);
    }

    /// A count or size: one byte below 255 (list lengths and names nearly always are),
    /// else 255 and eight bytes. Prefix-free, so no two numbers share an encoding; short
    /// keys are what make a lookup cheap (the key is hashed and compared on every call).
    #[inline]
    fn num(&mut self, n: u64) {
        match u8::try_from(n) {
            Ok(b) if b < u8::MAX => self.key.push(b),
            _ => {
                self.key.push(u8::MAX);
                self.key.extend_from_slice(&n.to_le_bytes());
            }
        }
    }

    /// A full-width number (an address, a LIMIT count).
    #[inline]
    fn wide(&mut self, n: u64) {
        self.key.extend_from_slice(&n.to_le_bytes());
    }

    #[inline]
    pub(super) fn str(&mut self, s: &str) {
        self.num(s.len() as u64);
        self.key.extend_from_slice(s.as_bytes());
    }

    /// A [`SelectHead`]: its names' addresses and lengths, which fix its text.
    pub(super) fn head(&mut self, head: &SelectHead) {
        self.wide(head.table.as_ptr() as usize as u64);
        self.num(head.table.len() as u64);
        self.wide(head.columns.as_ptr() as usize as u64);
        self.num(head.columns.len() as u64);
    }

    #[inline]
    fn flag(&mut self, b: bool) {
        self.tag(u8::from(b));
    }

    /// A `&'static str` name by address and length (its text can never change), any other
    /// by its text.
    #[inline]
    fn ident(&mut self, i: &Ident) {
        match i.as_static() {
            // The usual case (a model's names) written in one copy: the same bytes as
            // `tag(1)`, `wide(address)`, `num(len)`.
            Some(s) if s.len() < usize::from(u8::MAX) => {
                let mut bytes = [1u8; 10];
                bytes[1..9].copy_from_slice(&(s.as_ptr() as usize as u64).to_le_bytes());
                bytes[9] = s.len() as u8;
                self.key.extend_from_slice(&bytes);
            }
            Some(s) => {
                self.tag(1);
                self.wide(s.as_ptr() as usize as u64);
                self.num(s.len() as u64);
            }
            None => {
                self.tag(2);
                self.str(i.as_str());
            }
        }
    }

    #[inline]
    fn opt_ident(&mut self, i: Option<&Ident>) {
        match i {
            Some(i) => self.ident(i),
            None => self.tag(0),
        }
    }

    /// A literal: only its type goes in the key (casts depend on it), its value is kept.
    #[inline]
    fn value(&mut self, v: &'a Value) {
        self.value_type(v);
        self.values.push(v);
    }

    fn value_type(&mut self, v: &Value) {
        let t = match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::I16(_) => 2,
            Value::I32(_) => 3,
            Value::I64(_) => 4,
            Value::F32(_) => 5,
            Value::F64(_) => 6,
            Value::Text(_) => 7,
            Value::Bytes(_) => 8,
            Value::Json(_) => 9,
            Value::Uuid(_) => 10,
            Value::Date(_) => 11,
            Value::Time(_) => 12,
            Value::DateTime(_) => 13,
            Value::DateTimeTz(_) => 14,
            Value::Decimal(_) => 15,
            Value::Numeric(_) => 16,
            Value::Inet { .. } => 17,
            Value::Array(items) => {
                // An array is cast after its first non-NULL element's type.
                self.tag(18);
                match items.iter().find(|v| !v.is_null()) {
                    Some(first) => self.value_type(first),
                    None => self.tag(0),
                }
                return;
            }
        };
        self.tag(t);
    }

    /// Whether the statement is of a kind the cache keeps.
    pub(super) fn statement(&mut self, s: &'a Statement) -> bool {
        match s {
            Statement::Select(s) => {
                self.tag(1);
                self.select(s)
            }
            Statement::Text(t) => {
                self.tag(2);
                self.text(t);
                true
            }
            _ => false,
        }
    }

    fn text(&mut self, t: &'a TextSql) {
        self.str(&t.sql);
        self.num(t.binds.len() as u64);
        for (name, v) in &t.binds {
            self.str(name);
            self.value(v);
        }
    }

    fn table(&mut self, t: &TableRef) {
        self.opt_ident(t.schema.as_ref());
        self.ident(&t.name);
        self.opt_ident(t.alias.as_ref());
    }

    fn source(&mut self, f: &'a FromItem) -> bool {
        match f {
            FromItem::Table(t) => {
                self.tag(1);
                self.table(t);
                true
            }
            FromItem::Subquery { query, alias } => {
                self.tag(2);
                self.ident(alias);
                self.select(query)
            }
        }
    }

    pub(super) fn select(&mut self, s: &'a Select) -> bool {
        // Destructured, not read field by field: a field added to `Select` must be added to
        // the shape (or the cache would hand one statement's SQL to another), and this makes
        // forgetting it a compile error.
        let Select {
            ctes,
            recursive,
            distinct,
            columns,
            from,
            joins,
            where_,
            group_by,
            having,
            compound,
            order_by,
            limit,
            offset,
        } = s;
        // Which parts are there, as one 16-bit mask: most of a model query's parts are
        // empty, and writing a tag or a zero length for each cost more than the rest of
        // its key. A part the mask names is written after it, each self-delimiting, so the
        // key stays prefix-free.
        let parts = [
            !ctes.is_empty(),
            *recursive,
            *distinct,
            !columns.is_empty(),
            !from.is_empty(),
            !joins.is_empty(),
            where_.is_some(),
            !group_by.is_empty(),
            having.is_some(),
            !compound.is_empty(),
            !order_by.is_empty(),
            limit.is_some(),
            offset.is_some(),
        ];
        let mask = parts
            .iter()
            .enumerate()
            .fold(0u16, |m, (bit, on)| m | (u16::from(*on) << bit));
        self.key.extend_from_slice(&mask.to_le_bytes());
        if !ctes.is_empty() {
            self.num(ctes.len() as u64);
            for cte in ctes {
                self.ident(&cte.name);
                self.num(cte.columns.len() as u64);
                for c in &cte.columns {
                    self.ident(c);
                }
                if !self.select(&cte.query) {
                    return false;
                }
            }
        }
        if !columns.is_empty() && !self.exprs(columns) {
            return false;
        }
        if !from.is_empty() {
            self.num(from.len() as u64);
            for f in from {
                if !self.source(f) {
                    return false;
                }
            }
        }
        if !joins.is_empty() {
            self.num(joins.len() as u64);
            for j in joins {
                self.tag(j.kind as u8);
                if !self.source(&j.target) || !self.expr(&j.on) {
                    return false;
                }
            }
        }
        if let Some(w) = where_ {
            if !self.expr(w) {
                return false;
            }
        }
        if !group_by.is_empty() && !self.exprs(group_by) {
            return false;
        }
        if let Some(h) = having {
            if !self.expr(h) {
                return false;
            }
        }
        if !compound.is_empty() {
            self.num(compound.len() as u64);
            for (op, member) in compound {
                self.tag(*op as u8);
                if !self.select(member) {
                    return false;
                }
            }
        }
        if !order_by.is_empty() {
            self.num(order_by.len() as u64);
            for o in order_by {
                if !self.order_item(o) {
                    return false;
                }
            }
        }
        if let Some(n) = limit {
            self.wide(*n);
        }
        if let Some(n) = offset {
            self.wide(*n);
        }
        true
    }

    fn order_item(&mut self, o: &'a OrderBy) -> bool {
        self.flag(o.desc);
        self.tag(match o.nulls {
            None => 0,
            Some(crate::expr::Nulls::First) => 1,
            Some(crate::expr::Nulls::Last) => 2,
        });
        self.expr(&o.expr)
    }

    fn exprs(&mut self, es: &'a [Expr]) -> bool {
        self.num(es.len() as u64);
        es.iter().all(|e| self.expr(e))
    }

    fn opt_expr(&mut self, e: Option<&'a Expr>) -> bool {
        match e {
            Some(e) => {
                self.tag(1);
                self.expr(e)
            }
            None => {
                self.tag(0);
                true
            }
        }
    }

    fn expr(&mut self, e: &'a Expr) -> bool {
        match e {
            Expr::Column { table, name } => {
                let table_static = table.as_ref().and_then(Ident::as_static);
                match (table_static, self.last_table) {
                    // Fat-pointer equality: the same address and length, so the same text.
                    (Some(t), Some(last)) if std::ptr::eq(t, last) => self.tag(24),
                    _ => {
                        self.tag(1);
                        self.opt_ident(table.as_ref());
                    }
                }
                self.ident(name);
                self.last_table = table_static;
            }
            Expr::Star(t) => {
                self.tag(2);
                self.opt_ident(t.as_ref());
            }
            Expr::Bind(v) => {
                self.tag(3);
                self.value(v);
            }
            Expr::Excluded(name) => {
                self.tag(4);
                self.ident(name);
            }
            Expr::Binary { op, operands } => {
                self.tag(5);
                self.tag(*op as u8);
                let [left, right] = &**operands;
                return self.expr(left) && self.expr(right);
            }
            Expr::Neg(x) => {
                self.tag(6);
                return self.expr(x);
            }
            Expr::Not(x) => {
                self.tag(7);
                return self.expr(x);
            }
            Expr::And(items) => {
                self.tag(8);
                return self.exprs(items);
            }
            Expr::Or(items) => {
                self.tag(9);
                return self.exprs(items);
            }
            Expr::IsNull { expr, negated } => {
                self.tag(10);
                self.flag(*negated);
                return self.expr(expr);
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                self.tag(11);
                self.flag(*negated);
                return self.expr(expr) && self.exprs(list);
            }
            Expr::InSubquery {
                expr,
                query,
                negated,
            } => {
                self.tag(12);
                self.flag(*negated);
                return self.expr(expr) && self.select(query);
            }
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                self.tag(13);
                self.flag(*negated);
                return self.expr(expr) && self.expr(low) && self.expr(high);
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                case_insensitive,
                negated,
            } => {
                self.tag(14);
                self.num(escape.map_or(u64::MAX, u64::from));
                self.flag(*case_insensitive);
                self.flag(*negated);
                return self.expr(expr) && self.expr(pattern);
            }
            Expr::Func {
                func,
                args,
                distinct,
            } => {
                self.tag(15);
                self.tag(*func as u8);
                self.flag(*distinct);
                return self.exprs(args);
            }
            Expr::CountStar => self.tag(16),
            Expr::Label { expr, name } => {
                self.tag(17);
                self.ident(name);
                return self.expr(expr);
            }
            Expr::Case { whens, else_ } => {
                self.tag(18);
                self.num(whens.len() as u64);
                for (when, then) in whens {
                    if !self.expr(when) || !self.expr(then) {
                        return false;
                    }
                }
                return self.opt_expr(else_.as_deref());
            }
            Expr::Cast { expr, ty } => {
                self.tag(19);
                // Rare enough that formatting the type is fine.
                self.str(&format!("{ty:?}"));
                return self.expr(expr);
            }
            Expr::Subquery(q) => {
                self.tag(20);
                return self.select(q);
            }
            Expr::Exists { query, negated } => {
                self.tag(21);
                self.flag(*negated);
                return self.select(query);
            }
            Expr::Text(t) => {
                self.tag(22);
                self.text(t);
            }
            Expr::Nested(x) => {
                self.tag(23);
                return self.expr(x);
            }
            // A prepared statement's placeholder: compiling it as a plain statement fails.
            Expr::Param => return false,
        }
        true
    }
}
