#!/usr/bin/env python3
"""A contend exec-protocol adapter: the field report's file queue, in Python.

    contend run --workload queue --target exec --procs 4 --ops 100 --perturb 200 \
        --set cmd="python3 examples/exec/file_queue.py"                      # clean
    contend run --workload queue --target exec --procs 4 --ops 100 --perturb 200 \
        --set cmd="python3 examples/exec/file_queue.py --variant scan-read-delete" \
        --expect double-delivery

The layout is the report's: inbox/ (new jobs, one JSON file each), queue/w<N>/
(jobs worker N is processing), outbox/ (done).  A take lists inbox/ with
sorted(os.listdir()), so it costs O(backlog).  Variants (as targets/file_queue.c):
  rename-claim           take = os.rename(inbox/x, queue/wN/x): of two workers
                         that listed x only one rename succeeds; fsync the file
                         and both directories; ack = rename into outbox/;
                         `recover` moves a dead worker's jobs back to inbox/.
  scan-read-delete       read the file, then os.remove() it (a missing file
                         ignored): two workers both read it: double-delivery.
  delete-before-process  claim by rename, delete at once, process from memory:
                         a worker killed while processing loses the job.
  nofsync                rename-claim without fsync: a power cut loses jobs.

Requests (the exec target's queue protocol, docs/exec-protocol.md):
`enqueue JOB 0 0 ID HEX` -> ok; `take 0 0 0 ID` -> `ok JOB`
or `empty`; `ack JOB 0 0 ID` -> ok; `state` -> `JOB WHERE` lines, then `end`,
WHERE = -1 in inbox/, -2 in outbox/, N held by worker N; `setup`, `open`,
`recover` -> ok.  `point NAME` lines let contend perturb the race windows.
"""
import errno, json, os, sys

STORE = os.environ.get("CONTEND_STORE_DIR", ".")
WORKER = int(os.environ.get("CONTEND_WORKER", "0"))
PROCS = int(os.environ.get("CONTEND_PROCS", "1"))
args = sys.argv[1:]
VARIANT = args[args.index("--variant") + 1] if "--variant" in args else "rename-claim"
SYNC = VARIANT != "nofsync"
INBOX, OUTBOX = os.path.join(STORE, "inbox"), os.path.join(STORE, "outbox")


def mine(worker=WORKER):
    return os.path.join(STORE, "queue", "w%d" % worker)


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def point(name):
    say("point " + name)  # contend may sleep here; it answers "go"
    sys.stdin.readline()


def sync_dir(path):
    if SYNC:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def name_of(job):
    return "%020d.json" % job


def job_of(name):
    if len(name) != 25 or not name.endswith(".json") or not name[:20].isdigit():
        return None
    return int(name[:20])


def setup():
    for d in (INBOX, OUTBOX, os.path.join(STORE, "queue")):
        os.makedirs(d, exist_ok=True)
    for w in range(PROCS):
        os.makedirs(mine(w), exist_ok=True)


def enqueue(job, payload_hex):
    # Written beside its final name and renamed: one directory's fsync makes it durable.
    tmp = os.path.join(INBOX, ".w%d.%s" % (WORKER, name_of(job)))
    with open(tmp, "w") as f:
        json.dump({"id": job, "payload": payload_hex}, f)
        f.flush()
        if SYNC:
            os.fsync(f.fileno())
    os.rename(tmp, os.path.join(INBOX, name_of(job)))
    sync_dir(INBOX)


def take():
    os.makedirs(mine(), exist_ok=True)
    for name in sorted(os.listdir(INBOX)):
        job = job_of(name)
        if job is None:
            continue
        src = os.path.join(INBOX, name)
        if VARIANT == "scan-read-delete":
            try:
                with open(src) as f:
                    json.load(f)
            except FileNotFoundError:
                continue
            point("read-then-delete")
            try:
                os.remove(src)
            except FileNotFoundError:
                pass  # somebody else deleted it: "fine"
            sync_dir(INBOX)
            return job
        point("list-then-rename")
        dst = os.path.join(mine(), name)
        try:
            os.rename(src, dst)
        except FileNotFoundError:
            continue  # another worker took it first
        sync_dir(mine())
        sync_dir(INBOX)
        if VARIANT == "delete-before-process":
            os.remove(dst)
            sync_dir(mine())
        return job
    return None


def ack(job):
    dst = os.path.join(OUTBOX, name_of(job))
    point("ack")
    if VARIANT in ("rename-claim", "nofsync"):
        os.rename(os.path.join(mine(), name_of(job)), dst)
        sync_dir(OUTBOX)
        sync_dir(mine())
        return
    with open(dst, "w") as f:
        f.write('{"done": true}\n')
        f.flush()
        if SYNC:
            os.fsync(f.fileno())
    sync_dir(OUTBOX)


def recover():
    # A job goes back under a hidden name first, made durable in both
    # directories, and only then gets its name: no live worker can take it
    # (and fsync inbox/) before the move out of queue/wN/ is durable.
    tmp, back = ".w%d." % WORKER, ".r%d." % WORKER
    for name in os.listdir(INBOX):
        if name.startswith(tmp):
            os.remove(os.path.join(INBOX, name))  # an enqueue that never got in
        elif name.startswith(back):
            os.rename(os.path.join(INBOX, name), os.path.join(INBOX, name[len(back):]))
            sync_dir(INBOX)
    if VARIANT in ("rename-claim", "nofsync") and os.path.isdir(mine()):
        for name in os.listdir(mine()):
            if job_of(name) is not None:
                hidden = os.path.join(INBOX, back + name)
                os.rename(os.path.join(mine(), name), hidden)
                sync_dir(mine())
                sync_dir(INBOX)
                os.rename(hidden, os.path.join(INBOX, name))
                sync_dir(INBOX)


def state():
    rows = []
    for where, d in ((-1, INBOX), (-2, OUTBOX)):
        rows += [(job_of(n), where) for n in os.listdir(d) if job_of(n) is not None]
    # .r<worker>.<name>: on its way back from a dead worker, still queued.
    rows += [(job_of(n.split(".", 2)[2]), -1) for n in os.listdir(INBOX)
             if n.startswith(".r") and n.count(".") >= 3 and job_of(n.split(".", 2)[2]) is not None]
    for w in range(PROCS):
        if os.path.isdir(mine(w)):
            rows += [(job_of(n), w) for n in os.listdir(mine(w)) if job_of(n) is not None]
    return rows


for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    op = words[0]
    try:
        if op in ("setup", "open", "recover"):
            {"setup": setup, "open": lambda: None, "recover": recover}[op]()
            say("ok")
        elif op == "enqueue":
            enqueue(int(words[1]), words[5] if len(words) > 5 else "")
            say("ok")
        elif op == "take":
            job = take()
            say("empty" if job is None else "ok %d" % job)
        elif op == "ack":
            ack(int(words[1]))
            say("ok")
        elif op == "state":
            for job, where in state():
                say("%d %d" % (job, where))
            say("end")
        else:
            say("fail unsupported op " + op)
    except FileNotFoundError as e:
        say("fail " + str(e).replace("\n", " "))
    except OSError as e:
        # After a rename or a write the job may have moved: not "certainly not".
        say("info %s" % (errno.errorcode.get(e.errno, "EIO")))
