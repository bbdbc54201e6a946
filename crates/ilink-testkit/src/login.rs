//! Scripted QR logins.

use serde::{Deserialize, Serialize};

/// One step of a scripted QR login: what the next get_qrcode_status poll of a
/// QR code answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
#[non_exhaustive]
pub enum QrStep {
    /// `wait`.
    Wait,
    /// `scaned`.
    Scanned,
    /// `expired`: this QR code is dead; the client must fetch a new one, which
    /// plays the next script.
    Expired,
    /// `scaned_but_redirect` to the simulator's second API host. Polls must
    /// continue there; the first host keeps answering the redirect.
    Redirect,
    /// `need_verifycode`: the next polls must carry `verify_code=<code>`. A
    /// wrong code answers `need_verifycode` again; after
    /// `max_wrong` wrong codes, `verify_code_blocked` (the QR code is dead).
    VerifyCode {
        /// The number "shown on the phone".
        code: String,
        /// Wrong attempts before blocking.
        max_wrong: u32,
    },
    /// `verify_code_blocked`: the QR code is dead.
    VerifyBlocked,
    /// `confirmed` with fresh credentials for `target` — or `binded_redirect`
    /// when the get_bot_qrcode call listed a live token of that bot in
    /// `local_token_list`. Binding a bot anew revokes its previous token.
    Confirm {
        /// Which bot the scan binds.
        target: LoginTarget,
    },
    /// An unknown status string, for clients that must surface it.
    Unknown {
        /// The status to answer.
        status: String,
    },
}

/// Which bot a confirmed login binds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "target", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LoginTarget {
    /// A new bot account, owned by a new user.
    NewBot,
    /// An existing bot (re-binding it revokes its old token).
    Existing {
        /// The bot's account id.
        bot_id: String,
    },
}

/// The statuses one QR code goes through, poll by poll. The last step repeats
/// once the script is exhausted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QrScript {
    /// The steps, one per poll.
    pub steps: Vec<QrStep>,
}

impl QrScript {
    /// A script from steps.
    pub fn new(steps: Vec<QrStep>) -> Self {
        Self { steps }
    }

    /// Wait, scanned, confirmed as a new bot: what a quick scan looks like.
    pub fn quick() -> Self {
        Self::new(vec![
            QrStep::Wait,
            QrStep::Scanned,
            QrStep::Confirm {
                target: LoginTarget::NewBot,
            },
        ])
    }

    /// A QR code that expires after one `wait`.
    pub fn expires() -> Self {
        Self::new(vec![QrStep::Wait, QrStep::Expired])
    }
}
