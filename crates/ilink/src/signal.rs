//! [`shutdown_signal`]: the stop a service manager sends.

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT), or, on
/// Unix, SIGTERM, which systemd, Docker and Kubernetes send before they
/// kill. Give it to [`Bot::run_until`](crate::Bot::run_until) for a graceful
/// stop under any of them (handlers finish, `notifystop`, the lease given
/// back), where `tokio::signal::ctrl_c()` alone would turn a SIGTERM into a
/// hard stop.
///
/// Should a handler for the signals not be installable (no signal driver
/// in the runtime), it resolves at once, so a misconfigured program stops
/// rather than never stopping.
///
/// ```no_run
/// # async fn demo(bot: ilink::Bot, echo: impl ilink::Handler) -> Result<(), ilink::Error> {
/// bot.run_until(echo, ilink::shutdown_signal()).await?;
/// # Ok(()) }
/// ```
pub async fn shutdown_signal() {
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
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
