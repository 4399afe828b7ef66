#!/usr/bin/env bash
# Validates deploy/kubernetes/*.yaml against the published Kubernetes schema with
# kubernetes-validate (PyPI), strictly (unknown fields are errors), and checks that the validator
# rejects a broken copy (so a pass is not vacuous). The test suite checks the same files against
# a smaller schema of its own (tests/distributed.rs), without network.
#
#   scripts/validate-deploy.sh                 # Kubernetes 1.37 (the tool's default)
#   K8S_VERSION=1.33.0 scripts/validate-deploy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
K8S_VERSION=${K8S_VERSION:-1.37.0}
VENV=$(mktemp -d)
trap 'rm -rf "$VENV"' EXIT
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet "kubernetes-validate==1.37.0"
validate() { "$VENV/bin/kubernetes-validate" --strict -k "$K8S_VERSION" "$@"; }

validate deploy/kubernetes/*.yaml
sed -e 's/completionMode: Indexed/completionMode: 7/' deploy/kubernetes/load-job.yaml >"$VENV/broken.yaml"
if validate --quiet "$VENV/broken.yaml" >/dev/null 2>&1; then
  echo "kubernetes-validate accepted a broken manifest: the check above proves nothing" >&2
  exit 1
fi
echo "deploy/kubernetes: valid against Kubernetes $K8S_VERSION (and a broken copy is refused)"
