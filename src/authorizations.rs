//! `shopshield authorizations`: list brand-authorisation requests, decide
//! one as the operator (an admin).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use shopshield_app::{App, AuthorizationOutcome, DecisionInput};
use shopshield_model::AuthorizationState;

use crate::{BadInput, classify, operator, parse_choice};

/// Prints every request (or those in `state`, on `right`) as JSONL.
pub fn list(app: &App, state: Option<&str>, right: Option<&str>) -> Result<ExitCode> {
    let state = parse_choice(
        "--state",
        state,
        &AuthorizationState::ALL,
        AuthorizationState::as_str,
    )?;
    let mut out = std::io::stdout().lock();
    let mut after: Option<String> = None;
    loop {
        let page = app
            .authorizations()
            .list(
                &operator(),
                state,
                right.map(str::to_string),
                after.clone(),
                1_000,
            )
            .map_err(classify)?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        for a in &page {
            serde_json::to_writer(&mut out, a)?;
            out.write_all(b"\n")?;
        }
        if page.len() < 1_000 {
            break;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Approves, refuses or revokes one request and prints the result (the
/// request and what rescreening the shop's listings did) as JSON.
pub fn decide(app: &App, id: &str, outcome: &str, reason: Option<&str>) -> Result<ExitCode> {
    let outcome = match outcome {
        "approve" => AuthorizationOutcome::Approve,
        "refuse" => AuthorizationOutcome::Refuse,
        "revoke" => AuthorizationOutcome::Revoke,
        other => {
            return Err(BadInput(format!(
                "--outcome: unknown outcome {other:?}; one of approve, refuse, revoke"
            ))
            .into());
        }
    };
    let decided = app
        .authorizations()
        .decide(
            &operator(),
            id,
            DecisionInput {
                outcome: Some(outcome),
                reason: reason.unwrap_or_default().to_string(),
            },
        )
        .map_err(classify)?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &decided)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
