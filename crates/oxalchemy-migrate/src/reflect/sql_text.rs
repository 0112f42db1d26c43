//! Scanning SQL text: the tokenizer that reads SQLite's `CREATE TABLE` text (where SQLite
//! keeps constraint names) and PostgreSQL's printed expressions (to drop the wrapping
//! parentheses and casts). Parenthesised groups are one opaque token, which is all both need.

/// A token of SQL text. Parenthesised groups are one opaque token.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok<'a> {
    Word(&'a str),
    /// A quoted identifier (`"x"`, `` `x` ``, `[x]`), unescaped.
    Quoted(String),
    /// A string literal, quotes included.
    Str(&'a str),
    /// The text inside a pair of parentheses.
    Group(&'a str),
    Punct(char),
}

impl Tok<'_> {
    /// The keyword, upper-cased, if this is a bare word.
    pub(super) fn keyword(&self) -> Option<String> {
        match self {
            Tok::Word(w) => Some(w.to_ascii_uppercase()),
            _ => None,
        }
    }
    /// The identifier this token names, if it can name one.
    pub(super) fn name(&self) -> Option<String> {
        match self {
            Tok::Word(w) => Some((*w).to_owned()),
            Tok::Quoted(q) => Some(q.clone()),
            // SQLite accepts a string literal where an identifier is expected.
            Tok::Str(s) => Some(s[1..s.len().saturating_sub(1).max(1)].replace("''", "'")),
            _ => None,
        }
    }
}

/// The end (exclusive) of the quoted span starting at `start` with quote `q` (a doubled
/// quote is an escaped one); the text's length if it is unterminated.
fn quoted_end(s: &str, start: usize, q: char) -> usize {
    let mut chars = s[start + q.len_utf8()..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == q {
            if q != ']' && chars.peek().map(|&(_, n)| n) == Some(q) {
                chars.next();
                continue;
            }
            return start + q.len_utf8() + i + c.len_utf8();
        }
    }
    s.len()
}

/// The index of the `)` matching the `(` at `start`, or the text's length.
pub(super) fn group_end(s: &str, start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < s.len() {
        let c = s[i..].chars().next().unwrap_or(' ');
        match c {
            // Not `[`: PostgreSQL's ARRAY[…] is no quoted identifier.
            '\'' | '"' | '`' => {
                i = quoted_end(s, i, c);
                continue;
            }
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
        i += c.len_utf8();
    }
    s.len()
}

pub(super) fn tokenize(s: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        let c = rest.chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        if rest.starts_with("--") {
            i = rest.find('\n').map_or(s.len(), |n| i + n + 1);
            continue;
        }
        if let Some(comment) = rest.strip_prefix("/*") {
            i = comment.find("*/").map_or(s.len(), |n| i + 2 + n + 2);
            continue;
        }
        match c {
            '\'' => {
                let end = quoted_end(s, i, '\'');
                out.push(Tok::Str(&s[i..end]));
                i = end;
            }
            '"' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                let end = quoted_end(s, i, close);
                let inner_end = if s[..end].ends_with(close) && end > i + 1 {
                    end - 1
                } else {
                    end
                };
                let inner = &s[i + 1..inner_end];
                let unescaped = if c == '[' {
                    inner.to_owned()
                } else {
                    inner.replace(&format!("{c}{c}"), &c.to_string())
                };
                out.push(Tok::Quoted(unescaped));
                i = end;
            }
            '(' => {
                let end = group_end(s, i);
                out.push(Tok::Group(&s[i + 1..end]));
                i = (end + 1).min(s.len());
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let end = rest
                    .find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '$'))
                    .map_or(s.len(), |n| i + n);
                out.push(Tok::Word(&s[i..end]));
                i = end;
            }
            c => {
                out.push(Tok::Punct(c));
                i += c.len_utf8();
            }
        }
    }
    out
}

/// Splits tokens at top-level commas.
pub(super) fn split_commas<'t, 'a>(toks: &'t [Tok<'a>]) -> Vec<&'t [Tok<'a>]> {
    toks.split(|t| *t == Tok::Punct(',')).collect()
}

/// The column names of a `(a, "b" COLLATE x DESC, …)` list.
pub(super) fn name_list(group: &str) -> Vec<String> {
    let toks = tokenize(group);
    split_commas(&toks)
        .into_iter()
        .filter_map(|item| item.first().and_then(Tok::name))
        .collect()
}

/// Splits raw SQL text at its top-level commas (not inside parentheses or quotes), trimmed.
pub(super) fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut quote) = (0i32, 0usize, None::<char>);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out
}

/// Drops every pair of parentheses around the whole of `s`.
pub(super) fn unwrap_parens(mut s: &str) -> &str {
    s = s.trim();
    while s.starts_with('(') && group_end(s, 0) == s.len() - 1 {
        s = s[1..s.len() - 1].trim();
    }
    s
}
