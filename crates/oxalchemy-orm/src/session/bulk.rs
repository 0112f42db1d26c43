//! What the bulk operations (`crate::bulk`) need from a session: its flushed transaction,
//! and keeping held objects consistent with rows written behind their back.

use oxalchemy_engine::{Connection, Error};

use super::objects::{identity_key, Pairs};
use super::{Handle, Session};
use crate::model::Model;

impl Session {
    /// Flushes pending work, opens the session's transaction if needed, and lends its
    /// connection and statement log to a bulk write.
    pub(crate) async fn bulk_begin(
        &mut self,
    ) -> Result<(&mut Connection, &mut Vec<String>), Error> {
        self.flush().await?;
        self.transaction().await?;
        let tx = self
            .tx
            .as_mut()
            .expect("the session's transaction was just opened");
        Ok((&mut **tx, &mut self.log))
    }

    /// Records tables written in the session's transaction and invalidates the
    /// process-local cache's reads of them now (and again at commit).
    pub(crate) fn wrote_tables(&mut self, tables: impl Iterator<Item = &'static str>) {
        let tables: Vec<&'static str> = tables.collect();
        crate::cache::invalidate_tables(tables.iter().copied());
        for t in tables {
            if !self.written.contains(&t) {
                self.written.push(t);
            }
        }
    }

    /// At commit: the written tables' cached reads (possibly filled from the rows as they
    /// were before the commit) are invalidated again.
    pub(crate) fn committed_writes(&mut self) {
        crate::cache::invalidate_tables(self.written.drain(..));
    }

    /// Re-reads the held objects of the rows with these keys (after a bulk UPDATE), as the
    /// query-level update does.
    pub(crate) async fn bulk_refresh<M: Model + Clone>(
        &mut self,
        keys: &[Pairs],
    ) -> Result<(), Error> {
        let held: Vec<Handle<M>> = keys
            .iter()
            .filter_map(|pk| {
                self.identity
                    .get(&identity_key(M::TABLE, pk), &self.entries)
            })
            .map(|slot| self.handle(slot))
            .collect();
        for h in held {
            self.refresh(h).await?;
        }
        Ok(())
    }

    /// Drops the held objects of the rows with these keys (after a bulk DELETE), as the
    /// query-level delete does.
    pub(crate) fn bulk_forget<M: Model>(&mut self, keys: &[Pairs]) {
        for pk in keys {
            if let Some(slot) = self
                .identity
                .remove(&identity_key(M::TABLE, pk), &self.entries)
            {
                self.entries.take(slot);
            }
        }
    }
}
