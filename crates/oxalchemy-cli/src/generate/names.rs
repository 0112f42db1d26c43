//! Rust names for database names: struct names (singular, PascalCase), field names (valid
//! identifiers, raw when a keyword), relationship names.

/// `blog_posts` → `BlogPost`, `categories` → `Category`.
pub(crate) fn struct_name(table: &str) -> String {
    let singular = singular(table);
    let mut out = String::new();
    for part in singular.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "Table");
    }
    out
}

/// `posts` → `post`, `categories` → `category`, `status` → `status`: the guide's rule for
/// association columns, so names match what the ORM infers.
pub(crate) fn singular(table: &str) -> String {
    if let Some(stem) = table.strip_suffix("ies") {
        format!("{stem}y")
    } else if table.ends_with("ss") || table.ends_with("us") {
        table.to_owned()
    } else if let Some(stem) = table.strip_suffix('s') {
        stem.to_owned()
    } else {
        table.to_owned()
    }
}

/// The column naming the guide's many-to-many association tables use (`posts` →
/// `post_id`); must match the ORM's `association_column`.
pub(crate) fn association_column(table: &str) -> String {
    let singular = if let Some(stem) = table.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = table.strip_suffix('s') {
        stem.to_owned()
    } else {
        table.to_owned()
    };
    format!("{singular}_id")
}

/// A field name for a column: lower snake case of its letters and digits; `r#` before a
/// keyword. The second value says whether it differs from the column (then the field needs
/// `name = "…"`).
pub(crate) fn field_name(column: &str) -> (String, bool) {
    let mut s: String = column
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "c_");
    }
    let renamed = s != column;
    if matches!(s.as_str(), "self" | "super" | "crate" | "Self" | "_") {
        return (format!("{s}_"), true);
    }
    if KEYWORDS.contains(&s.as_str()) {
        return (format!("r#{s}"), renamed);
    }
    (s, renamed)
}

/// A variant name for an enum label: PascalCase of its letters and digits.
pub(crate) fn variant_name(label: &str) -> String {
    let name = struct_name_plain(label);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{name}")
    } else {
        name
    }
}

fn struct_name_plain(s: &str) -> String {
    let mut out = String::new();
    for part in s.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}

/// An enum type's Rust name (`user_status` → `UserStatus`).
pub(crate) fn enum_name(type_name: &str) -> String {
    let name = struct_name_plain(type_name);
    if name.is_empty() {
        "Enum".to_owned()
    } else {
        name
    }
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(struct_name("blog_posts"), "BlogPost");
        assert_eq!(struct_name("categories"), "Category");
        assert_eq!(struct_name("status"), "Status");
        assert_eq!(association_column("categories"), "category_id");
        assert_eq!(field_name("type"), ("r#type".to_owned(), false));
        assert_eq!(field_name("First Name"), ("first_name".to_owned(), true));
        assert_eq!(field_name("2fa"), ("c_2fa".to_owned(), true));
        assert_eq!(variant_name("in-progress"), "InProgress");
        assert_eq!(enum_name("user_status"), "UserStatus");
    }
}
