#!/bin/sh
# stray_child.sh - a durable counter whose every instance leaves a child
# behind (`sleep &`: a forked process, outside PR_SET_PDEATHSIG, like the
# subshells of an interpreter's wrapper script).  After a power cut its
# `recover` fails if a child of an earlier instance is still there, stopped:
# the cut must take the whole process group, not only the workers
# (tests/integration_exec.cmake, exec.no-stopped-strays).
f="$CONTEND_STORE_DIR/counter"
# Outside the store directory: a power cut rolls back what is in it (and
# the shim takes "store/../x" for a path in the store: it compares names).
strays="$(dirname "$CONTEND_STORE_DIR")/strays"
while read -r op _; do
  case "$op" in
    setup) echo 0 >"$f" && sync "$f" && : >"$strays" && echo ok ;;
    open) sleep 1000 </dev/null >/dev/null 2>&1 & echo $! >>"$strays"; echo ok ;;
    recover)
      for p in $(cat "$strays"); do
        st=$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)
        if [ "$st" = T ]; then
          echo "fail process $p of an earlier instance survived the power cut, stopped"
          continue 2
        fi
      done
      echo ok ;;
    incr)
      v=$(($(cat "$f") + 1))
      echo "$v" >"$f.tmp" && sync "$f.tmp" && mv "$f.tmp" "$f" && sync "$CONTEND_STORE_DIR" &&
        echo "ok $v" ;;
    state) echo "0 $(cat "$f")"; echo end ;;
    *) echo "fail unknown request $op" ;;
  esac
done
