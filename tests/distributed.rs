//! Distributed load: the Kubernetes manifests in deploy/kubernetes validate (against a schema
//! of the Job and PersistentVolumeClaim fields they use, written for these tests; the full
//! published schema is checked by scripts/validate-deploy.sh) and keep their invariants; three
//! worker processes started with the arguments and environment the Indexed Job gives its pods,
//! merged, count what one run with three times the users counts, with the percentiles of all
//! their samples.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn manifest(name: &str) -> Value {
    let text = std::fs::read_to_string(repo().join("deploy/kubernetes").join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"))
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo().join("tests/schemas/kubernetes-job.schema.json"))
        .expect("schema");
    jsonschema::validator_for(&serde_json::from_str(&text).expect("schema is JSON"))
        .expect("schema compiles")
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// The value following `flag` in `args`.
fn flag<'a>(args: &'a [String], flag: &str) -> &'a str {
    let i = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("{flag} missing from {args:?}"));
    &args[i + 1]
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

#[test]
fn the_manifests_validate_and_keep_their_invariants() {
    let v = validator();
    let mut files: Vec<_> = std::fs::read_dir(repo().join("deploy/kubernetes"))
        .expect("deploy/kubernetes")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["load-job.yaml", "merge-job.yaml", "reports-pvc.yaml"]
    );
    for name in &files {
        let doc = manifest(name);
        assert!(
            errors(&v, &doc).is_empty(),
            "{name}: {:#?}",
            errors(&v, &doc)
        );
    }

    let job = manifest("load-job.yaml");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let n = spec["completions"].as_u64().expect("completions");
    assert_eq!(
        spec["parallelism"].as_u64(),
        Some(n),
        "parallelism = completions"
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let container = &pod["containers"][0];
    let args = strings(&container["args"]);
    assert_eq!(args[0], "load");
    assert_eq!(
        flag(&args, "--workers"),
        n.to_string(),
        "--workers = completions"
    );
    assert_eq!(flag(&args, "--worker-index"), "$(JOB_COMPLETION_INDEX)");
    assert!(flag(&args, "--report-dir").contains("$(JOB_COMPLETION_INDEX)"));
    assert!(flag(&args, "--start-at").starts_with("$("));
    // The report directory is on the shared volume the merge reads.
    let mounts = container["volumeMounts"].as_array().unwrap();
    let reports = mounts.iter().find(|m| m["name"] == "reports").unwrap();
    assert!(flag(&args, "--report-dir").starts_with(reports["mountPath"].as_str().unwrap()));

    let merge = manifest("merge-job.yaml");
    let merge_pod = &merge["spec"]["template"]["spec"];
    let merge_args = strings(&merge_pod["containers"][0]["args"]);
    assert_eq!(&merge_args[..2], ["load", "merge"]);
    let dirs: Vec<&String> = merge_args
        .iter()
        .filter(|a| a.starts_with("/reports/worker-"))
        .collect();
    let expected: Vec<String> = (0..n).map(|i| format!("/reports/worker-{i}")).collect();
    assert_eq!(
        dirs,
        expected.iter().collect::<Vec<_>>(),
        "one directory per worker"
    );
    assert_eq!(
        merge_pod["volumes"][0]["persistentVolumeClaim"]["claimName"],
        pod["volumes"][0]["persistentVolumeClaim"]["claimName"]
    );
}

/// One way to break a manifest.
type Breakage = fn(&mut Value);

#[test]
fn the_schema_refuses_broken_manifests() {
    let v = validator();
    let job = manifest("load-job.yaml");
    let breakages: [(&str, Breakage); 5] = [
        ("completionMode", |j| j["spec"]["completionMode"] = 7.into()),
        ("restartPolicy Always", |j| {
            j["spec"]["template"]["spec"]["restartPolicy"] = "Always".into()
        }),
        ("misspelt field", |j| {
            let spec = j["spec"].as_object_mut().unwrap();
            let value = spec.remove("parallelism").unwrap();
            spec.insert("paralelism".into(), value);
        }),
        ("no image", |j| {
            j["spec"]["template"]["spec"]["containers"][0]
                .as_object_mut()
                .unwrap()
                .remove("image");
        }),
        ("wrong kind", |j| j["kind"] = "Deployment".into()),
    ];
    for (what, breakage) in breakages {
        let mut broken = job.clone();
        breakage(&mut broken);
        assert!(!v.is_valid(&broken), "{what} accepted");
    }
}

/// `$(NAME)` expanded from `env`, as the kubelet does for a container's args.
fn expand(arg: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = arg.to_owned();
    for (name, value) in env {
        out = out.replace(&format!("$({name})"), value);
    }
    assert!(!out.contains("$("), "unexpanded variable in {arg:?}");
    out
}

fn summary(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("load-summary.json"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    serde_json::from_str(&text).expect("JSON")
}

fn verify_row(summary: &Value) -> &Value {
    summary["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "verify")
        .expect("verify row")
}

async fn nvcert(args: &[String], env: &BTreeMap<String, String>) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_nvcert"))
        .args(args)
        .envs(env)
        .output()
        .await
        .expect("run nvcert")
}

/// Three workers as the Indexed Job runs them (its args, JOB_COMPLETION_INDEX 0..2, one start
/// time), merged, against one run with the same total users over the same window (started
/// together). The provider answers /verify after 100 ms, so the rate is set by latency rather
/// than by this busy 2-core machine, and the two can be compared within 2%.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_job_workers_merged_count_what_one_run_with_all_users_counts() {
    const USERS: &str = "15";
    const RUN_TIME: &str = "4s";
    let config = nvcert::provider::ProviderConfig::embedded()
        .with_faults([nvcert::provider::Fault::ApiDelay100ms]);
    let handle = nvcert::provider::spawn(config, ([127, 0, 0, 1], 0).into(), None)
        .await
        .expect("provider");
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = common::write_profile(
        dir.path(),
        &common::profile_text(handle.issuer(), "private_key_jwt"),
    );
    let reports = dir.path().join("reports");

    let job = manifest("load-job.yaml");
    let n = job["spec"]["completions"].as_u64().unwrap() as usize;
    assert_eq!(n, 3, "the test runs the manifest's 3 workers");
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let start_at =
        chrono::DateTime::<chrono::Utc>::from(SystemTime::now() + Duration::from_secs(3))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut workers = Vec::new();
    for index in 0..n {
        // The pod's environment: the manifest's env (NVCERT_START_AT set, as the README says)
        // and what the Job controller adds in Indexed mode.
        let mut env: BTreeMap<String, String> = container["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap().to_owned(),
                    e["value"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        env.insert("NVCERT_START_AT".into(), start_at.clone());
        env.insert("JOB_COMPLETION_INDEX".into(), index.to_string());
        let mut args: Vec<String> = strings(&container["args"])
            .iter()
            .map(|a| expand(a, &env))
            .collect();
        // Only the cluster's paths and the size of the run change here.
        for a in &mut args {
            if a == "/etc/nvcert/profile/profile.toml" {
                a.clone_from(&profile);
            } else if let Some(rest) = a.strip_prefix("/reports/") {
                *a = reports.join(rest).to_str().unwrap().to_owned();
            }
        }
        let at = |args: &[String], name: &str| args.iter().position(|a| a == name).unwrap() + 1;
        let i = at(&args, "--users");
        args[i] = USERS.into();
        let i = at(&args, "--run-time");
        args[i] = RUN_TIME.into();
        workers.push(async move { (index, nvcert(&args, &env).await) });
    }
    // The single run starts at the same moment, so both measure the same window of this
    // shared machine.
    let single_dir = dir.path().join("single");
    let single_args: Vec<String> = [
        "load",
        "--provider",
        &profile,
        "--scenario",
        "verify",
        "--users",
        USERS,
        "--run-time",
        RUN_TIME,
        "--start-at",
        &start_at,
        "--quiet",
        "--report-dir",
        single_dir.to_str().unwrap(),
    ]
    .map(str::to_owned)
    .to_vec();
    let no_env = BTreeMap::new();
    let (outputs, single_out) = tokio::join!(
        futures::future::join_all(workers),
        nvcert(&single_args, &no_env)
    );
    assert_eq!(
        single_out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&single_out.stderr)
    );
    let single = summary(&single_dir);
    for (index, out) in &outputs {
        assert_eq!(
            out.status.code(),
            Some(0),
            "worker {index}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let merged_dir = dir.path().join("merged");
    let mut merge_args: Vec<String> = vec!["load".into(), "merge".into()];
    merge_args.extend((0..n).map(|i| reports.join(format!("worker-{i}")).display().to_string()));
    merge_args.extend(["--report-dir".into(), merged_dir.display().to_string()]);
    let out = nvcert(&merge_args, &BTreeMap::new()).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged = summary(&merged_dir);
    handle.shutdown().await.expect("provider stopped cleanly");

    // The merged summary: every worker, its window, all users.
    assert_eq!(merged["users"], 15);
    let listed = merged["workers"].as_array().expect("workers");
    assert_eq!(listed.len(), n);
    for (i, w) in listed.iter().enumerate() {
        assert_eq!(w["index"], i);
        assert_eq!(w["users"], 5);
        assert!(w["window"]["start"].is_string(), "{w}");
    }
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("specs/load-summary.schema.json")).unwrap(),
    )
    .unwrap();
    let summary_validator = jsonschema::validator_for(&schema).unwrap();
    assert!(
        errors(&summary_validator, &merged).is_empty(),
        "{:#?}",
        errors(&summary_validator, &merged)
    );
    // Each worker measured its share, from the common start.
    for i in 0..n {
        let w = summary(&reports.join(format!("worker-{i}")));
        assert_eq!(w["worker"]["index"], i);
        assert_eq!(w["users"], 5);
    }

    let (m, s) = (verify_row(&merged), verify_row(&single));
    let (mr, sr) = (
        m["requests"].as_u64().unwrap() as f64,
        s["requests"].as_u64().unwrap() as f64,
    );
    assert!(sr > 300.0, "single run too small to compare: {s}");
    assert!(
        (mr - sr).abs() / sr <= 0.02,
        "merged {mr} requests vs one run's {sr}: more than 2% apart\nmerged: {merged:#}\nsingle: {single:#}"
    );
    assert_eq!(m["failures"], 0);

    // The merged percentiles are those of one histogram of every worker's samples, added here
    // from the workers' own files.
    let mut all = hdrhistogram::Histogram::<u64>::new(3).unwrap();
    for i in 0..n {
        let text =
            std::fs::read_to_string(reports.join(format!("worker-{i}/load-histograms.json")))
                .unwrap();
        let record: Value = serde_json::from_str(&text).unwrap();
        let t = record["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "verify")
            .unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(t["histogram_v2"].as_str().unwrap())
            .unwrap();
        let h: hdrhistogram::Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
            .deserialize(&mut &bytes[..])
            .unwrap();
        assert_eq!(h.len(), t["requests"].as_u64().unwrap());
        all.add(&h).unwrap();
    }
    assert_eq!(all.len() as f64, mr);
    for (field, q) in [("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)] {
        let ms = (all.value_at_quantile(q) as f64 / 1e6 * 1000.0).round() / 1000.0;
        assert_eq!(m[field].as_f64(), Some(ms), "{field}");
    }
    // The API answers after 100 ms: the median shows it.
    assert!(m["p50_ms"].as_f64().unwrap() >= 100.0, "{m}");
}

#[tokio::test]
async fn merging_needs_every_worker_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, index: usize| {
        let d = dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        let record = serde_json::json!({
            "format": "nvcert-load-histograms/1", "scenario": "verify", "provider": "p",
            "users": 1, "run_time_s": 1, "worker": {"index": index, "workers": 3},
            "window": null, "duration_s": 0.001, "interrupted": false, "transactions": []
        });
        std::fs::write(d.join("load-histograms.json"), record.to_string()).unwrap();
        d.display().to_string()
    };
    let (a, b, c) = (write("a", 0), write("b", 2), write("c", 2));
    let out_dir = dir.path().join("out");
    let out = out_dir.to_str().unwrap();
    for (dirs, expected) in [
        (vec![a.clone(), b.clone()], "missing worker 1"),
        (vec![a.clone(), b, c], "worker 2 appears twice"),
        (
            vec![a, dir.path().join("nothing").display().to_string()],
            "load-histograms.json",
        ),
    ] {
        let mut args: Vec<String> = vec!["load".into(), "merge".into()];
        args.extend(dirs);
        args.extend(["--report-dir".into(), out.into()]);
        let result = nvcert(&args, &BTreeMap::new()).await;
        assert_eq!(result.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
    assert!(!out_dir.join("load-summary.json").exists());
}

/// A worker refuses what would make the run wrong, before sending load: a threshold (only the
/// merge judges), fewer users than workers, an index outside the run, a start already past.
#[tokio::test]
async fn a_worker_refuses_what_would_make_the_run_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().to_str().unwrap().to_owned();
    let base = |users: &str, extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "load",
            "--quiet",
            "--scenario",
            "verify",
            "--run-time",
            "1s",
            "--report-dir",
        ]
        .map(str::to_owned)
        .to_vec();
        args.push(report.clone());
        args.extend(["--users".to_owned(), users.to_owned()]);
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    for (args, expected) in [
        (
            base(
                "4",
                &[
                    "--workers",
                    "2",
                    "--worker-index",
                    "0",
                    "--threshold",
                    "errors<1%",
                ],
            ),
            "a worker judges no threshold",
        ),
        (
            base("2", &["--workers", "3", "--worker-index", "0"]),
            "cannot be shared by 3 workers",
        ),
        (
            base("4", &["--workers", "2", "--worker-index", "2"]),
            "found index 2 of 2",
        ),
        (base("4", &["--start-at", "2020-01-01T00:00:00Z"]), "passed"),
    ] {
        let out = nvcert(&args, &BTreeMap::new()).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!dir.path().join("load-summary.json").exists(), "{args:?}");
    }
}
