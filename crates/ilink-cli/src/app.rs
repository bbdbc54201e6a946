//! What the commands share: the state directory, building the client,
//! printing, and errors.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use ilink::http::Transport;
use ilink::{Bot, Client, Credentials, SqliteStore, Store};
use serde_json::Value;

use crate::cli::Global;

/// The exit codes, one table for every command (also in `ilink --help`
/// and the README).
pub(crate) mod exit {
    /// Done.
    pub(crate) const OK: u8 = 0;
    /// Failed (I/O, the store, media that does not check out, …).
    pub(crate) const FAILURE: u8 = 1;
    /// The command line is wrong (clap's own errors too).
    pub(crate) const USAGE: u8 = 2;
    /// The session expired, or the token was rejected.
    pub(crate) const SESSION: u8 = 3;
    /// The server refused (throttled, no context token, the reply budget
    /// used up, another refusal).
    pub(crate) const REFUSED: u8 = 4;
    /// The server could not be reached.
    pub(crate) const UNREACHABLE: u8 = 5;
}

/// A command's failure.
#[derive(Debug)]
pub(crate) enum CliError {
    /// From the SDK.
    Sdk(ilink::Error),
    /// The command line asks for something wrong (exit 2).
    Usage(String),
    /// Refused before or by the server (exit 4).
    Refused(String),
    /// The server could not be reached (exit 5).
    Unreachable(String),
    /// Anything else, with a message for the user (exit 1).
    Other(String),
}

impl CliError {
    /// The exit code (see [`exit`]).
    pub(crate) fn code(&self) -> u8 {
        self.classify().0
    }

    /// The stable kind named in `--json` errors.
    pub(crate) fn kind(&self) -> &'static str {
        self.classify().1
    }

    fn classify(&self) -> (u8, &'static str) {
        match self {
            CliError::Sdk(e) => classify_sdk(e),
            CliError::Usage(_) => (exit::USAGE, "usage"),
            CliError::Refused(_) => (exit::REFUSED, "refused"),
            CliError::Unreachable(_) => (exit::UNREACHABLE, "unreachable"),
            CliError::Other(_) => (exit::FAILURE, "failure"),
        }
    }
}

fn classify_sdk(e: &ilink::Error) -> (u8, &'static str) {
    use ilink::Error as E;
    if e.is_session_expired() {
        return (exit::SESSION, "session_expired");
    }
    match e {
        E::Partial { source, .. } => classify_sdk(source),
        E::Throttled { .. } => (exit::REFUSED, "throttled"),
        E::ConversationClosed { .. } => (exit::REFUSED, "conversation_closed"),
        E::Api { .. } | E::NoTypingTicket { .. } => (exit::REFUSED, "refused"),
        E::Http(h) if unreachable(h) => (exit::UNREACHABLE, "unreachable"),
        E::Timeout(_) => (exit::UNREACHABLE, "unreachable"),
        E::EmptyText | E::NoRecipient => (exit::USAGE, "usage"),
        E::UnknownAccount { .. } => (exit::FAILURE, "no_account"),
        E::TokenOrigin { .. } => (exit::FAILURE, "token_origin"),
        E::Store(_) => (exit::FAILURE, "store"),
        E::Media(_) => (exit::FAILURE, "media"),
        E::Io(_) => (exit::FAILURE, "io"),
        E::Login(_) => (exit::FAILURE, "login"),
        _ => (exit::FAILURE, "failure"),
    }
}

/// Whether a transport error means the server could not be reached: no
/// connection, no answer in time, no TLS, or a gateway that found no
/// server behind it.
pub(crate) fn unreachable(e: &ilink::http::Error) -> bool {
    use ilink::http::ErrorKind as K;
    matches!(
        e.kind(),
        K::Connect
            | K::Timeout
            | K::Tls
            | K::Status {
                status: 502..=504 | 524
            }
    )
}

/// Whether an SDK error means the server could not be reached.
pub(crate) fn sdk_unreachable(e: &ilink::Error) -> bool {
    matches!(classify_sdk(e).0, exit::UNREACHABLE)
}

/// A one-shot send as the command reports it: a message left waiting in
/// the outbox (the network, the account's cooldown) is taken back out and
/// reported as not sent, with why; a later `listen` would otherwise send it
/// unasked.
pub(crate) async fn delivered(
    bot: &ilink::Bot,
    sent: Vec<ilink::Sent>,
) -> Result<Vec<ilink::Sent>, CliError> {
    match bot.withdraw_waiting(&sent).await? {
        None => Ok(sent),
        Some(w) => Err(CliError::Other(format!("not sent: {}", w.report()))),
    }
}

impl From<ilink::Error> for CliError {
    fn from(e: ilink::Error) -> Self {
        CliError::Sdk(e)
    }
}

impl From<ilink::StoreError> for CliError {
    fn from(e: ilink::StoreError) -> Self {
        CliError::Sdk(ilink::Error::Store(e))
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Sdk(ilink::Error::Io(e))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Sdk(e) => write!(f, "{e}"),
            CliError::Usage(m)
            | CliError::Refused(m)
            | CliError::Unreachable(m)
            | CliError::Other(m) => f.write_str(m),
        }
    }
}

/// An error and its causes on one line, as the user should read it: a
/// `-14` for a token given on the command line says that token was
/// rejected (there never was a session), not that a session expired.
pub(crate) fn describe_for(err: &CliError, global: &Global) -> String {
    if global.token.is_some() && err.code() == exit::SESSION {
        return "the server rejected the bot token given with --token, --token-file, \
                --token-stdin or ILINK_TOKEN (ret -14): it is wrong, revoked or expired; \
                log in with `ilink login` for a new one"
            .to_owned();
    }
    describe(err)
}

/// An error and its causes on one line.
pub(crate) fn describe(err: &CliError) -> String {
    match err {
        // Errors can quote the server (errmsg).
        CliError::Sdk(e) => visible(&e.report().to_string()),
        // They can name a file or an id: shown, not obeyed.
        CliError::Usage(m)
        | CliError::Refused(m)
        | CliError::Unreachable(m)
        | CliError::Other(m) => visible_lines(m),
    }
}

pub(crate) type Result<T, E = CliError> = std::result::Result<T, E>;

/// Text from the network made safe for a terminal: control characters
/// (C0, DEL, C1: the escape sequences that clear the screen, move the
/// cursor or write the clipboard), line breaks, bidirectional overrides and
/// other characters that hide text are shown as `\n`, `\u{1b}` and the
/// like instead of being obeyed. A sender cannot forge lines or rewrite the
/// operator's terminal. The one function for this is
/// [`ilink::proto::display_safe`]; use it on every string of outside
/// origin (server and sender fields, file names) that is printed.
pub(crate) fn visible(text: &str) -> String {
    ilink::proto::display_safe(text).into_owned()
}

/// [`visible`] line by line: our own line breaks kept, nothing else a
/// terminal would obey. Every human line goes through it on its way out, so
/// a string that missed [`visible`] still cannot reach the terminal raw.
pub(crate) fn visible_lines(text: &str) -> String {
    text.split('\n')
        .map(ilink::proto::display_safe)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Output: human lines on stdout, or one JSON object per line with `--json`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Out {
    pub(crate) json: bool,
}

impl Out {
    /// Prints `human` or `json`, whichever the user asked for.
    pub(crate) fn emit(&self, human: impl fmt::Display, json: Value) {
        if self.json {
            println!("{json}");
        } else {
            println!("{}", visible_lines(&human.to_string()));
        }
    }
}

/// The state directory: `--state-dir`, else `$XDG_CONFIG_HOME/ilink`, else
/// `~/.config/ilink` (`%APPDATA%\ilink` on Windows).
pub(crate) fn state_dir(global: &Global) -> Result<PathBuf> {
    if let Some(dir) = &global.state_dir {
        return Ok(dir.clone());
    }
    if let Some(xdg) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(xdg).join("ilink"));
    }
    if cfg!(windows)
        && let Some(appdata) = std::env::var_os("APPDATA")
    {
        return Ok(PathBuf::from(appdata).join("ilink"));
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".config").join("ilink")),
        None => Err(CliError::Other(
            "no state directory: set --state-dir or ILINK_STATE_DIR".to_owned(),
        )),
    }
}

/// The store: PostgreSQL with `--database-url`, else the state directory's
/// SQLite database. A token given on the
/// command line, with no state directory yet, gets a store in memory:
/// nothing is written for an ad hoc token (context tokens and cursors last
/// as long as the command).
pub(crate) async fn store(global: &Global) -> Result<Arc<dyn Store>> {
    if let Some(url) = &global.database_url {
        // A cluster's state: PostgreSQL (the URL is never printed: it may
        // hold a password).
        return Ok(Arc::new(
            ilink::PgStore::connect_in_schema(url.expose(), &global.database_schema).await?,
        ));
    }
    let dir = state_dir(global)?;
    if global.token.is_some() && !dir.join(ilink::store::DATABASE_FILE).exists() {
        return Ok(Arc::new(ilink::MemoryStore::new()));
    }
    Ok(Arc::new(SqliteStore::open(dir)?))
}

/// The client: the state directory's store, the hosts the options name.
pub(crate) async fn client(global: &Global) -> Result<Client> {
    let mut transport =
        Transport::builder().bot_agent(concat!("ilink-cli/", env!("CARGO_PKG_VERSION")));
    if let Some(u) = &global.base_url {
        transport = transport.api_base_url(u.clone());
    }
    if let Some(u) = &global.cdn_base_url {
        transport = transport.cdn_base_url(u.clone());
    }
    Ok(Client::builder()
        .shared_store(store(global).await?)
        .transport(transport)
        .build()?)
}

/// The bot the options name: `--token` (as `--account`, or the token's own
/// id), else `--account`'s stored login, else the most recent one.
pub(crate) async fn bot(global: &Global) -> Result<Bot> {
    let client = client(global).await?;
    if let Some(token) = &global.token {
        let mut credentials = Credentials::from_token(token.expose());
        if let Some(account) = &global.account {
            credentials.account_id = account.as_str().into();
        }
        return Ok(client.bot_with(&credentials));
    }
    if let Some(account) = &global.account {
        return Ok(client.bot(account.as_str()).await?);
    }
    // The most recent login, refused (not skipped for an older one) when
    // its token cannot go to its own host.
    let recent = client.accounts().await?.into_iter().next().ok_or_else(|| {
        CliError::Other("no account: run `ilink login` first, or pass --token".to_owned())
    })?;
    Ok(client.stored_bot(&recent)?)
}

#[cfg(test)]
mod tests {
    use super::visible;

    #[test]
    fn escape_sequences_become_visible_text() {
        let hostile = "hi\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\nbob: forged\u{202e}txt.exe\u{9b}";
        let shown = visible(hostile);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        assert_eq!(
            shown,
            "hi\\u{1b}]52;c;ZXZpbA==\\u{7}\\u{1b}[2J\\nbob: forged\\u{202e}txt.exe\\u{9b}"
        );
        assert_eq!(visible("plain 文字 ✓"), "plain 文字 ✓");
        assert_eq!(
            super::visible_lines("one \u{1b}[2J\ntwo \u{202e}\u{7}"),
            "one \\u{1b}[2J\ntwo \\u{202e}\\u{7}"
        );
    }
}
