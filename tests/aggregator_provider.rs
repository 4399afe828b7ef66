//! The aggregator of `nvcert serve --aggregator`, in process, driven with plain HTTP: the device
//! leg from the lines' loopback addresses (127.0.0.2 → operator A, 127.0.0.3 → operator B), the
//! app's token request and API calls. These test the PROVIDER side (does the chain work, does
//! each fault do what its name says); the conformance checks are in tests/aggregator.rs.
//!
//! All keys, secrets and numbers are the TEST-ONLY fixtures.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::provider::{BOTH_SCOPE, REDIRECT, demo_secret};
use nvcert::provider::SpecVersion;
use nvcert::provider::aggregator::{self, AggregatorConfig, AggregatorFault, AggregatorHandle};
use reqwest::StatusCode;
use serde_json::Value;

const PURPOSE_V0: &str = "dpv:FraudPreventionAndDetection#number-verification-verify-read";
const LINE_A: &str = "+34600000002";
const LINE_B: &str = "+34700000003";
const DEVICE_A: [u8; 4] = [127, 0, 0, 2];
const DEVICE_B: [u8; 4] = [127, 0, 0, 3];

/// An HTTP client whose requests leave from `ip` (a line's device address, or the app's).
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::V4(Ipv4Addr::from(ip)))
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

async fn start(version: SpecVersion, faults: &[AggregatorFault]) -> AggregatorHandle {
    let config = AggregatorConfig::embedded()
        .with_spec_version(version)
        .with_faults(faults.iter().copied());
    aggregator::spawn(config, "127.0.0.1:0".parse().expect("addr"), None)
        .await
        .expect("aggregator starts")
}

fn v0(h: &AggregatorHandle) -> bool {
    h.api_endpoint("").ends_with("/v0")
}

/// The app's authorization request for this mode, with `state`.
fn authorize_url(h: &AggregatorHandle, state: &str) -> String {
    let mut url = url::Url::parse(&h.endpoint("/authorize")).expect("url");
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", "nvcert-demo")
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("state", state);
        if v0(h) {
            q.append_pair("purpose", PURPOSE_V0);
        } else {
            q.append_pair("scope", BOTH_SCOPE);
        }
    }
    url.into()
}

/// The device leg: follows redirects from `start` (from `device`) until one leaves for the
/// app's redirect URI; returns the hops' URLs, the last being the app's.
async fn device_leg(device: [u8; 4], start: &str) -> Vec<url::Url> {
    device_leg_with(device, start, &[]).await
}

/// [`device_leg`], sending `headers` on every hop (as a device behind header enrichment).
async fn device_leg_with(device: [u8; 4], start: &str, headers: &[(&str, &str)]) -> Vec<url::Url> {
    let client = client_from(device);
    let mut hops = vec![url::Url::parse(start).expect("url")];
    for _ in 0..6 {
        let at = hops.last().expect("hop").clone();
        let mut request = client.get(at.as_str());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = request.send().await.expect("device hop");
        assert_eq!(answer.status(), StatusCode::FOUND, "hop {at}");
        let location = answer
            .headers()
            .get("location")
            .expect("location")
            .to_str()
            .expect("ascii");
        let next = url::Url::parse(location).expect("absolute location");
        let done = next.as_str().starts_with(REDIRECT);
        hops.push(next);
        if done {
            return hops;
        }
    }
    panic!("the device leg did not reach the app: {hops:?}");
}

fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The app's token request for this mode (v0: HTTP Basic, grant_type and code only).
async fn token(h: &AggregatorHandle, code: &str) -> (StatusCode, Value) {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code)];
    if !v0(h) {
        form.push(("redirect_uri", REDIRECT));
    }
    let answer = client_from([127, 0, 0, 1])
        .post(h.endpoint("/token"))
        .basic_auth("nvcert-demo", Some(demo_secret()))
        .form(&form)
        .send()
        .await
        .expect("token request");
    let status = answer.status();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// Device leg + token: the aggregator token for `device`'s line.
async fn aggregator_token(h: &AggregatorHandle, device: [u8; 4]) -> String {
    let hops = device_leg(device, &authorize_url(h, "st-1")).await;
    let code = param(hops.last().expect("app"), "code").expect("code");
    let (status, body) = token(h, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().expect("token").to_owned()
}

/// `POST {api_root}/verify` with `number`; (status, x-correlator, body).
async fn verify_at(
    api_root: &str,
    bearer: &str,
    number: &str,
) -> (StatusCode, Option<String>, Value) {
    let answer = client_from([127, 0, 0, 1])
        .post(format!("{api_root}/verify"))
        .bearer_auth(bearer)
        .header("x-correlator", "corr-42")
        .json(&serde_json::json!({ "phoneNumber": number }))
        .send()
        .await
        .expect("verify");
    let status = answer.status();
    let correlator = answer
        .headers()
        .get("x-correlator")
        .map(|v| v.to_str().expect("ascii").to_owned());
    (
        status,
        correlator,
        answer.json().await.unwrap_or(Value::Null),
    )
}

async fn verify(
    h: &AggregatorHandle,
    bearer: &str,
    number: &str,
) -> (StatusCode, Option<String>, Value) {
    verify_at(&h.api_endpoint(""), bearer, number).await
}

#[tokio::test]
async fn both_lines_verify_through_the_right_operator_in_both_modes() {
    for version in [SpecVersion::V2_1_0, SpecVersion::V0_3_1] {
        let h = start(version, &[]).await;
        for (device, own, other, operator) in
            [(DEVICE_A, LINE_A, LINE_B, 0), (DEVICE_B, LINE_B, LINE_A, 1)]
        {
            let case = format!("{version} device {device:?}");
            let hops = device_leg(device, &authorize_url(&h, "app-state/é?&=")).await;
            // aggregator → operator → aggregator callback → app.
            let hosts: Vec<String> = hops
                .iter()
                .map(|u| format!("{}:{}", u.host_str().unwrap_or(""), u.port().unwrap_or(0)))
                .collect();
            let agg = format!("127.0.0.1:{}", h.local_addr.port());
            let op = url::Url::parse(&h.operators[operator].url).expect("operator url");
            let op = format!(
                "{}:{}",
                op.host_str().expect("host"),
                op.port().expect("port")
            );
            assert_eq!(hosts[..3], [agg.clone(), op, agg], "{case}: {hops:?}");
            let app = hops.last().expect("app");
            assert_eq!(
                param(app, "state").as_deref(),
                Some("app-state/é?&="),
                "{case}"
            );
            assert_eq!(param(app, "iss").as_deref(), Some(h.issuer()), "{case}");
            let code = param(app, "code").expect("code");
            let (status, body) = token(&h, &code).await;
            assert_eq!(status, StatusCode::OK, "{case}: {body}");
            assert_eq!(body["token_type"], "Bearer", "{case}");
            let expires_in = body["expires_in"].as_u64().expect("expires_in");
            assert!((1..=300).contains(&expires_in), "{case}: {expires_in}");
            let t = body["access_token"].as_str().expect("token");
            assert!(
                !t.contains('.') && t.len() >= 43,
                "{case}: opaque, 256 bits: {t}"
            );

            let (status, correlator, answer) = verify(&h, t, own).await;
            assert_eq!(status, StatusCode::OK, "{case}: {answer}");
            assert_eq!(answer["devicePhoneNumberVerified"], true, "{case}");
            assert_eq!(correlator.as_deref(), Some("corr-42"), "{case}");
            let (_, _, answer) = verify(&h, t, other).await;
            assert_eq!(answer["devicePhoneNumberVerified"], false, "{case}");
            if version == SpecVersion::V2_1_0 {
                let answer: Value = client_from([127, 0, 0, 1])
                    .get(h.api_endpoint("/device-phone-number"))
                    .bearer_auth(t)
                    .send()
                    .await
                    .expect("share")
                    .json()
                    .await
                    .expect("json");
                assert_eq!(answer["devicePhoneNumber"], own, "{case}");
            }
        }
        h.shutdown().await.expect("clean stop");
    }
}

#[tokio::test]
async fn v0_mode_speaks_the_sample() {
    let h = start(SpecVersion::V0_3_1, &[]).await;
    assert!(
        h.api_endpoint("/verify")
            .ends_with("/number-verification/v0/verify")
    );
    // A sample-style state (the sample puts the phone number there) survives.
    let hops = device_leg(DEVICE_A, &authorize_url(&h, LINE_A)).await;
    let app = hops.last().expect("app");
    assert_eq!(param(app, "state").as_deref(), Some(LINE_A));
    // The operator was asked with the purpose's v0 scope.
    let scope = param(&hops[1], "scope").expect("scope at the operator");
    assert!(scope.contains("number-verification-verify-read"), "{scope}");
    // A redirect_uri that is sent must still match.
    let code = param(app, "code").expect("code");
    let answer = client_from([127, 0, 0, 1])
        .post(h.endpoint("/token"))
        .basic_auth("nvcert-demo", Some(demo_secret()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "https://elsewhere.invalid/cb"),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn camara_mode_still_requires_redirect_uri_at_token() {
    let h = start(SpecVersion::V2_1_0, &[]).await;
    let hops = device_leg(DEVICE_A, &authorize_url(&h, "s")).await;
    let code = param(hops.last().expect("app"), "code").expect("code");
    let answer: Value = client_from([127, 0, 0, 1])
        .post(h.endpoint("/token"))
        .basic_auth("nvcert-demo", Some(demo_secret()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["error"], "invalid_request", "{answer}");
}

#[tokio::test]
async fn unknown_device_gets_the_documented_access_denied_redirect() {
    let h = start(SpecVersion::V2_1_0, &[]).await;
    let answer = client_from([127, 0, 0, 4])
        .get(authorize_url(&h, "s-unknown"))
        .send()
        .await
        .expect("authorize");
    assert_eq!(answer.status(), StatusCode::FOUND);
    let location =
        url::Url::parse(answer.headers()["location"].to_str().expect("ascii")).expect("url");
    assert!(location.as_str().starts_with(REDIRECT), "{location}");
    assert_eq!(param(&location, "error").as_deref(), Some("access_denied"));
    assert!(
        param(&location, "error_description").is_some_and(|d| d.contains("no operator found")),
        "{location}"
    );
    assert_eq!(param(&location, "state").as_deref(), Some("s-unknown"));
}

#[tokio::test]
async fn refusals_of_foreign_codes_and_tokens() {
    let h = start(SpecVersion::V2_1_0, &[]).await;
    let t = aggregator_token(&h, DEVICE_A).await;
    // The aggregator token means nothing to the operator.
    let (status, _, body) = verify_at(&h.operators[0].api_root, &t, LINE_A).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // An operator code and an operator token mean nothing to the aggregator.
    let (op_code, op_token) = operator_code_and_token(&h, 0).await;
    let (status, body) = token(&h, &op_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, _, body) = verify(&h, &op_token, LINE_A).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "UNAUTHENTICATED");
    // Nor does the aggregator token reveal what it stands for.
    assert!(!t.contains(&op_token) && !t.contains(LINE_A) && !t.contains("34600000002"));
}

/// A code and (from another flow) a token obtained at operator `index` directly as nvcert-demo,
/// from that operator's device address.
async fn operator_code_and_token(h: &AggregatorHandle, index: usize) -> (String, String) {
    let op = &h.operators[index];
    let device = match op.device_address {
        IpAddr::V4(v4) => v4.octets(),
        IpAddr::V6(_) => unreachable!("loopback v4"),
    };
    let mut codes = Vec::new();
    for state in ["direct-1", "direct-2"] {
        let mut url = url::Url::parse(&format!("{}/authorize", op.url)).expect("url");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", "nvcert-demo")
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("scope", BOTH_SCOPE)
            .append_pair("state", state);
        let hops = device_leg(device, url.as_str()).await;
        codes.push(param(hops.last().expect("app"), "code").expect("operator code"));
    }
    let answer: Value = client_from([127, 0, 0, 1])
        .post(format!("{}/token", op.url))
        .basic_auth("nvcert-demo", Some(demo_secret()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", codes[1].as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .expect("operator token")
        .json()
        .await
        .expect("json");
    let token = answer["access_token"].as_str().expect("token").to_owned();
    (codes.swap_remove(0), token)
}

/// The JSON payload of a JWS, if `token` is one.
fn jws_payload(token: &str) -> Option<Value> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return None;
    }
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).ok()?).ok()
}

/// Each fault's observable effect, against the same observation made on the conformant
/// aggregator (so every row can tell the two apart).
#[tokio::test]
async fn each_fault_has_its_observable_effect() {
    /// What a row observes on an aggregator; `true` means "behaves conformantly".
    async fn conformant(h: &AggregatorHandle, fault: AggregatorFault) -> bool {
        match fault {
            AggregatorFault::RoutesWrongOperator => {
                // Device A's leg must reach operator A (B does not know 127.0.0.2).
                let hops = device_leg(DEVICE_A, &authorize_url(h, "s")).await;
                hops[1].as_str().starts_with(&h.operators[0].url)
            }
            AggregatorFault::LeaksOperatorToken => {
                let t = aggregator_token(h, DEVICE_A).await;
                jws_payload(&t).is_none()
            }
            AggregatorFault::DropsState => {
                let hops = device_leg(DEVICE_A, &authorize_url(h, "the-apps-state")).await;
                param(hops.last().expect("app"), "state").as_deref() == Some("the-apps-state")
            }
            AggregatorFault::PassesTokenThrough => {
                let t = aggregator_token(h, DEVICE_A).await;
                verify(h, &t, LINE_A).await.0 == StatusCode::OK
            }
            AggregatorFault::AcceptsOperatorCode => {
                let (op_code, _) = operator_code_and_token(h, 0).await;
                token(h, &op_code).await.0 == StatusCode::BAD_REQUEST
            }
            AggregatorFault::AcceptsOperatorToken => {
                let (_, op_token) = operator_code_and_token(h, 0).await;
                verify(h, &op_token, LINE_A).await.0 == StatusCode::UNAUTHORIZED
            }
            AggregatorFault::DropsCorrelator => {
                let t = aggregator_token(h, DEVICE_A).await;
                verify(h, &t, LINE_A).await.1.as_deref() == Some("corr-42")
            }
            AggregatorFault::RewrapsErrors => {
                // An operator error (400, malformed number) must come back as CAMARA ErrorInfo.
                let t = aggregator_token(h, DEVICE_A).await;
                let (status, _, body) = verify(h, &t, "not-a-number").await;
                status == StatusCode::BAD_REQUEST && body["code"] == "INVALID_ARGUMENT"
            }
            AggregatorFault::UnknownDevice500 => {
                let answer = client_from([127, 0, 0, 4])
                    .get(authorize_url(h, "s"))
                    .send()
                    .await
                    .expect("authorize");
                answer.status() == StatusCode::FOUND
            }
        }
    }
    let healthy = start(SpecVersion::V2_1_0, &[]).await;
    for fault in AggregatorFault::ALL {
        assert!(
            conformant(&healthy, *fault).await,
            "{fault}: the conformant aggregator must pass this row"
        );
        let broken = start(SpecVersion::V2_1_0, &[*fault]).await;
        assert!(
            !conformant(&broken, *fault).await,
            "{fault}: the fault must be observable"
        );
    }
}

#[tokio::test]
async fn leaky_token_carries_the_operator_token_and_the_number() {
    let h = start(SpecVersion::V2_1_0, &[AggregatorFault::LeaksOperatorToken]).await;
    let t = aggregator_token(&h, DEVICE_B).await;
    let payload = jws_payload(&t).expect("a JWS under the fault");
    assert_eq!(payload["msisdn"], LINE_B);
    assert!(
        payload["operator_token"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    // ... and it still works as an aggregator token.
    assert_eq!(
        verify(&h, &t, LINE_B).await.2["devicePhoneNumberVerified"],
        true
    );
}

#[tokio::test]
async fn an_operator_down_gets_bounded_documented_answers() {
    let mut h = start(SpecVersion::V2_1_0, &[]).await;
    let t = aggregator_token(&h, DEVICE_A).await;
    h.stop_operator(0).await.expect("operator A stops");
    // API: 503 UNAVAILABLE from the aggregator itself, at once.
    let started = Instant::now();
    let (status, correlator, body) = verify(&h, &t, LINE_A).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "UNAVAILABLE");
    assert_eq!(correlator.as_deref(), Some("corr-42"));
    assert!(started.elapsed() < Duration::from_secs(4));
    // Device leg: the aggregator still sends the device to A (it cannot know A is down); B's
    // line is unaffected.
    let hops = device_leg(DEVICE_B, &authorize_url(&h, "s")).await;
    assert!(param(hops.last().expect("app"), "code").is_some());
}

#[tokio::test]
async fn a_hanging_operator_is_cut_off_by_the_upstream_timeout() {
    let mut config = AggregatorConfig::embedded();
    config.upstream_timeout = Duration::from_secs(1);
    let mut h = aggregator::spawn(config, "127.0.0.1:0".parse().expect("addr"), None)
        .await
        .expect("aggregator starts");
    let t = aggregator_token(&h, DEVICE_A).await;
    let hops_to_operator = {
        // Get A's redirect to its callback first, then replace A by a listener that never
        // answers: the callback's code exchange must give up after the timeout.
        let client = client_from(DEVICE_A);
        let first = client
            .get(authorize_url(&h, "s-hang"))
            .send()
            .await
            .expect("authorize");
        let to_operator = first.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let back = client.get(&to_operator).send().await.expect("operator");
        back.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_owned()
    };
    let op_addr: SocketAddr = {
        let u = url::Url::parse(&h.operators[0].url).expect("url");
        format!(
            "{}:{}",
            u.host_str().expect("host"),
            u.port().expect("port")
        )
        .parse()
        .expect("addr")
    };
    h.stop_operator(0).await.expect("stop A");
    let silent = tokio::net::TcpListener::bind(op_addr)
        .await
        .expect("rebind A's address");
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let started = Instant::now();
    let answer = client_from(DEVICE_A)
        .get(&hops_to_operator)
        .send()
        .await
        .expect("callback");
    let elapsed = started.elapsed();
    // The API call for A's line: 504 TIMEOUT from the aggregator, after the same bound.
    let api_started = Instant::now();
    let (status, correlator, body) = verify(&h, &t, LINE_A).await;
    let api_elapsed = api_started.elapsed();
    hold.abort();
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(body["code"], "TIMEOUT");
    assert_eq!(correlator.as_deref(), Some("corr-42"));
    assert!(
        api_elapsed >= Duration::from_millis(900) && api_elapsed < Duration::from_secs(4),
        "{api_elapsed:?}"
    );
    assert_eq!(answer.status(), StatusCode::FOUND);
    let location =
        url::Url::parse(answer.headers()["location"].to_str().expect("ascii")).expect("url");
    assert!(location.as_str().starts_with(REDIRECT), "{location}");
    assert_eq!(
        param(&location, "error").as_deref(),
        Some("temporarily_unavailable")
    );
    assert_eq!(param(&location, "state").as_deref(), Some("s-hang"));
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(4),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn discovery_describes_the_aggregator_and_no_ciba() {
    let h = start(SpecVersion::V2_1_0, &[]).await;
    let d: Value = client_from([127, 0, 0, 1])
        .get(h.endpoint("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(d["issuer"], h.issuer());
    assert_eq!(d["authorization_endpoint"], h.endpoint("/authorize"));
    assert_eq!(
        d["grant_types_supported"],
        serde_json::json!(["authorization_code"])
    );
    assert!(d.get("backchannel_authentication_endpoint").is_none());
}

/// `nvcert serve --aggregator`: one machine-readable ready line naming the aggregator and both
/// operators, all reachable; Ctrl-C (SIGINT) stops everything with exit code 0.
#[tokio::test]
async fn serve_aggregator_prints_a_ready_line_and_stops_on_sigint() {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_nvcert"))
        .args(["serve", "--aggregator", "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start nvcert serve --aggregator");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("a line within 20 s")
        .expect("readable")
        .expect("a first line");
    assert!(
        line.starts_with("ready: nvcert aggregator on http://127.0.0.1:"),
        "{line}"
    );
    let issuer = line
        .strip_prefix("ready: nvcert aggregator on ")
        .and_then(|rest| rest.split(' ').next())
        .expect("aggregator URL");
    for (name, host, device) in [
        ("A", "127.0.0.11", "127.0.0.2"),
        ("B", "127.0.0.12", "127.0.0.3"),
    ] {
        let marker = format!("{name}=http://{host}:");
        let at = line
            .find(&marker)
            .unwrap_or_else(|| panic!("{marker} in {line}"));
        let url = line[at + 2..].split(' ').next().expect("operator URL");
        assert!(
            line[at..].contains(&format!("(device {device} = ")),
            "{line}"
        );
        let d = client_from([127, 0, 0, 1])
            .get(format!("{url}/.well-known/openid-configuration"))
            .send()
            .await
            .expect("operator answers");
        assert_eq!(d.status(), StatusCode::OK, "{url}");
    }
    let d = client_from([127, 0, 0, 1])
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .expect("aggregator answers");
    assert_eq!(d.status(), StatusCode::OK);
    let pid = child.id().expect("running").to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill -INT");
    assert!(signalled.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("stops within 10 s")
        .expect("exit status");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn serve_aggregator_lists_its_faults_and_refuses_others() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_nvcert"))
            .args(args)
            .output()
            .expect("run nvcert")
    };
    let out = run(&["serve", "--aggregator", "--list-faults"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split('\t').next().expect("name"))
        .collect();
    let expected: Vec<&str> = AggregatorFault::ALL.iter().map(|f| f.name()).collect();
    assert_eq!(names, expected);
    // An NV provider fault is not an aggregator fault: refused before anything listens.
    let out = run(&[
        "serve",
        "--aggregator",
        "--addr",
        "127.0.0.1:0",
        "--fault",
        "state-not-returned",
    ]);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not an aggregator fault"), "{err}");
}

/// Without a known source address, the enrichment header's number routes (by prefix) and the
/// operator recognises the line by the same header; a `login_hint=tel:` with the TEST-ONLY OTP
/// reaches the operator too, whose "not network-authenticated" answer comes back unchanged.
#[tokio::test]
async fn header_enrichment_and_otp_login_reach_the_right_operator() {
    let h = start(SpecVersion::V2_1_0, &[]).await;
    for (number, operator) in [("+34600000001", 0), ("+34700000009", 1)] {
        let hops = device_leg_with(
            [127, 0, 0, 1],
            &authorize_url(&h, "s"),
            &[("x-nvcert-msisdn", number)],
        )
        .await;
        assert!(
            hops[1].as_str().starts_with(&h.operators[operator].url),
            "{hops:?}"
        );
        let code = param(hops.last().expect("app"), "code").expect("code");
        let (_, body) = token(&h, &code).await;
        let t = body["access_token"].as_str().expect("token");
        assert_eq!(
            verify(&h, t, number).await.2["devicePhoneNumberVerified"],
            true
        );
    }
    let mut url = url::Url::parse(&authorize_url(&h, "otp")).expect("url");
    url.query_pairs_mut()
        .append_pair("login_hint", "tel:+34600000005")
        .append_pair("test_otp", "246810");
    let hops = device_leg([127, 0, 0, 1], url.as_str()).await;
    assert_eq!(
        param(&hops[1], "login_hint").as_deref(),
        Some("tel:+34600000005")
    );
    let code = param(hops.last().expect("app"), "code").expect("code");
    let (_, body) = token(&h, &code).await;
    let id_token = body["id_token"].as_str().expect("id token");
    assert_eq!(
        jws_payload(id_token).expect("payload")["amr"],
        serde_json::json!(["sms", "otp"])
    );
    let t = body["access_token"].as_str().expect("token");
    let (status, _, answer) = verify(&h, t, "+34600000005").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(
        answer["code"],
        "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK"
    );
}
