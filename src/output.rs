//! Where output goes: standard output, or a file written atomically (into
//! a temporary file beside it, renamed into place only when complete), so an
//! interrupted run never leaves a half-written trace.

use std::cell::RefCell;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// A destination shared by the runs of one command.
#[derive(Clone)]
pub(crate) struct Output(Rc<RefCell<Sink>>);

enum Sink {
    Stdout(BufWriter<std::io::Stdout>),
    File {
        temp: BufWriter<tempfile::NamedTempFile>,
        dest: PathBuf,
    },
}

impl Output {
    pub(crate) fn stdout() -> Output {
        Output(Rc::new(RefCell::new(Sink::Stdout(BufWriter::new(
            std::io::stdout(),
        )))))
    }

    /// A temporary file in `dest`'s directory, renamed to `dest` by [`Output::finish`].
    pub(crate) fn file(dest: &Path) -> Result<Output, String> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".scenario-run-")
            .tempfile_in(dir)
            .map_err(|e| format!("cannot write in `{}`: {e}", dir.display()))?;
        Ok(Output(Rc::new(RefCell::new(Sink::File {
            temp: BufWriter::new(temp),
            dest: dest.to_owned(),
        }))))
    }

    /// Flushes, and for a file, renames it into place.
    pub(crate) fn finish(self) -> Result<(), String> {
        let sink = Rc::try_unwrap(self.0)
            .map_err(|_| "output still in use".to_owned())?
            .into_inner();
        match sink {
            Sink::Stdout(mut out) => out.flush().map_err(|e| e.to_string()),
            Sink::File { temp, dest } => {
                let temp = temp.into_inner().map_err(|e| e.error().to_string())?;
                temp.persist(&dest)
                    .map(|_| ())
                    .map_err(|e| format!("cannot write `{}`: {}", dest.display(), e.error))
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        match &mut *self.0.borrow_mut() {
            Sink::Stdout(out) => out.write(data),
            Sink::File { temp, .. } => temp.write(data),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut *self.0.borrow_mut() {
            Sink::Stdout(out) => out.flush(),
            Sink::File { temp, .. } => temp.flush(),
        }
    }
}
