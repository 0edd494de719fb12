#!/usr/bin/env bash
# ledger_verify.sh CONTEND - `contend verify ledger` on ledgers written by
# others: one written by a Python program (tests/ledger_writer.py) must verify
# clean, and the same ledger damaged must fail on the damaged line, with the
# right kind and exit code.
set -u
contend=$1
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ledger-verify-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/out" ] && cat "$tmp/out"; exit 1; }

# verify FILE CODE REGEX: exit CODE and REGEX in the output.
verify() {
  "$contend" verify ledger "$1" >"$tmp/out" 2>&1
  local got=$?
  [ "$got" = "$2" ] || fail "verify $1: exit $got, expected $2"
  grep -Eq -- "$3" "$tmp/out" || fail "verify $1: no /$3/ in the output"
}

python3 "$root/tests/ledger_writer.py" "$tmp/py.jsonl" 300 || fail "ledger_writer.py"
verify "$tmp/py.jsonl" 0 "py.jsonl: 300 records in 300 lines: valid"

# Odd lines are written the way most programs do (slow path), even lines
# canonical (fast path): damage one of each.  (The edit must not touch a
# hash: "caf" could be hex, "na" cannot.)
sed '150s/na\\u00efve/nb\\u00efve/' "$tmp/py.jsonl" >"$tmp/bad150.jsonl"
verify "$tmp/bad150.jsonl" 1 "^150:[0-9]+: bad-hash"
sed '151s/na\\u00efve/nb\\u00efve/' "$tmp/py.jsonl" >"$tmp/bad151.jsonl"
verify "$tmp/bad151.jsonl" 1 "^151:[0-9]+: bad-hash"
sed '100d' "$tmp/py.jsonl" >"$tmp/gap.jsonl"
verify "$tmp/gap.jsonl" 1 "^100:[0-9]+: chain-gap"
head -c -1 "$tmp/py.jsonl" >"$tmp/torn.jsonl"
verify "$tmp/torn.jsonl" 1 "^300:[0-9]+: torn-line"
sed '20p' "$tmp/py.jsonl" >"$tmp/dup.jsonl"
verify "$tmp/dup.jsonl" 1 "^21:[0-9]+: duplicate-append: line 21 repeats line 20"
sed 's/$/\r/' "$tmp/py.jsonl" >"$tmp/crlf.jsonl"
verify "$tmp/crlf.jsonl" 1 "invalid-line +300"
"$contend" verify ledger - <"$tmp/gap.jsonl" >"$tmp/out" 2>&1
[ $? = 1 ] && grep -Eq "^100:[0-9]+: chain-gap" "$tmp/out" || fail "verify from standard input"
: >"$tmp/empty.jsonl"
verify "$tmp/empty.jsonl" 0 "0 records in 0 lines: valid"
head -n 1 "$tmp/py.jsonl" >"$tmp/one.jsonl"
verify "$tmp/one.jsonl" 0 "1 records in 1 lines: valid"

# The hash is recomputed unless asked not to.
verify "$tmp/bad151.jsonl" 1 "bad-hash +1\$"
grep -q chain-gap "$tmp/out" && fail "an edited payload broke a link"
"$contend" verify ledger "$tmp/bad151.jsonl" --no-recompute >"$tmp/out" 2>&1 ||
  fail "--no-recompute still checked the hash"
# Other field names (renaming changes what was hashed: links only).
sed 's/"hash"/"digest"/; s/"prev_hash"/"parent"/' "$tmp/py.jsonl" >"$tmp/renamed.jsonl"
"$contend" verify ledger "$tmp/renamed.jsonl" --hash-field digest --prev-field parent \
  --no-recompute >"$tmp/out" 2>&1 || fail "--hash-field digest --prev-field parent"
grep -q "300 records in 300 lines: valid" "$tmp/out" || fail "renamed fields"
verify "$tmp/renamed.jsonl" 1 "invalid-line: no string member \"hash\""
# Ledgers contend's own target wrote, kept from runs: verify agrees with the
# workload's checker.
"$contend" run --workload ledger --target jsonl-ledger:nolock --procs 4 --ops 30 --perturb 200 \
  --expect chain-fork --keep --dir "$tmp/run1" --quiet >"$tmp/out" 2>&1 || fail "nolock run"
verify "$tmp/run1/cli/store/ledger.jsonl" 1 "^[0-9]+:[0-9]+: chain-fork: line [0-9]+ and line [0-9]+ both"
"$contend" run --workload ledger --target jsonl-ledger --procs 3 --threads 2 --ops 30 \
  --perturb 100 --keep --dir "$tmp/run2" --quiet >"$tmp/out" 2>&1 || fail "flock-tailscan run"
verify "$tmp/run2/cli/store/ledger.jsonl" 0 "180 records in 180 lines: valid"
echo "ok"
