//! Running one ignored test of this test binary in a process of its own,
//! for scenarios that touch process-wide state (the global pipeline, the
//! once-per-process warnings, signals).

use std::ffi::OsStr;
use std::process::{Command, ExitStatus};

/// What the child process left behind.
pub struct ChildOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Run the ignored test `name` of this binary in a new process, with `env`
/// added to its environment and `TRACEKIT_QUIET` removed (so the start-up
/// line and warnings show), whatever its outcome.
pub fn spawn_child<K, V>(name: &str, env: impl IntoIterator<Item = (K, V)>) -> ChildOutput
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("TRACEKIT_QUIET")
        .envs(env)
        .output()
        .unwrap();
    ChildOutput {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// [`spawn_child`], failing unless the child ran its one test and passed.
pub fn run_child<K, V>(name: &str, env: impl IntoIterator<Item = (K, V)>) -> ChildOutput
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let child = spawn_child(name, env);
    assert!(child.status.success(), "{}\n{}", child.stdout, child.stderr);
    assert!(child.stdout.contains("1 passed"), "{}", child.stdout);
    child
}

/// No variables added. (Not every test binary uses every helper.)
#[allow(dead_code)]
pub const NO_ENV: [(&str, &str); 0] = [];
