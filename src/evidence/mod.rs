//! The evidence bundle (`nvcert run --evidence FILE.zip`) and its check (`nvcert evidence
//! verify`): a zip of the run's reports, the console text and a `manifest.json` saying what ran
//! (nvcert version, times, provider, spec and feature files by SHA-256, the command line without
//! secrets, the profile with secret references only) with the SHA-256 of every other file;
//! optionally `manifest.jws`, an ES256 signature over the manifest's SHA-256.
//!
//! It seals bytes the report writers already rendered and redacted; it runs nothing and judges
//! nothing. No I/O but the bundle's bytes in and out: the command line reads and writes files.

use std::io::{Cursor, Read as _, Write as _};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Name of the manifest inside the bundle.
pub const MANIFEST: &str = "manifest.json";
/// Name of the signature inside the bundle.
pub const SIGNATURE: &str = "manifest.jws";
/// Value of [`Manifest::format`].
pub const FORMAT: &str = "nvcert-evidence/1";

/// A file of the bundle and its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// Name inside the bundle (or path of a feature file as run).
    pub name: String,
    /// Lower-case hex SHA-256 of its bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

impl FileDigest {
    /// The digest of `bytes` under `name`.
    pub fn of(name: &str, bytes: &[u8]) -> Self {
        Self {
            name: name.to_owned(),
            sha256: sha256_hex(bytes),
            size: bytes.len() as u64,
        }
    }
}

/// The provider a run certified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderInfo {
    /// Profile name.
    pub name: String,
    /// Issuer URL.
    pub issuer: String,
    /// API base URL.
    pub api_base: String,
}

/// The spec document the provider was judged by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecInfo {
    /// `info.version`.
    pub version: String,
    /// Where the document came from (an embedded file name or a path).
    pub origin: String,
    /// SHA-256 of the document's text.
    pub sha256: String,
}

/// What ran and what the bundle holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// nvcert version that ran.
    pub nvcert_version: String,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// When the run ended (RFC 3339, UTC).
    pub finished_at: String,
    /// The provider certified.
    pub provider: ProviderInfo,
    /// The spec it was judged by.
    pub spec: SpecInfo,
    /// Rule sets enabled beyond the released spec.
    pub rule_sets: Vec<String>,
    /// Each feature file run, by path as given, with its SHA-256.
    pub features: Vec<FileDigest>,
    /// The command line, secrets removed.
    pub command_line: Vec<String>,
    /// The provider profile (TOML) with secret references only, or `None` for the embedded
    /// reference provider.
    pub profile: Option<String>,
    /// Whether the run succeeded (its exit code was 0).
    pub succeeded: bool,
    /// Every other file of the bundle, with its SHA-256.
    pub files: Vec<FileDigest>,
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What can go wrong building or reading a bundle.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// The bundle is not a zip nvcert can read, or has no readable manifest.
    #[error("unreadable evidence bundle: {0}")]
    Unreadable(String),
    /// The signing or verification key is not usable.
    #[error("key: {0}")]
    Key(String),
    /// Writing the zip failed.
    #[error("cannot build the evidence bundle: {0}")]
    Build(String),
}

/// The claims of `manifest.jws`.
#[derive(Debug, Serialize, Deserialize)]
struct SignedClaims {
    /// SHA-256 of `manifest.json` as stored in the bundle.
    manifest_sha256: String,
    /// When it was signed (seconds since the epoch).
    iat: i64,
}

/// Builds the bundle: `manifest` (its `files` filled in here from `files`), then each file;
/// with `signing_key` (an ES256 PKCS#8 PEM) also `manifest.jws`. Returns the zip's bytes.
pub fn build(
    mut manifest: Manifest,
    files: &[(&str, &[u8])],
    signing_key: Option<&[u8]>,
) -> Result<Vec<u8>, EvidenceError> {
    manifest.files = files.iter().map(|(n, b)| FileDigest::of(n, b)).collect();
    let mut manifest_bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| EvidenceError::Build(e.to_string()))?;
    manifest_bytes.push(b'\n');
    let signature = match signing_key {
        Some(pem) => {
            let key = EncodingKey::from_ec_pem(pem).map_err(|e| {
                EvidenceError::Key(format!("expected an ES256 PKCS#8 PEM private key: {e}"))
            })?;
            let claims = SignedClaims {
                manifest_sha256: sha256_hex(&manifest_bytes),
                iat: chrono::Utc::now().timestamp(),
            };
            let mut header = Header::new(Algorithm::ES256);
            header.typ = Some("nvcert-evidence+jwt".to_owned());
            Some(
                jsonwebtoken::encode(&header, &claims, &key)
                    .map_err(|e| EvidenceError::Key(format!("cannot sign: {e}")))?,
            )
        }
        None => None,
    };
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut add = |name: &str, bytes: &[u8]| -> Result<(), EvidenceError> {
        zip.start_file(name, options)
            .map_err(|e| EvidenceError::Build(e.to_string()))?;
        zip.write_all(bytes)
            .map_err(|e| EvidenceError::Build(e.to_string()))
    };
    add(MANIFEST, &manifest_bytes)?;
    for (name, bytes) in files {
        add(name, bytes)?;
    }
    if let Some(jws) = &signature {
        add(SIGNATURE, jws.as_bytes())?;
    }
    let cursor = zip
        .finish()
        .map_err(|e| EvidenceError::Build(e.to_string()))?;
    Ok(cursor.into_inner())
}

/// What verifying a readable bundle found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every hash matches (and the signature, when a key was given).
    Intact {
        /// Files checked, manifest excluded.
        files: usize,
        /// Whether a signature was checked, present but not checked, or absent.
        signature: SignatureState,
    },
    /// The first file that differs from the manifest, and how.
    Differs {
        /// The file.
        file: String,
        /// How it differs.
        reason: String,
    },
}

/// The signature of a bundle that verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureState {
    /// `manifest.jws` verified with the given public key.
    Verified,
    /// `manifest.jws` is there but no public key was given.
    NotChecked,
    /// The bundle is not signed.
    Absent,
}

/// Checks `bundle` against its manifest (and, with `public_key`, an ES256 public key PEM, its
/// signature). `Err` only when the bundle cannot be read at all.
pub fn verify(bundle: &[u8], public_key: Option<&[u8]>) -> Result<Verdict, EvidenceError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bundle))
        .map_err(|e| EvidenceError::Unreadable(format!("not a zip archive: {e}")))?;
    let mut read = |name: &str| -> Result<Option<Vec<u8>>, String> {
        let mut file = match zip.by_name(name) {
            Ok(f) => f,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        Ok(Some(bytes))
    };
    let manifest_bytes = match read(MANIFEST) {
        Ok(Some(b)) => b,
        Ok(None) => {
            return Err(EvidenceError::Unreadable(format!(
                "no {MANIFEST} in the bundle"
            )));
        }
        Err(e) => {
            return Ok(Verdict::Differs {
                file: MANIFEST.to_owned(),
                reason: format!("cannot be read back ({e})"),
            });
        }
    };
    let manifest: Manifest = match serde_json::from_slice(&manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            return Ok(Verdict::Differs {
                file: MANIFEST.to_owned(),
                reason: format!("is not an nvcert manifest ({e})"),
            });
        }
    };
    // The signature covers the manifest, which covers every file: check it first.
    let signature = match (read(SIGNATURE), public_key) {
        (Err(e), _) => {
            return Ok(Verdict::Differs {
                file: SIGNATURE.to_owned(),
                reason: format!("cannot be read back ({e})"),
            });
        }
        (Ok(None), Some(_)) => {
            return Ok(Verdict::Differs {
                file: SIGNATURE.to_owned(),
                reason: "is missing: the bundle is not signed".to_owned(),
            });
        }
        (Ok(None), None) => SignatureState::Absent,
        (Ok(Some(_)), None) => SignatureState::NotChecked,
        (Ok(Some(jws)), Some(pem)) => {
            if let Err(reason) = check_signature(&jws, pem, &manifest_bytes)? {
                return Ok(Verdict::Differs {
                    file: SIGNATURE.to_owned(),
                    reason,
                });
            }
            SignatureState::Verified
        }
    };
    for expected in &manifest.files {
        let bytes = match read(&expected.name) {
            Ok(Some(b)) => b,
            Ok(None) => {
                return Ok(Verdict::Differs {
                    file: expected.name.clone(),
                    reason: "is missing".to_owned(),
                });
            }
            Err(e) => {
                return Ok(Verdict::Differs {
                    file: expected.name.clone(),
                    reason: format!("cannot be read back ({e})"),
                });
            }
        };
        let seen = sha256_hex(&bytes);
        if seen != expected.sha256 {
            return Ok(Verdict::Differs {
                file: expected.name.clone(),
                reason: format!("has SHA-256 {seen}, the manifest says {}", expected.sha256),
            });
        }
    }
    let names = zip
        .file_names()
        .map(|n| n.map(std::borrow::Cow::into_owned))
        .collect::<Result<Vec<String>, _>>()
        .map_err(|e| EvidenceError::Unreadable(format!("a file name cannot be read: {e}")))?;
    for name in names {
        let listed =
            name == MANIFEST || name == SIGNATURE || manifest.files.iter().any(|f| f.name == name);
        if !listed {
            return Ok(Verdict::Differs {
                file: name,
                reason: "is not listed in the manifest".to_owned(),
            });
        }
    }
    Ok(Verdict::Intact {
        files: manifest.files.len(),
        signature,
    })
}

/// `Ok(Ok(()))` when `jws` is a valid ES256 signature by `public_pem` over `manifest`'s
/// SHA-256; `Ok(Err(why))` when it is not; `Err` when the key itself is unusable.
fn check_signature(
    jws: &[u8],
    public_pem: &[u8],
    manifest: &[u8],
) -> Result<Result<(), String>, EvidenceError> {
    let key = DecodingKey::from_ec_pem(public_pem)
        .map_err(|e| EvidenceError::Key(format!("expected an ES256 public key PEM: {e}")))?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let text = String::from_utf8_lossy(jws);
    let claims = match jsonwebtoken::decode::<SignedClaims>(text.trim(), &key, &validation) {
        Ok(data) => data.claims,
        Err(e) => return Ok(Err(format!("does not verify with the given key ({e})"))),
    };
    let seen = sha256_hex(manifest);
    if claims.manifest_sha256 != seen {
        return Ok(Err(format!(
            "signs a manifest with SHA-256 {}, the bundle's has {seen}",
            claims.manifest_sha256
        )));
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIVATE: &[u8] = include_bytes!("../../fixtures/keys/demo-client-es256.TEST-ONLY.pem");
    const PUBLIC: &[u8] = include_bytes!("../../fixtures/keys/demo-client-es256.pub.pem");
    const OTHER_PUBLIC: &[u8] = include_bytes!("../../fixtures/keys/other-client-es256.pub.pem");

    fn manifest() -> Manifest {
        Manifest {
            format: FORMAT.into(),
            nvcert_version: "0.1.0".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: "2026-01-01T00:00:01Z".into(),
            provider: ProviderInfo {
                name: "p".into(),
                issuer: "http://127.0.0.1:1".into(),
                api_base: "http://127.0.0.1:1/nv".into(),
            },
            spec: SpecInfo {
                version: "2.1.0".into(),
                origin: "v2.1.0.yaml".into(),
                sha256: sha256_hex(b"spec"),
            },
            rule_sets: vec![],
            features: vec![FileDigest::of("features/verify.feature", b"Feature: x")],
            command_line: vec!["nvcert".into(), "run".into()],
            profile: None,
            succeeded: true,
            files: vec![],
        }
    }

    fn files() -> Vec<(&'static str, &'static [u8])> {
        vec![
            ("results.json", b"{\"summary\":{}}".as_slice()),
            ("console.txt", b"all passed\n".as_slice()),
        ]
    }

    /// The bundle with one byte of `name`'s content changed (entries stored uncompressed, so
    /// the change is found by its hash, not by the zip's own CRC).
    fn tampered(name: &str, signing_key: Option<&[u8]>) -> Vec<u8> {
        let bundle = build(manifest(), &files(), signing_key).expect("build");
        // Rebuild the zip from the original manifest and a changed file.
        let mut zip = zip::ZipArchive::new(Cursor::new(bundle)).expect("zip");
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let names: Vec<String> = zip
            .file_names()
            .map(|n| n.expect("name").into_owned())
            .collect();
        for n in names {
            let mut bytes = Vec::new();
            zip.by_name(&n)
                .expect("entry")
                .read_to_end(&mut bytes)
                .expect("read");
            if n == name {
                bytes[0] ^= 1;
            }
            out.start_file(&n, zip::write::SimpleFileOptions::default())
                .expect("start");
            out.write_all(&bytes).expect("write");
        }
        out.finish().expect("finish").into_inner()
    }

    #[test]
    fn an_intact_bundle_verifies_and_a_changed_file_is_named() {
        let bundle = build(manifest(), &files(), None).expect("build");
        assert_eq!(
            verify(&bundle, None).expect("readable"),
            Verdict::Intact {
                files: 2,
                signature: SignatureState::Absent
            }
        );
        match verify(&tampered("console.txt", None), None).expect("readable") {
            Verdict::Differs { file, reason } => {
                assert_eq!(file, "console.txt");
                assert!(reason.contains("SHA-256"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            verify(b"not a zip", None),
            Err(EvidenceError::Unreadable(_))
        ));
    }

    #[test]
    fn a_signed_bundle_verifies_with_its_key_only() {
        let bundle = build(manifest(), &files(), Some(PRIVATE)).expect("build");
        assert_eq!(
            verify(&bundle, Some(PUBLIC)).expect("readable"),
            Verdict::Intact {
                files: 2,
                signature: SignatureState::Verified
            }
        );
        assert_eq!(
            verify(&bundle, None).expect("readable"),
            Verdict::Intact {
                files: 2,
                signature: SignatureState::NotChecked
            }
        );
        assert!(matches!(
            verify(&bundle, Some(OTHER_PUBLIC)).expect("readable"),
            Verdict::Differs { file, .. } if file == SIGNATURE
        ));
        // A changed manifest no longer matches its signature.
        assert!(matches!(
            verify(&tampered(MANIFEST, Some(PRIVATE)), Some(PUBLIC)).expect("readable"),
            Verdict::Differs { file, .. } if file == SIGNATURE || file == MANIFEST
        ));
        // Asking for a signature an unsigned bundle lacks is a difference, not a pass.
        let unsigned = build(manifest(), &files(), None).expect("build");
        assert!(matches!(
            verify(&unsigned, Some(PUBLIC)).expect("readable"),
            Verdict::Differs { file, .. } if file == SIGNATURE
        ));
    }
}
