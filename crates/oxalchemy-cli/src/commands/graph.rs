//! Commands that read the revision graph: `heads`, `branches`, `history` (and
//! `history --graph`, which reads the current revision when a database is configured).

use std::collections::HashSet;
use std::fmt::Write;

use oxalchemy_migrate::migration::Graph;

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

/// `history --graph`: the revision graph as a terminal tree, newest first (children above
/// parents, like `git log --graph`); `@` marks the database's current revision(s) when a
/// database URL is configured.
pub(super) async fn history_graph(ctx: &Ctx<'_, '_>) -> Result<String, CliError> {
    let current: HashSet<&'static str> = if ctx.config.url.is_empty() {
        HashSet::new()
    } else {
        let db = ctx.connect().await?;
        ctx.runner().current(&db).await?.into_iter().collect()
    };
    draw(ctx.graph, &current)
}

/// The lanes drawing: each lane holds the revision it is waiting for (a parent of a drawn
/// revision); a revision is drawn in the first lane waiting for it, other lanes waiting for
/// it join there (`/`), and its extra parents (a merge) open lanes (`\`).
pub(crate) fn draw(graph: &Graph, current: &HashSet<&'static str>) -> Result<String, CliError> {
    let heads: HashSet<&str> = graph.heads().into_iter().collect();
    let branch_points: HashSet<&str> = graph.branch_points().into_iter().collect();
    let mut lanes: Vec<Option<&'static str>> = Vec::new();
    let mut out = String::new();
    for rev in graph.topological()?.into_iter().rev() {
        let Some(m) = graph.migration(rev) else {
            continue;
        };
        let hits: Vec<usize> = (0..lanes.len())
            .filter(|&i| lanes[i] == Some(rev))
            .collect();
        let col = match hits.first() {
            Some(&c) => c,
            None => free_lane(&mut lanes, 0),
        };
        if hits.len() > 1 {
            // Branches that started here join its lane.
            let mut row = lane_row(&lanes);
            for &h in &hits[1..] {
                row[2 * h] = ' ';
                row[2 * h - 1] = '/';
                lanes[h] = None;
            }
            push_row(&mut out, &row, "");
            while lanes.last() == Some(&None) {
                lanes.pop();
            }
        }
        lanes[col] = Some(rev);
        let mut row = lane_row(&lanes);
        row[2 * col] = if current.contains(rev) { '@' } else { '*' };
        let mut marks = Vec::new();
        if heads.contains(rev) {
            marks.push("head");
        }
        if current.contains(rev) {
            marks.push("current");
        }
        if branch_points.contains(rev) {
            marks.push("branch point");
        }
        if m.down_revisions.len() > 1 {
            marks.push("merge");
        }
        if m.down_revisions.is_empty() {
            marks.push("base");
        }
        let marks = if marks.is_empty() {
            String::new()
        } else {
            format!(" ({})", marks.join(", "))
        };
        push_row(&mut out, &row, &format!("{rev}{marks} — {}", m.message));
        // The revision's lane now waits for its first parent; a merge's other parents get
        // lanes of their own (or join a lane already waiting for them).
        lanes[col] = None;
        let mut opened = Vec::new();
        for (i, p) in m.down_revisions.iter().enumerate() {
            if i == 0 {
                lanes[col] = Some(p);
            } else if !lanes.contains(&Some(p)) {
                let lane = free_lane(&mut lanes, col + 1);
                lanes[lane] = Some(p);
                opened.push(lane);
            }
        }
        if !opened.is_empty() {
            let mut row = lane_row(&lanes);
            for &l in &opened {
                row[2 * l] = ' ';
                row[2 * l - 1] = '\\';
            }
            push_row(&mut out, &row, "");
        }
        while lanes.last() == Some(&None) {
            lanes.pop();
        }
    }
    Ok(out)
}

/// The first free lane at or after `from`, added when there is none.
fn free_lane(lanes: &mut Vec<Option<&'static str>>, from: usize) -> usize {
    match (from..lanes.len()).find(|&i| lanes[i].is_none()) {
        Some(i) => i,
        None => {
            while lanes.len() < from {
                lanes.push(None);
            }
            lanes.push(None);
            lanes.len() - 1
        }
    }
}

/// `|` for every occupied lane, two characters per lane.
fn lane_row(lanes: &[Option<&str>]) -> Vec<char> {
    let mut row = vec![' '; lanes.len() * 2];
    for (i, l) in lanes.iter().enumerate() {
        if l.is_some() {
            row[2 * i] = '|';
        }
    }
    row
}

fn push_row(out: &mut String, row: &[char], text: &str) {
    let line: String = row.iter().collect();
    let line = if text.is_empty() {
        line.trim_end().to_owned()
    } else {
        format!("{line}{text}")
    };
    out.push_str(&line);
    out.push('\n');
}
