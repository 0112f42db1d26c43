//! `text()` SQL: raw SQL whose `:name` placeholders become the dialect's bind markers.
//!
//! The placeholders are found by a small lexer (`pieces`) that knows the parts of
//! PostgreSQL's and SQLite's syntax where a colon is not a placeholder: `-- line` and
//! `/* block */` comments (nested, as PostgreSQL nests them), `'…'` strings with doubled
//! quotes, `E'…'` strings with backslash escapes, `$$…$$` and `$tag$…$tag$` dollar-quoted
//! strings, `"…"` quoted identifiers, `::` casts and `\:` (a literal colon; the backslash is
//! dropped). Everything inside those is copied as written. A backslash in a plain `'…'`
//! string is an ordinary character, as with PostgreSQL's `standard_conforming_strings = on`
//! (the default since 9.1) and in SQLite. A construct that never ends runs to
//! the end of the SQL, so the server reports the syntax error, not this lexer.
//!
//! Every `:name` needs a bound value and every bound value needs a `:name`, so a typo is a
//! [`CompileError`], not a statement that silently binds the wrong thing.

use super::{CompileError, Compiler, R};
use crate::expr::TextSql;

impl Compiler<'_> {
    /// Writes `t`'s SQL with each `:name` replaced by a bind of the value given for it.
    pub(super) fn text(&mut self, t: &TextSql) -> R {
        let mut used = vec![false; t.binds.len()];
        for piece in pieces(&t.sql) {
            match piece {
                Piece::Sql(s) => self.sql.push_str(s),
                Piece::Bind(name) => {
                    let pos = t
                        .binds
                        .iter()
                        .position(|(n, _)| n == name)
                        .ok_or_else(|| CompileError::MissingBind(name.to_owned()))?;
                    used[pos] = true;
                    self.bind_from(&t.binds[pos].1);
                }
            }
        }
        if let Some(pos) = used.iter().position(|u| !u) {
            return Err(CompileError::UnusedBind(t.binds[pos].0.clone()));
        }
        Ok(())
    }
}

/// A piece of `text()` SQL: text copied as written, or a `:name` placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'s> {
    /// SQL to copy unchanged.
    Sql(&'s str),
    /// A placeholder's name, without the colon.
    Bind(&'s str),
}

/// Splits `sql` into SQL text and `:name` placeholders (see the module docs for what is
/// skipped).
fn pieces(sql: &str) -> Vec<Piece<'_>> {
    let mut lexer = Lexer {
        src: sql,
        bytes: sql.as_bytes(),
        pos: 0,
        start: 0,
        out: Vec::new(),
    };
    lexer.run();
    lexer.out
}

/// The lexer's state: the SQL, where it is, and where the current run of plain SQL began.
struct Lexer<'s> {
    src: &'s str,
    bytes: &'s [u8],
    pos: usize,
    start: usize,
    out: Vec<Piece<'s>>,
}

impl<'s> Lexer<'s> {
    fn run(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            let next = self.bytes.get(self.pos + 1).copied();
            match (b, next) {
                (b'-', Some(b'-')) => self.line_comment(),
                (b'/', Some(b'*')) => self.block_comment(),
                (b'\'', _) => self.quoted(b'\''),
                (b'"', _) => self.quoted(b'"'),
                (b'e' | b'E', Some(b'\'')) if !self.after_ident_char() => {
                    self.pos += 1;
                    self.escape_string();
                }
                (b'$', _) if !self.after_ident_char() => self.dollar_quoted(),
                (b'\\', Some(b':')) => {
                    // `\:` is a literal colon: drop the backslash, keep the colon as SQL.
                    self.flush(self.pos);
                    self.start = self.pos + 1;
                    self.pos += 2;
                }
                (b':', Some(b':')) => self.pos += 2,
                (b':', Some(c)) if c.is_ascii_alphabetic() || c == b'_' => self.bind(),
                _ => self.pos += 1,
            }
        }
        self.flush(self.pos);
    }

    /// Pushes the plain SQL from `start` to `end`.
    fn flush(&mut self, end: usize) {
        if end > self.start {
            self.out.push(Piece::Sql(&self.src[self.start..end]));
        }
    }

    /// Whether the byte before the current one continues an identifier (so `$` or `E'`
    /// here is part of a name, not the start of a string).
    fn after_ident_char(&self) -> bool {
        self.pos
            .checked_sub(1)
            .and_then(|p| self.bytes.get(p))
            .is_some_and(|c| is_ident_char(*c))
    }

    /// `:name` at `pos`.
    fn bind(&mut self) {
        let name_start = self.pos + 1;
        let mut end = name_start;
        while self
            .bytes
            .get(end)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            end += 1;
        }
        self.flush(self.pos);
        self.out.push(Piece::Bind(&self.src[name_start..end]));
        self.pos = end;
        self.start = end;
    }

    /// `-- …` up to and including the end of the line.
    fn line_comment(&mut self) {
        self.pos = match self.bytes[self.pos..].iter().position(|&c| c == b'\n') {
            Some(n) => self.pos + n + 1,
            None => self.bytes.len(),
        };
    }

    /// `/* … */`, nested as PostgreSQL nests them (SQLite ends at the first `*/`, where a
    /// nested comment would be a syntax error anyway).
    fn block_comment(&mut self) {
        let mut depth = 0usize;
        while self.pos < self.bytes.len() {
            match (self.bytes[self.pos], self.bytes.get(self.pos + 1)) {
                (b'/', Some(b'*')) => {
                    depth += 1;
                    self.pos += 2;
                }
                (b'*', Some(b'/')) => {
                    depth -= 1;
                    self.pos += 2;
                    if depth == 0 {
                        return;
                    }
                }
                _ => self.pos += 1,
            }
        }
    }

    /// `'…'` or `"…"` starting at `pos`; a doubled quote is an escaped one.
    fn quoted(&mut self, quote: u8) {
        self.pos += 1;
        while let Some(&c) = self.bytes.get(self.pos) {
            self.pos += 1;
            if c == quote {
                if self.bytes.get(self.pos) == Some(&quote) {
                    self.pos += 1;
                } else {
                    return;
                }
            }
        }
    }

    /// `'…'` after an `E`: a backslash escapes the next byte, and `''` is a quote too.
    fn escape_string(&mut self) {
        self.pos += 1;
        while let Some(&c) = self.bytes.get(self.pos) {
            self.pos += 1;
            match c {
                b'\\' => self.pos = (self.pos + 1).min(self.bytes.len()),
                b'\'' if self.bytes.get(self.pos) == Some(&b'\'') => self.pos += 1,
                b'\'' => return,
                _ => {}
            }
        }
    }

    /// `$tag$ … $tag$` (the tag may be empty) at `pos`; a `$` that does not open one (as in
    /// `$1`) is plain SQL.
    fn dollar_quoted(&mut self) {
        let tag_start = self.pos + 1;
        let mut end = tag_start;
        if self.bytes.get(end).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
            return;
        }
        while self
            .bytes
            .get(end)
            .is_some_and(|c| *c != b'$' && is_ident_char(*c))
        {
            end += 1;
        }
        if self.bytes.get(end) != Some(&b'$') {
            self.pos += 1;
            return;
        }
        let delimiter = &self.bytes[self.pos..=end];
        let body = end + 1;
        self.pos = match self.bytes[body..]
            .windows(delimiter.len())
            .position(|w| w == delimiter)
        {
            Some(n) => body + n + delimiter.len(),
            None => self.bytes.len(),
        };
    }
}

/// A byte that can continue an unquoted identifier (`$` and non-ASCII bytes included, as
/// PostgreSQL allows them).
fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

#[cfg(test)]
mod tests {
    use super::{pieces, Piece};

    /// The placeholders `sql` has, in order.
    fn binds(sql: &str) -> Vec<&str> {
        pieces(sql)
            .into_iter()
            .filter_map(|p| match p {
                Piece::Bind(name) => Some(name),
                Piece::Sql(_) => None,
            })
            .collect()
    }

    /// The SQL with placeholders written back as `?`.
    fn rewritten(sql: &str) -> String {
        pieces(sql)
            .into_iter()
            .map(|p| match p {
                Piece::Bind(_) => "?",
                Piece::Sql(s) => s,
            })
            .collect()
    }

    #[test]
    fn line_comments_hide_binds_until_the_end_of_the_line() {
        assert_eq!(binds("SELECT 1 -- don't :x\n, :a"), ["a"]);
        assert_eq!(binds("SELECT :a -- :x"), ["a"]);
        assert_eq!(
            rewritten("SELECT :a -- it's :x\n+ :b"),
            "SELECT ? -- it's :x\n+ ?"
        );
    }

    #[test]
    fn block_comments_hide_binds_and_nest() {
        assert_eq!(binds("SELECT /* it's :x */ :a"), ["a"]);
        assert_eq!(binds("SELECT /* a /* nested :x */ still :y */ :a"), ["a"]);
        assert_eq!(binds("SELECT /* never closed :x"), Vec::<&str>::new());
        // `/` and `*` on their own are operators.
        assert_eq!(binds("SELECT 4 / 2 * :a"), ["a"]);
    }

    #[test]
    fn single_quoted_strings_with_doubled_quotes() {
        assert_eq!(binds("SELECT 'it''s :x', :a"), ["a"]);
        assert_eq!(binds("SELECT '', :a, ''''"), ["a"]);
        assert_eq!(binds("SELECT 'never closed :x"), Vec::<&str>::new());
        // A backslash is an ordinary character in a standard string.
        assert_eq!(binds(r"SELECT 'C:\', :a"), ["a"]);
    }

    #[test]
    fn escape_strings_with_backslashes() {
        assert_eq!(binds(r"SELECT E'it\'s :x', :a"), ["a"]);
        assert_eq!(binds(r"SELECT e'\\', :a"), ["a"]);
        assert_eq!(binds(r"SELECT E'ends in a backslash\"), Vec::<&str>::new());
        assert_eq!(binds(r"SELECT E'a''b :x', :a"), ["a"]);
        // An identifier ending in `e` before a string is not an escape string.
        assert_eq!(binds(r"SELECT type'\', :a"), ["a"]);
    }

    #[test]
    fn dollar_quoted_strings() {
        assert_eq!(binds("SELECT $$it's :x$$, :a"), ["a"]);
        assert_eq!(binds("SELECT $fn$ $$ :x $$ $fn$, :a"), ["a"]);
        assert_eq!(binds("SELECT $t$ :x $u$ :y $t$ || :a"), ["a"]);
        assert_eq!(binds("SELECT $$never closed :x"), Vec::<&str>::new());
        // `$1` and names with `$` are not dollar quotes.
        assert_eq!(binds("SELECT $1, a$b$ , :a, $2"), ["a"]);
    }

    #[test]
    fn quoted_identifiers() {
        assert_eq!(binds(r#"SELECT "a:b", "it""s :x", :a"#), ["a"]);
        assert_eq!(binds(r#"SELECT "it's" FROM t WHERE x = :a"#), ["a"]);
    }

    #[test]
    fn casts_and_escaped_colons() {
        assert_eq!(
            rewritten("SELECT :a::text, x::int"),
            "SELECT ?::text, x::int"
        );
        assert_eq!(binds("SELECT :a::text"), ["a"]);
        assert_eq!(rewritten(r"SELECT arr[:a\:2]"), "SELECT arr[?:2]");
        assert_eq!(binds("SELECT arr[1:2], ':'"), Vec::<&str>::new());
    }

    /// Whether `out` is `sql` with nothing changed but some `\:` written as `:`.
    fn drops_only_escapes(sql: &str, out: &str) -> bool {
        let (mut a, mut b) = (sql.as_bytes(), out.as_bytes());
        while let Some((&c, rest)) = a.split_first() {
            if b.first() == Some(&c) {
                b = &b[1..];
            } else if !(c == b'\\' && rest.first() == Some(&b':')) {
                return false;
            }
            a = rest;
        }
        b.is_empty()
    }

    /// Every sequence of up to four tokens from an alphabet of the constructs (and their
    /// broken halves): the lexer never panics, and putting the pieces back together gives
    /// the input (with `\:` outside strings written as `:`).
    #[test]
    fn every_short_token_sequence_splits_and_rejoins() {
        const TOKENS: &[&str] = &[
            ":a", "'", "\"", "--", "\n", "/*", "*/", "$$", "$t$", "E'", "\\", "\\:", "::", "é",
            "x", "$1",
        ];
        let mut inputs = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = inputs
                .iter()
                .flat_map(|s| TOKENS.iter().map(move |t| format!("{s}{t}")))
                .collect();
            for sql in &longer {
                let rejoined: String = pieces(sql)
                    .into_iter()
                    .map(|p| match p {
                        Piece::Sql(s) => s.to_owned(),
                        Piece::Bind(name) => format!(":{name}"),
                    })
                    .collect();
                assert!(
                    drops_only_escapes(sql, &rejoined),
                    "{sql:?} -> {rejoined:?}"
                );
            }
            inputs = longer;
        }
    }

    #[test]
    fn names_take_letters_digits_and_underscores() {
        assert_eq!(binds("SELECT :a_1+:b2,:_c"), ["a_1", "b2", "_c"]);
        assert_eq!(binds("SELECT :1"), Vec::<&str>::new());
    }
}
