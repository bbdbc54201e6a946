//! `ilink-simulator`: the iLink API and CDN simulator as a standalone process,
//! with the JSON control API enabled, for testing bots written in any
//! language.
//!
//! It prints one JSON line with its URLs on stdout, then serves until Ctrl-C
//! or SIGTERM. Run it with `--help` for the flags.

use std::process::ExitCode;
use std::time::Duration;

use ilink_testkit::{RateLimit, Simulator};

const USAGE: &str = "\
usage: ilink-simulator [options]

Runs the WeChat iLink Bot API and CDN simulator on 127.0.0.1 with its JSON
control API, prints one JSON line
  {\"api_url\":..,\"cdn_url\":..,\"redirect_url\":..,\"control_url\":..}
and serves until Ctrl-C or SIGTERM.

options (a port of 0, the default, picks a free one):
  --port <PORT>            API port
  --cdn-port <PORT>        CDN port
  --redirect-port <PORT>   port of the second API host (scaned_but_redirect)
  --control-port <PORT>    control API port
  --hold-ms <MS>           how long getupdates holds an empty poll (default 35000)
  --rate-limit <MS>        enforce the reported send limit (3 sends within 1 s)
                           with a penalty of MS milliseconds (default: off)
  --upload-full-url        answer getuploadurl with an upload_full_url
  --tls                    serve the API and CDN over HTTPS (h2 and HTTP/1.1),
                           with a test authority made for this run
  --refuse-h2              with --tls, offer only HTTP/1.1
  --ca-out <PATH>          with --tls, write the test authority's certificate
                           (PEM) to PATH, for clients to trust
  -h, --help               print this help";

/// What the command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    api_port: u16,
    cdn_port: u16,
    redirect_port: u16,
    control_port: u16,
    hold: Option<Duration>,
    rate_limit_penalty: Option<Duration>,
    upload_full_url: bool,
    tls: bool,
    refuse_h2: bool,
    ca_out: Option<std::path::PathBuf>,
    help: bool,
}

/// Parses the arguments (without the program name). Accepts `--flag value`
/// and `--flag=value`.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let no_value = || match inline {
            Some(_) => Err(format!("{flag} takes no value")),
            None => Ok(()),
        };
        match flag.as_str() {
            "-h" | "--help" => {
                no_value()?;
                options.help = true;
            }
            "--upload-full-url" => {
                no_value()?;
                options.upload_full_url = true;
            }
            "--tls" => {
                no_value()?;
                options.tls = true;
            }
            "--refuse-h2" => {
                no_value()?;
                options.refuse_h2 = true;
            }
            "--ca-out" => {
                let value = match inline {
                    Some(v) => v,
                    None => args.next().ok_or_else(|| format!("{flag} needs a value"))?,
                };
                options.ca_out = Some(value.into());
            }
            "--port" | "--cdn-port" | "--redirect-port" | "--control-port" | "--hold-ms"
            | "--rate-limit" => {
                let value = match inline {
                    Some(v) => v,
                    None => args.next().ok_or_else(|| format!("{flag} needs a value"))?,
                };
                match flag.as_str() {
                    "--port" => options.api_port = port(&flag, &value)?,
                    "--cdn-port" => options.cdn_port = port(&flag, &value)?,
                    "--redirect-port" => options.redirect_port = port(&flag, &value)?,
                    "--control-port" => options.control_port = port(&flag, &value)?,
                    "--hold-ms" => options.hold = Some(millis(&flag, &value)?),
                    _ => options.rate_limit_penalty = Some(millis(&flag, &value)?),
                }
            }
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    Ok(options)
}

fn port(flag: &str, value: &str) -> Result<u16, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} needs a port number (0-65535), not {value:?}"))
}

fn millis(flag: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<u64>()
        .ok()
        .filter(|ms| *ms <= 24 * 60 * 60 * 1000)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("{flag} needs milliseconds (0 to 86400000), not {value:?}"))
}

/// Resolves when the process is asked to stop.
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("ilink-simulator: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if options.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let mut builder = Simulator::builder()
        .control(true)
        .ports(options.api_port, options.cdn_port, options.redirect_port)
        .control_port(options.control_port)
        .upload_full_url(options.upload_full_url)
        .tls(options.tls)
        .refuse_http2(options.refuse_h2);
    if let Some(hold) = options.hold {
        builder = builder.hold(hold);
    }
    if let Some(penalty) = options.rate_limit_penalty {
        builder = builder.rate_limit(RateLimit::reported(penalty));
    }
    let sim = match builder.start().await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("ilink-simulator: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &options.ca_out {
        let Some(pem) = sim.ca_certificate_pem() else {
            eprintln!("ilink-simulator: --ca-out needs --tls");
            return ExitCode::from(2);
        };
        if let Err(e) = std::fs::write(path, pem) {
            eprintln!("ilink-simulator: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    let urls = sim.urls();
    // Written by hand to keep the documented key order.
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let line = format!(
        "{{\"api_url\":{},\"cdn_url\":{},\"redirect_url\":{},\"control_url\":{}}}",
        quote(&urls.api),
        quote(&urls.cdn),
        quote(&urls.redirect),
        quote(urls.control.as_deref().unwrap_or_default()),
    );
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            return ExitCode::FAILURE;
        }
    }
    stop_requested().await;
    sim.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        parse_args(args.iter().map(|a| (*a).to_owned()))
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
            "--hold-ms",
            "250",
            "--rate-limit=1000",
            "--upload-full-url",
            "--tls",
            "--refuse-h2",
            "--ca-out=/tmp/ca.pem",
        ])
        .unwrap();
        assert_eq!(
            o,
            Options {
                api_port: 1,
                cdn_port: 2,
                redirect_port: 3,
                control_port: 4,
                hold: Some(Duration::from_millis(250)),
                rate_limit_penalty: Some(Duration::from_secs(1)),
                upload_full_url: true,
                tls: true,
                refuse_h2: true,
                ca_out: Some("/tmp/ca.pem".into()),
                help: false,
            }
        );
        assert_eq!(parse(&[]).unwrap(), Options::default());
        assert!(parse(&["-h"]).unwrap().help);
    }

    #[test]
    fn bad_flags_are_refused() {
        for bad in [
            &["--port"][..],
            &["--port", "70000"],
            &["--hold-ms", "-1"],
            &["--hold-ms", "99999999999999999999"],
            &["--upload-full-url=yes"],
            &["--nope"],
            &["positional"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
