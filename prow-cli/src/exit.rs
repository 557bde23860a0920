//! How every binary ends: quietly when its reader went away (`prow crd | head -1`), and with a
//! hint after an error a newcomer can fix (a file that is not there, a port that is taken).
//!
//! Every `main` calls [`quiet_broken_pipe`] first and reports its error through [`report`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The exit code of a command whose output pipe was closed: 128 + SIGPIPE, what a shell shows
/// for `yes | head -1`.
pub const BROKEN_PIPE: u8 = 141;

/// `EPIPE` on Linux and the BSDs.
const EPIPE: i32 = 32;

/// Makes a write to a closed standard output or error end this process quietly with
/// [`BROKEN_PIPE`], as Unix tools do, instead of panicking in `print!`. Rust ignores SIGPIPE,
/// so `print!` meets the closed pipe as an error and panics with "failed printing to stdout";
/// this keeps that (and only that) from printing a panic. Other panics keep the default hook.
pub fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to std") && message.ends_with(&epipe_text()) {
            std::process::exit(i32::from(BROKEN_PIPE));
        }
        default(info);
    }));
}

/// How the OS describes `EPIPE` (std's panic message ends with it).
fn epipe_text() -> String {
    std::io::Error::from_raw_os_error(EPIPE).to_string()
}

/// Prints `err` after `prefix` (`mkpod:`, `error:`) with a hint when one applies, and answers
/// `code`; a closed output pipe instead ends quietly with [`BROKEN_PIPE`].
pub fn report(prefix: &str, err: &anyhow::Error, code: ExitCode) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::from(BROKEN_PIPE);
    }
    eprintln!("{prefix} {err:#}");
    if let Some(hint) = hint(err) {
        eprintln!("hint: {hint}");
    }
    code
}

/// Whether `err` comes from writing to a closed pipe.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    io_kinds(err).any(|kind| kind == std::io::ErrorKind::BrokenPipe)
}

/// A file a flag names that does not exist (checked before a command starts, so the error can
/// say which flag to pass).
#[derive(Debug, thiserror::Error)]
#[error("{flag} {}: no such file or directory", path.display())]
pub struct MissingFile {
    /// The flag, such as `--plugin-config`.
    pub flag: &'static str,
    /// The path it named.
    pub path: PathBuf,
    /// Whether the path is the flag's default (the user did not pass it).
    pub defaulted: bool,
}

/// Fails with [`MissingFile`] when `path`, named by `flag` (whose default is `default`), does
/// not exist.
pub fn require_file(
    flag: &'static str,
    path: &Path,
    default: Option<&str>,
) -> Result<(), MissingFile> {
    if path.exists() {
        return Ok(());
    }
    Err(MissingFile {
        flag,
        path: path.to_owned(),
        defaulted: default.is_some_and(|d| Path::new(d) == path),
    })
}

/// What a newcomer can do about `err`, when its cause is one we know: a missing file or a
/// taken port. `None` when the message already says it (it names `--port`) or no hint fits.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    if let Some(missing) = err.chain().find_map(|c| c.downcast_ref::<MissingFile>()) {
        return Some(if missing.defaulted {
            format!(
                "{} is {}'s default (where Prow's manifests mount it): pass {} with the path \
                 of your file",
                missing.path.display(),
                missing.flag,
                missing.flag
            )
        } else {
            format!("check the path given to {}", missing.flag)
        });
    }
    let text = format!("{err:#}");
    for kind in io_kinds(err) {
        match kind {
            std::io::ErrorKind::NotFound => {
                return Some(
                    "no such file or directory: check the path, or pass the flag that names \
                     it (`--help` lists each file flag and its default)"
                        .to_owned(),
                );
            }
            std::io::ErrorKind::AddrInUse if !text.contains("--port") => {
                return Some(
                    "another process is listening on that port: stop it, or choose another \
                     with --port"
                        .to_owned(),
                );
            }
            std::io::ErrorKind::PermissionDenied => {
                return Some(
                    "permission denied: check the file's owner and mode, or run as a user who \
                     may read it"
                        .to_owned(),
                );
            }
            _ => {}
        }
    }
    None
}

/// The kinds of every I/O error in `err`'s chain.
fn io_kinds(err: &anyhow::Error) -> impl Iterator<Item = std::io::ErrorKind> + '_ {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind)
}
