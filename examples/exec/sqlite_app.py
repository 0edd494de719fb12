#!/usr/bin/env python3
"""A contend exec-protocol adapter: Python's sqlite3 the way the field reports used it.

    contend run --workload claim --target exec --procs 4 --ops 100 --perturb 200 \
        --set cmd="python3 examples/exec/sqlite_app.py"            # exactly one winner per item
    contend run --workload claim --target exec --procs 4 --ops 100 --perturb 200 \
        --set cmd="python3 examples/exec/sqlite_app.py --racy"     # double-claim
    contend run --workload bank --target exec --procs 4 --ops 100 --keys 4 --perturb 200 \
        --set cmd="python3 examples/exec/sqlite_app.py --racy"     # wrong-total

Two stories, one database (WAL, busy timeout 10 s):
  claim  the seen store: mark_seen(item) must tell exactly one caller that it
         was first.  Right: INSERT OR IGNORE, then the cursor's rowcount says
         whether this call inserted.  --racy: is_seen() (SELECT), then
         mark_seen() (INSERT OR IGNORE) and "won" when the SELECT found
         nothing: two callers both see "absent" and both win.
  bank   a budget moved between accounts.  Right: BEGIN IMMEDIATE, read,
         decline an overdraft, write both rows, COMMIT.  --racy: the reads
         and the writes in separate autocommit statements, so two transfers
         from one account both read the old balance and money appears.

`point` lines put contend's perturbation between the read and the write.
The protocol is in targets/exec.c.
"""
import os, sqlite3, sys

STORE = os.environ.get("CONTEND_STORE_DIR", ".")
KEYS = int(os.environ.get("CONTEND_KEYS", "1"))
INITIAL = 100  # CONTEND_BANK_INITIAL: every account's balance after setup
racy = "--racy" in sys.argv[1:]
db = sqlite3.connect(os.path.join(STORE, "app.db"), timeout=10, isolation_level=None)


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def point(name):
    say("point " + name)  # contend may sleep here; it answers "go"
    sys.stdin.readline()


def setup():
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE seen (item INTEGER PRIMARY KEY, owner INTEGER NOT NULL)")
    db.execute("CREATE TABLE account (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)")
    db.executemany("INSERT INTO account VALUES (?, ?)", ((k, INITIAL) for k in range(KEYS)))


def claim(item, op_id):
    if racy:
        seen = db.execute("SELECT 1 FROM seen WHERE item = ?", (item,)).fetchone()
        point("is_seen-mark_seen")
        db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (item, op_id))
        return 0 if seen else 1
    return db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (item, op_id)).rowcount


def balance(acct):
    return db.execute("SELECT balance FROM account WHERE id = ?", (acct,)).fetchone()[0]


def transfer(src, dst, amount):
    if not racy:
        db.execute("BEGIN IMMEDIATE")
    try:
        have, other = balance(src), balance(dst)
        point("read-write")
        if have < amount:
            moved = 0
        else:
            db.execute("UPDATE account SET balance = ? WHERE id = ?", (have - amount, src))
            db.execute("UPDATE account SET balance = ? WHERE id = ?", (other + amount, dst))
            moved = 1
        if not racy:
            db.execute("COMMIT")
        return moved
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def read_all():
    # One statement reads every row from one snapshot.
    rows = db.execute("SELECT balance FROM account").fetchall()
    return sum(r[0] for r in rows), min((r[0] for r in rows), default=0)


def state():
    if os.environ.get("CONTEND_WORKLOAD") == "claim":
        return db.execute("SELECT item, owner FROM seen ORDER BY item").fetchall()
    return db.execute("SELECT id, balance FROM account ORDER BY id").fetchall()


for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    op, args = words[0], [int(w) for w in words[1:]]
    try:
        if op == "setup":
            setup()
            say("ok")
        elif op == "open":
            say("ok")
        elif op == "claim":
            say("ok %d" % claim(args[0], args[3]))
        elif op == "transfer":
            say("ok %d" % transfer(args[0], args[1], args[2]))
        elif op == "read-all":
            say("ok %d %d" % read_all())
        elif op == "state":
            for key, value in state():
                say("%d %d" % (key, value))
            say("end")
        else:
            say("fail unsupported op " + op)
    except sqlite3.OperationalError as e:
        # Busy or locked.  In a transaction it was rolled back: the op did
        # not happen.  --racy may have written before the error: unknown.
        say(("info " if racy else "fail ") + str(e).replace("\n", " "))
