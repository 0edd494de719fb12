#!/bin/sh
# Checks the environment contend gives an exec program (claim workload): the
# settings are there and the claim ids span the default range of 100.
for v in CONTEND_STORE_DIR CONTEND_WORKER CONTEND_THREAD CONTEND_BANK_INITIAL \
         CONTEND_CACHE_CAPACITY CONTEND_CACHE_TTL_NS CONTEND_LEDGER_FILE CONTEND_PROCS; do
  eval "val=\${$v:-}"
  if [ -z "$val" ]; then echo "missing $v" >&2; exit 1; fi
done
[ "$CONTEND_BANK_INITIAL" = 100 ] || exit 1
owners="$CONTEND_STORE_DIR/owners"
while read -r op item a b id; do
  case "$op" in
    setup) : > "$owners"; echo ok ;;
    open|recover) echo ok ;;
    claim)
      # Five ops over 100 ids: with `keys` = 1 every claim would be id 0.
      if grep -q "^$item " "$owners"; then echo "ok 0"; else echo "$item $id" >> "$owners"; echo "ok 1"; fi ;;
    state)
      [ "$(wc -l < "$owners")" -gt 1 ] || { echo "all claims were one id" >&2; exit 1; }
      cat "$owners"; echo end ;;
    *) echo "fail unknown" ;;
  esac
done
