//! The whole suite against the reference provider: embedded, and in another "process" (a
//! provider spawned separately and described by a profile file).

mod common;

use nvcert::provider::ProviderConfig;

#[tokio::test]
async fn embedded_run_passes_and_writes_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, results) = common::run_suite(dir.path(), &[]).await;
    assert_eq!(code, 0, "failures:\n{}", common::all_failures(&results));
    let passed = results["summary"]["passed"].as_u64().unwrap_or(0);
    assert!(passed >= 15, "only {passed} scenarios passed");
    assert_eq!(results["summary"]["failed"], 0);
    assert_eq!(results["summary"]["skipped"], 0, "{results:#}");
    assert!(dir.path().join("junit.xml").is_file());

    // Normalized results: durations, ports and versions are volatile; each exchange is
    // summarized as "purpose: METHOD path → status" (headers, correlators, dates and bodies
    // vary; their contract is the schema).
    let mut results = results;
    for scenario in results["scenarios"].as_array_mut().expect("scenarios") {
        let exchanges = scenario["exchanges"].as_array().expect("exchanges").clone();
        scenario["exchanges"] = exchanges.iter().map(exchange_summary).collect();
    }
    insta::assert_json_snapshot!("embedded_run", results, {
        ".duration_ms" => "[ms]",
        ".scenarios[].duration_ms" => "[ms]",
        ".target.issuer" => "[url]",
        ".target.api_base" => "[url]",
        ".tool_version" => "[version]",
    });
}

#[tokio::test]
async fn run_against_a_separately_served_provider_with_each_device_leg() {
    // Header enrichment with private_key_jwt.
    let (code, results) = common::run_with_profile(
        ProviderConfig::embedded(),
        |url| common::profile_text(url, "private_key_jwt"),
        &[],
    )
    .await;
    assert_eq!(code, 0, "failures:\n{}", common::all_failures(&results));

    // Source-IP table (127.0.0.2 → +34600000002) with client_secret_basic.
    let source_ip = |url: &str| {
        common::profile_text(url, "client_secret_basic")
            .replace(
                r#"headers = { "x-nvcert-msisdn" = "+34600000001" }"#,
                r#"local_address = "127.0.0.2""#,
            )
            .replace(r#"device = "+34600000001""#, r#"device = "+34600000002""#)
    };
    let args = ["--tags", "@verify or @share or @oidc"];
    let (code, results) =
        common::run_with_profile(ProviderConfig::embedded(), source_ip, &args).await;
    assert_eq!(code, 0, "failures:\n{}", common::all_failures(&results));
    assert!(results["summary"]["passed"].as_u64().unwrap_or(0) >= 8);
}

#[tokio::test]
async fn a_profile_without_non_network_login_skips_that_scenario_never_passes_it() {
    let without_login = |url: &str| {
        common::profile_text(url, "private_key_jwt").replace(
            "[non_network_login]\nauthorize_params = { login_hint = \"tel:+34600000001\", test_otp = \"246810\" }\n",
            "",
        )
    };
    let args = ["--tags", "@auth_403_not_network_verify"];
    let (code, results) =
        common::run_with_profile(ProviderConfig::embedded(), without_login, &args).await;
    assert_eq!(code, 0, "a skipped scenario does not fail the run");
    let skipped = common::scenarios_with_status(&results, "skipped");
    assert_eq!(skipped.len(), 1, "{results:#}");
    assert!(
        skipped[0]["skip_reason"]
            .as_str()
            .unwrap_or("")
            .contains("non_network_login"),
        "{results:#}"
    );
}

#[tokio::test]
async fn every_version_passes_complete_against_the_reference_provider() {
    use futures::StreamExt as _;
    let runs: Vec<(String, u8, serde_json::Value)> =
        futures::stream::iter(nvcert::provider::SpecVersion::ALL.iter().copied())
            .map(|version| async move {
                let version = version.to_string();
                let dir = tempfile::tempdir().expect("tempdir");
                let (code, results) =
                    common::run_suite(dir.path(), &["--spec-version", &version]).await;
                (version, code, results)
            })
            .buffered(4)
            .collect()
            .await;
    assert_eq!(runs.len(), 10, "every NV version from 0.3.1 to wip");
    for (version, code, results) in runs {
        let summary = &results["summary"];
        assert_eq!(
            (
                code,
                &summary["failed"],
                &summary["skipped"],
                &summary["errored"]
            ),
            (0, &0.into(), &0.into(), &0.into()),
            "{version}: {}\n{summary}",
            common::all_failures(&results)
        );
        assert_eq!(results["verdict"], "passed", "{version}");
        assert_eq!(results["target"]["spec_version"], version.as_str());
        assert!(
            summary["passed"].as_u64().unwrap_or(0) >= 50,
            "{version}: {summary}"
        );
    }
}

/// "purpose: METHOD /path → status" for a recorded exchange (no host, no query).
fn exchange_summary(e: &serde_json::Value) -> serde_json::Value {
    let url = e["url"].as_str().unwrap_or("");
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    let path = path.split('?').next().unwrap_or(path);
    let status = e["status"]
        .as_u64()
        .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
    serde_json::Value::String(format!(
        "{}: {} {path} → {status}",
        e["purpose"].as_str().unwrap_or(""),
        e["method"].as_str().unwrap_or("")
    ))
}

#[tokio::test]
async fn the_ciba_poll_waits_out_authorization_pending() {
    // A provider waiting for someone's consent answers the first poll on time
    // authorization_pending: nvcert polls again after the interval and gets the tokens.
    let mut config = ProviderConfig::embedded();
    config.ciba_pending_polls = 1;
    let args = ["--tags", "@ciba_operator_token or @ciba_early_poll"];
    let (code, results) = common::run_against(config, &args).await;
    assert_eq!(code, 0, "failures:\n{}", common::all_failures(&results));
    assert_eq!(results["summary"]["passed"], 2, "{results:#}");
    let ciba = common::scenarios_with_status(&results, "passed")
        .into_iter()
        .find(|s| s["tags"].to_string().contains("ciba_operator_token"))
        .expect("the CIBA scenario ran");
    let polls: Vec<(u64, String)> = ciba["exchanges"]
        .as_array()
        .expect("exchanges")
        .iter()
        .filter(|e| e["purpose"] == "token endpoint (CIBA poll)")
        .map(|e| {
            let status = e["status"].as_u64().unwrap_or(0);
            (status, e["response_body"]["text"].to_string())
        })
        .collect();
    assert_eq!(polls.len(), 2, "{polls:?}");
    assert!(polls[0].1.contains("authorization_pending"), "{polls:?}");
    assert_eq!(polls[1].0, 200, "{polls:?}");
}
