#!/usr/bin/env python3
"""A contend exec-protocol adapter: the field report's JSON counter, in Python.

    contend run --workload counter --target exec \
        --set cmd="python3 examples/exec/json_counter.py --lock" --procs 4 --ops 50

Reads one request per line on stdin and answers on stdout (see targets/exec.c).
--lock takes an exclusive flock around load + save; without it, two processes
load the same value and one increment is lost.  --lock --poll takes it the way
the filelock package does: a non-blocking try, and time.sleep between tries.
`point` lines let contend's perturbation sleep between the read and the write.
"""
import fcntl, json, os, sys, time

STORE = os.environ.get("CONTEND_STORE_DIR", ".")
DOC, LOCK = os.path.join(STORE, "counter.json"), os.path.join(STORE, "counter.lock")
locked = "--lock" in sys.argv[1:]
polled = "--poll" in sys.argv[1:]


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def load():
    try:
        with open(DOC) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def save(doc):
    tmp = "%s.%d.tmp" % (DOC, os.getpid())
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, DOC)


def incr(key):
    lock = open(LOCK, "a") if locked else None
    try:
        while lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | (fcntl.LOCK_NB if polled else 0))
                break
            except BlockingIOError:
                time.sleep(0.01)
        doc = load()
        value = doc.get(key, 0) + 1
        say("point read-modify-write")  # contend may sleep here; it answers "go"
        sys.stdin.readline()
        doc[key] = value
        save(doc)
        return value
    finally:
        if lock:
            lock.close()


for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    op = words[0]
    if op in ("setup", "open"):
        say("ok")
    elif op == "incr":
        say("ok %d" % incr(words[1]))
    elif op == "read":
        say("ok %d" % load().get(words[1], 0))
    elif op == "state":
        for key, value in sorted(load().items()):
            say("%s %d" % (key, value))
        say("end")
    else:
        say("fail unsupported op " + op)
