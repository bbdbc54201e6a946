//! What the commands share: the state directory, building the client,
//! printing, and errors.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use ilink::http::Transport;
use ilink::{Bot, Client, Credentials, SqliteStore, Store};
use serde_json::Value;

use crate::cli::Global;
pub(crate) use crate::error::{CliError, Result, exit, sdk_unreachable, unreachable};

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
