//! SQL fixture files: split into statements (PostgreSQL's extended protocol, which binds
//! values, runs one statement per request) and run as written, without bind parsing, so a
//! `:` or `?` in the file is just text.

use oxalchemy_core::Compiled;
use oxalchemy_engine::{Connection, Error};

/// Runs every statement of `sql` on `conn`, in order; an error names the statement.
pub(crate) async fn run_script(conn: &mut Connection, name: &str, sql: &str) -> Result<(), String> {
    for (i, statement) in split_statements(sql).into_iter().enumerate() {
        let compiled = Compiled {
            sql: statement.clone(),
            binds: Vec::new(),
        };
        conn.execute_write(&compiled).await.map_err(|e: Error| {
            format!("fixture `{name}`, statement {}: {e}\n  {statement}", i + 1)
        })?;
    }
    Ok(())
}

/// The statements of a script: split at `;` outside quotes ('…', "…"), PostgreSQL
/// dollar-quoted bodies ($$…$$, $tag$…$tag$) and comments; empty statements are dropped.
pub(crate) fn split_statements(sql: &str) -> Vec<String> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => i = skip_quoted(bytes, i),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
            }
            b'$' => i = skip_dollar_quoted(sql, i),
            b';' => {
                push_statement(&mut out, &sql[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    push_statement(&mut out, &sql[start..]);
    out
}

fn push_statement(out: &mut Vec<String>, text: &str) {
    if has_code(text) {
        out.push(text.trim().to_owned());
    }
}

/// Whether `text` holds more than whitespace and comments.
fn has_code(text: &str) -> bool {
    let mut rest = text.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after
                .find('\n')
                .map_or("", |n| &after[n + 1..])
                .trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after
                .find("*/")
                .map_or("", |n| &after[n + 2..])
                .trim_start();
        } else {
            return !rest.is_empty();
        }
    }
}

/// The index after the quoted text starting at `i` (a doubled quote stays inside).
fn skip_quoted(bytes: &[u8], i: usize) -> usize {
    let quote = bytes[i];
    let mut j = i + 1;
    while j < bytes.len() {
        if bytes[j] == quote {
            if bytes.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    bytes.len()
}

/// After a `$tag$ … $tag$` body starting at `i`; just past the `$` when it starts none
/// (a `$1` placeholder or a `$` inside an identifier).
fn skip_dollar_quoted(sql: &str, i: usize) -> usize {
    let rest = &sql[i + 1..];
    let tag_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let tag = &rest[..tag_len];
    let opens = rest[tag_len..].starts_with('$') && !tag.starts_with(|c: char| c.is_ascii_digit());
    if !opens {
        return i + 1;
    }
    let delimiter = format!("${tag}$");
    let body = i + delimiter.len();
    sql[body..]
        .find(&delimiter)
        .map_or(sql.len(), |n| body + n + delimiter.len())
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn splits_at_semicolons_outside_quotes_comments_and_dollar_bodies() {
        let sql = "INSERT INTO t VALUES ('a;b', \"c;\"); -- x;y\n\
                   /* a; b */ INSERT INTO t VALUES ('it''s;');\n\
                   CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n\
                   SELECT $$;$$, '10:30';\n -- trailing comment only\n";
        assert_eq!(
            split_statements(sql),
            vec![
                "INSERT INTO t VALUES ('a;b', \"c;\")",
                "-- x;y\n/* a; b */ INSERT INTO t VALUES ('it''s;')",
                "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql",
                "SELECT $$;$$, '10:30'",
            ]
        );
        assert!(split_statements("  ;; -- nothing\n").is_empty());
    }
}
