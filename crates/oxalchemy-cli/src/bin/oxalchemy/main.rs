//! `oxalchemy`: the installable command. `init` scaffolds a project's migrations without
//! connecting; every migration command (`revision`, `upgrade`, `status`, …) builds the
//! project's own migrate binary with cargo and runs it, because only that binary has the
//! project's models and migrations compiled in (the analog of Alembic loading env.py).
//!
//! Exit codes: 0 done; 1 failed (database, migration, file); 2 wrong command line; 3 `check`
//! found the database behind or the models differing; 4 the project's migrate binary did not
//! build.

mod generate;
mod project;
mod scaffold;

use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};
use oxalchemy_cli::exit;

/// The exit codes, for `--help`.
const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  failed (database, migration, file: the message says which)
  2  wrong command line
  3  `check` found the database behind head or the models differing from it
  4  the project's migrate binary did not build (cargo's errors are above)

The database URL is DATABASE_URL, from the environment or the project's .env file.
Colour is off when NO_COLOR is set or output is not a terminal.";

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let matches = match command().try_get_matches_from(&argv) {
        Ok(m) => m,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // Both are read by the project's migrate binary, a child inheriting the environment;
    // they are set before any thread starts.
    if let Some(url) = matches.get_one::<String>("database-url") {
        std::env::set_var(oxalchemy_cli::DATABASE_URL, url);
    }
    if matches.get_flag("no-color") {
        std::env::set_var("NO_COLOR", "1");
    }
    let code = match matches.subcommand() {
        Some(("init", m)) if m.get_flag("from-database") => generate::init_from_database(),
        Some(("init", _)) => scaffold::init(),
        Some(("generate", m)) => match m.subcommand() {
            Some(("models", m)) => generate::models(m),
            _ => exit::USAGE,
        },
        Some(("completions", m)) => completions(m),
        Some((name, _)) => project::run_migrate(name, &forwarded(&argv)),
        None => exit::USAGE,
    };
    ExitCode::from(code)
}

/// The whole command line: the migrate binary's commands (one clap definition, so help,
/// validation and completions match what the project's binary accepts), `init` replaced by
/// the scaffolding one, and `completions`.
fn command() -> Command {
    oxalchemy_cli::command_line()
        .name("oxalchemy")
        .bin_name("oxalchemy")
        .about("Migrations for oxalchemy projects: scaffold, autogenerate, upgrade, inspect.")
        .version(env!("CARGO_PKG_VERSION"))
        .after_help(EXIT_CODES)
        .arg(
            Arg::new("database-url")
                .long("database-url")
                .global(true)
                .value_name("URL")
                .help("The database (default: DATABASE_URL from the environment or .env)"),
        )
        .mut_subcommand("init", |c| {
            c.about(
                "Scaffold src/migrations/mod.rs and src/bin/migrate.rs (no database needed; \
                 existing files are kept)",
            )
            .arg(
                Arg::new("from-database")
                    .long("from-database")
                    .action(ArgAction::SetTrue)
                    .help(
                        "Also write src/models.rs from the live database, a baseline migration \
                         equal to its schema, and stamp the database at it",
                    ),
            )
        })
        .subcommand(
            Command::new("generate")
                .about("Generate code from a live database")
                .subcommand_required(true)
                .subcommand(
                    Command::new("models")
                        .about(
                            "Reflect the database into #[derive(Model)] structs (relationships, \
                             indexes, constraints, enums) and a registry()",
                        )
                        .arg(
                            Arg::new("url")
                                .long("url")
                                .value_name("URL")
                                .help("The database (default: --database-url / DATABASE_URL)"),
                        )
                        .arg(
                            Arg::new("tables")
                                .long("tables")
                                .value_name("TABLE,...")
                                .value_delimiter(',')
                                .help("Only these tables (default: every table)"),
                        )
                        .arg(
                            Arg::new("output")
                                .short('o')
                                .long("output")
                                .value_name("FILE")
                                .help("Write the source to FILE (default: standard output)"),
                        ),
                ),
        )
        .subcommand(
            Command::new("completions")
                .about("Print a shell completion script (bash, zsh, fish, elvish, powershell)")
                .arg(
                    Arg::new("shell")
                        .required(true)
                        .value_parser(clap::value_parser!(clap_complete::Shell)),
                ),
        )
        .arg(
            Arg::new("no-color")
                .long("no-color")
                .global(true)
                .action(ArgAction::SetTrue)
                .help("Plain output (as NO_COLOR=1)"),
        )
}

/// The arguments for the migrate binary: everything after the program name except this
/// command's own global options.
fn forwarded(argv: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        if a == "--database-url" {
            it.next();
        } else if !(a.starts_with("--database-url=") || a == "--no-color") {
            out.push(a.clone());
        }
    }
    out
}

/// `completions SHELL`.
fn completions(m: &ArgMatches) -> u8 {
    let Some(shell) = m.get_one::<clap_complete::Shell>("shell") else {
        return exit::USAGE;
    };
    clap_complete::generate(*shell, &mut command(), "oxalchemy", &mut std::io::stdout());
    exit::OK
}
