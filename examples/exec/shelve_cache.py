"""An LRU cache with a TTL and a size limit, kept in a `shelve` (the standard
library's dbm-backed dict) that every process of a service shares, over the
`cache` workload with the contend_exec client (stdlib only).

Capacity and TTL come from the environment (CONTEND_CACHE_CAPACITY,
CONTEND_CACHE_TTL_NS; `--set capacity=N --set ttl=500ms`).  Every op holds
an flock on a lock file beside the shelf, so the shelf's own files are never
written by two processes at once.  Expiry uses time.monotonic(), the clock
contend records ops on.

  --mode lru        evict the least recently used entry beyond the capacity;
                    an expired entry is a miss.
  --mode unbounded  the twin the field report describes: no eviction and no
                    expiry check, so the cache grows past its capacity
                    (over-capacity) and serves expired entries (stale-read).
"""
import argparse
import fcntl
import os
import shelve
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "clients", "python"))
import contend_exec  # noqa: E402

# contend's cache state keys (targets/target.h, enum contend_cache_state_key).
CAPACITY, TTL_NS, HITS, MISSES, HIGH_WATER, RESIDENT = 0, 1, 2, 3, 4, 16
META = "__meta__"


class ShelveCache(contend_exec.Program):
    def __init__(self, bounded):
        self.bounded = bounded
        self.path = contend_exec.store_path("cache.shelf")
        self.capacity = contend_exec.env_int("CONTEND_CACHE_CAPACITY", 64)
        self.ttl = contend_exec.env_int("CONTEND_CACHE_TTL_NS", 10**9) / 1e9

    def _locked(self):
        lock = open(self.path + ".lock", "a")
        fcntl.flock(lock, fcntl.LOCK_EX)
        return lock

    def _meta(self, db):
        return db.get(META, {"hits": 0, "misses": 0, "high": 0})

    def setup(self):
        with self._locked(), shelve.open(self.path, "n") as db:
            db[META] = {"hits": 0, "misses": 0, "high": 0}

    def put(self, op):
        with self._locked(), shelve.open(self.path) as db:
            now = time.monotonic()
            db[str(op.key)] = (op.payload, now + self.ttl, now)
            if self.bounded:
                entries = [(v[2], k) for k, v in db.items() if k != META]
                entries.sort()
                for _, k in entries[:max(0, len(entries) - self.capacity)]:
                    del db[k]
            meta = self._meta(db)
            meta["high"] = max(meta["high"], len(db) - 1)
            db[META] = meta

    def get(self, op):
        with self._locked(), shelve.open(self.path) as db:
            meta = self._meta(db)
            entry = db.get(str(op.key))
            now = time.monotonic()
            if entry is not None and self.bounded and entry[1] <= now:
                del db[str(op.key)]
                entry = None
            if entry is None:
                meta["misses"] += 1
                db[META] = meta
                return None
            db[str(op.key)] = (entry[0], entry[1], now)
            meta["hits"] += 1
            db[META] = meta
            return entry[0]

    def size(self, op):
        with self._locked(), shelve.open(self.path, "r") as db:
            return len(db) - 1, self._meta(db)["high"]

    def state(self):
        with self._locked(), shelve.open(self.path, "r") as db:
            meta = self._meta(db)
            return [(CAPACITY, self.capacity), (TTL_NS, int(self.ttl * 1e9)),
                    (HITS, meta["hits"]), (MISSES, meta["misses"]),
                    (HIGH_WATER, meta["high"]), (RESIDENT, len(db) - 1)]


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["lru", "unbounded"], default="lru")
    contend_exec.run(ShelveCache(ap.parse_args().mode == "lru"))
