#!/usr/bin/env bash
# expect_exit.sh CODE REGEX CMD [ARGS...]
# Runs CMD; passes when it exits with CODE and, if REGEX is not empty, its
# stdout+stderr match REGEX (grep -E), and do not match $EXPECT_REJECT when
# that is set.  Prints the output on failure.
set -u
want=$1 regex=$2
shift 2
out=$("$@" 2>&1)
got=$?
fail=0
if [ "$got" != "$want" ]; then
  echo "expected exit $want, got $got: $*"
  fail=1
fi
if [ -n "$regex" ] && ! grep -Eq -- "$regex" <<<"$out"; then
  echo "output does not match /$regex/: $*"
  fail=1
fi
if [ -n "${EXPECT_REJECT:-}" ] && grep -Eq -- "$EXPECT_REJECT" <<<"$out"; then
  echo "output matches /$EXPECT_REJECT/, which it must not: $*"
  fail=1
fi
if [ $fail = 1 ]; then
  echo "---- output ----"
  echo "$out"
  exit 1
fi
exit 0
