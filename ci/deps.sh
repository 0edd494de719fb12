#!/usr/bin/env bash
# ci/deps.sh - install the Debian packages contend builds and tests with.
# Idempotent: packages already installed are skipped, and apt-get runs only
# when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config   # compiler, CMake >= 3.25, pkg-config
  libssl-dev                         # OpenSSL libcrypto (SHA-256)
  libsqlite3-dev                     # SQLite3
  libjansson-dev                     # JSON
  libinih-dev                        # INI scenarios
  libcmocka-dev                      # unit tests
  libfaketime faketime               # clock control for workers
  lcov                               # coverage summary
  python3                            # example adapters and test scripts (stdlib only)
  python3-jsonschema                 # docs/schema/ checked against real run.json (tests only)
  procps                             # pgrep, for the no-process-left-behind test
  clang libclang-rt-dev              # libFuzzer harnesses (ci/fuzz.sh): the runtime is only recommended by clang
  clang-format                       # ci/format-check.sh --all, the first step of ci/test.sh
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 4; }
  sudo=sudo
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || echo "deps: apt-get update failed; trying the install anyway" >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
