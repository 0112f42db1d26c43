//! The migration commands of oxalchemy (Alembic's `alembic …`): the installable `oxalchemy`
//! binary (`cargo install oxalchemy-cli`) and the library a project's own migrate binary
//! calls with its models' metadata and migrations (the analog of Alembic's env.py).
//!
//! ```text
//! oxalchemy init                                      # scaffold; connects to nothing
//! oxalchemy revision --autogenerate -m "add user status"
//! oxalchemy upgrade head        # or base, a revision (prefix), +N, -N
//! oxalchemy status              # current, pending (with lints), models vs database
//! oxalchemy downgrade -1
//! oxalchemy current | history [--graph] | heads | branches | check | stamp REV
//! oxalchemy merge -m "merge heads" REV1 REV2
//! oxalchemy upgrade head --sql  # print the SQL instead of running it
//! oxalchemy schema --format mermaid|dot [--database]
//! oxalchemy generate models --url URL [--tables a,b] ; oxalchemy init --from-database
//! ```
//!
//! The `oxalchemy` binary (`src/bin/oxalchemy/`) runs `init`, `generate` and `completions`
//! itself and every other command by building and running the project's migrate binary
//! (`src/bin/migrate.rs`, whose body is [`main`]). [`run`] is the same commands for a program
//! that embeds them (its future is `Send`).
//!
//! * `args`: the command line (clap).
//! * `commands`: one function per command.
//! * `config`: [`Config`]; `entry`: [`main`] and the exit codes ([`exit`]).
//! * `error`: [`CliError`].
//! * `format`: generated files formatted by rustfmt.
//! * `generate`: `generate models` and the baseline of `init --from-database`.
//! * `diagram`: Mermaid and DOT entity-relationship diagrams.

mod args;
mod commands;
mod config;
mod diagram;
mod entry;
mod error;
mod format;
mod generate;
mod progress;

pub use commands::write_mod_rs;
pub use config::{Config, ObjectPredicate};
pub use entry::{exit, main, DATABASE_URL};
pub use error::CliError;
#[doc(hidden)]
pub use format::rustfmt_source;
#[doc(hidden)]
pub use generate::{generate_models, write_baseline, GeneratedModels};

use oxalchemy_migrate::migration::Graph;

use crate::args::Parsed;
use crate::commands::Ctx;

/// The command line's clap definition (for the `oxalchemy` binary's help and completions).
#[doc(hidden)]
pub fn command_line() -> clap::Command {
    <args::Cli as clap::CommandFactory>::command()
}

#[doc(hidden)]
pub use entry::{print_error, print_output};

/// Runs one command and returns what it prints. `args` are the command-line arguments after
/// the program name; `--help` (or `help`) returns the help text.
pub async fn run(config: Config<'_>, args: &[String]) -> Result<String, CliError> {
    let command = match args::parse(args)? {
        Parsed::Run(command) => command,
        Parsed::Help(text) => return Ok(text),
    };
    let graph = Graph::new(config.migrations)?;
    let ctx = Ctx {
        config: &config,
        graph: &graph,
    };
    commands::dispatch(&ctx, command).await
}
