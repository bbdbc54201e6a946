//! The command line, as clap parses it.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::error::CliError;

/// The ilink command: a WeChat iLink bot from the terminal.
///
/// Log in with a QR code, watch messages, send text and files, fetch and
/// decrypt media, or run the whole SDK against the built-in simulator with
/// `ilink demo`.
#[derive(Debug, Parser)]
#[command(name = "ilink", version, about, long_about = None, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The exit-code table, shown by `--help` (and in the README).
pub(crate) const EXIT_CODES: &str = "\
Exit codes (every command):
  0  success
  1  failure (I/O, the store, media that does not check out)
  2  usage: the command line is wrong
  3  session expired, or the token was rejected
  4  refused by the server (throttled, no context token, reply budget used)
  5  server unreachable

With --json, every result and every error is one JSON object per line on
stdout; errors carry \"error\" (a stable kind), \"message\" and \"exit_code\".";

/// Options every command takes.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub(crate) struct Global {
    /// API base URL (default: the official host, or the one login returned).
    #[arg(long, env = "ILINK_BASE_URL", global = true)]
    pub(crate) base_url: Option<String>,
    /// CDN base URL.
    #[arg(long, env = "ILINK_CDN_BASE_URL", global = true)]
    pub(crate) cdn_base_url: Option<String>,
    /// Where logins, cursors and context tokens are kept
    /// (default: the platform config dir, e.g. ~/.config/ilink).
    #[arg(long, env = "ILINK_STATE_DIR", global = true)]
    pub(crate) state_dir: Option<PathBuf>,
    /// Keep the state in PostgreSQL instead of the state directory
    /// (`postgres://user@host/db`; TLS is required off loopback): the
    /// store a cluster of bots shares. A password in it is visible in
    /// `ps`: prefer --database-url-file.
    #[arg(
        long,
        env = "ILINK_DATABASE_URL",
        global = true,
        hide_env_values = true,
        value_parser = Secret::parse,
        conflicts_with = "database_url_file"
    )]
    pub(crate) database_url: Option<Secret>,
    /// Read the PostgreSQL URL from the first line of this file.
    #[arg(long, value_name = "PATH", global = true)]
    pub(crate) database_url_file: Option<PathBuf>,
    /// The PostgreSQL schema for the tables (several deployments in one
    /// database).
    #[arg(
        long,
        env = "ILINK_DATABASE_SCHEMA",
        global = true,
        default_value = "ilink"
    )]
    pub(crate) database_schema: String,
    /// The account to act as (default: the only or most recent one).
    #[arg(long, env = "ILINK_ACCOUNT", global = true)]
    pub(crate) account: Option<String>,
    /// Use this bot token instead of a stored login (visible in `ps`:
    /// prefer --token-file, --token-stdin or ILINK_TOKEN).
    #[arg(
        long,
        env = "ILINK_TOKEN",
        global = true,
        hide_env_values = true,
        value_parser = Secret::parse,
        conflicts_with_all = ["token_file", "token_stdin"]
    )]
    pub(crate) token: Option<Secret>,
    /// Read the bot token from the first line of this file.
    #[arg(
        long,
        value_name = "PATH",
        global = true,
        conflicts_with = "token_stdin"
    )]
    pub(crate) token_file: Option<PathBuf>,
    /// Read the bot token from the first line of standard input.
    #[arg(long, global = true)]
    pub(crate) token_stdin: bool,
    /// Print one JSON object per line instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// More logs on stderr (-v, -vv).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
}

/// The longest secret read from a file or standard input (a token or a
/// URL is far shorter).
const MAX_SECRET_INPUT: usize = 64 * 1024;

/// A token or a database URL as the user gave it: `Debug` shows no part
/// of it, and it has no `Display`.
#[derive(Clone)]
pub(crate) struct Secret(String);

impl Secret {
    /// The value, for the one place that needs it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    fn parse(value: &str) -> Result<Self, std::convert::Infallible> {
        Ok(Self(value.to_owned()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Global {
    /// Fills `token` and `database_url` from `--token-file`,
    /// `--token-stdin` and `--database-url-file` (clap has already refused
    /// two sources for one value). `key_stdin`: the command also reads its
    /// AES key from standard input, which only one of them may do.
    pub(crate) fn read_secrets(&mut self, key_stdin: bool) -> Result<(), CliError> {
        if self.token_stdin && key_stdin {
            return Err(CliError::Usage(
                "--token-stdin and --key-stdin cannot both read standard input; \
                 give one of them as a file"
                    .to_owned(),
            ));
        }
        if let Some(path) = &self.token_file {
            self.token = Some(secret_from_file(path, "token file")?);
        } else if self.token_stdin {
            let stdin = std::io::stdin().lock();
            self.token = Some(first_line(stdin, "the token on standard input")?);
        }
        if let Some(path) = &self.database_url_file {
            self.database_url = Some(secret_from_file(path, "database URL file")?);
        }
        Ok(())
    }
}

fn secret_from_file(path: &Path, what: &str) -> Result<Secret, CliError> {
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::Other(format!("cannot read the {what} {}: {e}", path.display())))?;
    first_line(
        std::io::BufReader::new(file),
        &format!("the {what} {}", path.display()),
    )
}

/// The first line of `input`, trimmed: at most [`MAX_SECRET_INPUT`] bytes
/// are read, and an empty value is refused. Errors never quote the input.
fn first_line(input: impl std::io::BufRead, what: &str) -> Result<Secret, CliError> {
    use std::io::BufRead;
    let mut line = Vec::new();
    input
        .take(MAX_SECRET_INPUT as u64 + 1)
        .read_until(b'\n', &mut line)
        .map_err(|e| CliError::Other(format!("cannot read {what}: {e}")))?;
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    if line.len() > MAX_SECRET_INPUT {
        return Err(CliError::Other(format!(
            "{what}: the first line is longer than {} KiB",
            MAX_SECRET_INPUT / 1024
        )));
    }
    let text = String::from_utf8(line)
        .map_err(|_| CliError::Other(format!("{what}: the first line is not UTF-8 text")))?;
    let value = text.trim();
    if value.is_empty() {
        return Err(CliError::Other(format!("{what}: the first line is empty")));
    }
    Ok(Secret(value.to_owned()))
}

impl Cli {
    /// Whether the command reads its AES key from standard input.
    pub(crate) fn key_stdin(&self) -> bool {
        match &self.command {
            Command::Download { key, .. }
            | Command::Decrypt { key, .. }
            | Command::Encrypt { key, .. } => key.key_stdin,
            _ => false,
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Log in by scanning a QR code with WeChat.
    Login {
        /// Print only the QR code's URL, no drawing.
        #[arg(long)]
        no_qr: bool,
        /// Give up after this many seconds (default 480).
        #[arg(long, default_value_t = 480)]
        timeout: u64,
        /// Draw the QR code for a terminal with a light background (the
        /// default suits dark ones).
        #[arg(long, env = "ILINK_QR_LIGHT")]
        light: bool,
    },
    /// List stored accounts with their health.
    Accounts,
    /// Forget a stored account (default: the current one; or --account).
    Logout {
        /// The account id.
        #[arg(value_name = "ID")]
        id: Option<String>,
    },
    /// List the users the bot can reach: who wrote (and so gave a context
    /// token), when, and how many replies their conversation takes now.
    Users,
    /// Print inbound messages as they arrive.
    Listen {
        /// Stop after this many messages.
        #[arg(long)]
        count: Option<u64>,
        /// Stop after this many seconds.
        #[arg(long)]
        timeout: Option<u64>,
        /// Save media into this directory (under safe names); a message is
        /// acknowledged only once its media is saved.
        #[arg(long)]
        download: Option<PathBuf>,
        /// Give up (exit 5) after this many polls in a row failed to reach
        /// the server.
        #[arg(long, default_value_t = 5, value_name = "N")]
        max_failures: u32,
        /// How --download saves voice notes: the SILK as received, a WAV
        /// decoded from it, or both.
        #[arg(long, value_enum, default_value_t = VoiceSave::Both)]
        voice: VoiceSave,
    },
    /// Run an echo bot: text is echoed, media is sent back; Ctrl-C stops.
    Echo {
        /// Give up (exit 5) after this many polls in a row failed to reach
        /// the server.
        #[arg(long, default_value_t = 5, value_name = "N")]
        max_failures: u32,
    },
    /// Send text or a file to a user.
    Send(SendArgs),
    /// Download a media file from the CDN and decrypt it.
    Download {
        /// The media's download parameter (`encrypt_query_param`).
        #[arg(long, required_unless_present = "url")]
        param: Option<String>,
        /// The media's full URL (`full_url`), preferred over --param.
        #[arg(long)]
        url: Option<String>,
        // The AES key (none: the file is not encrypted).
        #[command(flatten)]
        key: KeyArgs,
        /// Where to write the plaintext.
        #[arg(long)]
        out: PathBuf,
        /// Replace --out if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Decrypt an AES-128-ECB media file.
    Decrypt {
        // The key (required).
        #[command(flatten)]
        key: KeyArgs,
        /// The ciphertext.
        #[arg(long = "in")]
        input: PathBuf,
        /// Where to write the plaintext.
        #[arg(long)]
        out: PathBuf,
        /// Replace --out if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Encrypt a file as the CDN expects (a new key unless one is given).
    Encrypt {
        // The key (default: a new random key, printed).
        #[command(flatten)]
        key: KeyArgs,
        /// The plaintext.
        #[arg(long = "in")]
        input: PathBuf,
        /// Where to write the ciphertext.
        #[arg(long)]
        out: PathBuf,
        /// Replace --out if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Voice notes: decode SILK to WAV.
    #[command(subcommand)]
    Voice(VoiceCommand),
    /// Show or cancel "typing…" for a user.
    Typing {
        /// The user.
        #[arg(long)]
        to: String,
        /// Cancel instead of show.
        #[arg(long)]
        cancel: bool,
    },
    /// Run the iLink simulator standalone and print its URLs as one JSON line
    /// (the flags of `ilink-simulator`; durations take a unit: 250ms, 35s,
    /// 24h).
    Simulate(ilink_testkit::cli::SimulatorArgs),
    /// Run the whole SDK against the built-in simulator: login, messages of
    /// every kind, replies, media, and a summary. Needs no WeChat account.
    Demo {
        /// Skip drawing the QR code.
        #[arg(long)]
        no_qr: bool,
    },
    /// Print a completion script for a shell, to be sourced by it (bash:
    /// `source <(ilink completions bash)`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// How `listen --download` saves voice notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum VoiceSave {
    /// The `.silk` file only.
    Silk,
    /// The `.wav` file only.
    Wav,
    /// Both, side by side.
    Both,
}

/// `ilink voice`.
#[derive(Debug, Subcommand)]
pub(crate) enum VoiceCommand {
    /// Decode a SILK v3 file (a WeChat voice note) to WAV.
    Decode {
        /// The SILK file (with or without Tencent's prefix).
        input: PathBuf,
        /// The WAV to write (default: the input with `.wav`).
        output: Option<PathBuf>,
        /// Samples per second of the WAV (8000 to 48000; default 24000).
        #[arg(long, default_value_t = 24_000)]
        sample_rate: u32,
        /// Replace the output if it exists.
        #[arg(long)]
        force: bool,
    },
}

/// `ilink send`.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// The user (`...@im.wechat`).
    #[arg(long)]
    pub(crate) to: String,
    /// Text to send (long text is split into several messages).
    #[arg(long, conflicts_with = "file", required_unless_present = "file")]
    pub(crate) text: Option<String>,
    /// A file to send (images and videos by extension; anything else as a file).
    #[arg(long)]
    pub(crate) file: Option<PathBuf>,
    /// A caption sent before the file.
    #[arg(long, requires = "file", conflicts_with = "text")]
    pub(crate) caption: Option<String>,
    /// Send even without a context token (the user never wrote, or not since
    /// the last login): such a message may never reach the chat.
    #[arg(long)]
    pub(crate) force: bool,
}

/// Where an AES key comes from, in any wire form (hex, base64 of the key,
/// base64 of the hex). `--key` shows the key to anyone who can list
/// processes; `--key-file`, `--key-stdin` and `ILINK_AES_KEY` do not.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct KeyArgs {
    /// The key on the command line (visible in `ps`; prefer the others).
    #[arg(long, env = "ILINK_AES_KEY", hide_env_values = true, conflicts_with_all = ["key_file", "key_stdin"])]
    pub(crate) key: Option<String>,
    /// Read the key from this file (its first line).
    #[arg(long, value_name = "PATH", conflicts_with = "key_stdin")]
    pub(crate) key_file: Option<PathBuf>,
    /// Read the key from the first line of standard input.
    #[arg(long)]
    pub(crate) key_stdin: bool,
}
