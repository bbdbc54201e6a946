//! The client driven over real HTTP against the simulator (ilink-testkit).

mod cluster;
mod common;
mod login;
mod media;
mod polling;
mod quotes;
mod replies;
mod sending;
mod store;
#[cfg(feature = "voice")]
mod voice;
