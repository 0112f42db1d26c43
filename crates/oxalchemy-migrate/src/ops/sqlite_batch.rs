//! SQLite's "batch mode": what SQLite cannot `ALTER` is done by rebuilding the table from the
//! schema states before and after the operation (Alembic's `batch_alter_table`).

use oxalchemy_core::expr::Ident;
use oxalchemy_core::schema::MetaData;
use oxalchemy_core::{compile, Dialect};

use super::render::sql;
use super::{quoted, Op, OpError, Step};

impl Op {
    /// SQLite's 12-step table rebuild (https://sqlite.org/lang_altertable.html#otheralter):
    /// create the new table under a temporary name, copy the rows, drop the old table,
    /// rename the new one, recreate the indexes. Foreign keys must be off around it (the
    /// runner does that, then runs `PRAGMA foreign_key_check`).
    pub(super) fn rebuild(&self, d: &dyn Dialect, state: &MetaData) -> Result<Vec<Step>, OpError> {
        let name = self.table().unwrap_or_default().to_owned();
        let old = state
            .table(&name)
            .cloned()
            .ok_or_else(|| OpError::NoSuchTable(name.clone()))?;
        let mut after = state.clone();
        self.apply_to(&mut after)?;
        let new = after
            .table(&name)
            .cloned()
            .ok_or_else(|| OpError::NoSuchTable(name.clone()))?;
        let temp = format!("_oxalchemy_new_{name}");
        let mut temp_table = new.clone();
        temp_table.name = Ident::from(temp.clone());
        temp_table.indexes.clear();
        let common: Vec<String> = new
            .columns
            .iter()
            // Generated columns are computed, not copied (SQLite refuses writes to them).
            .filter(|c| c.computed.is_none())
            .filter(|c| {
                old.column_named(c.name.as_str())
                    .is_some_and(|o| o.computed.is_none())
            })
            .map(|c| quoted(c.name.as_str()))
            .collect();
        let mut steps = vec![Step::Sql(compile(d, &temp_table.create().into())?)];
        steps.push(sql(format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
            quoted(&temp),
            quoted(&name),
            cols = common.join(", ")
        )));
        steps.push(sql(format!("DROP TABLE {}", quoted(&name))));
        steps.push(sql(format!(
            "ALTER TABLE {} RENAME TO {}",
            quoted(&temp),
            quoted(&name)
        )));
        for ix in new.create_indexes() {
            steps.push(Step::Sql(compile(d, &ix.into())?));
        }
        Ok(steps)
    }
}
