//! [`NamingConvention`]: the templates that name unnamed constraints and indexes, and the
//! deterministic shortening of names longer than PostgreSQL allows.

use crate::expr::Ident;

/// PostgreSQL truncates identifiers longer than this many bytes.
pub const MAX_IDENTIFIER_LEN: usize = 63;

/// Templates that name unnamed constraints and indexes, like SQLAlchemy's
/// `MetaData(naming_convention=…)`. Tokens: `{table}`, `{column_0}`, `{columns}` (all column
/// names joined by `_`), `{referred_table}`, `{constraint_name}`.
///
/// Names longer than 63 bytes (PostgreSQL's limit) are shortened deterministically: the first
/// 54 bytes, `_`, and 8 hex digits of a hash of the full name. These names end up in
/// migrations, so the rule never changes.
///
/// ```
/// use oxalchemy_core::NamingConvention;
///
/// let c = NamingConvention::default();
/// let name = c.render(&c.foreign_key, "posts", &["author_id"], "users", "");
/// assert_eq!(name.as_str(), "fk_posts_author_id_users");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamingConvention {
    /// For indexes; default `ix_{table}_{columns}`.
    pub index: String,
    /// For UNIQUE constraints; default `uq_{table}_{columns}`.
    pub unique: String,
    /// For CHECK constraints (`{constraint_name}` is the check's label); default
    /// `ck_{table}_{constraint_name}`.
    pub check: String,
    /// For foreign keys; default `fk_{table}_{column_0}_{referred_table}`.
    pub foreign_key: String,
    /// For primary keys; default `pk_{table}`.
    pub primary_key: String,
}

impl Default for NamingConvention {
    /// The convention SQLAlchemy's documentation recommends.
    fn default() -> Self {
        NamingConvention {
            index: "ix_{table}_{columns}".into(),
            unique: "uq_{table}_{columns}".into(),
            check: "ck_{table}_{constraint_name}".into(),
            foreign_key: "fk_{table}_{column_0}_{referred_table}".into(),
            primary_key: "pk_{table}".into(),
        }
    }
}

impl NamingConvention {
    /// Fills `template`'s tokens and shortens the result to [`MAX_IDENTIFIER_LEN`] bytes if
    /// needed. `template` is usually one of this convention's fields.
    pub fn render(
        &self,
        template: &str,
        table: &str,
        columns: &[&str],
        referred_table: &str,
        constraint_name: &str,
    ) -> Ident {
        let name = template
            .replace("{table}", table)
            .replace("{column_0}", columns.first().copied().unwrap_or(""))
            .replace("{columns}", &columns.join("_"))
            .replace("{referred_table}", referred_table)
            .replace("{constraint_name}", constraint_name);
        Ident::from(shorten(name))
    }
}

/// `name` itself if it fits; otherwise its first 54 bytes (cut back to a character
/// boundary), `_`, and the 32-bit FNV-1a hash of the whole name in 8 hex digits.
fn shorten(name: String) -> String {
    if name.len() <= MAX_IDENTIFIER_LEN {
        return name;
    }
    // 32-bit FNV-1a: stable across Rust versions and platforms, unlike DefaultHasher. The
    // width is part of the names already in users' migrations (tests/naming.rs pins them).
    let mut hasher = hash32::FnvHasher::default();
    std::hash::Hasher::write(&mut hasher, name.as_bytes());
    let hash = hash32::Hasher::finish32(&hasher);
    let mut cut = 54;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash:08x}", &name[..cut])
}
