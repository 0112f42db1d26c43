//! `#[oxalchemy::test]`: an async test run on the backends it names, isolated per test.
//!
//! Thin, like the derives: it reads its arguments and the function's one parameter, and
//! writes a `TestCase` builder (`oxalchemy::testing::TestCase`, which does all the work:
//! databases, schemas, fixtures, the rollback fixture, teardown) plus a module with one
//! `#[test]` per backend that hands the case the original function.

use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote};
use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, LitStr, Path, Token, Type};

/// Expands `#[oxalchemy::test(args)] item`; on a mistake, the error and the function as
/// written (so the error is the only message: its imports stay used).
pub(crate) fn expand_or_error(args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    match expand(args, item.clone()) {
        Ok(tokens) => tokens,
        Err(e) => {
            let error = e.into_compile_error();
            quote! {
                #error
                #[allow(dead_code)]
                #item
            }
        }
    }
}

/// Expands `#[oxalchemy::test(args)] item`.
pub(crate) fn expand(args: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let mut parsed = Args::default();
    let parser = syn::meta::parser(|meta| parsed.parse(meta));
    syn::parse::Parser::parse2(parser, args)?;
    let mut func: ItemFn = syn::parse2(item)?;
    let param = check_function(&func)?;
    parsed.check(&param, &func)?;

    let name = &func.sig.ident;
    let builder = format_ident!("__oxalchemy_test_{}", name);
    let testing = quote!(::oxalchemy::testing);
    let steps = parsed.builder_steps();
    let call = param.call(name);

    // Attributes that belong to the generated tests, not to the function.
    let (test_attrs, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut func.attrs)
        .into_iter()
        .partition(|a| a.path().is_ident("ignore") || a.path().is_ident("should_panic"));
    func.attrs = kept;

    let tests = parsed.backends.iter().map(|(backend, span)| {
        let test_name = Ident::new(backend.test_name(), *span);
        let variant = Ident::new(backend.variant(), *span);
        quote! {
            #[test]
            #(#test_attrs)*
            fn #test_name() {
                super::#builder().run(#testing::Backend::#variant, async |__ctx| #call)
            }
        }
    });
    let name_text = name.to_string();
    Ok(quote! {
        #[cfg_attr(not(test), allow(dead_code))]
        #func

        #[cfg(test)]
        #[doc(hidden)]
        fn #builder() -> #testing::TestCase {
            #testing::TestCase::new(::core::concat!(::core::module_path!(), "::", #name_text))
                #(#steps)*
        }

        /// The test on each backend it names.
        #[cfg(test)]
        mod #name {
            #(#tests)*
        }
    })
}

/// A backend the test names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BackendArg {
    Sqlite,
    SqliteFile,
    Postgres,
    /// MySQL / MariaDB: needs oxalchemy's `mysql` feature (`Backend::Mysql`).
    Mysql,
}

impl BackendArg {
    fn test_name(self) -> &'static str {
        match self {
            BackendArg::Sqlite => "sqlite",
            BackendArg::SqliteFile => "sqlite_file",
            BackendArg::Postgres => "postgres",
            BackendArg::Mysql => "mysql",
        }
    }

    fn variant(self) -> &'static str {
        match self {
            BackendArg::Sqlite => "Sqlite",
            BackendArg::SqliteFile => "SqliteFile",
            BackendArg::Postgres => "Postgres",
            BackendArg::Mysql => "Mysql",
        }
    }
}

/// One entry of `fixtures(…)`.
enum FixtureArg {
    /// `"path.sql"`, relative to the crate's `Cargo.toml` directory.
    Sql(LitStr),
    /// `path::to::fill`: an `async fn(&mut Session) -> Result<(), E>` (or `()`).
    Rust(Path),
}

impl syn::parse::Parse for FixtureArg {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            Ok(FixtureArg::Sql(input.parse()?))
        } else if input.peek(Ident)
            || input.peek(Token![::])
            || input.peek(Token![crate])
            || input.peek(Token![super])
            || input.peek(Token![self])
        {
            Ok(FixtureArg::Rust(input.parse()?))
        } else {
            Err(input.error(
                "a fixture is a SQL file (\"fixtures/users.sql\", relative to Cargo.toml) \
                 or a function path (seed_users: async fn(&mut Session) -> Result<(), E>)",
            ))
        }
    }
}

/// The attribute's arguments.
#[derive(Default)]
struct Args {
    backends: Vec<(BackendArg, Span)>,
    fresh: Option<Span>,
    schema: Option<Path>,
    migrations: Option<Path>,
    fixtures: Vec<FixtureArg>,
}

const USAGE: &str = "expected `sqlite`, `sqlite_file`, `postgres`, `mysql`, `fresh`, \
                     `schema = path::to::fn` (returning a Registry or MetaData), \
                     `migrations = path::to::ALL` or `fixtures(\"file.sql\", seed_fn, …)`";

impl Args {
    fn parse(&mut self, meta: ParseNestedMeta<'_>) -> syn::Result<()> {
        let span = meta.path.span();
        let backend = |b| (b, span);
        if meta.path.is_ident("sqlite") {
            self.add_backend(backend(BackendArg::Sqlite))
        } else if meta.path.is_ident("sqlite_file") {
            self.add_backend(backend(BackendArg::SqliteFile))
        } else if meta.path.is_ident("postgres") {
            self.add_backend(backend(BackendArg::Postgres))
        } else if meta.path.is_ident("mysql") {
            self.add_backend(backend(BackendArg::Mysql))
        } else if meta.path.is_ident("fresh") {
            self.fresh = Some(span);
            Ok(())
        } else if meta.path.is_ident("schema") {
            self.schema = Some(meta.value()?.parse()?);
            Ok(())
        } else if meta.path.is_ident("migrations") {
            self.migrations = Some(meta.value()?.parse()?);
            Ok(())
        } else if meta.path.is_ident("fixtures") {
            let content;
            syn::parenthesized!(content in meta.input);
            let list = Punctuated::<FixtureArg, Token![,]>::parse_terminated(&content)?;
            self.fixtures.extend(list);
            Ok(())
        } else {
            Err(meta.error(format!("unknown `#[oxalchemy::test]` argument; {USAGE}")))
        }
    }

    fn add_backend(&mut self, (backend, span): (BackendArg, Span)) -> syn::Result<()> {
        if self.backends.iter().any(|(b, _)| *b == backend) {
            return Err(syn::Error::new(span, "this backend is already named"));
        }
        self.backends.push((backend, span));
        Ok(())
    }

    /// Checks that need the whole attribute and the function's parameter.
    fn check(&self, param: &Param, func: &ItemFn) -> syn::Result<()> {
        if self.backends.is_empty() {
            return Err(syn::Error::new(
                func.sig.ident.span(),
                "name the backend(s) the test runs on: `#[oxalchemy::test(sqlite)]`, \
                 `#[oxalchemy::test(postgres)]` or `#[oxalchemy::test(sqlite, postgres)]` \
                 (one test per backend)",
            ));
        }
        if let (Some(_), Some(migrations)) = (&self.schema, &self.migrations) {
            return Err(syn::Error::new(
                migrations.span(),
                "give either `schema = …` (tables created from models) or `migrations = …` \
                 (the schema built by running them), not both",
            ));
        }
        match (param.kind, self.fresh) {
            (ParamKind::Database | ParamKind::DatabaseRef, None) => Err(syn::Error::new(
                param.span,
                "a `Database` hands out pooled connections outside the per-test rollback \
                 fixture, so what the test commits would stay: add `fresh` \
                 (`#[oxalchemy::test(sqlite, fresh)]`, a database of the test's own), or take \
                 `Session` / `&mut Connection` to run inside the rollback fixture",
            )),
            (ParamKind::TestTransactionRef, Some(fresh)) => Err(syn::Error::new(
                fresh,
                "a `fresh` test has no rollback fixture to hand out: remove `fresh`, or take \
                 `Session`, `&mut Connection` or `Database`",
            )),
            _ => Ok(()),
        }
    }

    /// The `TestCase` builder calls, after `TestCase::new(name)`.
    fn builder_steps(&self) -> Vec<TokenStream2> {
        let testing = quote!(::oxalchemy::testing);
        let mut steps = Vec::new();
        if self.fresh.is_some() {
            steps.push(quote!(.fresh()));
        }
        if let Some(schema) = &self.schema {
            steps.push(quote!(.schema(#schema())));
        }
        if let Some(migrations) = &self.migrations {
            steps.push(quote!(.migrations(#migrations)));
        }
        for fixture in &self.fixtures {
            steps.push(match fixture {
                FixtureArg::Sql(file) => {
                    let path = format!("/{}", file.value());
                    let path = LitStr::new(&path, file.span());
                    quote!(.sql_fixture(#file, ::core::include_str!(::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), #path))))
                }
                FixtureArg::Rust(fill) => {
                    let name = path_text(fill);
                    quote! {
                        .fixture(#name, |__session| ::std::boxed::Box::pin(async move {
                            #testing::TestResult::into_result(#fill(__session).await)
                        }))
                    }
                }
            });
        }
        steps
    }
}

/// `a::b::c`, for messages.
fn path_text(path: &Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments.join("::")
}

/// What the test function takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ParamKind {
    Session,
    SessionMut,
    ConnectionMut,
    Database,
    DatabaseRef,
    TestTransactionRef,
    ContextRef,
}

struct Param {
    kind: ParamKind,
    span: Span,
}

const PARAM_USAGE: &str = "an `#[oxalchemy::test]` function takes one parameter: `Session`, \
                           `&mut Session`, `&mut Connection`, `&TestContext`, \
                           `&TestTransaction`, or `Database` / `&Database` (with `fresh`)";

impl Param {
    /// The expression that calls the test function with what it takes from `__ctx`.
    fn call(&self, name: &Ident) -> TokenStream2 {
        let testing = quote!(::oxalchemy::testing);
        match self.kind {
            ParamKind::Session => {
                quote!(super::#name(::oxalchemy::orm::SessionExt::session(__ctx)).await)
            }
            ParamKind::SessionMut => quote!({
                let mut __session = ::oxalchemy::orm::SessionExt::session(__ctx);
                super::#name(&mut __session).await
            }),
            ParamKind::ConnectionMut => quote!({
                let mut __conn = #testing::__private::connection(__ctx).await;
                super::#name(&mut __conn).await
            }),
            ParamKind::Database => {
                quote!(super::#name(::core::clone::Clone::clone(__ctx.database())).await)
            }
            ParamKind::DatabaseRef => quote!(super::#name(__ctx.database()).await),
            ParamKind::TestTransactionRef => {
                quote!(super::#name(#testing::__private::test_transaction(__ctx)).await)
            }
            ParamKind::ContextRef => quote!(super::#name(__ctx).await),
        }
    }
}

/// The function is async, not generic, and takes one parameter the kit can provide.
fn check_function(func: &ItemFn) -> syn::Result<Param> {
    if func.sig.asyncness.is_none() {
        return Err(syn::Error::new(
            func.sig.fn_token.span(),
            "`#[oxalchemy::test]` functions are `async fn`: write `async fn`",
        ));
    }
    if !func.sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            func.sig.generics.span(),
            "an `#[oxalchemy::test]` function cannot be generic",
        ));
    }
    let mut inputs = func.sig.inputs.iter();
    let (Some(input), None) = (inputs.next(), inputs.next()) else {
        return Err(syn::Error::new(func.sig.ident.span(), PARAM_USAGE));
    };
    let FnArg::Typed(typed) = input else {
        return Err(syn::Error::new(input.span(), PARAM_USAGE));
    };
    let ty = &*typed.ty;
    let kind = classify(ty).ok_or_else(|| syn::Error::new(ty.span(), PARAM_USAGE))?;
    Ok(Param {
        kind,
        span: ty.span(),
    })
}

/// The parameter's kind from its type's last path segment (`Session`, `oxalchemy::Database`).
fn classify(ty: &Type) -> Option<ParamKind> {
    match ty {
        Type::Path(p) if p.qself.is_none() => match last_ident(&p.path)?.as_str() {
            "Session" => Some(ParamKind::Session),
            "Database" => Some(ParamKind::Database),
            _ => None,
        },
        Type::Reference(r) => {
            let Type::Path(p) = &*r.elem else {
                return None;
            };
            let name = last_ident(&p.path)?;
            match (r.mutability.is_some(), name.as_str()) {
                (true, "Session") => Some(ParamKind::SessionMut),
                (true, "Connection") => Some(ParamKind::ConnectionMut),
                (false, "Database") => Some(ParamKind::DatabaseRef),
                (false, "TestTransaction") => Some(ParamKind::TestTransactionRef),
                (false, "TestContext") => Some(ParamKind::ContextRef),
                _ => None,
            }
        }
        _ => None,
    }
}

fn last_ident(path: &Path) -> Option<String> {
    path.segments.last().map(|s| s.ident.to_string())
}
