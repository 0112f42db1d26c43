//! Expansion snapshots: representative inputs expanded by the derives and compared with the
//! pretty-printed files under `tests/expand/`. Those files are also the documentation of what
//! each derive generates, so read the diff before accepting one.
//!
//! `UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites them.

use proc_macro2::TokenStream as TokenStream2;
use syn::DeriveInput;

/// Expands `input` with `expand` and compares the result with `tests/expand/<name>.rs`.
fn check(name: &str, input: DeriveInput, expand: fn(DeriveInput) -> syn::Result<TokenStream2>) {
    let source = pretty(quote::quote!(#input));
    let expanded = match expand(input) {
        Ok(tokens) => pretty(tokens),
        Err(e) => panic!("{name}: the derive rejected its input: {e}"),
    };
    compare(name, &source, &expanded);
}

/// Compares the commented `source` and its `expanded` text with `tests/expand/<name>.rs`.
fn compare(name: &str, source: &str, expanded: &str) {
    let mut actual = String::from("// Input:\n//\n");
    for line in source.lines() {
        actual.push_str(if line.is_empty() { "//" } else { "// " });
        actual.push_str(line);
        actual.push('\n');
    }
    actual.push_str(
        "//\n// Expansion (`UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites it):\n\n",
    );
    actual.push_str(expanded);

    let path = format!("{}/tests/expand/{name}.rs", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_EXPAND").is_some() {
        std::fs::write(&path, &actual).unwrap_or_else(|e| panic!("writing {path}: {e}"));
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {path}: {e}; run with UPDATE_EXPAND=1 to create it"));
    if expected != actual {
        panic!(
            "the expansion of `{name}` changed; review the change and run \
             `UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` to accept it.\n{}",
            changed_lines(&expected, &actual)
        );
    }
}

/// Pretty-prints items the way `cargo expand` would show them.
fn pretty(tokens: TokenStream2) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as items");
    prettyplease::unparse(&file)
}

/// The lines between the common head and the common tail of `old` and `new`, marked
/// `-`/`+`: enough to read one change without a diff dependency.
fn changed_lines(old: &str, new: &str) -> String {
    let (old, new): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let head = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let tail = old[head..]
        .iter()
        .rev()
        .zip(new[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = format!("@@ line {} @@\n", head + 1);
    for line in &old[head..old.len() - tail] {
        out.push_str(&format!("-{line}\n"));
    }
    for line in &new[head..new.len() - tail] {
        out.push_str(&format!("+{line}\n"));
    }
    out
}

/// A model using most column attributes, table-level declarations, both validators, a
/// flattened mixin, a skipped field and a one-to-many relationship.
#[test]
fn model_user() {
    let input = syn::parse_quote! {
        #[derive(Model)]
        #[model(
            table = "users",
            index(name = "idx_users_username_email", columns(username, email)),
            index(columns(karma), unique),
            unique(name = "uq_users_email_karma", columns(email, karma)),
            check(name = "ck_users_karma", sql = "karma >= 0"),
            validate = check_user
        )]
        pub struct User {
            #[column(primary_key)]
            pub id: i64,
            #[column(length = 50, unique, validate = not_blank)]
            pub username: String,
            #[column(length = 255, index, name = "email_address")]
            pub email: String,
            #[column(default = 10, server_default = "10")]
            pub karma: i32,
            #[column(default = Status::Active)]
            pub status: Status,
            #[column(default = new_token, onupdate = new_token)]
            pub token: String,
            #[column(jsonb, server_default = "'{}'")]
            pub settings: serde_json::Value,
            #[column(json)]
            pub tags: Option<Vec<String>>,
            #[column(version)]
            pub version: i32,
            #[model(flatten)]
            pub ts: Timestamps,
            #[model(skip)]
            pub scratch: String,
            #[relationship(back_populates = "author", lazy = "selectin", cascade = "all, delete-orphan", order_by = "title")]
            pub posts: Many<Post>,
        }
    };
    check("model_user", input, super::expand_model);
}

/// Foreign keys with referential actions, a many-to-one and a many-to-many relationship, a
/// relationship without attributes, and a raw identifier as a column.
#[test]
fn model_post() {
    let input = syn::parse_quote! {
        #[derive(Model)]
        #[model(table = "posts")]
        pub struct Post {
            #[column(primary_key)]
            pub id: i32,
            #[column(foreign_key = "users.id", on_delete = "cascade", on_update = "no action")]
            pub author_id: i64,
            #[column(foreign_key = "groups.id", on_delete = "set null")]
            pub group_id: Option<i64>,
            pub r#type: String,
            #[relationship(back_populates = "posts", lazy = "joined")]
            pub author: One<User>,
            #[relationship(secondary = "post_tags", passive_deletes)]
            pub tags: Many<Tag>,
            pub comments: Many<Comment>,
        }
    };
    check("model_post", input, super::expand_model);
}

/// A composite primary key (no database-generated key) and a table name derived from the
/// struct name.
/// Generated columns: declared with `computed` (STORED, or VIRTUAL with `persisted =
/// false`), read like any column and left out of INSERT and UPDATE.
#[test]
fn model_computed() {
    let input = syn::parse_quote! {
        #[derive(Model)]
        #[model(table = "lines")]
        pub struct Line {
            #[column(primary_key)]
            pub id: i64,
            pub price: i64,
            pub qty: i32,
            #[column(computed = "price * qty")]
            pub total: i64,
            #[column(computed = "price * 2", persisted = false)]
            pub doubled: Option<i64>,
        }
    };
    check("model_computed", input, super::expand_model);
}

#[test]
fn model_composite_key() {
    let input = syn::parse_quote! {
        #[derive(Model)]
        pub struct GroupMember {
            #[column(primary_key, foreign_key = "groups.id")]
            pub group_id: i64,
            #[column(primary_key, autoincrement = false)]
            pub user_id: i64,
        }
    };
    check("model_composite_key", input, super::expand_model);
}

/// A model whose only primary key comes from a mixin: the check moves to a const assertion.
#[test]
fn model_key_from_mixin() {
    let input = syn::parse_quote! {
        #[derive(Model)]
        #[model(table = "events")]
        pub struct Event {
            #[model(flatten)]
            pub key: IdKey,
            pub title: String,
        }
    };
    check("model_key_from_mixin", input, super::expand_model);
}

/// A mixin: `Fields` and the `<Name>Columns` trait; a raw identifier names its column
/// without `r#`.
#[test]
fn mixin_timestamps() {
    let input = syn::parse_quote! {
        #[derive(Mixin)]
        pub struct Timestamps {
            #[column(default = now)]
            pub created_at: DateTime<Utc>,
            #[column(default = now, onupdate = now, name = "modified_at")]
            pub updated_at: DateTime<Utc>,
            #[column(length = 20)]
            pub r#kind: String,
        }
    };
    check("mixin_timestamps", input, super::expand_mixin);
}

/// A DbEnum stored as text, with a renamed variant.
#[test]
fn db_enum_text() {
    let input = syn::parse_quote! {
        #[derive(DbEnum)]
        #[db_enum(name = "user_status")]
        pub enum Status {
            #[db_enum(rename = "active")]
            Active,
            Suspended,
        }
    };
    check("db_enum_text", input, super::expand_db_enum);
}

/// A DbEnum stored as a PostgreSQL enum type, named from the Rust name.
#[test]
fn db_enum_native() {
    let input = syn::parse_quote! {
        #[derive(DbEnum)]
        #[db_enum(native)]
        pub enum RoleKind {
            Admin,
            Member,
        }
    };
    check("db_enum_native", input, super::expand_db_enum);
}

/// A transparent newtype of `String`: delegating impls plus the text operators.
#[test]
fn db_type_email() {
    let input = syn::parse_quote! {
        #[derive(DbType)]
        pub struct Email(String);
    };
    check("db_type_email", input, |i| {
        super::db_type::expand_db_type(&i)
    });
}

/// A DTO read by column name, with a renamed and a JSON field; a tuple DTO by position.
#[test]
fn from_row_dto() {
    let input = syn::parse_quote! {
        #[derive(FromRow)]
        pub struct PostCount {
            pub username: String,
            #[from_row(rename = "n")]
            pub posts: i64,
            #[from_row(json)]
            pub tags: Vec<String>,
        }
    };
    check("from_row_dto", input, |i| super::dto::expand_from_row(&i));
    let input = syn::parse_quote! {
        #[derive(FromRow)]
        pub struct Pair(String, Option<i64>);
    };
    check("from_row_tuple", input, |i| super::dto::expand_from_row(&i));
}

/// The failure message shows only the changed lines, with their position.
#[test]
fn changed_lines_shows_the_change() {
    let old = "a\nb\nc\nd\n";
    let new = "a\nB\nB2\nc\nd\n";
    assert_eq!(changed_lines(old, new), "@@ line 2 @@\n-b\n+B\n+B2\n");
    assert_eq!(changed_lines("a\n", "a\nb\n"), "@@ line 2 @@\n+b\n");
}

/// `#[oxalchemy::test]` with every kind of argument: backends, a schema, fixtures of both
/// kinds, `#[should_panic]` moved onto the generated tests.
#[test]
fn test_attr_session() {
    let args = quote::quote!(
        sqlite,
        postgres,
        schema = blog::registry,
        fixtures("tests/users.sql", seed)
    );
    let item: syn::ItemFn = syn::parse_quote! {
        #[should_panic]
        async fn creates_users(mut s: Session) -> Result<(), Error> {
            s.add(new_user("ann"));
            s.commit().await
        }
    };
    let source = pretty(quote::quote!(#[oxalchemy::test(#args)] #item));
    let expanded = match crate::test_attr::expand(args, quote::quote!(#item)) {
        Ok(tokens) => pretty(tokens),
        Err(e) => panic!("the attribute rejected its input: {e}"),
    };
    compare("test_attr_session", &source, &expanded);
}

/// `#[oxalchemy::test]` for a `fresh` test on a connection, its schema from migrations.
#[test]
fn test_attr_fresh_connection() {
    let args = quote::quote!(sqlite_file, fresh, migrations = migrations::ALL);
    let item: syn::ItemFn = syn::parse_quote! {
        async fn runs_sql(conn: &mut Connection) -> Result<(), Error> {
            conn.execute(text("DELETE FROM users")).await?;
            Ok(())
        }
    };
    let source = pretty(quote::quote!(#[oxalchemy::test(#args)] #item));
    let expanded = match crate::test_attr::expand(args, quote::quote!(#item)) {
        Ok(tokens) => pretty(tokens),
        Err(e) => panic!("the attribute rejected its input: {e}"),
    };
    compare("test_attr_fresh_connection", &source, &expanded);
}

/// `#[oxalchemy::test]` on MySQL / MariaDB beside PostgreSQL, a test on a `&mut Session`.
#[test]
fn test_attr_mysql() {
    let args = quote::quote!(postgres, mysql, schema = blog::registry);
    let item: syn::ItemFn = syn::parse_quote! {
        async fn counts_users(s: &mut Session) -> Result<(), Error> {
            assert_eq!(s.query::<User>().count().await?, 0);
            Ok(())
        }
    };
    let source = pretty(quote::quote!(#[oxalchemy::test(#args)] #item));
    let expanded = match crate::test_attr::expand(args, quote::quote!(#item)) {
        Ok(tokens) => pretty(tokens),
        Err(e) => panic!("the attribute rejected its input: {e}"),
    };
    compare("test_attr_mysql", &source, &expanded);
}
