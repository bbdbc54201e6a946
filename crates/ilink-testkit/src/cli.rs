//! The simulator's one command line, shared by the `ilink-simulator` binary
//! and `ilink simulate` (feature `cli`, on by default).
//!
//! Every duration is written with its unit (`250ms`, `35s`, `10m`, `24h`),
//! the same in both commands.
//!
//! ```
//! use clap::Parser;
//! use ilink_testkit::cli::SimulatorArgs;
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     sim: SimulatorArgs,
//! }
//!
//! let cli = Cli::try_parse_from(["sim", "--hold", "250ms", "--rate-limit", "1s"]).unwrap();
//! assert_eq!(cli.sim.hold, Some(std::time::Duration::from_millis(250)));
//! let _builder = cli.sim.builder();
//! ```

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use crate::{RateLimit, Simulator, SimulatorBuilder};

/// The longest duration a flag takes: a day.
const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// How to run the simulator standalone (with its JSON control API on).
///
/// A port of 0, the default, picks a free one.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
#[non_exhaustive]
pub struct SimulatorArgs {
    /// API port.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub port: u16,
    /// CDN port.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub cdn_port: u16,
    /// Port of the second API host (`scaned_but_redirect` logins).
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub redirect_port: u16,
    /// JSON control API port.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub control_port: u16,
    /// How long getupdates holds an empty poll (default 35s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub hold: Option<Duration>,
    /// Enforce the reported send limit (3 sends within 1 s), with this
    /// penalty (default: off).
    #[arg(long, value_name = "PENALTY", value_parser = parse_duration)]
    pub rate_limit: Option<Duration>,
    /// Bot messages one user message allows (the real server: 10).
    #[arg(long, value_name = "N")]
    pub reply_quota: Option<u32>,
    /// How long after a user's message the bot may write (the real
    /// server: 24h).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub reply_window: Option<Duration>,
    /// Answer getuploadurl with an `upload_full_url`.
    #[arg(long)]
    pub upload_full_url: bool,
    /// Serve the API and CDN over HTTPS (h2 and HTTP/1.1), with a test
    /// authority made for this run.
    #[arg(long)]
    pub tls: bool,
    /// With --tls, offer only HTTP/1.1.
    #[arg(long, requires = "tls")]
    pub refuse_h2: bool,
    /// With --tls, write the test authority's certificate (PEM) here, for
    /// clients to trust.
    #[arg(long, value_name = "PATH", requires = "tls")]
    pub ca_out: Option<PathBuf>,
}

impl SimulatorArgs {
    /// The simulator these arguments describe, control API on.
    pub fn builder(&self) -> SimulatorBuilder {
        let mut b = Simulator::builder()
            .control(true)
            .ports(self.port, self.cdn_port, self.redirect_port)
            .control_port(self.control_port)
            .upload_full_url(self.upload_full_url)
            .tls(self.tls)
            .refuse_http2(self.refuse_h2);
        if let Some(hold) = self.hold {
            b = b.hold(hold);
        }
        if let Some(penalty) = self.rate_limit {
            b = b.rate_limit(RateLimit::reported(penalty));
        }
        if let Some(q) = self.reply_quota {
            b = b.reply_quota(q);
        }
        if let Some(w) = self.reply_window {
            b = b.reply_window(w);
        }
        b
    }

    /// Starts the simulator, writes the authority's certificate if asked,
    /// prints one JSON line with its URLs on stdout
    /// (`{"api_url":..,"cdn_url":..,"redirect_url":..,"control_url":..}`, in
    /// that order), and serves until Ctrl-C or SIGTERM.
    ///
    /// # Errors
    ///
    /// When it cannot listen, write the certificate or print.
    pub async fn serve(&self) -> io::Result<()> {
        let sim = self.builder().start().await?;
        if let Some(path) = &self.ca_out {
            let pem = sim
                .ca_certificate_pem()
                .ok_or_else(|| io::Error::other("--ca-out needs --tls"))?;
            std::fs::write(path, pem).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
            })?;
        }
        let urls = sim.urls();
        let quote = |s: &str| serde_json::Value::from(s).to_string();
        let line = format!(
            "{{\"api_url\":{},\"cdn_url\":{},\"redirect_url\":{},\"control_url\":{}}}",
            quote(&urls.api),
            quote(&urls.cdn),
            quote(&urls.redirect),
            quote(urls.control.as_deref().unwrap_or_default()),
        );
        {
            let mut out = io::stdout().lock();
            writeln!(out, "{line}")?;
            out.flush()?;
        }
        stop_requested().await;
        sim.shutdown().await;
        Ok(())
    }
}

/// Parses a duration with its unit: `250ms`, `35s`, `10m`, `24h` (whole
/// numbers, at most a day). A bare number is refused: its unit would be a
/// guess.
///
/// # Errors
///
/// A message naming what is wrong.
///
/// ```
/// use std::time::Duration;
/// use ilink_testkit::cli::parse_duration;
///
/// assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
/// assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
/// assert!(parse_duration("250").is_err());
/// ```
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{value:?} needs a unit: ms, s, m or h (250ms, 35s)"))?;
    let (number, unit) = value.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{value:?} is not a whole number with a unit (250ms, 35s)"))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(format!("{value:?}: the unit is ms, s, m or h")),
    };
    if d > MAX_DURATION {
        return Err(format!("{value:?} is longer than a day"));
    }
    Ok(d)
}

/// Resolves when the process is asked to stop (Ctrl-C, or SIGTERM on
/// Unix).
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        sim: SimulatorArgs,
    }

    fn parse(args: &[&str]) -> Result<SimulatorArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("sim").chain(args.iter().copied())).map(|c| c.sim)
    }

    #[test]
    fn flags_parse() {
        let o = parse(&[
            "--port",
            "1",
            "--cdn-port=2",
            "--redirect-port",
            "3",
            "--control-port",
            "4",
            "--hold",
            "250ms",
            "--rate-limit=1s",
            "--reply-quota",
            "5",
            "--reply-window",
            "24h",
            "--upload-full-url",
            "--tls",
            "--refuse-h2",
            "--ca-out=/tmp/ca.pem",
        ])
        .unwrap();
        assert_eq!(
            o,
            SimulatorArgs {
                port: 1,
                cdn_port: 2,
                redirect_port: 3,
                control_port: 4,
                hold: Some(Duration::from_millis(250)),
                rate_limit: Some(Duration::from_secs(1)),
                reply_quota: Some(5),
                reply_window: Some(Duration::from_secs(86_400)),
                upload_full_url: true,
                tls: true,
                refuse_h2: true,
                ca_out: Some("/tmp/ca.pem".into()),
            }
        );
        assert_eq!(parse(&[]).unwrap(), SimulatorArgs::default());
    }

    #[test]
    fn bad_flags_are_refused() {
        for bad in [
            &["--port"][..],
            &["--port", "70000"],
            &["--hold", "250"],
            &["--hold", "-1s"],
            &["--hold", "25h"],
            &["--hold", "99999999999999999999ms"],
            &["--hold", "1.5s"],
            &["--hold", "3d"],
            &["--upload-full-url=yes"],
            &["--refuse-h2"],
            &["--ca-out", "x.pem"],
            &["--nope"],
            &["positional"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_take_every_unit() {
        assert_eq!(parse_duration("0ms"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("35s"), Ok(Duration::from_secs(35)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("24h"), Ok(MAX_DURATION));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("ms").is_err());
    }
}
