#!/usr/bin/env bash
# install.sh CMAKE BUILD_DIR SOURCE_DIR CC
# `cmake --install` into a fresh prefix, then use the installed tool from a
# directory outside the source and build trees, the way a user would: the
# binary must find its fault shim under PREFIX/lib/contend (a fault case
# that only finds its violation when faults are injected), and a plug-in
# must build against PREFIX/include/contend/target.h alone and load.
set -eu
cmake=$1 build=$2 src=$3 cc=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/contend-install-XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

"$cmake" --install "$build" --prefix "$prefix" >/dev/null
for f in bin/contend lib/contend/contend-faultshim.so include/contend/target.h; do
  [ -e "$prefix/$f" ] || { echo "install: $prefix/$f missing"; exit 1; }
done

cd "$work"
unset CONTEND_FAULT_SHIM
"$prefix/bin/contend" --version

# Write errors the variant ignores: lost-update is found only if the shim
# was preloaded into the workers.
out=$("$prefix/bin/contend" run --workload counter --target json-doc:flock-unchecked \
        --procs 4 --ops 60 --perturb 50 --io 'pwrite:EIO@4%, fsync:EIO@3%, rename:ENOSPC@3%' \
        --expect lost-update --quiet 2>&1) || { echo "$out"; echo "install: fault run failed"; exit 1; }
grep -q "found lost-update" <<<"$out" || { echo "$out"; echo "install: no lost-update"; exit 1; }

# A plug-in built against the installed header only.
cp "$src/examples/plugin/file_counter.c" .
"$cc" -shared -fPIC -I "$prefix/include/contend" -o file_counter.so file_counter.c
out=$("$prefix/bin/contend" run --workload counter --target_path ./file_counter.so \
        --variant unlocked --procs 4 --ops 100 --perturb 100 --expect lost-update --quiet 2>&1) ||
  { echo "$out"; echo "install: plug-in run failed"; exit 1; }
grep -q "found lost-update" <<<"$out" || { echo "$out"; echo "install: plug-in found nothing"; exit 1; }
echo "install: ok ($prefix)"
