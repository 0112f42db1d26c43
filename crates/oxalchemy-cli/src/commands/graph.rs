//! Commands that read only the revision graph: no database, no files.

use std::fmt::Write;

use super::{CliError, Ctx};

/// `heads`: the revisions nothing builds on.
pub(super) fn heads(ctx: &Ctx<'_, '_>) -> String {
    let mut out = String::new();
    for h in ctx.graph.heads() {
        let _ = writeln!(out, "{h} (head)");
    }
    out
}

/// `branches`: the revisions with more than one child.
pub(super) fn branches(ctx: &Ctx<'_, '_>) -> String {
    let mut out = String::new();
    for b in ctx.graph.branch_points() {
        let _ = writeln!(out, "{b} (branch point)");
    }
    out
}

/// `history`: every revision, newest first, with its parents, message and date.
pub(super) fn history(ctx: &Ctx<'_, '_>) -> Result<String, CliError> {
    let mut out = String::new();
    for r in ctx.graph.topological()?.iter().rev() {
        let Some(m) = ctx.graph.migration(r) else {
            continue;
        };
        let parents = if m.down_revisions.is_empty() {
            "<base>".to_owned()
        } else {
            m.down_revisions.join(", ")
        };
        let _ = writeln!(
            out,
            "{parents} -> {} — {} ({})",
            m.revision, m.message, m.created
        );
    }
    Ok(out)
}
