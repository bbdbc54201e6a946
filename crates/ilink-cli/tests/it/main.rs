//! The built `ilink` binary driven end to end against the simulator.

mod commands;
mod escapes;
mod hostile;
mod origins;
mod secret_inputs;
mod secrets;
