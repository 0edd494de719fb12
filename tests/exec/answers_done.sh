#!/bin/sh
# Answers `done` to every op: no reply parses, so the case must end as a
# protocol-error, never pass (tests/integration_exec.cmake).
while read -r op rest; do
  case "$op" in
    setup|open|recover) echo ok ;;
    state) echo end ;;
    *) echo done ;;
  esac
done
