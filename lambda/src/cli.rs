//! The `helpdesk` command: `build`, `check`, `serve`, `admin`, `search`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use site_builder::{BuildError, BuildOptions};
use tokio::sync::watch;

use std::sync::Arc;

use site_builder::HelpdeskConfig;

use crate::model::Role;
use crate::{AppState, Service, app, backends};

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
        /// Add the live-reload script and print only the result (`serve` builds this way).
        #[arg(long, hide = true)]
        live_reload: bool,
        /// Keep running, rebuild what changes in the content, and print `built` on standard
        /// output after each build; stop when standard input closes (`serve`'s builder).
        #[arg(long, hide = true)]
        watch: bool,
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
    /// Manage organisations and invite people.
    Admin {
        #[arg(long, default_value = ".helpdesk", env = "HELPDESK_DATA_DIR", global = true)]
        data_dir: PathBuf,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// What visitors search for: the queries that found nothing (the FAQs to write next).
    Search {
        #[arg(long, default_value = ".helpdesk", env = "HELPDESK_DATA_DIR", global = true)]
        data_dir: PathBuf,
        #[command(subcommand)]
        command: SearchCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// The most frequent searches without results, most frequent first: the count, then the query.
    Misses {
        /// How many to list.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Organisations (subscribers' companies).
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Invite someone: creates the account and e-mails a set-password link (also printed).
    Invite {
        #[arg(long)]
        email: String,
        /// The organisation's name.
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "subscriber", value_parser = ["subscriber", "agent", "admin"])]
        role: String,
        /// Display name (defaults to the part of the address before the @).
        #[arg(long, default_value = "")]
        name: String,
        /// The invitation's language (`nl`, `en`); the site's default language if not given.
        #[arg(long)]
        lang: Option<String>,
    },
    /// Handles e-mail messages (`.eml` files) as if they were sent to the helpdesk: a new
    /// ticket, a reply to one, or a polite answer to an unknown sender. Prints what became of each.
    IngestMail {
        /// Files with one RFC 5322 message each.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The DynamoDB table (with `HELPDESK_STORE=dynamodb`; `AWS_ENDPOINT_URL` for a local stand-in).
    Dynamodb {
        #[command(subcommand)]
        command: DynamodbCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum DynamodbCommand {
    /// Creates `HELPDESK_TABLE` with the keys and indexes of infra/template.yaml.
    CreateTable,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    Create {
        #[arg(long)]
        name: String,
        /// Sector id from helpdesk.toml.
        #[arg(long)]
        sector: String,
        /// Plan id from helpdesk.toml (default: the first plan).
        #[arg(long)]
        plan: Option<String>,
        /// Colleagues in this organisation see each other's tickets.
        #[arg(long)]
        share_tickets: bool,
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
        Command::Build { out, live_reload, watch } => {
            let mut opts = BuildOptions::new(&cli.content, &out);
            opts.live_reload = live_reload;
            opts.progress = !live_reload;
            if watch { build_watching(opts) } else { build_reporting(&opts) }
        }
        Command::Serve { addr, data_dir } => serve(&cli.content, addr, &data_dir),
        Command::Admin { data_dir, command } => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(admin(&cli.content, &data_dir, command))
        }
        Command::Search { data_dir, command: SearchCommand::Misses { limit } } => search_misses(&data_dir, limit),
    }
}

/// `search misses`: the counts the service keeps in its store (on AWS too, with
/// `HELPDESK_STORE=dynamodb`).
fn search_misses(data_dir: &Path, limit: usize) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    let misses = runtime.block_on(async {
        let store = backends::store(data_dir).await?;
        crate::search::import_miss_file(data_dir, store.as_ref()).await.context("importing search-misses.json")?;
        anyhow::Ok(store.top_misses(limit).await.context("reading the searches without results")?)
    })?;
    if misses.is_empty() {
        eprintln!("no searches without results yet");
    }
    let width = misses.first().map_or(1, |(_, n)| n.to_string().len());
    let mut out = String::new();
    for (query, count) in misses {
        out.push_str(&format!("{count:>width$}  {query}\n"));
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// The service as configured by the environment: store and mailer (`HELPDESK_STORE`,
/// `HELPDESK_MAILER`), SQLite database, outbox and attachments under the data directory.
async fn local_service(
    content: &Path,
    data_dir: &Path,
    default_base_url: &str,
) -> anyhow::Result<(Arc<Service>, Arc<dyn crate::mail::Mailer>)> {
    let config_path = content.join(site_builder::content::CONFIG_FILE);
    let config = HelpdeskConfig::load(&config_path, &config_path).map_err(|d| anyhow::anyhow!("{d}"))?;
    let store = backends::store(data_dir).await?;
    let base_url = std::env::var("HELPDESK_BASE_URL").unwrap_or_else(|_| default_base_url.to_owned());
    let from = std::env::var("HELPDESK_FROM")
        .unwrap_or_else(|_| format!("{} <{}>", config.site.name, config.site.support_email));
    let mailer = backends::mailer(data_dir, &from).await?;
    let texts =
        crate::i18n::Texts::load(content, &config.site.default_language, &config.language_codes().collect::<Vec<_>>())
            .map_err(|e| anyhow::anyhow!("UI strings: {e}"))?;
    let secret = backends::secret(Some(data_dir))?;
    let mut service = Service::new(config, store, base_url, from, data_dir.join("attachments"))
        .with_texts(texts)
        .with_secret(&secret);
    if let Some(files) = backends::files().await? {
        service = service.with_files(files);
    }
    Ok((Arc::new(service), mailer))
}

async fn admin(content: &Path, data_dir: &Path, command: AdminCommand) -> anyhow::Result<ExitCode> {
    let service = || local_service(content, data_dir, "http://127.0.0.1:3000");
    match command {
        AdminCommand::Dynamodb { command: DynamodbCommand::CreateTable } => {
            let table = backends::table_name();
            backends::dynamo_store().await.create_table().await.with_context(|| format!("creating table {table}"))?;
            println!("created DynamoDB table {table}");
        }
        AdminCommand::Org { command: OrgCommand::Create { name, sector, plan, share_tickets } } => {
            let (svc, _) = service().await?;
            let org = svc.create_org(&name, &sector, plan.as_deref(), share_tickets).await?;
            println!("created organisation {} ({})", org.name, org.id);
        }
        AdminCommand::IngestMail { files } => {
            let (svc, mailer) = service().await?;
            let mut failed = 0;
            for file in files {
                let raw = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                match svc.receive_mail(&raw).await {
                    Ok(outcome) => println!("{}: {outcome}", file.display()),
                    Err(e) => {
                        failed += 1;
                        println!("{}: not handled: {e}", file.display());
                    }
                }
            }
            crate::mail::deliver_due(svc.store.as_ref(), mailer.as_ref(), chrono::Utc::now()).await;
            if failed > 0 {
                return Ok(ExitCode::FAILURE);
            }
        }
        AdminCommand::Invite { email, org, role, name, lang } => {
            let (svc, mailer) = service().await?;
            let org = svc.store.org_by_name(&org).await?.with_context(|| format!("no organisation named `{org}`"))?;
            let role = Role::parse(&role).context("role")?;
            let language = match lang.as_deref() {
                Some(code) => svc.texts.get(code).cloned().with_context(|| format!("no language `{code}`"))?,
                None => svc.texts.default_language().clone(),
            };
            let (user, link) = crate::i18n::in_language(language, svc.invite(&email, &name, &org, role)).await?;
            // Deliver now: the admin command does not keep a worker running.
            crate::mail::deliver_due(svc.store.as_ref(), mailer.as_ref(), chrono::Utc::now()).await;
            println!("invited {} ({}) to {}", user.email, role.as_str(), org.name);
            println!("set-password link: {link}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn build_reporting(opts: &BuildOptions) -> anyhow::Result<ExitCode> {
    report_build(opts, site_builder::build(opts))
}

/// Prints what a build did, or its problems.
fn report_build(
    opts: &BuildOptions,
    result: Result<site_builder::BuildReport, BuildError>,
) -> anyhow::Result<ExitCode> {
    match result {
        Ok(r) if r.partial => {
            let steps: Vec<String> = r.phases.iter().map(|(name, d)| format!("{name} {d:.1?}")).collect();
            eprintln!(
                "updated {} files ({} pages rendered) in {:.1?}: {}",
                r.written,
                r.pages,
                r.elapsed,
                steps.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(r) => {
            eprintln!(
                "built {} pages ({} articles, {} redirects) into {} in {:.0?}",
                r.pages,
                r.articles,
                r.redirects,
                opts.out_dir.display(),
                r.elapsed
            );
            if opts.progress {
                let steps: Vec<String> = r.phases.iter().map(|(name, d)| format!("{name} {d:.0?}")).collect();
                eprintln!("steps: {}", steps.join(", "));
            }
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

/// `build --watch`: builds, then rebuilds what each burst of content changes touches
/// ([`site_builder::Session`]), printing `built` on standard output after every build that
/// succeeded. Ends when standard input closes: `serve` runs it as a child holding its stdin.
fn build_watching(opts: BuildOptions) -> anyhow::Result<ExitCode> {
    use std::io::{Read as _, Write as _};
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    let done = |ok: bool| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", if ok { "built" } else { "failed" });
        let _ = out.flush();
    };
    // Watching from before the first build: what changes while it runs is built after it.
    let (tx, rx) = std::sync::mpsc::channel();
    let _watcher = site_builder::watch::watch(&opts.content_dir, move |paths| {
        let _ = tx.send(paths);
    })
    .context("watching the content directory")?;
    let mut session = site_builder::Session::new(opts.clone());
    if report_build(&opts, session.build())? != ExitCode::SUCCESS {
        done(false);
        return Ok(ExitCode::FAILURE);
    }
    done(true);
    for paths in rx {
        let result = session.update(&paths);
        let ok = report_build(&opts, result)? == ExitCode::SUCCESS;
        if ok {
            done(true);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Starts the site's builder for `serve`: `helpdesk build --live-reload --watch` in a process
/// of its own, so the site's memory (its text, the index writer) is never the server's. It
/// builds, then rebuilds what content changes touch; `builds` counts its builds. Its
/// messages go to the server's output; it ends with the server (its stdin closes).
fn spawn_builder(content: &Path, site_dir: &Path, builds: watch::Sender<u64>) -> anyhow::Result<()> {
    use std::io::BufRead as _;
    let exe = std::env::current_exe().context("finding this program")?;
    let mut child = std::process::Command::new(exe)
        .arg("--content")
        .arg(content)
        .args(["build", "--live-reload", "--watch", "--out"])
        .arg(site_dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("starting the site builder")?;
    let stdout = child.stdout.take().context("the builder's output")?;
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            match line.as_deref() {
                Ok("built") => builds.send_modify(|n| *n += 1),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        if *builds.borrow() == 0 {
            eprintln!("fix the content problems above, then start again");
            std::process::exit(1);
        }
        eprintln!("the site builder stopped: start serve again to rebuild the site");
        let _ = child.wait();
    });
    Ok(())
}

fn serve(content: &Path, addr: SocketAddr, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let site_dir = data_dir.join("site");
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    // The builds counter: 0 until the first build is done; pages of the site wait for it. The
    // first build runs beside the server, so that the portal answers at once.
    let (tx, rx) = watch::channel(0u64);
    spawn_builder(content, &site_dir, tx)?;

    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
        let local = listener.local_addr()?;
        let (service, mailer) = local_service(content, data_dir, &format!("http://{local}")).await?;
        crate::mail::spawn_worker(
            service.store.clone(),
            mailer,
            service.kick.clone(),
            std::time::Duration::from_secs(5),
        );
        spawn_scheduled_jobs(service.clone());
        // Mail to the helpdesk: the inbox folder always, an IMAP mailbox when configured.
        crate::intake::spawn_inbox_watcher(service.clone(), data_dir.join("inbox"));
        if let Some(url) = std::env::var("HELPDESK_IMAP_URL").ok().filter(|u| !u.is_empty()) {
            let source = crate::intake::ImapSource::parse(&url)?;
            eprintln!("reading mail from {source:?}");
            crate::intake::spawn_imap_poller(service.clone(), source);
        }
        eprintln!("serving on http://{local}");
        let search =
            crate::search::SearchHandle::new(site_dir.join("search"), Some(rx.clone()), Some(service.store.clone()));
        let search = Arc::new(search);
        let router =
            app(AppState { site_dir, builds: Some(rx), service, search: search.clone(), deliver_after_posts: None });
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown())
            .await?;
        // Counts still waiting in memory.
        if let Err(e) = search.misses.flush().await {
            tracing::warn!(error = %e, "cannot save the search misses");
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// What runs on a schedule: closing resolved tickets nobody reacted to (every ten minutes).
fn spawn_scheduled_jobs(service: Arc<Service>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            match service.close_quiet_tickets().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(closed = n, "closed resolved tickets without a reaction"),
                Err(e) => tracing::warn!(error = %e, "closing quiet tickets failed"),
            }
        }
    });
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
