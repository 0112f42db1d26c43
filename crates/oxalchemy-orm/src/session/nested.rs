//! Nested transactions: a SAVEPOINT plus a copy of the object table, so rolling back to the
//! savepoint restores the session's objects as well as the database rows.

use oxalchemy_engine::Error;

use super::objects::{Entries, IdentityMap};
use super::Session;

/// The session's own state, saved by `begin_nested` and restored by `rollback_nested`.
pub(super) struct Saved {
    pub(super) entries: Entries,
    pub(super) identity: IdentityMap,
}

impl Session {
    /// Starts a SAVEPOINT: [`Session::rollback_nested`] undoes the database changes since
    /// then *and* restores the session's objects to how they were.
    pub async fn begin_nested(&mut self) -> Result<(), Error> {
        self.flush().await?;
        let saved = Saved {
            entries: self.entries.duplicate(),
            identity: self.identity.clone(),
        };
        let name = format!("oxalchemy_nested_{}", self.nested.len() + 1);
        self.log.push(format!("SAVEPOINT {name}"));
        let tx = self.transaction().await?;
        tx.execute(oxalchemy_core::text(format!("SAVEPOINT {name}")))
            .await?;
        self.nested.push(saved);
        Ok(())
    }

    /// Flushes and releases the innermost SAVEPOINT.
    pub async fn commit_nested(&mut self) -> Result<(), Error> {
        self.not_while_flushing("commit_nested")?;
        if self.nested.is_empty() {
            return Err(Error::TransactionFinished);
        }
        self.flush().await?;
        let name = format!("oxalchemy_nested_{}", self.nested.len());
        self.log.push(format!("RELEASE SAVEPOINT {name}"));
        let tx = self.transaction().await?;
        tx.execute(oxalchemy_core::text(format!("RELEASE SAVEPOINT {name}")))
            .await?;
        self.nested.pop();
        Ok(())
    }

    /// Rolls the innermost SAVEPOINT back and restores the session's objects to their state
    /// at `begin_nested`.
    pub async fn rollback_nested(&mut self) -> Result<(), Error> {
        // From a flush listener it would put back the object table the flush is writing.
        self.not_while_flushing("rollback_nested")?;
        let Some(saved) = self.nested.pop() else {
            return Err(Error::TransactionFinished);
        };
        let name = format!("oxalchemy_nested_{}", self.nested.len() + 1);
        self.log.push(format!("ROLLBACK TO SAVEPOINT {name}"));
        let tx = self.transaction().await?;
        tx.execute(oxalchemy_core::text(format!(
            "ROLLBACK TO SAVEPOINT {name}"
        )))
        .await?;
        tx.execute(oxalchemy_core::text(format!("RELEASE SAVEPOINT {name}")))
            .await?;
        self.entries = saved.entries;
        self.identity = saved.identity;
        Ok(())
    }
}
