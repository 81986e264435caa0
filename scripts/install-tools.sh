#!/usr/bin/env bash
# Tools the deploy tests run that neither Debian nor PyPI ships: kustomize, built from its Go module
# at a pinned version into a per-user cache (kept across clones, so CI builds it once per machine).
# Idempotent: does nothing when the pinned binary is already there. Prints the binary's path as
# the last line of standard output (messages go to standard error), for callers to pick up.
set -euo pipefail

KUSTOMIZE_VERSION="v5.8.1"  # needs Go >= 1.24 to build
tools_dir="${PEAKWATCH_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/peakwatch/tools}"
kustomize="$tools_dir/kustomize-$KUSTOMIZE_VERSION/kustomize"

if [ -x "$kustomize" ]; then
  echo "tools: kustomize $KUSTOMIZE_VERSION present" >&2
  echo "$kustomize"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "tools: 'go' (1.24 or newer) is needed to build kustomize; install Go and rerun" >&2
  exit 1
fi

echo "tools: building kustomize $KUSTOMIZE_VERSION (a minute or two, once per machine)" >&2
mkdir -p "$(dirname "$kustomize")"
# GOWORK=off: a go.work the caller happens to have around plays no part.
GOBIN="$(dirname "$kustomize")" GOWORK=off CGO_ENABLED=0 \
  go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" >&2
echo "$kustomize"
