"""The field report's AuditLedger: a hash-chained JSONL audit log that every
process of a service appends to, over the `ledger` workload with the
contend_exec client (stdlib only).  The file is $CONTEND_STORE_DIR/
$CONTEND_LEDGER_FILE in the format of README.md's "Ledger record format".

  --mode unlocked   read the last record, append the next: two processes
                    read the same last record and fork the chain.
  --mode flock      flock the file, find the last record by scanning back
                    from the end (the tail, not the whole file), append,
                    fsync, unlock: one chain, whatever the concurrency.

    contend run --workload ledger --target exec --procs 4 --ops 50 --perturb 300 \\
        --set cmd="python3 examples/exec/audit_ledger.py --mode unlocked"   # chain-fork
"""
import argparse
import fcntl
import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "clients", "python"))
import contend_exec  # noqa: E402

ZERO = "0" * 64
TAIL = 8192


def last_record(f):
    """The last complete line of the open file, read from its tail only."""
    end = f.seek(0, os.SEEK_END)
    pos, chunk = end, b""
    while pos > 0:
        step = min(TAIL, pos)
        pos -= step
        f.seek(pos)
        chunk = f.read(step) + chunk
        body = chunk[:chunk.rfind(b"\n")] if chunk.endswith(b"\n") else chunk
        nl = body.rfind(b"\n")
        if nl >= 0 or pos == 0:
            line = body[nl + 1:] if nl >= 0 else body
            return json.loads(line) if line.strip() else None
    return None


class AuditLedger(contend_exec.Program):
    def __init__(self, locked):
        self.locked = locked
        self.path = contend_exec.store_path(os.environ.get("CONTEND_LEDGER_FILE", "ledger.jsonl"))
        self.writer = (contend_exec.env_int("CONTEND_WORKER") * contend_exec.env_int("CONTEND_THREADS", 1)
                       + contend_exec.env_int("CONTEND_THREAD"))

    def setup(self):
        open(self.path, "ab").close()

    def recover(self):
        # A torn last line is an append that never finished: cut it off.
        with open(self.path, "r+b") as f:
            data = f.read()
            if data and not data.endswith(b"\n"):
                f.truncate(data.rfind(b"\n") + 1)
                os.fsync(f.fileno())

    def append(self, op):
        with open(self.path, "a+b") as f:
            if self.locked:
                fcntl.flock(f, fcntl.LOCK_EX)
            last = last_record(f)
            contend_exec.point("tail-read")
            rec = {"seq": last["seq"] + 1 if last else 0, "writer": self.writer, "op": op.id,
                   "ts": time.time(), "payload": op.payload.decode("utf-8"),
                   "prev_hash": last["hash"] if last else ZERO}
            canon = json.dumps(rec, sort_keys=True, separators=(",", ":"))
            rec["hash"] = hashlib.sha256(canon.encode()).hexdigest()
            f.write((json.dumps(rec) + "\n").encode())
            f.flush()
            if self.locked:
                os.fsync(f.fileno())
            return rec["seq"]


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["unlocked", "flock"], default="flock")
    contend_exec.run(AuditLedger(ap.parse_args().mode == "flock"))
