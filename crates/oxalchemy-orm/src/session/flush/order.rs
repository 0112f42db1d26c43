//! Orders the flush's writes: tables in foreign-key order (referenced tables first for
//! INSERTs, last for DELETEs), and rows of a self-referential table parent-first.

use oxalchemy_core::schema::{Constraint, MetaData, Table};
use oxalchemy_core::Value;

use crate::session::objects::Pairs;

/// Orders rows of one table so a row comes after the rows it references through the
/// table's own foreign keys (self-referential tables). Stable; a cycle keeps input order.
pub(super) fn parent_first(rows: &[&Pairs], self_fks: &[(Vec<String>, Vec<String>)]) -> Vec<usize> {
    let n = rows.len();
    if self_fks.is_empty() || n < 2 {
        return (0..n).collect();
    }
    let get = |row: &Pairs, c: &str| row.iter().find(|(k, _)| *k == c).map(|(_, v)| v.clone());
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (child, row) in rows.iter().enumerate() {
        for (cols, ref_cols) in self_fks {
            let wanted: Option<Vec<Value>> = cols.iter().map(|c| get(row, c)).collect();
            let Some(wanted) = wanted else { continue };
            if wanted.iter().any(Value::is_null) {
                continue;
            }
            for (parent, prow) in rows.iter().enumerate() {
                if parent == child {
                    continue;
                }
                let have: Option<Vec<Value>> = ref_cols.iter().map(|c| get(prow, c)).collect();
                if have.as_ref() == Some(&wanted) {
                    parents[child].push(parent);
                }
            }
        }
    }
    let mut done = vec![false; n];
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let next = (0..n).find(|&i| !done[i] && parents[i].iter().all(|&p| done[p]));
        match next {
            Some(i) => {
                done[i] = true;
                out.push(i);
            }
            None => {
                out.extend((0..n).filter(|&i| !done[i]));
                break;
            }
        }
    }
    out
}

/// Tables in foreign-key order (referenced first); ties keep first-seen order.
pub(super) fn table_order(tables: &[(&'static str, Table)]) -> Vec<&'static str> {
    let mut done: Vec<&'static str> = Vec::with_capacity(tables.len());
    while done.len() < tables.len() {
        let next = tables.iter().find(|(name, t)| {
            !done.contains(name)
                && t.dependencies().all(|dep| {
                    !tables.iter().any(|(n, _)| *n == dep.as_str()) || done.contains(&dep.as_str())
                })
        });
        match next {
            Some((name, _)) => done.push(name),
            None => {
                // A cycle between tables: the order `create_all` uses, which breaks it at a
                // nullable foreign key where it can. The rows of that foreign key are then
                // inserted with NULL and updated after (post_update), or set to NULL before
                // the deletes (see `run/cycles.rs`).
                let mut md = MetaData::new();
                for (name, t) in tables {
                    if !done.contains(name) {
                        md.add(t.clone());
                    }
                }
                for t in md.creation_order().tables {
                    if let Some((name, _)) = tables
                        .iter()
                        .find(|(n, _)| *n == t.name.as_str() && !done.contains(n))
                    {
                        done.push(name);
                    }
                }
                // Never loop, whatever the names.
                for (name, _) in tables {
                    if !done.contains(name) {
                        done.push(name);
                    }
                }
            }
        }
    }
    done
}

pub(super) fn self_foreign_keys(t: &Table) -> Vec<(Vec<String>, Vec<String>)> {
    t.constraints
        .iter()
        .filter_map(|c| match c {
            Constraint::ForeignKey(fk) if fk.ref_table == t.name => Some((
                fk.columns.iter().map(|c| c.to_string()).collect(),
                fk.ref_columns.iter().map(|c| c.to_string()).collect(),
            )),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, parent: Option<i64>) -> Pairs {
        vec![("id", Value::I64(id)), ("parent_id", parent.into())]
    }

    #[test]
    fn parents_come_before_children() {
        let rows = [row(3, Some(2)), row(2, Some(1)), row(1, None), row(4, None)];
        let refs: Vec<&Pairs> = rows.iter().collect();
        let fks = vec![(vec!["parent_id".to_owned()], vec!["id".to_owned()])];
        let order = parent_first(&refs, &fks);
        let pos = |id: i64| order.iter().position(|&i| rows[i][0].1 == Value::I64(id));
        assert!(pos(1) < pos(2) && pos(2) < pos(3), "{order:?}");
        // Without self-referencing keys the input order is kept.
        assert_eq!(parent_first(&refs, &[]), [0, 1, 2, 3]);
        // A cycle keeps the remaining rows in input order rather than looping.
        let cyc = [row(1, Some(2)), row(2, Some(1))];
        let refs: Vec<&Pairs> = cyc.iter().collect();
        assert_eq!(parent_first(&refs, &fks), [0, 1]);
    }
}
