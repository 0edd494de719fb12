#!/bin/sh
# An exec-protocol program that answers setup and open, then exits at its
# first operation without a reply (tests/integration_exec.cmake).
while read -r op rest; do
  case "$op" in
    setup|open) echo ok ;;
    state) echo end ;;
    *) exit 0 ;;
  esac
done
