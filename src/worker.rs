//! `shopshield worker`: screening work from the NATS JetStream queue.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use shopshield_app::App;
use shopshield_queue::{QueueName, WorkerConfig};

use crate::BadInput;

/// The queue options `worker` and `scan --nats` share.
pub fn queue_name(name: &str) -> Result<QueueName> {
    QueueName::new(name).map_err(|e| BadInput(e.to_string()).into())
}

/// Checks the worker's options (before anything is opened).
pub fn config(queue: &str, concurrency: usize, ack_wait_secs: u64) -> Result<WorkerConfig> {
    if concurrency == 0 {
        return Err(BadInput("--concurrency: must be at least 1".into()).into());
    }
    if ack_wait_secs == 0 {
        return Err(BadInput("--ack-wait: must be at least 1 second".into()).into());
    }
    Ok(WorkerConfig {
        queue: queue_name(queue)?,
        concurrency,
        ack_wait: Duration::from_secs(ack_wait_secs),
    })
}

pub fn run(app: Arc<App>, nats: &str, config: WorkerConfig) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| -> Result<ExitCode> {
        // Registry watch (the engine follows every process's changes),
        // enforcement catch-up, ticks, webhooks, snapshots.
        s.spawn(|| app.run_duties(&stop));
        let result = rt.block_on(async {
            let client = shopshield_queue::connect(nats, "shopshield worker")
                .await
                .context("--nats")?;
            let (tx, rx) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                shutdown_signal().await;
                eprintln!("stopping: finishing the batches in hand");
                let _ = tx.send(true);
            });
            eprintln!(
                "worker: screening work from queue {:?} on {nats} into the {} store (Ctrl-C to stop)",
                config.queue.as_str(),
                app.backend()
            );
            shopshield_queue::run_worker(app.clone(), client, config, rx).await?;
            anyhow::Ok(())
        });
        stop.store(true, Ordering::Relaxed);
        result.map(|()| ExitCode::SUCCESS)
    })
}

async fn shutdown_signal() {
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
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
