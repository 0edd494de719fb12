#!/usr/bin/env bash
# cache_expiry.sh CONTEND SCENARIO: the sped-up TTL case must pass and must
# have expired entries: a 10 minute TTL seen to expire within a run of a few
# real seconds.  Prints the real time it took (a figure, not an assertion:
# the machine is shared).  Also checks that the figures stayed on the real
# clock: a duration on the faked one would be 100 times longer.
set -u
contend=$1 scenario=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp
start=$(date +%s.%N)
"$contend" run "$scenario" --case ttl-10m-x100 --json "$tmp/run.json" >"$tmp/out" 2>&1
code=$?
end=$(date +%s.%N)
if [ $code != 0 ]; then echo "expected exit 0, got $code"; cat "$tmp/out"; exit 1; fi
python3 - "$tmp/run.json" "$start" "$end" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
c = run["cases"][0]
st = c["stats"]
real = float(sys.argv[3]) - float(sys.argv[2])
print(f"ttl-10m-x100: {real:.2f} s real, duration_s {c['duration_s']}, "
      f"{st.get('cache_expired', 0):.0f} entries expired, hit ratio {st.get('cache_hit_ratio')}")
bad = []
if st.get("cache_expired", 0) <= 0:
    bad.append("no entry expired")
if st.get("time_speed") != 100:
    bad.append("time_speed stat missing")
# The run is 10 s of real time; on the faked clock it would read 1000 s.
if not 0 < c["duration_s"] < 300:
    bad.append(f"duration_s {c['duration_s']} is not on the real clock")
if not any(e["kind"] == "clock-speed" for e in c["events"]):
    bad.append("no clock-speed event")
if bad:
    print("FAIL: " + "; ".join(bad))
    sys.exit(1)
EOF
