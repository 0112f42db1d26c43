//! Runs one test of the current test binary again, in a child process with a changed
//! environment: how the testing kit's "no server" behaviour (a case fails saying how to get
//! a server, or skips visibly when asked) is tested without stopping a server.

/// Runs the test named `case` (exactly) of this test binary with the variables in `set`
/// given and those in `remove` taken away; returns whether it passed and its whole output.
pub(crate) fn run_case(case: &str, set: &[(&str, &str)], remove: &[&str]) -> (bool, String) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["--exact", case, "--nocapture", "--test-threads=1"]);
    for var in remove {
        cmd.env_remove(var);
    }
    for (var, value) in set {
        cmd.env(var, value);
    }
    let out = cmd.output().expect("the child test process runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
