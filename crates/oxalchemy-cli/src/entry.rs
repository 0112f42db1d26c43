//! [`main`]: the whole body of a project's `migrate` binary (the one `oxalchemy init`
//! writes): the database URL from `DATABASE_URL` (or the project's `.env`), the command line,
//! a runtime, coloured output, and the documented exit codes.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anstyle::{AnsiColor, Style};
use oxalchemy_core::schema::MetaData;
use oxalchemy_migrate::migration::Migration;

use crate::{run, CliError, Config};

/// The variable the database URL is read from.
pub const DATABASE_URL: &str = "DATABASE_URL";

/// Exit codes of `oxalchemy` and of a project's migrate binary.
pub mod exit {
    /// The command did what was asked.
    pub const OK: u8 = 0;
    /// The command failed: the database, a migration, a file (the message says which).
    pub const FAILED: u8 = 1;
    /// The command line is wrong (unknown command, missing argument).
    pub const USAGE: u8 = 2;
    /// `check` found the database behind head or the models differing from it.
    pub const CHECK_FAILED: u8 = 3;
    /// The project's migrate binary did not build (cargo's errors are printed above).
    pub const BUILD_FAILED: u8 = 4;
}

/// Runs the command line of a project's migrate binary: `metadata` is the models' metadata,
/// `migrations` the generated `migrations::ALL`, `versions_dir` where migration files live
/// (`concat!(env!("CARGO_MANIFEST_DIR"), "/src/migrations")`). The URL is `DATABASE_URL`,
/// from the environment or the `.env` file of the current directory or a parent.
pub fn main(
    metadata: MetaData,
    migrations: &[Migration],
    versions_dir: impl Into<PathBuf>,
) -> ExitCode {
    let _ = dotenvy::dotenv();
    let url = std::env::var(DATABASE_URL).unwrap_or_default();
    let mut config = Config::new(url, metadata, migrations);
    config.versions_dir = versions_dir.into();
    config.progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            print_error(&format!("could not start the async runtime: {e}"));
            return ExitCode::from(exit::FAILED);
        }
    };
    match runtime.block_on(run(config, &args)) {
        Ok(out) => {
            print_output(&out);
            ExitCode::from(exit::OK)
        }
        Err(CliError::Usage { source, .. })
            if source.kind()
                == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            // No command: the help, as help (on stderr, exit code 2), not as an error.
            anstream::eprint!("{}", source.render().ansi());
            ExitCode::from(exit::USAGE)
        }
        Err(e) => {
            print_output(e.output());
            print_error(&message(&e));
            ExitCode::from(e.exit_code())
        }
    }
}

impl CliError {
    /// The process exit code for this error (see [`exit`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage { .. } | CliError::UnknownCommand { .. } => exit::USAGE,
            CliError::NotAtHead { .. } | CliError::ModelsDiffer { .. } => exit::CHECK_FAILED,
            CliError::AfterOutput { source, .. } => source.exit_code(),
            _ => exit::FAILED,
        }
    }
}

/// The error's message without the output it carries (printed before it), followed by its
/// causes that add something.
fn message(e: &CliError) -> String {
    let mut text = e.to_string();
    if let Some(rest) = text.strip_prefix(e.output()) {
        text = rest.to_owned();
    }
    match e {
        CliError::Usage { source, .. } => {
            // clap's report has the usage line; its own `error:` prefix is ours here.
            let report = source.render().to_string();
            return report
                .strip_prefix("error: ")
                .unwrap_or(&report)
                .trim_end()
                .to_owned();
        }
        CliError::UnknownCommand { source, .. } => {
            // Our line, then clap's suggestion of a close name, if it has one.
            for line in source.render().to_string().lines() {
                if line.trim_start().starts_with("tip:") {
                    text.push('\n');
                    text.push_str(line);
                }
            }
            return text;
        }
        _ => {}
    }
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let line = c.to_string();
        if !text.contains(&line) {
            text.push_str("\n  caused by: ");
            text.push_str(&line);
        }
        cause = c.source();
    }
    text
}

/// Prints a command's output; `lint` and `REVIEW` lines in yellow, `upgraded` / `downgraded`
/// in green (plain without a terminal or with `NO_COLOR`).
pub fn print_output(out: &str) {
    let mut stdout = anstream::stdout().lock();
    let warn = Style::new().fg_color(Some(AnsiColor::Yellow.into()));
    let good = Style::new().fg_color(Some(AnsiColor::Green.into()));
    for line in out.lines() {
        let warning = ["lint ", "REVIEW", "note:"]
            .iter()
            .any(|p| line.starts_with(p))
            || line.trim_start().starts_with("lint:");
        let style = if warning {
            warn
        } else if line.starts_with("upgraded ") || line.starts_with("downgraded ") {
            good
        } else {
            Style::new()
        };
        let _ = writeln!(stdout, "{style}{line}{style:#}");
    }
}

/// Prints `error: …` on stderr, the prefix in bold red on a terminal.
pub fn print_error(message: &str) {
    let red = Style::new().bold().fg_color(Some(AnsiColor::Red.into()));
    let _ = writeln!(anstream::stderr().lock(), "{red}error:{red:#} {message}");
}
