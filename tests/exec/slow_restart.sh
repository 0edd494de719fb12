#!/bin/sh
# slow_restart.sh SECONDS - a correct counter (one file, replaced by rename)
# whose `recover` and `open` each take SECONDS, like an interpreter that
# starts slowly behind a wrapper.  A restarted worker runs both in a row:
# each must get the whole `timeout`, not share one (tests/integration_exec.cmake).
slow=$1
f="$CONTEND_STORE_DIR/counter"
while read -r op key _ _ _ _; do
  case "$op" in
    setup) echo 0 >"$f" && echo ok ;;
    recover|open) sleep "$slow" && echo ok ;;
    incr)
      v=$(($(cat "$f") + 1))
      echo "$v" >"$f.tmp" && mv "$f.tmp" "$f" && echo "ok $v" ;;
    read) echo "ok $(cat "$f")" ;;
    state) echo "$key" >/dev/null; echo "0 $(cat "$f")"; echo end ;;
    *) echo "fail unknown request $op" ;;
  esac
done
