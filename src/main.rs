//! `shopshield`: the command-line front of the engine. Thin by design: each
//! command parses its arguments, opens the application on the data
//! directory and calls into the library crates.

/// Bulk scans allocate many small strings; see Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod audit;
mod authorizations;
mod demo;
mod eval;
mod hash;
mod notices;
mod policy;
mod report;
mod scan;
mod store;
mod stream;
mod sweep;
mod video;
mod worker;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use shopshield_app::{App, AppConfig, AppError, NewKey, Principal, SystemClock};
use shopshield_intake::{ImageBase, JsonlReader, read_image, read_video};
use shopshield_model::{NewRight, Role};

#[derive(Parser)]
#[command(
    name = "shopshield",
    version,
    about = "Screens marketplace listings for IP infringement and unsafe goods, with evidence for every decision"
)]
pub struct Cli {
    /// Data directory (SQLite store and configuration).
    #[arg(
        long,
        global = true,
        env = "SHOPSHIELD_DATA",
        default_value = "./shopshield-data"
    )]
    data: PathBuf,
    /// Configuration file [default: DATA/shopshield.toml].
    #[arg(long, global = true, env = "SHOPSHIELD_CONFIG")]
    config: Option<PathBuf>,
    /// The store: `postgres://USER@HOST/DB` for PostgreSQL, or
    /// `sqlite:PATH` [default: the SQLite file DATA/shopshield.db].
    #[arg(long, global = true, env = "SHOPSHIELD_STORE", hide_env_values = true)]
    store: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Serve {
        #[arg(long, env = "SHOPSHIELD_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
    },
    /// Manage the rights registry.
    Rights {
        #[command(subcommand)]
        command: RightsCommand,
    },
    /// Screen listings JSONL (a file, or - for standard input); one decision
    /// JSON per line out, in input order.
    Scan {
        #[arg(default_value = "-")]
        input: String,
        /// Write decisions here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Screen through the NATS JetStream work queue at this URL (e.g.
        /// nats://127.0.0.1:4222) by `worker` processes, instead of in
        /// this process.
        #[arg(long, env = "SHOPSHIELD_NATS")]
        nats: Option<String>,
        /// The queue's name (its streams and subjects) with --nats.
        #[arg(long, env = "SHOPSHIELD_QUEUE", default_value = "shopshield")]
        queue: String,
        /// Read image files anywhere under this directory (by default only
        /// under the listings file's directory; the working directory for
        /// standard input). Not with --nats: workers read only under the
        /// listings file's directory.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["allow_images_anywhere", "nats"])]
        image_root: Option<PathBuf>,
        /// Read image files wherever the listings point, absolute paths
        /// and `..` included.
        #[arg(long, conflicts_with = "nats")]
        allow_images_anywhere: bool,
        /// What each line is: `listing`, or `video` (a short video: creator,
        /// caption, hashtags, transcript, products, media or vpdq).
        #[arg(long, default_value = "listing", value_parser = ["listing", "video"])]
        kind: String,
    },
    /// Screen listings from the NATS JetStream work queue that `scan
    /// --nats` fills, committing each batch before acknowledging it.
    Worker {
        /// The NATS server, e.g. nats://127.0.0.1:4222.
        #[arg(long, env = "SHOPSHIELD_NATS")]
        nats: String,
        /// The queue's name (its streams and subjects).
        #[arg(long, env = "SHOPSHIELD_QUEUE", default_value = "shopshield")]
        queue: String,
        /// Batches screened at once.
        #[arg(long, default_value_t = 2)]
        concurrency: usize,
        /// Seconds a delivered batch may go unacknowledged before it is
        /// delivered again (used when the queue's consumer is created).
        #[arg(long, default_value_t = 30)]
        ack_wait: u64,
    },
    /// Print each image's PDQ hash and quality as `HASH,QUALITY,FILE`
    /// (the format of Meta's pdq-photo-hasher).
    Hash {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Videos: vPDQ hashes.
    Video {
        #[command(subcommand)]
        command: VideoCommand,
    },
    /// Livestreams.
    Stream {
        #[command(subcommand)]
        command: StreamCommand,
    },
    /// Evaluate the text detector on a labelled corpus (the shipped one by
    /// default): precision, recall and false-positive rate per family.
    Eval {
        /// A directory with rights.jsonl and cases.jsonl.
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// How many misclassified listings to show.
        #[arg(long, default_value_t = 10)]
        misses: usize,
    },
    /// Region policy packs: check, test, reload.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Check the enforcement event log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Run enforcement housekeeping.
    Enforcement {
        #[command(subcommand)]
        command: EnforcementCommand,
    },
    /// Brand authorisation requests: list them, decide one.
    Authorizations {
        #[command(subcommand)]
        command: AuthorizationsCommand,
    },
    /// Rights holders' notices: file them in bulk, list them.
    Notices {
        #[command(subcommand)]
        command: NoticesCommand,
    },
    /// Review cases.
    Cases {
        #[command(subcommand)]
        command: CasesCommand,
    },
    /// The transparency report for whole UTC days FROM to TO, or (`report
    /// sor`) DSA statements of reasons.
    #[command(args_conflicts_with_subcommands = true)]
    Report {
        /// First day, YYYY-MM-DD (UTC).
        #[arg(long)]
        from: Option<String>,
        /// Last day, YYYY-MM-DD (UTC), included.
        #[arg(long)]
        to: Option<String>,
        /// Only this region (ISO 3166-1 alpha-2).
        #[arg(long)]
        region: Option<String>,
        #[arg(long, value_enum, default_value = "json")]
        format: report::Format,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(subcommand)]
        command: Option<ReportCommand>,
    },
    /// Run the sweeps due now: live listings that a right or rule changed
    /// since they went live are screened again, and those that now violate
    /// are taken down. Prints how many listings were looked at, rescreened
    /// and taken down.
    Sweep {
        /// Write the new decisions here as JSONL.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Build a small realistic marketplace, screen it, and serve the API.
    Demo {
        /// Exit after the summary instead of serving.
        #[arg(long)]
        no_serve: bool,
        #[arg(long, env = "SHOPSHIELD_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
    },
}

#[derive(Subcommand)]
enum RightsCommand {
    /// Import rights from JSONL, all or nothing. Image paths are relative to the file.
    Import { file: PathBuf },
    /// List the registered rights as JSONL.
    List {
        /// Only rights in this review state: `pending` (held for review:
        /// another holder's right carries the same mark), `approved` or
        /// `refused`.
        #[arg(long)]
        review: Option<String>,
    },
    /// Approve or refuse a right held for review, with a reason the holder
    /// reads. Approval puts it in force; refusal keeps it out.
    Review {
        id: String,
        /// `approve` or `refuse`.
        #[arg(long)]
        outcome: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum VideoCommand {
    /// Print a video's vPDQ hashes in Meta's line format,
    /// `frameNumber,quality,pdqHex,timestamp` (MP4 or WebM; decoded with ffmpeg).
    Hash {
        file: PathBuf,
        /// Frames hashed per second of video (Meta's default: 1). 0 hashes every frame.
        #[arg(long, default_value_t = 1.0)]
        rate: f64,
    },
}

#[derive(Subcommand)]
enum StreamCommand {
    /// Replay a recorded stream (JSONL: an optional metadata line with
    /// creator_id, shop_id, region; then events with `t` and `type`:
    /// transcript, frame, product) against the engine, printing each
    /// action as JSONL with its time `t`. Nothing is stored.
    Replay { file: PathBuf },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the hash chain and the anchor of the enforcement log, and
    /// replay it. Exit 0 when intact; 1 naming the first bad entry.
    Verify,
}

#[derive(Subcommand)]
enum EnforcementCommand {
    /// Apply the points expiries and penalty ends due now.
    Tick,
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Write a DSA statement of reasons for every restriction decided in
    /// the EU/EEA, as JSONL: one line per batch of at most 100 statements
    /// (`{"statements": [...]}`, the body the Transparency Database's
    /// multiple-statements endpoint takes).
    Sor {
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuthorizationsCommand {
    /// Print the requests as JSONL.
    List {
        /// Only requests in this state (pending, approved, refused,
        /// withdrawn, revoked).
        #[arg(long)]
        state: Option<String>,
        /// Only requests on this right.
        #[arg(long)]
        right: Option<String>,
    },
    /// Approve, refuse or revoke one request as the operator; prints the
    /// request and what rescreening the shop's listings did.
    Decide {
        id: String,
        /// approve, refuse or revoke.
        #[arg(long)]
        outcome: String,
        /// Why (required to refuse or revoke).
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Subcommand)]
enum NoticesCommand {
    /// File notices from JSONL, one notice per line (as `POST
    /// /v1/notices` takes it); prints one receipt per notice. A bad line
    /// is reported (`FILE:LINE: field: reason`) and not filed; the exit
    /// code is then 2.
    File { file: PathBuf },
    /// Print the notices with the state of each item as JSONL.
    List {
        /// Only notices with an item in this state (pending, accepted,
        /// rejected, countered, restored, upheld).
        #[arg(long)]
        state: Option<String>,
    },
    /// Print a rights holder's accuracy as a reporter over the rolling
    /// window and its standing (self_service, standard, warned,
    /// restricted) as JSON.
    Standing { holder: String },
}

#[derive(Subcommand)]
enum CasesCommand {
    /// Print the open review cases as JSONL, queue by queue, oldest first.
    List,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Validate the packs ([policy] dir, --dir, or the built-in ones) and,
    /// with --server, put them in force on a running server.
    Reload {
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The running server, e.g. http://127.0.0.1:8080.
        #[arg(long, env = "SHOPSHIELD_SERVER")]
        server: Option<String>,
        /// An admin API key.
        #[arg(long, env = "SHOPSHIELD_KEY", hide_env_values = true)]
        key: Option<String>,
    },
    /// Check a pack file against expected outcomes (JSONL cases); exit 1
    /// if any case fails.
    Test {
        pack: PathBuf,
        cases: PathBuf,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create an API key and print it (it is shown once).
    Create {
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// For rights_holder keys: the holder id.
        #[arg(long)]
        holder: Option<String>,
        /// For seller keys: the shop id.
        #[arg(long)]
        shop: Option<String>,
        /// For creator keys: the creator id.
        #[arg(long)]
        creator: Option<String>,
        /// A display name (never used to decide anything).
        #[arg(long, default_value = "")]
        label: String,
        /// Add the key to this principal (key rotation: same role and
        /// scope), or name a new one [default: a fresh principal].
        #[arg(long)]
        principal: Option<String>,
    },
    /// List keys (without secrets).
    List,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role {s:?}; one of {}", all.join(", "))
    })
}

/// Bad input from the user: exit code 2.
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// Reads an optional `--state`-style flag whose value must be one of the
/// `names` of `all`; an unknown value is [`BadInput`] naming the flag and the
/// allowed values.
pub fn parse_choice<T: Copy>(
    flag: &str,
    value: Option<&str>,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<Option<T>, BadInput> {
    let Some(v) = value else { return Ok(None) };
    all.iter()
        .copied()
        .find(|&k| name(k) == v)
        .map(Some)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|&k| name(k)).collect();
            BadInput(format!(
                "{flag}: unknown state {v:?}; one of {}",
                names.join(", ")
            ))
        })
}

/// Turns application errors caused by input into [`BadInput`].
pub fn classify(e: AppError) -> anyhow::Error {
    match e {
        AppError::Store(s) => anyhow::Error::new(s),
        AppError::Integrity(m) => anyhow::anyhow!(m),
        other => anyhow::Error::new(BadInput(other.to_string())),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHOPSHIELD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<BadInput>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// Reads the configuration file (`--config`, or `DATA/shopshield.toml`).
pub fn load_config(data: &Path, config: Option<&Path>) -> Result<AppConfig> {
    let path = config
        .map(Path::to_path_buf)
        .unwrap_or_else(|| data.join("shopshield.toml"));
    Ok(AppConfig::load(&path).map_err(|e| BadInput(e.to_string()))?)
}

/// Opens the store the command line names and the application on it.
pub fn open_app(cli: &Cli) -> Result<Arc<App>> {
    let config = load_config(&cli.data, cli.config.as_deref())?;
    let store = store::open(&cli.data, cli.store.as_deref())?;
    let app = App::new(store, config, Arc::new(SystemClock)).map_err(classify)?;
    Ok(Arc::new(app))
}

/// The operator at the command line.
pub fn operator() -> Principal {
    Principal::operator("cli")
}

fn run(cli: Cli) -> Result<ExitCode> {
    let config = cli.config.as_deref();
    match &cli.command {
        Command::Serve { addr } => {
            let app = open_app(&cli)?;
            serve(app, addr)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Rights { command } => {
            let app = open_app(&cli)?;
            match command {
                RightsCommand::Import { file } => {
                    let done = import_rights(&app, file)?;
                    eprintln!(
                        "imported {} rights ({} held for review); registry version {}",
                        done.imported, done.held_for_review, done.registry_version
                    );
                    for id in &done.held {
                        eprintln!(
                            "held for review: {id} (another holder's right carries the same mark; see `rights list --review pending`)"
                        );
                    }
                }
                RightsCommand::List { review } => {
                    let review = review
                        .as_deref()
                        .map(|r| {
                            serde_json::from_value::<shopshield_model::RightReviewState>(
                                serde_json::Value::String(r.to_string()),
                            )
                            .map_err(|_| {
                                crate::BadInput(format!(
                                    "--review {r:?}: expected pending, approved or refused"
                                ))
                            })
                        })
                        .transpose()?;
                    for r in app
                        .registry()
                        .rights_in_review(&operator(), None, review)
                        .map_err(classify)?
                    {
                        println!("{}", serde_json::to_string(&r)?);
                    }
                }
                RightsCommand::Review {
                    id,
                    outcome,
                    reason,
                } => {
                    let outcome = serde_json::from_value::<shopshield_model::RightReviewOutcome>(
                        serde_json::Value::String(outcome.clone()),
                    )
                    .map_err(|_| {
                        crate::BadInput(format!(
                            "--outcome {outcome:?}: expected approve or refuse"
                        ))
                    })?;
                    let r = app
                        .registry()
                        .review_right(
                            &operator(),
                            id,
                            shopshield_model::RightReviewInput {
                                outcome: Some(outcome),
                                reason: reason.clone(),
                            },
                        )
                        .map_err(classify)?;
                    println!("{}", serde_json::to_string(&r)?);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Scan {
            input,
            out,
            nats,
            queue,
            image_root,
            allow_images_anywhere,
            kind,
        } => match nats.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(_) if kind == "video" => Err(crate::BadInput(
                "--kind video: videos are screened in this process; drop --nats".into(),
            )
            .into()),
            Some(nats) => {
                let queue = worker::queue_name(queue)?;
                scan::run(scan::Via::Queue { nats, queue }, input, out.as_deref())
            }
            None => {
                let app = open_app(&cli)?;
                let images = match (image_root, allow_images_anywhere) {
                    (_, true) => scan::ImageAccess::Anywhere,
                    (Some(root), false) => scan::ImageAccess::Under(root.clone()),
                    (None, false) => scan::ImageAccess::ListingsDir,
                };
                if kind == "video" {
                    scan::run_videos(&app, images, input, out.as_deref())
                } else {
                    scan::run(scan::Via::Local(&app, images), input, out.as_deref())
                }
            }
        },
        Command::Worker {
            nats,
            queue,
            concurrency,
            ack_wait,
        } => {
            let config = worker::config(queue, *concurrency, *ack_wait)?;
            let app = open_app(&cli)?;
            worker::run(app, nats, config)
        }
        Command::Hash { files } => hash::run(files),
        Command::Video { command } => {
            let config = load_config(&cli.data, config)?;
            match command {
                VideoCommand::Hash { file, rate } => video::hash(&config, file, *rate),
            }
        }
        Command::Stream { command } => match command {
            StreamCommand::Replay { file } => {
                let app = open_app(&cli)?;
                stream::replay(&app, file)
            }
        },
        Command::Sweep { out } => {
            let app = open_app(&cli)?;
            sweep::run(&app, out.as_deref())
        }
        Command::Eval { corpus, misses } => {
            let config = load_config(&cli.data, config)?;
            eval::run(&config, corpus.as_deref(), *misses)
        }
        Command::Policy { command } => {
            let config = load_config(&cli.data, config)?;
            match command {
                PolicyCommand::Reload { dir, server, key } => {
                    policy::reload(&config, dir.as_deref(), server.as_deref(), key.as_deref())
                }
                PolicyCommand::Test { pack, cases, dir } => {
                    policy::test(&config, dir.as_deref(), pack, cases)
                }
            }
        }
        Command::Keys { command } => {
            let app = open_app(&cli)?;
            match command {
                KeysCommand::Create {
                    role,
                    holder,
                    shop,
                    creator,
                    label,
                    principal,
                } => {
                    let (secret, key) = app
                        .keys()
                        .create(
                            &operator(),
                            NewKey {
                                role: Some(*role),
                                holder: holder.clone(),
                                shop: shop.clone(),
                                creator: creator.clone(),
                                label: label.clone(),
                                principal: principal.clone(),
                            },
                        )
                        .map_err(classify)?;
                    println!("{secret}");
                    eprintln!(
                        "created a {role} key for principal {}; it is shown once and stored only as a SHA-256 hash",
                        key.principal_id
                    );
                }
                KeysCommand::List => {
                    for k in app.keys().list(&operator()).map_err(classify)? {
                        println!("{}", serde_json::to_string(&k)?);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => audit::verify(&cli.data, cli.store.as_deref()),
        Command::Enforcement {
            command: EnforcementCommand::Tick,
        } => {
            let app = open_app(&cli)?;
            audit::tick(&app)
        }
        Command::Authorizations { command } => {
            let app = open_app(&cli)?;
            match command {
                AuthorizationsCommand::List { state, right } => {
                    authorizations::list(&app, state.as_deref(), right.as_deref())
                }
                AuthorizationsCommand::Decide {
                    id,
                    outcome,
                    reason,
                } => authorizations::decide(&app, id, outcome, reason.as_deref()),
            }
        }
        Command::Notices { command } => {
            let app = open_app(&cli)?;
            match command {
                NoticesCommand::File { file } => notices::file(&app, file),
                NoticesCommand::List { state } => notices::list(&app, state.as_deref()),
                NoticesCommand::Standing { holder } => notices::standing(&app, holder),
            }
        }
        Command::Cases {
            command: CasesCommand::List,
        } => {
            let app = open_app(&cli)?;
            audit::list_cases(&app)
        }
        Command::Report {
            from,
            to,
            region,
            format,
            out,
            command,
        } => {
            let app = open_app(&cli)?;
            match command {
                Some(ReportCommand::Sor { from, to, out }) => {
                    report::statements(&app, from.as_deref(), to.as_deref(), out)
                }
                None => report::transparency(
                    &app,
                    from.as_deref(),
                    to.as_deref(),
                    region.as_deref(),
                    *format,
                    out.as_deref(),
                ),
            }
        }
        Command::Demo { no_serve, addr } => {
            let app = open_app(&cli)?;
            demo::run(&app, &cli.data)?;
            if !no_serve {
                serve(app, addr)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Reads a rights JSONL file and imports it, all or nothing: every bad line
/// is reported, and then nothing is imported.
pub fn import_rights(app: &App, file: &Path) -> Result<shopshield_app::ImportOutcome> {
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut entries = Vec::new();
    let mut bad = 0;
    for line in JsonlReader::<_, NewRight>::new(std::io::BufReader::new(f)) {
        let checked = line
            .value
            .map_err(|e| e.to_string())
            .and_then(|r: NewRight| {
                r.validate().map_err(|e| e.to_string())?;
                let image = match (&r.image, &r.video) {
                    (Some(reference), _) => Some(
                        read_image("image", reference, ImageBase::Dir(base))
                            .map_err(|e| e.to_string())?,
                    ),
                    (None, Some(reference)) => Some(
                        read_video("video", reference, ImageBase::Dir(base))
                            .map_err(|e| e.to_string())?,
                    ),
                    (None, None) => None,
                };
                Ok((r, image))
            });
        match checked {
            Ok(entry) => entries.push(entry),
            Err(e) => {
                bad += 1;
                eprintln!("{}:{}: {e}", file.display(), line.number);
            }
        }
    }
    if bad > 0 {
        return Err(BadInput(format!(
            "{bad} bad line(s) in {}; nothing was imported",
            file.display()
        ))
        .into());
    }
    app.registry()
        .import(&operator(), entries)
        .map_err(classify)
}

fn serve(app: Arc<App>, addr: &str) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        eprintln!(
            "serving the API on http://{} (Ctrl-C to stop)",
            listener.local_addr()?
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("stopping");
        };
        shopshield_server::serve(app, listener, shutdown).await?;
        Ok(())
    })
}
