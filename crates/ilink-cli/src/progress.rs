//! Progress bars on stderr, for a person at a terminal: none when stderr is
//! not a terminal, with `--json`, or with `ILINK_NO_PROGRESS` set.

use std::io::IsTerminal;
use std::pin::Pin;
use std::task::{Context, Poll};

use indicatif::{ProgressBar, ProgressStyle};

use crate::app::Out;

/// A bar for `total` bytes (0: unknown), or `None` when nobody watches.
pub(crate) fn bar(out: Out, total: u64, what: &str) -> Option<ProgressBar> {
    if out.json
        || !std::io::stderr().is_terminal()
        || std::env::var_os("ILINK_NO_PROGRESS").is_some()
    {
        return None;
    }
    let bar = if total > 0 {
        ProgressBar::new(total)
    } else {
        ProgressBar::no_length()
    };
    let template = if total > 0 {
        "{msg:>11} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}"
    } else {
        "{msg:>11} {bytes} {bytes_per_sec}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    Some(bar)
}

/// Clears a finished bar.
pub(crate) fn finish(bar: Option<ProgressBar>) {
    if let Some(b) = bar {
        b.finish_and_clear();
    }
}

/// A reader that moves a bar.
pub(crate) struct Reading<R> {
    inner: R,
    bar: Option<ProgressBar>,
}

impl<R> Reading<R> {
    pub(crate) fn new(inner: R, bar: Option<ProgressBar>) -> Self {
        Self { inner, bar }
    }
}

impl<R: std::io::Read> std::io::Read for Reading<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(b) = &self.bar {
            b.inc(n as u64);
        }
        Ok(n)
    }
}

/// An async writer that moves a bar.
pub(crate) struct Writing<W> {
    inner: W,
    bar: Option<ProgressBar>,
}

impl<W> Writing<W> {
    pub(crate) fn new(inner: W, bar: Option<ProgressBar>) -> Self {
        Self { inner, bar }
    }
}

impl<W: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Writing<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let (Poll::Ready(Ok(n)), Some(b)) = (&polled, &self.bar) {
            b.inc(*n as u64);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
