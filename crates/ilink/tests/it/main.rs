//! The client driven over real HTTP against the simulator (ilink-testkit).

mod cluster;
mod common;
mod login;
mod media;
mod origins;
mod pg_plaintext;
mod polling;
mod quotes;
mod replies;
mod sending;
mod state_dir_link;
mod store;
#[cfg(feature = "voice")]
mod voice;
