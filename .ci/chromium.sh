#!/usr/bin/env bash
# The browser tests drive Debian's chromium with its chromedriver (nothing is downloaded).
# Install them with apt when they are missing; say what to do when that cannot be done here.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium and chromedriver are missing; install them (Debian: chromium chromium-driver)" >&2
  exit 1
fi
run=""
[ "$(id -u)" = 0 ] || run="sudo"
$run apt-get update -qq
DEBIAN_FRONTEND=noninteractive $run apt-get install -y -qq --no-install-recommends chromium chromium-driver
