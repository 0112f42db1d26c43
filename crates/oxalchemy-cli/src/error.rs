//! [`CliError`]: every way a command can fail, typed, so a `migrate` binary (or a test) can
//! tell a usage mistake from a database failure; causes stay reachable through `source()`.

use std::path::PathBuf;

use oxalchemy_migrate::migration::MigrateError;
use oxalchemy_migrate::reflect::ReflectError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The command line does not parse (a missing argument, an unknown flag, no command).
    #[error(
        "invalid command line: {summary}; `migrate --help` lists the commands and their \
         arguments"
    )]
    Usage {
        /// What is wrong, in one line.
        summary: String,
        /// The parser's full report, with the usage of the command.
        #[source]
        source: clap::Error,
    },
    /// The first argument names no command.
    #[error("unknown command `{name}`; `migrate --help` lists the commands")]
    UnknownCommand {
        /// What was typed.
        name: String,
        /// The parser's report (with suggestions of close command names).
        #[source]
        source: clap::Error,
    },
    /// Planning or running migrations failed (unknown revision, several heads, an edited
    /// migration, a failing statement, …).
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    /// Reading the database's schema for `check` or `revision --autogenerate` failed.
    #[error(transparent)]
    Reflect(#[from] ReflectError),
    /// A command that connects found no database URL.
    #[error(
        "no database URL: set DATABASE_URL in the environment or in the project's .env file \
         (e.g. DATABASE_URL=sqlite://app.db), or pass --database-url to `oxalchemy`"
    )]
    NoDatabaseUrl,
    /// `generate models --tables` named a table the database does not have.
    #[error("the database has no table `{0}` (in its default schema); check --tables")]
    NoSuchTable(String),
    /// Connecting to the database failed.
    #[error(transparent)]
    Engine(#[from] oxalchemy_engine::Error),
    /// Reading or writing a migration file or folder failed.
    #[error("could not {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done (`write`, `read the folder`, `create the folder`).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The command failed after it had printed something worth reading: usually the lints
    /// of the migrations it was about to run, which say why a migration failed. The display
    /// is that output followed by the error.
    #[error("{output}{source}")]
    AfterOutput {
        /// What the command printed before failing.
        output: String,
        /// Why it failed.
        source: Box<CliError>,
    },
    /// `check`: migrations are waiting to be applied.
    #[error(
        "{output}the database is not at head: {pending} migrations to apply; run `upgrade heads`"
    )]
    NotAtHead {
        /// What the command printed before failing (lints of the pending migrations).
        output: String,
        /// How many migrations are waiting.
        pending: usize,
    },
    /// `check`: the models and the database's schema differ.
    #[error(
        "{output}models and database differ; run `revision --autogenerate`:\n{}",
        operations.join("\n")
    )]
    ModelsDiffer {
        /// What the command printed before failing (lints).
        output: String,
        /// The operations autogenerate would write, as Rust code.
        operations: Vec<String>,
    },
}

impl CliError {
    /// `error`, keeping what the command had already printed (`output`) in front of it, when
    /// there is any.
    pub(crate) fn after(output: &str, error: impl Into<CliError>) -> Self {
        let error = error.into();
        if output.is_empty() {
            return error;
        }
        CliError::AfterOutput {
            output: output.to_owned(),
            source: Box::new(error),
        }
    }

    /// The text the command printed before it failed (lints of the migrations it was about
    /// to run), if any.
    pub fn output(&self) -> &str {
        match self {
            CliError::AfterOutput { output, .. }
            | CliError::NotAtHead { output, .. }
            | CliError::ModelsDiffer { output, .. } => output,
            _ => "",
        }
    }

    /// An I/O failure on `path` while doing `action`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| CliError::Io {
            action,
            path,
            source,
        }
    }
}
