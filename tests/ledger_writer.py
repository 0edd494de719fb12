#!/usr/bin/env python3
"""A Python service's audit ledger, for `contend verify`: ledger_writer.py FILE N."""
import hashlib, json, sys, time
path, n, prev = sys.argv[1], int(sys.argv[2]), "0" * 64
with open(path, "w", encoding="ascii") as f:
    for seq in range(n):
        rec = {"seq": seq, "writer": seq % 3, "op": seq, "ts": time.time(), "prev_hash": prev,
               "payload": {"text": "café naïve 日本 😀 \"q\" \\ / \n\t\x7f\x01", "x": seq * 1.5,
                           "ok": seq % 2 == 0, "tags": [None, -seq, 1e-7 * seq, 2.0 ** 70]}}
        canonical = json.dumps(rec, sort_keys=True, separators=(",", ":"))
        rec["hash"] = prev = hashlib.sha256(canonical.encode()).hexdigest()
        # Odd lines as most programs write them (insertion order, spaces).
        f.write((json.dumps(rec) if seq % 2 else json.dumps(rec, sort_keys=True, separators=(",", ":"))) + "\n")
