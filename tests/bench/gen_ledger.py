#!/usr/bin/env python3
"""Write N ledger records, for timing `contend verify`:

    gen_ledger.py FILE N                   canonical lines of ~200 bytes (hash,
                                           payload, prev_hash, seq, writer)
    gen_ledger.py FILE N --insertion-order lines as json.dumps(rec) writes them:
                                           keys in insertion order, ", " and ": ",
                                           ~290 bytes (a note, a time, an amount),
                                           hashed over the sort_keys form
"""
import hashlib, json, sys

path, n = sys.argv[1], int(sys.argv[2])
insertion = "--insertion-order" in sys.argv[3:]
prev = "0" * 64
with open(path, "w", encoding="ascii") as f:
    for seq in range(n):
        if insertion:
            rec = {"writer": seq % 8, "seq": seq % 1000000, "op": seq,
                   "payload": "x%07d" % (seq % 10000000), "amount": (seq % 9973) * 1.25,
                   "ts": 1733380000.0 + seq / 1000, "note": "caf\u00e9 order %d" % seq,
                   "prev_hash": prev}
        else:
            rec = {"seq": seq % 1000000, "writer": seq % 8, "payload": "x%07d" % (seq % 10000000),
                   "prev_hash": prev}
        body = json.dumps(rec, sort_keys=True, separators=(",", ":"))
        rec["hash"] = prev = hashlib.sha256(body.encode()).hexdigest()
        if insertion:
            f.write(json.dumps(rec) + "\n")
        else:
            f.write(json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n")
