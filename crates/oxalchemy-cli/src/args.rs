//! The command line, declared with clap's derive API: one variant of [`Command`] per command,
//! so adding a command is a variant here and a function in `commands`.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, Parser, Subcommand};

use crate::CliError;

/// This project's database migrations: write, apply, revert and inspect them.
#[derive(Debug, Parser)]
#[command(name = "migrate", arg_required_else_help = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// One command and its arguments.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the migrations folder and its mod.rs.
    Init,
    /// Write a new migration file.
    Revision(RevisionArgs),
    /// Write a merge revision joining two or more heads.
    Merge(MergeArgs),
    /// Move the database to TARGET: head, heads, base, REV (or a prefix), +N.
    Upgrade(MoveArgs),
    /// Move the database to TARGET: base, REV, -N.
    Downgrade(MoveArgs),
    /// Print the database's current revision(s).
    Current,
    /// List the revisions, newest first (--graph: as a tree, the current one marked).
    History(HistoryArgs),
    /// List the heads.
    Heads,
    /// List the branch points.
    Branches,
    /// Record TARGET as applied without running it.
    Stamp(StampArgs),
    /// Fail if the database is not at head, or the models and the database differ.
    Check,
    /// Show the current revision(s), pending migrations and their lints, and differences
    /// between the models and the database.
    Status,
    /// Print the entity-relationship diagram of the models (or, with --database, of the
    /// live database) as Mermaid or Graphviz DOT.
    Schema(SchemaArgs),
}

/// `history [--graph]`.
#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// Draw the revision graph (branches, merges, heads; `@` is the database's current
    /// revision when DATABASE_URL is set).
    #[arg(long)]
    pub(crate) graph: bool,
}

/// `schema [--format mermaid|dot] [--database]`.
#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    /// The diagram language.
    #[arg(long, value_enum, default_value = "mermaid")]
    pub(crate) format: crate::diagram::Format,
    /// Diagram the live database's tables instead of the models.
    #[arg(long)]
    pub(crate) database: bool,
}

/// `revision -m MSG [--autogenerate]`.
#[derive(Debug, Args)]
pub(crate) struct RevisionArgs {
    /// What the migration does.
    #[arg(short = 'm', long = "message")]
    pub(crate) message: String,
    /// Fill the migration with the differences between the models and the database.
    #[arg(long)]
    pub(crate) autogenerate: bool,
}

/// `merge -m MSG REV REV...`.
#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// What the merge is for.
    #[arg(short = 'm', long = "message")]
    pub(crate) message: String,
    /// The revisions (or prefixes) to merge: two or more.
    #[arg(required = true, num_args = 2..)]
    pub(crate) revisions: Vec<String>,
}

/// `upgrade|downgrade TARGET [--sql [--from REV]]`.
#[derive(Debug, Args)]
pub(crate) struct MoveArgs {
    /// Where to go: head, heads, base, a revision (or prefix), +N, -N.
    #[arg(allow_negative_numbers = true)]
    pub(crate) target: String,
    /// Print the SQL instead of running it (no connection is made).
    #[arg(long)]
    pub(crate) sql: bool,
    /// With --sql: where the database is (head, heads, base, a revision, +N, -N; default:
    /// base for upgrade, heads for downgrade).
    #[arg(long, requires = "sql", value_name = "REV")]
    pub(crate) from: Option<String>,
}

/// `stamp TARGET`.
#[derive(Debug, Args)]
pub(crate) struct StampArgs {
    /// The revision to record (with its ancestors): head, base, a revision, +N, -N.
    #[arg(allow_negative_numbers = true)]
    pub(crate) target: String,
}

/// What the command line asks for: a command, or the help text.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// Run this command.
    Run(Command),
    /// Print this (`--help`, `help`).
    Help(String),
}

/// Parses the arguments after the program name.
pub(crate) fn parse(args: &[String]) -> Result<Parsed, CliError> {
    let argv = std::iter::once("migrate").chain(args.iter().map(String::as_str));
    match Cli::try_parse_from(argv) {
        Ok(cli) => Ok(Parsed::Run(cli.command)),
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Ok(Parsed::Help(e.to_string())),
            ErrorKind::InvalidSubcommand => Err(CliError::UnknownCommand {
                name: match e.get(ContextKind::InvalidSubcommand) {
                    Some(ContextValue::String(name)) => name.clone(),
                    _ => args.first().cloned().unwrap_or_default(),
                },
                source: e,
            }),
            _ => Err(CliError::Usage {
                summary: summary(&e),
                source: e,
            }),
        },
    }
}

/// The first paragraph of clap's report on one line, without its `error: ` prefix.
fn summary(e: &clap::Error) -> String {
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // Its report is the whole help text.
        return "no command given".to_owned();
    }
    let text = e.to_string();
    let first: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let line = first.join(" ");
    line.strip_prefix("error: ").unwrap_or(&line).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Result<Parsed, CliError> {
        let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        parse(&args)
    }

    fn command(line: &str) -> Command {
        match parse_line(line) {
            Ok(Parsed::Run(c)) => c,
            other => panic!("`{line}` did not parse to a command: {other:?}"),
        }
    }

    /// The command lines of the README and the crate docs keep their meaning.
    #[test]
    fn documented_command_lines_parse() {
        let Command::Revision(r) = command("revision --autogenerate -m add_user_status") else {
            panic!()
        };
        assert!(r.autogenerate && r.message == "add_user_status");
        let Command::Revision(r) = command("revision -m msg") else {
            panic!()
        };
        assert!(!r.autogenerate && r.message == "msg");
        for (line, target) in [
            ("upgrade head", "head"),
            ("upgrade +1", "+1"),
            ("upgrade 4c5a", "4c5a"),
            ("downgrade -1", "-1"),
            ("downgrade base", "base"),
        ] {
            let (Command::Upgrade(m) | Command::Downgrade(m)) = command(line) else {
                panic!("{line}")
            };
            assert_eq!((m.target.as_str(), m.sql, m.from), (target, false, None));
        }
        let Command::Upgrade(m) = command("upgrade head --sql --from abc") else {
            panic!()
        };
        assert_eq!(
            (m.target.as_str(), m.sql, m.from.as_deref()),
            ("head", true, Some("abc"))
        );
        let Command::Downgrade(m) = command("downgrade base --sql") else {
            panic!()
        };
        assert!(m.sql);
        let Command::Stamp(s) = command("stamp bbb222") else {
            panic!()
        };
        assert_eq!(s.target, "bbb222");
        let Command::Merge(m) = command("merge -m merge_heads aaa bbb") else {
            panic!()
        };
        assert_eq!((m.message.as_str(), m.revisions.len()), ("merge_heads", 2));
        for line in [
            "init", "current", "history", "heads", "branches", "check", "status", "schema",
        ] {
            command(line);
        }
    }

    #[test]
    fn help_is_output_not_an_error() {
        for line in ["--help", "help", "upgrade --help"] {
            match parse_line(line) {
                Ok(Parsed::Help(text)) => assert!(text.contains("Usage: migrate"), "{text}"),
                other => panic!("{line}: {other:?}"),
            }
        }
    }
}
