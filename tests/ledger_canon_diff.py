#!/usr/bin/env python3
"""ledger_canon_diff.py CONTEND DIR [N] [SEED] - differential test of the
canonical JSON that `contend verify ledger` hashes, against Python itself.

Writes a chain of N (default 1500) records whose lines are JSON text written
the many ways JSON can be written: keys in random, sorted or reversed order,
repeated keys (json.loads keeps the last), spaces and tabs anywhere, strings
with every escape form (short, \\u in either case, \\/, surrogate pairs, lone
surrogates) and raw UTF-8 at every offset from a 16-byte block, keys that
share 8-byte prefixes or hold NUL, integers of any size (and -0), floats in
every spelling json.loads reads (1E5, 2.50, 1e-7, NaN, -Infinity), nested
objects and arrays; a sixth of the lines canonical already (the fast path).
Each record's hash is hashlib.sha256 of
json.dumps(json.loads(line without hash), sort_keys=True,
separators=(",", ":")), so the expected bytes come from Python, not from
contend.  The whole chain must verify (with one thread and with several);
then one value changed in one record must be a bad-hash on that line, and
nowhere else (the test could not pass by accepting everything).
Deterministic: the seed fixes every line.
"""
import hashlib
import json
import math
import os
import random
import struct
import subprocess
import sys

contend, out_dir = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1500
rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 14)

SHORT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
         "\f": "\\f"}


def u_escape(cp):
    h = "%04x" % cp
    return "\\u" + (h.upper() if rng.random() < 0.3 else h)


def write_char(ch):
    """One character as JSON text, any of the ways json.loads reads it."""
    cp = ord(ch)
    choice = rng.random()
    if 0xD800 <= cp <= 0xDFFF:
        return u_escape(cp)  # a lone surrogate can only be written escaped
    if ch in SHORT and choice < 0.7:
        return SHORT[ch]
    if ch == "/" and choice < 0.5:
        return "\\/"
    if cp < 0x20 or ch in '"\\' or choice < 0.15:
        if cp > 0xFFFF:
            cp -= 0x10000
            return u_escape(0xD800 | (cp >> 10)) + u_escape(0xDC00 | (cp & 0x3FF))
        return u_escape(cp)
    return ch  # raw, UTF-8 in the file when not ASCII


POOLS = [
    [chr(c) for c in range(0x20, 0x7F)],
    [chr(c) for c in range(0x00, 0x20)] + ["\x7f", '"', "\\", "/"],
    ["\u00e9", "\u00ff", "\u0100", "\u20ac", "\u65e5", "\uffff", "\ufffd"],
    ["\U0001F600", "\U00010000", "\U0010FFFF"],
    ["\ud800", "\udbff", "\udc00", "\udfff"],
]


def rand_text(lo=0, hi=24):
    """A string, mostly plain, with odd characters at random offsets."""
    k = rng.randint(lo, hi)
    s = []
    for _ in range(k):
        r = rng.random()
        pool = POOLS[0] if r < 0.75 else POOLS[1 + int((r - 0.75) / 0.25 * 4) % 4]
        s.append(rng.choice(pool))
    return "".join(s)


def block_text():
    """An odd character after 0..40 plain bytes: every offset from a block."""
    odd = rng.choice(POOLS[1] + POOLS[2] + POOLS[3] + POOLS[4])
    return "x" * rng.randint(0, 40) + odd + "y" * rng.randint(0, 20)


def string_text(s):
    return '"' + "".join(write_char(ch) for ch in s) + '"'


def float_text(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    forms = [repr(v), "%.17g" % v, "%.20e" % v, ("%.17E" % v)]
    t = rng.choice(forms)
    if "e" not in t.lower() and "." not in t:
        t += rng.choice([".0", ".000", "e0", "E+00"])
    return t


def rand_float():
    r = rng.random()
    if r < 0.25:
        while True:
            v = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
            if math.isfinite(v):
                return v
    if r < 0.5:
        return rng.choice([0.0, -0.0, 5e-324, 1.7976931348623157e308, 1e16, 1e-4, 1e-5,
                           0.1, 0.30000000000000004, 123456789.125, 1e22, 9007199254740993.0,
                           float("nan"), float("inf"), float("-inf")])
    if r < 0.75:
        return round(rng.uniform(-1e6, 1e6), rng.randint(0, 6))
    return rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30)


def int_text():
    r = rng.random()
    if r < 0.1:
        return "-0"
    if r < 0.4:
        v = rng.randint(-(10 ** 40), 10 ** 40)
    else:
        v = rng.randint(-1000, 10 ** 6)
    return str(v)


def ws():
    return rng.choice(["", "", "", " ", "  ", "\t", " \t "])


KEYS = ["writer", "seq", "op", "payload", "amount", "ts", "note", "a", "ab", "abcdefgh",
        "abcdefghi", "abcdefgg~", "abcdefgh\u0000", "a\u0000", "\u00e9", "\U0001F600",
        "shared_prefix_1", "shared_prefix_12", "shared_prefix_2", "z", ""]


def rand_value(depth):
    r = rng.random()
    if depth < 3 and r < 0.08:
        return rand_object(depth + 1, rng.randint(0, 5))
    if depth < 3 and r < 0.14:
        return "[" + ws() + ("," + ws()).join(rand_value(depth + 1)
                                               for _ in range(rng.randint(0, 4))) + ws() + "]"
    if r < 0.4:
        return string_text(rand_text())
    if r < 0.5:
        return string_text(block_text())
    if r < 0.65:
        return int_text()
    if r < 0.85:
        return float_text(rand_float())
    return rng.choice(["true", "false", "null"])


def rand_key():
    r = rng.random()
    if r < 0.6:
        return rng.choice(KEYS)
    if r < 0.8:
        return rand_text(0, 12)
    return block_text()


def members_text(members):
    return "{" + ws() + ("," + ws()).join(string_text(k) + ws() + ":" + ws() + v
                                          for k, v in members) + ws() + "}"


def rand_object(depth, count):
    members = [(rand_key(), rand_value(depth)) for _ in range(count)]
    if members and rng.random() < 0.2:
        members.append((rng.choice(members)[0], rand_value(depth)))  # a repeated key
    return members_text(members)


def record_line(i, prev):
    """The text of record i and its hash (as Python computes it)."""
    keys = {}
    for _ in range(rng.randint(1, 12)):
        k = rand_key()
        if k not in ("hash", "prev_hash"):
            keys[k] = rand_value(0)
    members = list(keys.items())
    # Sometimes a repeated key: json.loads keeps the last.
    if members and rng.random() < 0.15:
        members.insert(rng.randrange(len(members)), (rng.choice(members)[0], rand_value(0)))
    # prev_hash written plain or with escaped characters (it is decoded).
    prev_text = '"' + "".join(c if rng.random() > 0.05 else u_escape(ord(c)) for c in prev) + '"'
    members.insert(rng.randint(0, len(members)), ("prev_hash", prev_text))
    shape = rng.random()
    if shape < 0.15:
        members.sort(key=lambda m: m[0])
    elif shape < 0.3:
        members.sort(key=lambda m: m[0], reverse=True)
    else:
        rng.shuffle(members)
    body = json.loads(members_text(members))
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"))
                            .encode()).hexdigest()
    hash_member = ("hash", '"' + digest + '"')
    if i % 6 == 5:
        # Canonical already: what a sorting Python writer writes.
        body["hash"] = digest
        return json.dumps(body, sort_keys=True, separators=(",", ":")), digest
    members.insert(rng.randint(0, len(members)), hash_member)
    return members_text(members), digest


def verify(path, *args):
    r = subprocess.run([contend, "verify", "ledger", path, *args], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return r.returncode, r.stdout


os.makedirs(out_dir, exist_ok=True)
prev, lines = "0" * 64, []
for i in range(n):
    line, prev = record_line(i, prev)
    lines.append(line)
path = os.path.join(out_dir, "diff.jsonl")
with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
    f.write("\n".join(lines) + "\n")

failed = False
for jobs in ("1", "3"):
    code, text = verify(path, "--jobs", jobs)
    if code != 0 or f"{n} records in {n} lines: valid" not in text:
        failed = True
        print(f"FAIL: --jobs {jobs}: exit {code}, expected a valid chain of {n}:\n{text}")

# The control: one record's value changed (still valid JSON), so its hash no
# longer matches; nothing else may be reported.
victim = n // 2 - (n // 2) % 6 + 5  # a canonical line: its key text is plain
bad = list(lines)
bad[victim] = bad[victim].replace('"prev_hash"', '"zz_added":1,"prev_hash"', 1)
bad_path = os.path.join(out_dir, "diff-bad.jsonl")
with open(bad_path, "w", encoding="utf-8", errors="surrogatepass") as f:
    f.write("\n".join(bad) + "\n")
code, text = verify(bad_path, "--jobs", "1")
want = f"{victim + 1}:"
reported = [l for l in text.splitlines() if ": bad-hash:" in l or ": chain-" in l
            or ": invalid-line:" in l]
if code != 1 or len(reported) != 1 or not reported[0].startswith(want) or \
        "bad-hash" not in reported[0]:
    failed = True
    print(f"FAIL: changed line {victim + 1}: exit {code}, expected one bad-hash there:\n{text}")

if failed:
    sys.exit(1)
print(f"ok: {n} records written {len(set(lines))} ways agree with Python's json.dumps")
