//! One function per command. [`dispatch`] maps a parsed [`Command`] to its function; each
//! returns the text to print. Adding a command: a variant in `args`, a function in the
//! module of its kind, an arm here.
//!
//! * `graph`: commands that read only the migrations (`heads`, `branches`, `history`).
//! * `database`: commands that read or move the database (`current`, `upgrade`,
//!   `downgrade`, `stamp`, `check`, `status`).
//! * `files`: commands that write migration files (`init`, `revision`, `merge`).

mod database;
mod files;
mod graph;

pub use files::write_mod_rs;
pub(crate) use files::write_new_migration;

use oxalchemy_engine::Database;
use oxalchemy_migrate::migration::{Graph, Runner};

use crate::args::Command;
use crate::{CliError, Config};

/// What every command may use: the project's configuration and its checked revision graph.
pub(crate) struct Ctx<'c, 'a> {
    pub(crate) config: &'c Config<'a>,
    pub(crate) graph: &'c Graph,
}

impl Ctx<'_, '_> {
    fn runner(&self) -> Runner<'_> {
        Runner::new(self.graph)
    }

    pub(crate) async fn connect(&self) -> Result<Database, CliError> {
        if self.config.url.is_empty() {
            return Err(CliError::NoDatabaseUrl);
        }
        Ok(Database::connect(&self.config.url).await?)
    }
}

/// Runs `command`, returning what it prints.
pub(crate) async fn dispatch(ctx: &Ctx<'_, '_>, command: Command) -> Result<String, CliError> {
    match command {
        Command::Init => files::init(ctx),
        Command::Revision(args) => files::revision(ctx, &args).await,
        Command::Merge(args) => files::merge(ctx, &args),
        Command::Upgrade(args) => database::upgrade(ctx, &args).await,
        Command::Downgrade(args) => database::downgrade(ctx, &args).await,
        Command::Current => database::current(ctx).await,
        Command::History(args) if args.graph => graph::history_graph(ctx).await,
        Command::History(_) => graph::history(ctx),
        Command::Heads => Ok(graph::heads(ctx)),
        Command::Branches => Ok(graph::branches(ctx)),
        Command::Stamp(args) => database::stamp(ctx, &args).await,
        Command::Check => database::check(ctx).await,
        Command::Status => database::status(ctx).await,
        Command::Schema(args) => database::schema(ctx, &args).await,
    }
}
