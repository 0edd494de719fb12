#!/usr/bin/env python3
"""Write N canonical ledger records of 200 bytes each (hash, payload,
prev_hash, seq, writer), for timing `contend verify`:  gen_ledger.py FILE N"""
import hashlib, json, sys

path, n = sys.argv[1], int(sys.argv[2])
prev = "0" * 64
with open(path, "w", encoding="ascii") as f:
    for seq in range(n):
        rec = {"seq": seq % 1000000, "writer": seq % 8, "payload": "x%07d" % (seq % 10000000),
               "prev_hash": prev}
        body = json.dumps(rec, sort_keys=True, separators=(",", ":"))
        rec["hash"] = prev = hashlib.sha256(body.encode()).hexdigest()
        f.write(json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n")
