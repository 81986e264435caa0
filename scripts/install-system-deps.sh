#!/usr/bin/env bash
# Debian packages the tests start for real: PostgreSQL, Prometheus (with promtool), Alertmanager,
# Chromium and a Chinese font for the board. Idempotent: does nothing when all are present. Needs root (or sudo).
# Also wrk, the HTTP load generator of make bench.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# without a CJK font Chromium draws the board's Chinese as empty boxes in screenshots
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v wrk >/dev/null 2>&1 || need+=(wrk)

if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "system packages: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# --no-install-recommends keeps the install small; policy-rc.d stops Debian from starting the
# daemons for us: the tests start their own on loopback.
printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
$sudo chmod +x /usr/sbin/policy-rc.d
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
$sudo rm -f /usr/sbin/policy-rc.d
echo "system packages: done"
