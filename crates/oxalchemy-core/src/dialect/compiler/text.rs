//! `text()` SQL: raw SQL whose `:name` placeholders become the dialect's bind markers.
//!
//! Quoted strings and identifiers, `::` casts and `\:` are left as written (the backslash is
//! dropped). Every `:name` needs a bound value and every bound value needs a `:name`, so a typo
//! is a [`CompileError`], not a statement that silently binds the wrong thing.

use super::{CompileError, Compiler, R};
use crate::expr::TextSql;

impl Compiler<'_> {
    /// Writes `t`'s SQL with each `:name` replaced by a bind of the value given for it.
    pub(super) fn text(&mut self, t: &TextSql) -> R {
        let mut used = vec![false; t.binds.len()];
        let src = t.sql.as_str();
        let bytes = src.as_bytes();
        let mut quote: Option<u8> = None;
        let mut i = 0;
        let mut start = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if let Some(q) = quote {
                if b == q {
                    quote = None;
                }
                i += 1;
                continue;
            }
            match b {
                b'\'' | b'"' => {
                    quote = Some(b);
                    i += 1;
                }
                b'\\' if bytes.get(i + 1) == Some(&b':') => {
                    self.sql.push_str(&src[start..i]);
                    start = i + 1;
                    i += 2;
                }
                b':' if bytes.get(i + 1) == Some(&b':') => i += 2,
                b':' if bytes
                    .get(i + 1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
                {
                    let name_start = i + 1;
                    let mut end = name_start;
                    while end < bytes.len()
                        && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                    {
                        end += 1;
                    }
                    let name = &src[name_start..end];
                    let pos = t
                        .binds
                        .iter()
                        .position(|(n, _)| n == name)
                        .ok_or_else(|| CompileError::MissingBind(name.to_owned()))?;
                    used[pos] = true;
                    self.sql.push_str(&src[start..i]);
                    self.bind(t.binds[pos].1.clone());
                    i = end;
                    start = end;
                }
                _ => i += 1,
            }
        }
        self.sql.push_str(&src[start..]);
        if let Some(pos) = used.iter().position(|u| !u) {
            return Err(CompileError::UnusedBind(t.binds[pos].0.clone()));
        }
        Ok(())
    }
}
