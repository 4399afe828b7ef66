//! Evidence of a failure: against a reference provider that answers `true` to every verify
//! (`--fault api-verify-always-true`), the console shows the exchange the failure concerns and a
//! `curl` line that, run with the placeholder variables exported, gets the same wrong answer.

mod common;

use std::process::Command;

use nvcert::provider::{Fault, ProviderConfig};

fn nvcert_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nvcert"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_check_shows_its_exchange_and_a_curl_line_that_reproduces_it() {
    let mut config = ProviderConfig::embedded();
    config
        .faults
        .push("api-verify-always-true".parse::<Fault>().expect("fault"));
    let (handle, url) = common::spawn_provider(config).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = common::write_profile(dir.path(), &common::reference_profile_for(&url));
    let report = dir.path().join("reports");

    let (run, token) = {
        let profile = profile.clone();
        let report = report.clone();
        tokio::task::spawn_blocking(move || {
            let run = nvcert_bin()
                .args([
                    "run",
                    "--provider",
                    &profile,
                    "--tags",
                    "@verify_plain_false",
                ])
                .arg("--report-dir")
                .arg(&report)
                .output()
                .expect("nvcert run");
            let token = nvcert_bin()
                .args(["load", "--provider", &profile, "--print-token"])
                .output()
                .expect("nvcert load --print-token");
            (run, token)
        })
        .await
        .expect("join")
    };
    assert_eq!(
        run.status.code(),
        Some(1),
        "the faulty provider fails the run"
    );
    let console = String::from_utf8(run.stdout).expect("utf-8");
    for shown in [
        "FAILED   MUST   Verify the device phone number › Another number in plain text is not verified",
        "expected false, found true",
        "exchange: POST ",
        "/number-verification/v2/verify → 200",
        r#"> {"phoneNumber":"+34600000009"}"#,
        r#"< {"devicePhoneNumberVerified":true}"#,
        "> authorization: Bearer [redacted]",
        "reproduce (export $NVCERT_ACCESS_TOKEN first):",
    ] {
        assert!(
            console.contains(shown),
            "{shown:?} missing from:\n{console}"
        );
    }
    let curl_line = console
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("curl "))
        .unwrap_or_else(|| panic!("no curl line in:\n{console}"))
        .to_owned();
    assert!(
        curl_line.contains(r#""$NVCERT_ACCESS_TOKEN""#),
        "{curl_line}"
    );

    // Paste it in a shell with the variable exported: the same wrong answer comes back.
    let token = String::from_utf8(token.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    assert!(!token.is_empty(), "no token printed");
    assert!(
        !curl_line.contains(&token),
        "the token itself is in the curl line"
    );
    let replay = tokio::task::spawn_blocking(move || {
        Command::new("sh")
            .arg("-c")
            .arg(&curl_line)
            .env("NVCERT_ACCESS_TOKEN", &token)
            .output()
            .expect("sh -c curl (is curl installed?)")
    })
    .await
    .expect("join");
    let answer = String::from_utf8_lossy(&replay.stdout).into_owned();
    assert!(
        replay.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains(r#"{"devicePhoneNumberVerified":true}"#),
        "{answer}"
    );

    // results.json points at the same exchange.
    let results: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(report.join("results.json")).expect("results.json"),
    )
    .expect("JSON");
    let scenario = &results["scenarios"][0];
    let index = scenario["failure_exchange"]
        .as_u64()
        .expect("failure_exchange") as usize;
    let exchange = &scenario["exchanges"][index];
    assert_eq!(exchange["purpose"], "NV API");
    assert_eq!(exchange["status"], 200);
    assert_eq!(
        exchange["step"],
        r#"When the request "phoneNumberVerify" is sent"#
    );
    assert_eq!(
        exchange["response_body"]["text"],
        r#"{"devicePhoneNumberVerified":true}"#
    );
    handle.shutdown().await.expect("provider stopped");
}

/// Runs the nvcert binary with `args`; returns (exit code, stdout, stderr).
fn nvcert_out(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let out = nvcert_bin()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("nvcert");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_evidence_bundle_verifies_and_one_flipped_byte_fails_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reports = dir.path().join("reports");
    let bundle = dir.path().join("evidence.zip");
    let (reports_s, bundle_s) = (
        reports.to_str().expect("utf-8"),
        bundle.to_str().expect("utf-8"),
    );
    let keys = common::fixtures().join("keys");
    let private =
        std::fs::read_to_string(keys.join("demo-client-es256.TEST-ONLY.pem")).expect("key");
    let public = keys.join("demo-client-es256.pub.pem");
    let public_s = public.to_str().expect("utf-8");
    let (code, stdout, stderr) = nvcert_out(
        &[
            "run",
            "--tags",
            "@verify",
            "--report-dir",
            reports_s,
            "--evidence",
            bundle_s,
            "--sign-key",
            "env:NVCERT_TEST_SIGNING_KEY",
        ],
        &[("NVCERT_TEST_SIGNING_KEY", &private)],
    );
    assert_eq!(code, Some(0), "{stderr}");

    // What the bundle holds, and what its manifest says.
    let bytes = std::fs::read(&bundle).expect("bundle");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).expect("zip");
    let mut names: Vec<String> = zip
        .file_names()
        .map(|n| n.expect("name").into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "console.txt",
            "ctrf.json",
            "junit.xml",
            "manifest.json",
            "manifest.jws",
            "report.html",
            "results.json"
        ]
    );
    let mut manifest = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("manifest.json").expect("manifest"),
        &mut manifest,
    )
    .expect("read");
    let manifest: serde_json::Value = serde_json::from_str(&manifest).expect("JSON");
    // console.txt is what the console printed, verdict last; only the lines naming where the
    // reports and the bundle were written are not in it.
    let mut console = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("console.txt").expect("console.txt"),
        &mut console,
    )
    .expect("read");
    assert_eq!(console.lines().last(), Some("verdict: passed"), "{console}");
    let printed: String = stdout
        .lines()
        .filter(|l| !l.starts_with("report: ") && !l.starts_with("evidence: "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(console, printed);
    assert_eq!(manifest["spec"]["version"], "2.1.0");
    assert_eq!(manifest["spec"]["sha256"].as_str().map(str::len), Some(64));
    assert!(
        manifest["features"]
            .as_array()
            .is_some_and(|f| f.len() >= 10)
    );
    assert_eq!(manifest["command_line"][1], "run");
    assert_eq!(manifest["succeeded"], true);
    assert_eq!(manifest["files"].as_array().map(Vec::len), Some(5));
    assert!(
        manifest["started_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    let verify = |path: &str, key: Option<&str>| {
        let mut args = vec!["evidence", "verify", path];
        if let Some(k) = key {
            args.extend(["--public-key", k]);
        }
        nvcert_out(&args, &[])
    };
    let (code, out, _) = verify(bundle_s, Some(public_s));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("intact") && out.contains("signature verified"),
        "{out}"
    );

    // One byte flipped in the middle of the archive (inside a file's data): exit 1, naming it.
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    let tampered = dir.path().join("tampered.zip");
    std::fs::write(&tampered, &flipped).expect("write");
    let (code, out, err) = verify(tampered.to_str().expect("utf-8"), None);
    assert_eq!(code, Some(1), "{out}{err}");
    let named = [
        "results.json",
        "report.html",
        "ctrf.json",
        "junit.xml",
        "console.txt",
        "manifest.json",
    ]
    .iter()
    .any(|f| out.contains(f));
    assert!(named, "the differing file is not named: {out}");

    // A signature by another key does not verify; garbage is unreadable.
    let other = keys.join("other-client-es256.pub.pem");
    let (code, out, _) = verify(bundle_s, Some(other.to_str().expect("utf-8")));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("manifest.jws"), "{out}");
    let garbage = dir.path().join("garbage.zip");
    std::fs::write(&garbage, b"not a zip").expect("write");
    assert_eq!(verify(garbage.to_str().expect("utf-8"), None).0, Some(2));
}
