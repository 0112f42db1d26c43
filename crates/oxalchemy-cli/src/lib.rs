//! The migration command line (Alembic's `alembic …`), as a library: your crate's own
//! `migrate` binary hands it the database URL, the models' metadata and the migrations list
//! (the analog of Alembic's env.py), and it does the rest:
//!
//! ```text
//! cargo run --bin migrate -- revision --autogenerate -m "add user status"
//! cargo run --bin migrate -- upgrade head        # or base, a revision (prefix), +N, -N
//! cargo run --bin migrate -- downgrade -1
//! cargo run --bin migrate -- current | history | heads | branches | check | stamp REV
//! cargo run --bin migrate -- merge -m "merge heads" REV1 REV2
//! cargo run --bin migrate -- upgrade head --sql  # print the SQL instead of running it
//! cargo run --bin migrate -- --help
//! ```
//!
//! * `args`: the command line (clap).
//! * `commands`: one function per command.
//! * `config`: [`Config`].
//! * `error`: [`CliError`].

mod args;
mod commands;
mod config;
mod diagram;
mod entry;
mod error;
mod format;
mod generate;

pub use commands::write_mod_rs;
pub use config::Config;
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
