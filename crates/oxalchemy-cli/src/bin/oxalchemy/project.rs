//! Running a migration command in the user's project: find the package, build its migrate
//! binary with cargo (`src/bin/migrate.rs`, written by `init`), run it with the arguments.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use oxalchemy_cli::{exit, print_error};

/// The migrate binary's path inside a package.
pub(crate) const MIGRATE_BIN: &str = "src/bin/migrate.rs";

/// The package directory: the nearest directory at or above the current one with a
/// `Cargo.toml`.
pub(crate) fn package_root() -> Result<PathBuf, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    cwd.ancestors()
        .find(|d| d.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            format!(
                "no Cargo.toml in {} or above: run oxalchemy inside your cargo project",
                cwd.display()
            )
        })
}

/// Builds the project's migrate binary and runs `args` with it; its exit code is ours.
pub(crate) fn run_migrate(command: &str, args: &[String]) -> u8 {
    let root = match package_root() {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if !root.join(MIGRATE_BIN).is_file() {
        return fail(&format!(
            "`{command}` runs your project's migrate binary, and {} has none ({MIGRATE_BIN}): \
             run `oxalchemy init` first",
            root.display()
        ));
    }
    let exe = match build(&root) {
        Ok(exe) => exe,
        Err(code) => return code,
    };
    match Command::new(&exe).args(args).current_dir(&root).status() {
        Ok(status) => status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(exit::FAILED),
        Err(e) => fail(&format!("could not run {}: {e}", exe.display())),
    }
}

/// `cargo build --bin migrate`, its diagnostics on stderr; the executable's path from
/// cargo's JSON messages (so workspaces and `CARGO_TARGET_DIR` need no guessing).
fn build(root: &Path) -> Result<PathBuf, u8> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--bin",
            "migrate",
            "--message-format=json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(root.join("Cargo.toml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| fail(&format!("could not run cargo: {e}")))?;
    let mut exe = None;
    if let Some(out) = child.stdout.take() {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(path) = executable(&line) {
                exe = Some(path);
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| fail(&format!("cargo did not finish: {e}")))?;
    match exe {
        Some(exe) if status.success() => Ok(exe),
        _ => {
            print_error(&format!(
                "could not build the migrate binary ({MIGRATE_BIN}); cargo's errors are above"
            ));
            Err(exit::BUILD_FAILED)
        }
    }
}

/// The `migrate` executable named by one line of cargo's JSON output, if it is that line.
fn executable(line: &str) -> Option<PathBuf> {
    let msg: serde_json::Value = serde_json::from_str(line).ok()?;
    if msg["reason"] != "compiler-artifact" || msg["target"]["name"] != "migrate" {
        return None;
    }
    msg["executable"].as_str().map(PathBuf::from)
}

pub(crate) fn fail(message: &str) -> u8 {
    print_error(message);
    exit::FAILED
}
