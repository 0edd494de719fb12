"""Counters in one JSON file, the way services keep small state, over the
`counter` workload, with the contend_exec client (stdlib only).

  --mode safe    flock, read, write a temp file, fsync it, rename it over the
                 store, fsync the directory: survives kills and power cuts
                 (run it with durable=yes: acknowledged increments must
                 survive a cut).
  --mode unsafe  the twin: no lock, rewrite the file in place, no fsync.  A
                 kill mid-write tears it, a power cut loses or tears it, and
                 concurrent writers lose updates.

    contend run --workload counter --target exec --procs 3 --ops 60 \\
        --kill 15 --powercut 40 --set durable=yes \\
        --set cmd="python3 examples/exec/file_counter.py --mode safe"
"""
import argparse
import fcntl
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "clients", "python"))
import contend_exec  # noqa: E402


class FileCounter(contend_exec.Program):
    def __init__(self, safe):
        self.safe = safe
        self.path = contend_exec.store_path("counters.json")
        self.lock_path = contend_exec.store_path("counters.lock")

    def _read(self):
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return {}
        return json.loads(data) if data else {}

    def _write_safe(self, doc):
        tmp = "%s.%d.tmp" % (self.path, os.getpid())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, json.dumps(doc).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, self.path)
        dfd = os.open(os.path.dirname(self.path), os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def _write_in_place(self, doc):
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, json.dumps(doc).encode())
        finally:
            os.close(fd)

    def setup(self):
        doc = {}
        if self.safe:
            self._write_safe(doc)
        else:
            self._write_in_place(doc)

    def recover(self):
        # Start-up after a crash: temp files of dead writers are garbage.
        # Under the lock, so that a live writer's temp file is left alone,
        # and another instance recovering at the same time is no error.
        d = os.path.dirname(self.path)
        with open(self.lock_path, "a") as lock:
            if self.safe:
                fcntl.flock(lock, fcntl.LOCK_EX)
            for name in os.listdir(d):
                if name.endswith(".tmp"):
                    try:
                        os.unlink(os.path.join(d, name))
                    except FileNotFoundError:
                        pass

    def incr(self, op):
        if not self.safe:
            doc = self._read()
            contend_exec.point("read-done")
            doc[str(op.key)] = doc.get(str(op.key), 0) + 1
            self._write_in_place(doc)
            return doc[str(op.key)]
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            doc = self._read()
            contend_exec.point("read-done")
            doc[str(op.key)] = doc.get(str(op.key), 0) + 1
            self._write_safe(doc)
            return doc[str(op.key)]

    def read(self, op):
        return self._read().get(str(op.key), 0)

    def state(self):
        return {int(k): v for k, v in self._read().items()}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["safe", "unsafe"], default="safe")
    contend_exec.run(FileCounter(ap.parse_args().mode == "safe"))
