//! The `helpdesk` command: `build`, `check`, `serve`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use site_builder::{BuildError, BuildOptions};
use tokio::sync::watch;

use crate::{AppState, app};

#[derive(Debug, Parser)]
#[command(name = "helpdesk", version, about = "Helpdesk: FAQ site, search and support portal")]
pub struct Cli {
    /// The content directory (FAQ markdown, helpdesk.toml, templates, static files).
    #[arg(long, global = true, default_value = "content", env = "HELPDESK_CONTENT_DIR")]
    pub content: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the static site into the output directory.
    Build {
        #[arg(long, default_value = "dist")]
        out: PathBuf,
    },
    /// Validate the content; prints `file:line: message` for every problem.
    Check,
    /// Build the site, serve it and rebuild when content changes.
    Serve {
        #[arg(long, default_value = "127.0.0.1:3000", env = "HELPDESK_ADDR")]
        addr: SocketAddr,
        /// Where the service keeps its data (database, outbox, attachments, built site).
        #[arg(long, default_value = ".helpdesk", env = "HELPDESK_DATA_DIR")]
        data_dir: PathBuf,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check => {
            let diags = site_builder::check(&cli.content);
            if diags.is_empty() {
                println!("content is fine");
                Ok(ExitCode::SUCCESS)
            } else {
                print!("{diags}");
                eprintln!("{} problem(s) found", diags.len());
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Build { out } => {
            let mut opts = BuildOptions::new(&cli.content, &out);
            opts.progress = true;
            build_reporting(&opts)
        }
        Command::Serve { addr, data_dir } => serve(&cli.content, addr, &data_dir),
    }
}

fn build_reporting(opts: &BuildOptions) -> anyhow::Result<ExitCode> {
    match site_builder::build(opts) {
        Ok(r) => {
            eprintln!(
                "built {} pages ({} articles, {} redirects) into {} in {:.0?}",
                r.pages,
                r.articles,
                r.redirects,
                opts.out_dir.display(),
                r.elapsed
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(BuildError::Content(diags)) => {
            print!("{diags}");
            eprintln!("{} problem(s) found; nothing was built", diags.len());
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

fn serve(content: &Path, addr: SocketAddr, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let site_dir = data_dir.join("site");
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let mut opts = BuildOptions::new(content, &site_dir);
    opts.live_reload = true;
    if build_reporting(&opts)? != ExitCode::SUCCESS {
        anyhow::bail!("fix the content problems above, then start again");
    }
    let (tx, rx) = watch::channel(0u64);
    let _watcher = site_builder::watch::watch(content, move || {
        if build_reporting(&opts).is_ok_and(|c| c == ExitCode::SUCCESS) {
            tx.send_modify(|n| *n += 1);
        }
    })
    .context("watching the content directory")?;

    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
        eprintln!("serving on http://{}", listener.local_addr()?);
        let router = app(AppState { site_dir, builds: Some(rx) });
        axum::serve(listener, router).with_graceful_shutdown(shutdown()).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
