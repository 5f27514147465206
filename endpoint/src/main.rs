//! The `consent-endpoint` command line: `serve`, `verify`, `export`, `purge`.

use consent_endpoint::assets::Mount;
use consent_endpoint::config::Config;
use consent_endpoint::store::{self, Verdict};
use consent_endpoint::time::{now_ms, parse_instant, DAY_MS};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage:
  consent-endpoint serve  --config FILE [--static DIR | --static /PREFIX=DIR]...
  consent-endpoint verify --db PATH            walk the hash chain; exit 1 at the first broken row
  consent-endpoint export --db PATH [--from T] [--to T]
                                               JSON lines on stdout; T = RFC 3339, YYYY-MM-DD or epoch ms;
                                               from inclusive, to exclusive (server receive time)
  consent-endpoint purge  --db PATH --older-than DAYS
                                               retention: delete rows received more than DAYS ago
  (--config FILE may replace --db PATH: the database named there is used)
logging: RUST_LOG (default info), to stderr";

/// Parsed `--flag value` pairs.
struct Args {
    command: String,
    pairs: Vec<(String, String)>,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut it = std::env::args().skip(1);
        let command = it.next().ok_or("missing command")?;
        let mut pairs = Vec::new();
        while let Some(flag) = it.next() {
            if flag == "-h" || flag == "--help" {
                return Err(String::new());
            }
            let Some(name) = flag.strip_prefix("--") else {
                return Err(format!("unexpected argument {flag}"));
            };
            let (name, value) = match name.split_once('=') {
                Some((n, v)) => (n.to_string(), v.to_string()),
                None => (
                    name.to_string(),
                    it.next().ok_or_else(|| format!("--{name} needs a value"))?,
                ),
            };
            pairs.push((name, value));
        }
        Ok(Args { command, pairs })
    }

    fn check(&self, allowed: &[&str]) -> Result<(), String> {
        match self
            .pairs
            .iter()
            .find(|(n, _)| !allowed.contains(&n.as_str()))
        {
            Some((n, _)) => Err(format!("unknown option --{n} for {}", self.command)),
            // Only --static may repeat: a second --db or --from silently winning hides a typo.
            None => {
                match self.pairs.iter().enumerate().find(|(i, (n, _))| {
                    n != "static" && self.pairs[..*i].iter().any(|(m, _)| m == n)
                }) {
                    Some((_, (n, _))) => Err(format!("--{n} given twice")),
                    None => Ok(()),
                }
            }
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn db(&self) -> Result<PathBuf, String> {
        if self.get("db").is_some() && self.get("config").is_some() {
            return Err("give --db PATH or --config FILE, not both".into());
        }
        if let Some(db) = self.get("db") {
            return Ok(db.into());
        }
        let config = self.get("config").ok_or("--db PATH is required")?;
        Ok(Config::load(config.as_ref())
            .map_err(|e| e.to_string())?
            .database)
    }
}

fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(a) if a.command != "help" && a.command != "-h" && a.command != "--help" => a,
        Ok(_) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            if !e.is_empty() {
                eprintln!("consent-endpoint: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    init_logging();
    let result = match args.command.as_str() {
        "serve" => serve(&args),
        "verify" => verify(&args),
        "export" => export(&args),
        "purge" => purge(&args),
        other => Err(Failure::Usage(format!("unknown command {other}"))),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Usage(e)) => {
            eprintln!("consent-endpoint: {e}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Run(e)) => {
            eprintln!("consent-endpoint: {e}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    Usage(String),
    Run(String),
}

fn run_err(e: impl std::fmt::Display) -> Failure {
    Failure::Run(e.to_string())
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .init();
}

fn serve(args: &Args) -> Result<ExitCode, Failure> {
    args.check(&["config", "static"]).map_err(Failure::Usage)?;
    let path = args
        .get("config")
        .ok_or_else(|| Failure::Usage("serve needs --config FILE".into()))?;
    let config = Config::load(path.as_ref()).map_err(|e| Failure::Run(format!("{path}: {e}")))?;
    let mounts = args
        .all("static")
        .map(Mount::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::Usage)?;
    if let Some(m) = mounts.iter().find(|m| !m.dir.is_dir()) {
        return Err(Failure::Usage(format!(
            "--static: {} is not a directory",
            m.dir.display()
        )));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(run_err)?;
    runtime
        .block_on(consent_endpoint::server::serve(config, mounts))
        .map_err(run_err)?;
    Ok(ExitCode::SUCCESS)
}

fn verify(args: &Args) -> Result<ExitCode, Failure> {
    args.check(&["db", "config"]).map_err(Failure::Usage)?;
    let db = args.db().map_err(Failure::Usage)?;
    let conn = store::open_existing(&db).map_err(run_err)?;
    match store::verify(&conn).map_err(run_err)? {
        Verdict::Ok {
            rows,
            head_seq,
            head_hash,
            from_checkpoint,
        } => {
            let start = from_checkpoint.map_or_else(
                || "genesis".to_string(),
                |s| format!("checkpoint at seq {s}"),
            );
            println!(
                "OK: {rows} rows verified from {start}; head seq {head_seq}, head hash {}",
                store::hex(&head_hash)
            );
            Ok(ExitCode::SUCCESS)
        }
        Verdict::Broken { seq, reason } => {
            println!("BROKEN at row seq {seq}: {reason}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn instant(args: &Args, name: &str) -> Result<Option<i64>, Failure> {
    args.get(name)
        .map(|v| {
            parse_instant(v).ok_or_else(|| {
                Failure::Usage(format!(
                    "--{name} {v}: expected RFC 3339, YYYY-MM-DD or epoch ms"
                ))
            })
        })
        .transpose()
}

fn export(args: &Args) -> Result<ExitCode, Failure> {
    args.check(&["db", "config", "from", "to"])
        .map_err(Failure::Usage)?;
    let db = args.db().map_err(Failure::Usage)?;
    let (from, to) = (instant(args, "from")?, instant(args, "to")?);
    if let (Some(f), Some(t)) = (from, to) {
        if f >= t {
            return Err(Failure::Usage(
                "--from must be before --to (the range is [from, to))".into(),
            ));
        }
    }
    let conn = store::open_existing(&db).map_err(run_err)?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut n = 0u64;
    store::for_each_in_range::<Failure>(&conn, from, to, |row| {
        serde_json::to_writer(&mut out, &row.export()).map_err(run_err)?;
        out.write_all(b"\n").map_err(run_err)?;
        n += 1;
        Ok(())
    })?;
    out.flush().map_err(run_err)?;
    eprintln!("exported {n} rows");
    Ok(ExitCode::SUCCESS)
}

impl From<store::StoreError> for Failure {
    fn from(e: store::StoreError) -> Failure {
        Failure::Run(e.to_string())
    }
}

fn purge(args: &Args) -> Result<ExitCode, Failure> {
    args.check(&["db", "config", "older-than"])
        .map_err(Failure::Usage)?;
    let db = args.db().map_err(Failure::Usage)?;
    let days: i64 = args
        .get("older-than")
        .and_then(|d| d.parse().ok())
        .filter(|d| *d >= 0)
        .ok_or_else(|| Failure::Usage("purge needs --older-than DAYS (a whole number)".into()))?;
    let mut conn = store::open_existing(&db).map_err(run_err)?;
    // Never bake a broken or unchecked row into the checkpoint: the purge stops at the head this
    // verify saw, whatever the running server appended since.
    let verified_upto = match store::verify(&conn)? {
        Verdict::Ok { head_seq, .. } => head_seq,
        Verdict::Broken { seq, reason } => {
            println!("BROKEN at row seq {seq}: {reason}; not purging");
            return Ok(ExitCode::FAILURE);
        }
    };
    let now = now_ms();
    let p = store::purge(
        &mut conn,
        now - days.saturating_mul(DAY_MS),
        now,
        verified_upto,
    )?;
    println!(
        "purged {} rows; checkpoint at seq {}",
        p.deleted, p.checkpoint_seq
    );
    Ok(ExitCode::SUCCESS)
}
