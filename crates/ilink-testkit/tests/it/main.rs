//! The simulator driven over real HTTP by a bare hyper client (the SDK's own
//! client is deliberately not used here).

mod cdn;
mod control;
mod faults;
mod login;
mod raw;
mod send;
mod updates;
