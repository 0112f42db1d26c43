//! SQL for the ORM's bulk write paths, built directly instead of through an expression tree:
//! flushing 10,000 objects should cost string appends, not 10,000 trees. The output is
//! exactly what [`super::compile`] produces for the equivalent statement (tested below).
//!
//! The ORM's flush calls these; they are public because their output is plain SQL any caller
//! can bind values to, in the order each function documents.

use super::Dialect;
use crate::Value;

/// [`Dialect::encode`] of every value, in place, skipping the call for the variants every
/// engine driver binds as they are: NULL, integers, floats, booleans, text and bytes, most
/// of a bulk write's values, each otherwise a dynamic call that moves the value out and
/// back. Only SQLite's `encode` changes any of them (it widens the narrow integers, floats
/// and booleans to 64 bits), and the engine's SQLite driver binds them widened itself,
/// refusing NaN as its `check_storable` does: so what reaches the database is the same.
#[inline]
pub fn encode_binds(d: &dyn Dialect, values: &mut [Value]) {
    for v in values {
        if !bound_as_is(v) {
            *v = d.encode(std::mem::replace(v, Value::Null));
        }
    }
}

/// Whether [`encode_binds`] leaves `v` as it is (on every dialect).
#[inline]
pub fn bound_as_is(v: &Value) -> bool {
    matches!(
        v,
        Value::Null
            | Value::I64(_)
            | Value::F64(_)
            | Value::Text(_)
            | Value::Bytes(_)
            | Value::I32(_)
            | Value::Bool(_)
            | Value::I16(_)
            | Value::F32(_)
    )
}

/// `INSERT INTO "t" ("a", "b") VALUES (?, ?), (?, ?) [RETURNING "x", …]` for `rows` rows;
/// binds go row by row in column order.
pub fn insert_rows_sql(
    d: &dyn Dialect,
    table: &str,
    columns: &[&str],
    rows: usize,
    returning: &[&str],
) -> String {
    let mut out = String::with_capacity(64 + rows * columns.len() * 5);
    out.push_str("INSERT INTO ");
    d.quote_ident(&mut out, table);
    if columns.is_empty() {
        out.push_str(d.default_values_sql());
    } else {
        out.push_str(" (");
        push_columns(d, &mut out, columns);
        out.push_str(") VALUES ");
        let mut n = 0;
        for r in 0..rows {
            if r > 0 {
                out.push_str(", ");
            }
            out.push('(');
            for c in 0..columns.len() {
                if c > 0 {
                    out.push_str(", ");
                }
                n += 1;
                d.write_placeholder(&mut out, n);
            }
            out.push(')');
        }
    }
    if !returning.is_empty() {
        out.push_str(" RETURNING ");
        push_columns(d, &mut out, returning);
    }
    out
}

/// `UPDATE "t" SET "a" = ?, "b" = ? WHERE "k" = ?` (several key columns are ANDed, each
/// parenthesised, as the compiler does); binds: the set values, then the key values.
pub fn update_by_key_sql(d: &dyn Dialect, table: &str, set: &[&str], key: &[&str]) -> String {
    let mut out = String::with_capacity(64 + 16 * (set.len() + key.len()));
    out.push_str("UPDATE ");
    d.quote_ident(&mut out, table);
    out.push_str(" SET ");
    for (i, c) in set.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        d.quote_ident(&mut out, c);
        out.push_str(" = ");
        d.write_placeholder(&mut out, i + 1);
    }
    push_key(d, &mut out, key, set.len());
    out
}

/// `DELETE FROM "t" WHERE "k" = ?`; binds: the key values.
pub fn delete_by_key_sql(d: &dyn Dialect, table: &str, key: &[&str]) -> String {
    let mut out = String::with_capacity(48 + 16 * key.len());
    out.push_str("DELETE FROM ");
    d.quote_ident(&mut out, table);
    push_key(d, &mut out, key, 0);
    out
}

/// `"a", "b", …`
fn push_columns(d: &dyn Dialect, out: &mut String, cols: &[&str]) {
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        d.quote_ident(out, c);
    }
}

/// ` WHERE "k" = ?`, or ` WHERE ("a" = ?) AND ("b" = ?)` for a composite key; the
/// placeholders are numbered after the `n` binds already written.
fn push_key(d: &dyn Dialect, out: &mut String, key: &[&str], mut n: usize) {
    out.push_str(" WHERE ");
    if key.len() > 1 {
        for (i, k) in key.iter().enumerate() {
            if i > 0 {
                out.push_str(" AND ");
            }
            out.push('(');
            d.quote_ident(out, k);
            out.push_str(" = ");
            n += 1;
            d.write_placeholder(out, n);
            out.push(')');
        }
    } else if let Some(k) = key.first() {
        d.quote_ident(out, k);
        out.push_str(" = ");
        d.write_placeholder(out, n + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{and_, col, table, Ident};
    use crate::query::{delete, insert, update};
    use crate::{compile, MySql, Postgres, Sqlite, Value};

    #[test]
    fn encode_binds_equals_the_dialects_encode_but_narrow_scalars_on_sqlite() {
        let values = || {
            vec![
                Value::Null,
                Value::I64(-7),
                Value::F64(f64::NAN),
                Value::F64(2.5),
                Value::Text("tab\there".into()),
                Value::Bytes(vec![0, 255]),
                Value::Bool(true),
                Value::I32(3),
                Value::Uuid(uuid::Uuid::nil()),
            ]
        };
        // The narrow scalars SQLite's `encode` widens are left for its driver, which binds
        // them widened: widen them here to compare.
        let widen = |v: Value| match v {
            Value::Bool(b) => Value::I64(i64::from(b)),
            Value::I32(n) => Value::I64(i64::from(n)),
            other => other,
        };
        for d in [&Sqlite as &dyn Dialect, &Postgres, &MySql::MARIADB] {
            let mut fast = values();
            encode_binds(d, &mut fast);
            if d.name() == "sqlite" {
                assert!(matches!(fast[6..8], [Value::Bool(true), Value::I32(3)]));
                fast = fast.into_iter().map(widen).collect();
            }
            let slow: Vec<Value> = values().into_iter().map(|v| d.encode(v)).collect();
            // NaN is not equal to itself: compare their forms.
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{}", d.name());
        }
    }

    fn key_cond(key: &[&'static str]) -> crate::Expr {
        and_(
            key.iter()
                .map(|k| col(Ident::new_static(k)).eq(Value::I64(1))),
        )
    }

    #[test]
    fn bulk_sql_equals_the_compiled_statement() {
        for d in [&Sqlite as &dyn Dialect, &Postgres] {
            let tree = insert(table("t"))
                .columns(["a", "b"])
                .values([1i64, 2])
                .values([3i64, 4])
                .returning([col("id"), col("a")]);
            assert_eq!(
                insert_rows_sql(d, "t", &["a", "b"], 2, &["id", "a"]),
                compile(d, &tree.into()).unwrap().sql
            );
            for key in [&["id"][..], &["a", "b"][..]] {
                let up = update(table("t"))
                    .set("x", 1i64)
                    .set("y", 2i64)
                    .filter(key_cond(key));
                assert_eq!(
                    update_by_key_sql(d, "t", &["x", "y"], key),
                    compile(d, &up.into()).unwrap().sql
                );
                let del = delete(table("t")).filter(key_cond(key));
                assert_eq!(
                    delete_by_key_sql(d, "t", key),
                    compile(d, &del.into()).unwrap().sql
                );
            }
        }
        assert_eq!(
            insert_rows_sql(&Postgres, "we\"ird", &[], 1, &["id"]),
            r#"INSERT INTO "we""ird" DEFAULT VALUES RETURNING "id""#
        );
    }
}
