#!/usr/bin/env python3
"""The README's quick start: a JSON counter, read-modify-write, over exec.

    PYTHONPATH=clients/python contend run --workload counter --target exec \
        --set cmd="python3 examples/exec/quickstart_counter.py" --procs 4 --ops 50 --perturb 200

The write is atomic (temp file + rename) but nothing orders the read and the
write of two processes, so the last writer wins: contend reports lost-update.
With --lock the read-modify-write holds an exclusive flock and the same
command passes.
"""
import fcntl
import json
import os
import sys

# The client is one file; a user copies it or sets PYTHONPATH=clients/python.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "clients", "python"))
import contend_exec  # noqa: E402

PATH = os.path.join(os.environ["CONTEND_STORE_DIR"], "counter.json")
LOCKED = "--lock" in sys.argv[1:]


def load():
    try:
        with open(PATH) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


class Counter(contend_exec.Program):
    def incr(self, op):
        with open(PATH + ".lock", "a") as lock:
            if LOCKED:
                fcntl.flock(lock, fcntl.LOCK_EX)
            doc = load()
            contend_exec.point("read->write")  # the critical window
            doc[str(op.key)] = doc.get(str(op.key), 0) + 1
            tmp = "%s.%d" % (PATH, os.getpid())
            with open(tmp, "w") as f:
                json.dump(doc, f)
            os.replace(tmp, PATH)  # atomic, but without the lock the last writer wins
            return doc[str(op.key)]

    def state(self):
        return {int(k): v for k, v in load().items()}


contend_exec.run(Counter())
