"""contend_exec - a one-file, standard-library client of contend's exec protocol.

Your adapter is a class whose methods are your storage calls; this module does
the rest: the request loop, one flushed reply line per request, `point`,
turning exceptions into `fail` / `info`, hex payloads, a closed pipe, and the
final `state`.  See docs/exec-protocol.md for the protocol itself.

    import contend_exec

    class Counter(contend_exec.Program):
        def incr(self, op):                 # op.key, op.key2, op.arg, op.id, op.payload
            ...                             # your code; contend_exec.point("read-done")
            return new_value                # -> "ok VALUE"
        def state(self):
            return {key: value, ...}        # -> "KEY VALUE" lines, then "end"

    contend_exec.run(Counter())

Return values become the reply: None -> "ok", an int -> "ok N", a tuple of ints
-> "ok A B"; for `get`, bytes -> "ok 1 HEX" and None -> "ok 0" (a miss); for
`take`, None -> "empty".  Raise contend_exec.Fail("why") when the op certainly
did not happen, contend_exec.Info("why") when you cannot know; any other
exception is reported as `info` (it may have happened part way) and its text
goes to stderr.  Print debug output to stderr only: stdout is the protocol.
"""
import os
import sys
import traceback

__all__ = ["Program", "Op", "Fail", "Info", "point", "run", "env_int", "store_path"]


class Fail(Exception):
    """The op certainly did not take effect."""


class Info(Exception):
    """The op may or may not have taken effect."""


class Op:
    """One request: kind, key, key2, arg, id and payload (bytes or None)."""

    __slots__ = ("kind", "key", "key2", "arg", "id", "payload")

    def __init__(self, kind, key, key2, arg, op_id, payload):
        self.kind, self.key, self.key2, self.arg, self.id = kind, key, key2, arg, op_id
        self.payload = payload


class Program:
    """Override the requests your workload uses; the defaults answer ok."""

    def setup(self):
        pass

    def recover(self):
        pass

    def open(self):
        pass

    def state(self):
        return {}


_out = sys.stdout.buffer
_in = sys.stdin.buffer


def _send(text):
    _out.write(text.encode() + b"\n")
    _out.flush()


def point(name="exec"):
    """A perturbation point (and a place where contend's faults land): call
    it between a read and the write that depends on it."""
    _send("point " + name)
    if _in.readline().strip() != b"go":
        sys.exit(0)


def env_int(name, default=0):
    return int(os.environ.get(name, default))


def store_path(*parts):
    """A path under the case's store directory (CONTEND_STORE_DIR)."""
    return os.path.join(os.environ.get("CONTEND_STORE_DIR", "."), *parts)


# Request words that name a method of another spelling.
_METHOD = {"read-all": "read_all"}


def _reply(kind, result):
    if kind == "get":
        return "ok 0" if result is None else "ok 1 " + bytes(result).hex()
    if kind == "take" and result is None:
        return "empty"
    if result is None or result is True:
        return "ok"
    if isinstance(result, (tuple, list)):
        return "ok " + " ".join(str(int(x)) for x in result)
    return "ok %d" % int(result)


def _reason(exc):
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _state(program):
    try:
        items = program.state()
        if isinstance(items, dict):
            items = items.items()
        lines = ["%d %d" % (int(k), int(v)) for k, v in items]
    except Exception as e:
        # The store cannot be read: contend reports corrupt-store.
        traceback.print_exc(file=sys.stderr)
        _send("fail " + _reason(e))
        return
    lines.append("end")
    _out.write(("\n".join(lines) + "\n").encode())
    _out.flush()


def _serve(program, words):
    kind = words[0]
    if kind == "state":
        _state(program)
        return
    if kind in ("setup", "open", "recover"):
        try:
            getattr(program, kind)()
            _send("ok")
        except Exception as e:  # the store cannot be set up or opened
            traceback.print_exc(file=sys.stderr)
            _send("fail " + _reason(e))
        return
    method = getattr(program, _METHOD.get(kind, kind), None)
    if method is None or len(words) < 5:
        _send("fail unsupported request " + kind)
        return
    payload = bytes.fromhex(words[5]) if len(words) > 5 else None
    op = Op(kind, int(words[1]), int(words[2]), int(words[3]), int(words[4]), payload)
    try:
        line = _reply(kind, method(op))
    except Fail as e:
        line = "fail " + _reason(e)
    except Info as e:
        line = "info " + _reason(e)
    except Exception as e:
        # It may have happened part way: indeterminate, and say why.
        traceback.print_exc(file=sys.stderr)
        line = "info " + _reason(e)
    _send(line)


def run(program):
    """Serve requests until contend closes stdin (then return)."""
    try:
        while True:
            line = _in.readline()
            if not line:
                return
            words = line.decode().split()
            if words:
                _serve(program, words)
    except BrokenPipeError:
        # contend went away (its worker was killed): nobody to answer.
        try:
            sys.stdout = None
        finally:
            os._exit(0)
