#!/usr/bin/env python3
"""make.py - writes the synthetic run.json files the compare tests read.

Timing-free: every figure here is made up, so a verdict of `contend compare`
on them depends on its rules only, never on the machine running the test.
Each file has two cases, `steady` and `slowed`, of 9 repetitions (3 in the
few-* files); a repetition carries tx/s, p50, p99 and a machine probe.
Run it again after changing it:  python3 tests/compare/make.py tests/compare
"""
import json
import random
import sys


def run(tps, spread, probe_cpu=300.0, probe_fsync=400.0, seed=0, reps=9, machine=0.04):
    """reps repetitions around tps: each on a machine of its own speed
    (+-machine, which the CPU probe sees and the figures follow), plus noise
    of its own (+-spread) that no probe sees."""
    rnd = random.Random(seed)
    out = []
    for i in range(reps):
        m = 1 + rnd.uniform(-machine, machine)
        t = tps * m * (1 + rnd.uniform(-spread, spread))
        lat = 1e6 / t
        out.append({
            "seed": i + 1, "ok": True, "verdict": "pass",
            "throughput_tps": round(t, 3),
            "latency_us": {"p50": round(lat, 3), "p99": round(lat * 3, 3)},
            "probe": {"cpu_mops": [round(probe_cpu * m * (1 + rnd.uniform(-0.01, 0.01)), 3) for _ in (0, 1)],
                      "fsync_per_s": [round(probe_fsync * (1 + rnd.uniform(-0.02, 0.02)), 3) for _ in (0, 1)]},
        })
    return out


def doc(name, cases):
    return {"schema": 1, "tool": "contend", "kind": "run", "version": "synthetic",
            "scenario": name, "started_at": "2026-01-01T00:00:00Z",
            "cases": [{"name": n, "ok": True, "verdict": "pass", "runs": r} for n, r in cases]}


FILES = {
    # The reference, and the same build measured again: other noise, same speed.
    "base": [("steady", run(10000, 0.02, seed=1)), ("slowed", run(20000, 0.02, seed=2))],
    "drift-base": [("steady", run(10000, 0.005, seed=15, machine=0.06)),
                   ("slowed", run(20000, 0.005, seed=16, machine=0.06))],
    "same": [("steady", run(10000, 0.02, seed=3)), ("slowed", run(20000, 0.02, seed=4))],
    # `slowed` 25 % slower (tx/s 0.8x, latency 1.25x), the machine unchanged.
    "slow": [("steady", run(10000, 0.02, seed=5)), ("slowed", run(16000, 0.02, seed=6))],
    # Everything 30 % slower, and the CPU probe 30 % slower with it: the
    # machine moved, not the code.
    "drift": [("steady", run(7000, 0.005, probe_cpu=210, seed=7, machine=0.06)),
              ("slowed", run(14000, 0.005, probe_cpu=210, seed=8, machine=0.06))],
    # The load shifted between two runs: everything 40 % slower and the CPU
    # probe 40 % slower too, but within each run the figures do not follow
    # the probe (their own noise, +-8 %, hides it), so the fit cannot take
    # the machine out: `noisy — re-run`, never `slower`.
    "shifted-base": [("steady", run(10000, 0.08, seed=17, machine=0)),
                     ("slowed", run(20000, 0.08, seed=18, machine=0))],
    "shifted": [("steady", run(6000, 0.08, probe_cpu=180, seed=19, machine=0)),
                ("slowed", run(12000, 0.08, probe_cpu=180, seed=20, machine=0))],
    # `slowed` 27 % slower by its median, but its repetitions spread over
    # +-60 %: more noise than effect.
    "noisy": [("steady", run(10000, 0.02, seed=9)), ("slowed", run(16000, 0.6, seed=14))],
    # Three repetitions a side: 25 % slower, but 3 against 3 can never be
    # significant (smallest p 0.1).
    "few-base": [("steady", run(10000, 0.02, seed=11, reps=3)),
                 ("slowed", run(20000, 0.02, seed=12, reps=3))],
    "few-slow": [("steady", run(10000, 0.02, seed=13, reps=3)),
                 ("slowed", run(16000, 0.02, seed=14, reps=3))],
}

if __name__ == "__main__":
    d = sys.argv[1] if len(sys.argv) > 1 else "."
    for name, cases in FILES.items():
        with open(f"{d}/{name}.json", "w") as f:
            json.dump(doc(name, cases), f, indent=1)
            f.write("\n")
