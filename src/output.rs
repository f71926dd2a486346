//! Where output goes: standard output, or a file written atomically (into
//! a hidden temporary file beside it, renamed into place only when the run
//! succeeded), so an interrupted or invalid run never leaves a half-written
//! trace nor empties a file.
//!
//! `-o` is checked before anything runs: it may not be one of the inputs,
//! nor anything but a regular file (a FIFO, device or socket is refused: the
//! shell's `>` writes to those). A symbolic link is followed: its target is
//! replaced and the link stays. A new file gets the mode `0666` under the
//! umask, an existing one keeps its mode. SIGINT, SIGTERM and SIGHUP remove
//! the temporary file before the process ends.

use std::cell::RefCell;
use std::io::{BufWriter, ErrorKind, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// A destination shared by the runs of one command.
#[derive(Clone)]
pub(crate) struct Output(Rc<RefCell<Sink>>);

enum Sink {
    Stdout(BufWriter<std::io::Stdout>),
    File {
        temp: BufWriter<tempfile::NamedTempFile>,
        /// Where it goes: `-o`, or the file a link there points to.
        dest: PathBuf,
        /// The mode of the file it replaces, kept.
        mode: Option<u32>,
    },
}

impl Output {
    pub(crate) fn stdout() -> Output {
        Output(Rc::new(RefCell::new(Sink::Stdout(BufWriter::new(
            std::io::stdout(),
        )))))
    }

    /// A temporary file beside `dest`, renamed to it by [`Output::finish`];
    /// refused when `dest` is one of `inputs` or not a regular file.
    pub(crate) fn file(dest: &Path, inputs: &[PathBuf]) -> Result<Output, String> {
        let shown = dest.display();
        let (target, mode) = match std::fs::metadata(dest) {
            Ok(meta) => {
                if meta.is_dir() {
                    return Err(format!("`-o {shown}` is a directory; give a file name"));
                }
                if !meta.is_file() {
                    return Err(format!(
                        "`-o {shown}` is not a regular file (a FIFO, device or socket); \
                         write to it with the shell's `>` instead"
                    ));
                }
                for input in inputs {
                    let same = std::fs::metadata(input)
                        .is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino());
                    if same {
                        return Err(format!(
                            "`-o {shown}` is the input `{}`: the trace would replace the scenario; \
                             write it elsewhere",
                            input.display()
                        ));
                    }
                }
                let target = std::fs::canonicalize(dest)
                    .map_err(|e| format!("cannot write `{shown}`: {e}"))?;
                (target, Some(meta.permissions().mode() & 0o7777))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                if std::fs::symlink_metadata(dest).is_ok() {
                    return Err(format!(
                        "`-o {shown}` is a symbolic link to nothing; remove it or give another file"
                    ));
                }
                (dest.to_owned(), None)
            }
            Err(e) => return Err(format!("cannot write `{shown}`: {e}")),
        };
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".scenario-run-")
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(dir)
            .map_err(|e| format!("cannot write in `{}`: {e}", dir.display()))?;
        crate::interrupt::remove_on_signal(temp.path());
        Ok(Output(Rc::new(RefCell::new(Sink::File {
            temp: BufWriter::new(temp),
            dest: target,
            mode,
        }))))
    }

    /// Flushes, and for a file, renames it into place when `keep` (the run
    /// succeeded), or removes it.
    pub(crate) fn finish(self, keep: bool) -> Result<(), String> {
        let sink = Rc::try_unwrap(self.0)
            .map_err(|_| "output still in use".to_owned())?
            .into_inner();
        match sink {
            Sink::Stdout(mut out) => match out.flush() {
                Err(e) if e.kind() == ErrorKind::BrokenPipe => closed(),
                other => other.map_err(|e| e.to_string()),
            },
            Sink::File { temp, dest, mode } => {
                let result = Self::persist(temp, &dest, mode, keep);
                crate::interrupt::forget();
                result
            }
        }
    }

    fn persist(
        temp: BufWriter<tempfile::NamedTempFile>,
        dest: &Path,
        mode: Option<u32>,
        keep: bool,
    ) -> Result<(), String> {
        let cannot = |e: &dyn std::fmt::Display| format!("cannot write `{}`: {e}", dest.display());
        let temp = temp.into_inner().map_err(|e| cannot(e.error()))?;
        if !keep {
            return temp.close().map_err(|e| cannot(&e));
        }
        if let Some(mode) = mode {
            std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(mode))
                .map_err(|e| cannot(&e))?;
        }
        temp.persist(dest).map(|_| ()).map_err(|e| cannot(&e.error))
    }
}

/// The reader of standard output went away (`| head`): end quietly, as a
/// command whose output nobody reads has nothing left to do.
fn closed() -> ! {
    std::process::exit(0)
}

/// Writes `text` to standard output; a closed pipe ends the process quietly.
pub(crate) fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            closed();
        }
        warn(&format!("error: cannot write the output: {e}\n"));
    }
}

/// Writes `text` to standard error; a closed standard error is no reason
/// to fail (nobody would read why).
pub(crate) fn warn(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

impl Write for Output {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        match &mut *self.0.borrow_mut() {
            Sink::Stdout(out) => match out.write(data) {
                Err(e) if e.kind() == ErrorKind::BrokenPipe => closed(),
                other => other,
            },
            Sink::File { temp, .. } => temp.write(data),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut *self.0.borrow_mut() {
            Sink::Stdout(out) => match out.flush() {
                Err(e) if e.kind() == ErrorKind::BrokenPipe => closed(),
                other => other,
            },
            Sink::File { temp, .. } => temp.flush(),
        }
    }
}
