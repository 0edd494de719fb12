#!/bin/sh
# A counter program whose state reply has a line that does not parse.
while read -r op key rest; do
  case "$op" in
    setup|open|recover) echo ok ;;
    state) echo "0 five"; echo end ;;
    incr) echo "ok -1" ;;
    *) echo "ok 0" ;;
  esac
done
