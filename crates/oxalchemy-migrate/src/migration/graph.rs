//! The revision graph: the migrations as a DAG of revisions (checked for missing parents
//! and cycles), its heads and branch points, and [`Graph::plan`], which turns a target
//! (`head`, `base`, a revision, `+N`, `-N`) into the ordered steps that reach it.

use std::collections::{HashMap, HashSet};

use oxalchemy_core::schema::MetaData;

use super::{MigrateError, Migration, Result};

/// The migrations of a project and their graph.
#[derive(Debug, Clone)]
pub struct Graph {
    migrations: Vec<Migration>,
    by_id: HashMap<&'static str, usize>,
}

impl Graph {
    /// Checks the graph: unique revisions, existing parents, no cycles.
    pub fn new(migrations: &[Migration]) -> Result<Self> {
        let mut by_id = HashMap::new();
        for (i, m) in migrations.iter().enumerate() {
            by_id.insert(m.revision, i);
        }
        for m in migrations {
            for p in m.down_revisions {
                if !by_id.contains_key(p) {
                    return Err(MigrateError::MissingParent {
                        revision: m.revision.to_owned(),
                        parent: (*p).to_owned(),
                    });
                }
            }
        }
        let graph = Graph {
            migrations: migrations.to_vec(),
            by_id,
        };
        graph.topological()?;
        Ok(graph)
    }

    /// The migration with exactly this revision id.
    pub fn migration(&self, id: &str) -> Option<&Migration> {
        self.by_id.get(id).map(|&i| &self.migrations[i])
    }

    /// Revisions no other revision builds on.
    pub fn heads(&self) -> Vec<&'static str> {
        let parents: HashSet<&str> = self
            .migrations
            .iter()
            .flat_map(|m| m.down_revisions.iter().copied())
            .collect();
        self.migrations
            .iter()
            .map(|m| m.revision)
            .filter(|r| !parents.contains(r))
            .collect()
    }

    /// Revisions with more than one child (where branches start).
    pub fn branch_points(&self) -> Vec<&'static str> {
        let mut children: HashMap<&str, usize> = HashMap::new();
        for m in &self.migrations {
            for p in m.down_revisions {
                *children.entry(p).or_default() += 1;
            }
        }
        self.migrations
            .iter()
            .map(|m| m.revision)
            .filter(|r| children.get(r).copied().unwrap_or(0) > 1)
            .collect()
    }

    /// All revisions, parents before children (deterministic).
    pub fn topological(&self) -> Result<Vec<&'static str>> {
        let mut done: HashSet<&str> = HashSet::new();
        let mut out = Vec::with_capacity(self.migrations.len());
        while out.len() < self.migrations.len() {
            let next = self.migrations.iter().find(|m| {
                !done.contains(m.revision) && m.down_revisions.iter().all(|p| done.contains(p))
            });
            match next {
                Some(m) => {
                    done.insert(m.revision);
                    out.push(m.revision);
                }
                None => {
                    let stuck = self
                        .migrations
                        .iter()
                        .find(|m| !done.contains(m.revision))
                        .map(|m| m.revision.to_owned())
                        .unwrap_or_default();
                    return Err(MigrateError::Cycle(stuck));
                }
            }
        }
        Ok(out)
    }

    /// `rev` and everything it builds on.
    pub fn ancestors(&self, rev: &str) -> HashSet<&'static str> {
        let mut out = HashSet::new();
        let mut stack: Vec<&str> = vec![rev];
        while let Some(r) = stack.pop() {
            if let Some(m) = self.migration(r) {
                if out.insert(m.revision) {
                    stack.extend(m.down_revisions.iter().copied());
                }
            }
        }
        out
    }

    /// A full revision id, or a unique prefix of one.
    pub fn resolve(&self, id_or_prefix: &str) -> Result<&'static str> {
        if let Some(m) = self.migration(id_or_prefix) {
            return Ok(m.revision);
        }
        let candidates: Vec<&'static str> = self
            .migrations
            .iter()
            .map(|m| m.revision)
            .filter(|r| r.starts_with(id_or_prefix))
            .collect();
        match candidates.as_slice() {
            [one] => Ok(one),
            [] => Err(MigrateError::UnknownRevision(id_or_prefix.to_owned())),
            many => Err(MigrateError::AmbiguousRevision {
                prefix: id_or_prefix.to_owned(),
                candidates: many.iter().map(|s| (*s).to_owned()).collect(),
            }),
        }
    }

    /// The single head, or [`MigrateError::MultipleHeads`].
    pub fn head(&self) -> Result<Option<&'static str>> {
        match self.heads().as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            many => Err(MigrateError::MultipleHeads(
                many.iter().map(|s| (*s).to_owned()).collect(),
            )),
        }
    }

    /// The schema state after applying `revisions` (in topological order) from empty: the
    /// tables the migrations created. Operations on tables no migration created (adopted
    /// from `create_all` or another tool) are left out; the runner reflects those tables.
    pub fn state_after(&self, applied: &HashSet<&str>) -> Result<MetaData> {
        let mut state = MetaData::new();
        for r in self.topological()? {
            if applied.contains(r) {
                if let Some(m) = self.migration(r) {
                    for op in m.upgrade_ops().ops() {
                        op.apply_to_simulated(&mut state)?;
                    }
                }
            }
        }
        Ok(state)
    }
}

/// Which way a step of a plan moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Apply the migration (its `upgrade`).
    Up,
    /// Revert the migration (its `downgrade`).
    Down,
}

/// Which revisions to apply (up) or revert (down), in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The revisions in the order they run: reverts (children first), then applies (parents
    /// first).
    pub steps: Vec<(&'static str, Direction)>,
}

impl Graph {
    /// The plan that moves a database with `applied` revisions to `target`: `head`,
    /// `heads`, `base`, a revision id or prefix, `+N`, `-N`.
    pub fn plan(&self, applied: &HashSet<&'static str>, target: &str) -> Result<Plan> {
        let order = self.topological()?;
        let target_set = self.revisions_at(applied, target)?;
        let mut steps = Vec::new();
        // Down first (children before parents), then up (parents before children).
        for r in order.iter().rev() {
            if applied.contains(r) && !target_set.contains(r) {
                steps.push((*r, Direction::Down));
            }
        }
        for r in &order {
            if !applied.contains(r) && target_set.contains(r) {
                steps.push((*r, Direction::Up));
            }
        }
        Ok(Plan { steps })
    }

    /// The revisions a database with `applied` revisions has after moving to `target`
    /// (`head`, `heads`, `base`, a revision id or prefix, `+N`, `-N`). From an empty set it
    /// answers "what does a database at `target` have", which offline scripts start from.
    pub fn revisions_at(
        &self,
        applied: &HashSet<&'static str>,
        target: &str,
    ) -> Result<HashSet<&'static str>> {
        let order = self.topological()?;
        Ok(match target {
            "head" | "heads" => {
                let heads = self.heads();
                if target == "head" && heads.len() > 1 {
                    return Err(MigrateError::MultipleHeads(
                        heads.iter().map(|s| (*s).to_owned()).collect(),
                    ));
                }
                heads.iter().flat_map(|h| self.ancestors(h)).collect()
            }
            "base" => HashSet::new(),
            t if t.starts_with('+') || t.starts_with('-') => relative_target(&order, applied, t)?,
            id => self.ancestors(self.resolve(id)?),
        })
    }
}

/// The revisions applied after moving `+N` / `-N` steps (`t`) along `order` from `applied`.
fn relative_target(
    order: &[&'static str],
    applied: &HashSet<&'static str>,
    t: &str,
) -> Result<HashSet<&'static str>> {
    let bad = || MigrateError::BadRelative(t.to_owned());
    let n: usize = t[1..].parse().map_err(|_| bad())?;
    if t.starts_with('+') {
        let pending: Vec<&'static str> = order
            .iter()
            .copied()
            .filter(|r| !applied.contains(r))
            .collect();
        if pending.len() < n {
            return Err(bad());
        }
        let mut set = applied.clone();
        set.extend(pending.into_iter().take(n));
        Ok(set)
    } else {
        let applied_in_order: Vec<&'static str> = order
            .iter()
            .copied()
            .filter(|r| applied.contains(r))
            .collect();
        if applied_in_order.len() < n {
            return Err(bad());
        }
        Ok(applied_in_order[..applied_in_order.len() - n]
            .iter()
            .copied()
            .collect())
    }
}
