//! Text normalization for comparison: server defaults and expressions as the databases
//! print them, so the same SQL written two ways compares equal.

/// A server default as the database keeps it, for comparison: no outer parentheses, no
/// `::type` casts, case-folded keywords.
pub fn normalize_default(sql: &str) -> String {
    let mut s = sql.trim().to_owned();
    loop {
        let t = s.trim();
        if t.starts_with('(') && t.ends_with(')') && balanced(&t[1..t.len() - 1]) {
            s = t[1..t.len() - 1].to_owned();
        } else {
            break;
        }
    }
    // Strip casts outside quotes: 'active'::character varying → 'active'.
    let mut out = String::new();
    let mut in_quote = false;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            in_quote = !in_quote;
            out.push(c);
        } else if !in_quote && c == ':' && chars.get(i + 1) == Some(&':') {
            i += 2;
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || chars[i] == ' '
                    || chars[i] == '_'
                    || chars[i] == '"')
            {
                i += 1;
            }
            continue;
        } else if in_quote {
            out.push(c);
        } else if c == '"' {
            // PostgreSQL quotes identifiers it prints (`"substring"(…)`); the models rarely
            // do. Names are case-folded here anyway, so the quotes carry nothing.
        } else {
            out.push(c.to_ascii_lowercase());
        }
        i += 1;
    }
    let out = squeeze_spaces(out.trim());
    match out.as_str() {
        "current_timestamp" | "now()" | "current_timestamp()" => "now()".into(),
        _ => out,
    }
}

/// Whitespace outside string literals as the database prints it: runs become one space, and
/// none next to parentheses and commas (`f( 'a' ,1)` → `f('a',1)`).
fn squeeze_spaces(s: &str) -> String {
    let mut out = String::new();
    let mut in_quote = false;
    let mut pending_space = false;
    for c in s.chars() {
        if !in_quote && c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space {
            let tight = |x: char| matches!(x, '(' | ')' | ',');
            if !tight(c) && !out.ends_with(tight) && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
        }
        if c == '\'' {
            in_quote = !in_quote;
        }
        out.push(c);
    }
    out
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// An expression (index key, predicate, generated column) for comparison only: the
/// databases print expressions their own way (PostgreSQL adds casts and parentheses:
/// `lower((email)::text)` for `lower(email)`), so casts, quotes, case, spaces and
/// parentheses are dropped. Coarse, like Alembic's, but never reports a change that is
/// not one.
pub fn loose(sql: &str) -> String {
    normalize_default(sql)
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | ' '))
        .collect()
}
