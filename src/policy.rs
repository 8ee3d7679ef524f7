//! `shopshield policy`: check, test and reload region policy packs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use shopshield_app::AppConfig;
use shopshield_model::Taxonomy;
use shopshield_policy::PolicySet;

use crate::BadInput;

/// The packs the configuration names: `[policy] dir`, or the built-in ones.
fn configured(config: &AppConfig, dir: Option<&Path>, taxonomy: &Taxonomy) -> Result<PolicySet> {
    let loaded = match dir.or(config.policy.dir.as_deref()) {
        Some(d) => PolicySet::load_dir(d, taxonomy),
        None => PolicySet::builtin(taxonomy),
    };
    loaded.map_err(|e| BadInput(e.to_string()).into())
}

fn print_versions(set: &PolicySet) {
    for (name, version) in set.versions() {
        println!("{name}\t{version}");
    }
}

/// Validates the packs; with `server`, asks the running server to put
/// them in force (`POST /v1/policy/reload`, admin key in `SHOPSHIELD_KEY`).
pub fn reload(
    config: &AppConfig,
    dir: Option<&Path>,
    server: Option<&str>,
    key: Option<&str>,
) -> Result<ExitCode> {
    let taxonomy = Taxonomy::builtin();
    let set = configured(config, dir, &taxonomy)?;
    eprintln!("{} pack(s) valid", set.versions().len());
    let Some(server) = server else {
        print_versions(&set);
        eprintln!(
            "packs checked; pass --server URL (with SHOPSHIELD_KEY) to put them in force on a running server"
        );
        return Ok(ExitCode::SUCCESS);
    };
    let key = key
        .ok_or_else(|| BadInput("--server needs an admin key in SHOPSHIELD_KEY or --key".into()))?;
    let url = format!("{}/v1/policy/reload", server.trim_end_matches('/'));
    let resp = reqwest::blocking::Client::new()
        .post(&url)
        .bearer_auth(key)
        .send()
        .with_context(|| format!("cannot reach {url}"))?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        let msg = body["error"]["message"]
            .as_str()
            .unwrap_or("no details")
            .to_string();
        return Err(if status.is_client_error() {
            BadInput(format!("the server refused the reload ({status}): {msg}")).into()
        } else {
            anyhow::anyhow!("the server failed the reload ({status}): {msg}")
        });
    }
    println!("{}", serde_json::to_string_pretty(&body)?);
    Ok(ExitCode::SUCCESS)
}

/// Runs a cases file against the configured packs with `pack` (a pack
/// file, possibly edited) in place of the pack of the same file name.
pub fn test(
    config: &AppConfig,
    dir: Option<&Path>,
    pack: &PathBuf,
    cases: &PathBuf,
) -> Result<ExitCode> {
    let taxonomy = Taxonomy::builtin();
    let base = configured(config, dir, &taxonomy)?;
    let text = std::fs::read_to_string(pack)
        .map_err(|e| BadInput(format!("cannot read {}: {e}", pack.display())))?;
    let name = pack
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| BadInput(format!("{} has no file name", pack.display())))?;
    let set = base
        .with_pack(name, &text, &taxonomy)
        .map_err(|e| BadInput(e.to_string()))?;
    let cases_text = std::fs::read_to_string(cases)
        .map_err(|e| BadInput(format!("cannot read {}: {e}", cases.display())))?;
    let report = shopshield_policy::run_cases(&set, &cases_text, chrono::Utc::now());
    print!("{report}");
    if report.failed() > 0 {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
