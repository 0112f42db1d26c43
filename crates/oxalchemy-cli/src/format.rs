//! Generated Rust files are formatted by the user's own `rustfmt`, so they pass the user's
//! `cargo fmt --check` after every `revision`.
//!
//! Not prettyplease: its style is close to rustfmt's but not the same (it joins method
//! chains rustfmt splits at `chain_width`, and drops blank lines between items), and only
//! rustfmt itself follows the project's `rustfmt.toml` and edition. A machine without
//! rustfmt cannot run `cargo fmt --check` either; the files are then left as generated
//! (already indented) and the command says so.

use std::path::Path;
use std::process::{Command, Stdio};

/// Formats `files` in place with `rustfmt`, for the edition of the package they belong to.
/// Returns a note for the output when rustfmt could not run or failed, else `None`.
pub(crate) fn rustfmt(files: &[&Path]) -> Option<String> {
    let first = files.first()?;
    let edition = package_edition(first).unwrap_or_else(|| "2021".to_owned());
    let rustfmt = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let result = Command::new(rustfmt)
        .args(["--edition", &edition])
        .args(files)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match result {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "note: rustfmt failed on the generated files ({}); run `cargo fmt`\n",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!(
            "note: could not run rustfmt ({e}); the generated files are not formatted: \
             run `cargo fmt`\n"
        )),
    }
}

/// The `edition` of the nearest `Cargo.toml` above `file` that names one (a package's).
fn package_edition(file: &Path) -> Option<String> {
    let abs = std::path::absolute(file).ok()?;
    abs.ancestors().skip(1).find_map(|dir| {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        manifest.lines().find_map(|line| {
            let value = line.trim().strip_prefix("edition")?.trim_start();
            let value = value.strip_prefix('=')?.trim();
            Some(value.trim_matches('"').to_owned()).filter(|v| v.len() == 4)
        })
    })
}

/// `source` formatted by `rustfmt` (edition 2021, the configuration of the current
/// directory), or `None` when rustfmt is not available or rejects it.
pub fn rustfmt_source(source: &str) -> Option<String> {
    use std::io::Write as _;
    let rustfmt = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let mut child = Command::new(rustfmt)
        .args(["--edition", "2021", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let text = source.to_owned();
    // Written from a thread: rustfmt may fill its stdout before reading all of stdin.
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edition_comes_from_the_nearest_package() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs");
        // This crate says `edition.workspace = true`: the workspace manifest answers.
        assert_eq!(package_edition(&here).as_deref(), Some("2021"));
    }
}
