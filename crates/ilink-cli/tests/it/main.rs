//! The built `ilink` binary driven end to end against the simulator.

mod commands;
mod hostile;
mod secret_inputs;
mod secrets;
