#!/usr/bin/env bash
# ci/format-check.sh - check C sources against .clang-format, only where a
# change touched them, so that adopting the format needs no whole-tree
# reformat first.
#
#   ci/format-check.sh                 files changed relative to main (or $FORMAT_BASE)
#   ci/format-check.sh --base REF      files changed relative to REF (commits and work tree)
#   ci/format-check.sh --lines [--base REF]
#                                      only the changed lines of those files
#   ci/format-check.sh FILE...         these files, whole
#   ci/format-check.sh --all           every C file git tracks (what CI runs)
#   ci/format-check.sh --fix ...       rewrite instead of check
#
# Exit 0 formatted (or nothing to check), 1 not formatted (the diff is
# printed), 2 bad usage, 4 no clang-format.  CLANG_FORMAT picks the binary.
#
# The tree is formatted with clang-format FORMAT_MAJOR (Debian 12's).  Other
# major versions break some lines differently, so with --all and another
# version the check says so and passes: a gate must not turn red because a
# machine has a newer formatter.
set -euo pipefail
cd "$(dirname "$0")/.."

FORMAT_MAJOR=14
base=${FORMAT_BASE:-main} lines=0 fix=0 all=0 files=()
while [ $# -gt 0 ]; do
  case $1 in
    --base) [ $# -ge 2 ] || { echo "format-check: --base needs a ref" >&2; exit 2; }
            base=$2; shift 2 ;;
    --base=*) base=${1#--base=}; shift ;;
    --lines) lines=1; shift ;;
    --fix) fix=1; shift ;;
    --all) all=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    --) shift; files+=("$@"); break ;;
    -*) echo "format-check: unknown option $1" >&2; exit 2 ;;
    *) files+=("$1"); shift ;;
  esac
done

cf=${CLANG_FORMAT:-}
if [ -z "$cf" ]; then
  for c in clang-format clang-format-19 clang-format-18 clang-format-17 clang-format-16 \
           clang-format-15 clang-format-14; do
    command -v "$c" >/dev/null && { cf=$c; break; }
  done
fi
[ -n "$cf" ] || { echo "format-check: no clang-format (Debian: apt-get install clang-format)" >&2; exit 4; }

is_c() { case $1 in *.c|*.h) [ -f "$1" ] ;; *) false ;; esac; }

if [ $all = 1 ]; then
  major=$("$cf" --version | sed -n 's/.*version \([0-9]*\).*/\1/p')
  if [ "$major" != "$FORMAT_MAJOR" ] && [ $fix = 0 ]; then
    echo "format-check: $cf is version ${major:-unknown}, the tree is formatted with $FORMAT_MAJOR: not checked"
    exit 0
  fi
  while IFS= read -r f; do files+=("$f"); done < <(git ls-files '*.c' '*.h')
fi

if [ $lines = 1 ]; then
  [ ${#files[@]} -eq 0 ] || { echo "format-check: --lines works on the diff, not on files" >&2; exit 2; }
  cfd=$(command -v "clang-format-diff${cf#clang-format}" || command -v clang-format-diff || true)
  [ -n "$cfd" ] || { echo "format-check: no clang-format-diff" >&2; exit 4; }
  out=$(git diff -U0 --no-color "$base" -- '*.c' '*.h' |
        "$cfd" -p1 -binary "$(command -v "$cf")" $([ $fix = 1 ] && echo -i) || true)
  if [ -n "$out" ]; then
    echo "$out"
    echo "format-check: changed lines are not formatted (ci/format-check.sh --lines --fix)"
    exit 1
  fi
  echo "format-check: changed lines formatted (base $base)"
  exit 0
fi

if [ ${#files[@]} -eq 0 ]; then
  git rev-parse --verify -q "$base" >/dev/null || { echo "format-check: no ref $base" >&2; exit 2; }
  while IFS= read -r f; do files+=("$f"); done < <(git diff --name-only --diff-filter=ACMR "$base" --)
fi
check=()
for f in "${files[@]}"; do is_c "$f" && check+=("$f"); done
if [ ${#check[@]} -eq 0 ]; then
  echo "format-check: no C files to check"
  exit 0
fi
if [ $fix = 1 ]; then
  "$cf" -i "${check[@]}"
  echo "format-check: formatted ${#check[@]} files"
  exit 0
fi
bad=0
for f in "${check[@]}"; do
  if ! "$cf" "$f" | diff -u --label "$f" --label "$f (formatted)" "$f" -; then
    bad=$((bad + 1))
  fi
done
if [ $bad -gt 0 ]; then
  echo "format-check: $bad of ${#check[@]} files not formatted (ci/format-check.sh --fix FILE...)"
  exit 1
fi
echo "format-check: ${#check[@]} files formatted"
