#!/usr/bin/env python3
"""A contend exec-protocol adapter: Python's logging.handlers.RotatingFileHandler,
one handler per process, all on the same file - the field report's state-machine
log (10 MB, 5 backups), scaled down.

Driven over contend's exec protocol with the contend_exec client:

    harness -> program                 program -> harness
    log 0 0 0 ID HEX                   ok | fail REASON | info REASON
    state                              0 BACKUPS, then `end`

HEX is the `log` workload's whole line, hex-encoded; the program logs it as
the message.
LINE is the `log` workload's line (one JSON object, no newline, no spaces
outside strings are required; everything after the second space is LINE).
`state` reports CONTEND_LOG_BACKUPS = 0 (target.h), so the checker knows
how many backups the handler keeps.  The files follow the naming the `log`
checker reads: $CONTEND_STORE_DIR/app.log, app.log.1 .. app.log.N.

    contend run --workload log --target exec --procs 4 --ops 300 \
        --set cmd="python3 examples/exec/rotating_log.py" --expect missing-line

What to expect: each process's handler checks the size of its own stream and
rolls over on its own (shouldRollover / doRollover take only a thread lock),
which is the `per-process-rotate` variant of the built-in rotating-log target:
lines vanish (missing-line) and the files fall out of time order
(writer-order).  `--lock` wraps emit() in an exclusive flock on app.log.lock
and reopens the stream when app.log is no longer the file it has open (the
`flock-rotate` fix).
"""
import fcntl, logging, logging.handlers, os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "clients", "python"))
import contend_exec  # noqa: E402

STORE = os.environ.get("CONTEND_STORE_DIR", ".")
PATH, LOCK = os.path.join(STORE, "app.log"), os.path.join(STORE, "app.log.lock")
MAX_BYTES = int(os.environ.get("ROTATING_LOG_MAX_BYTES", "1000"))
BACKUPS = int(os.environ.get("ROTATING_LOG_BACKUPS", "200"))
locked = "--lock" in sys.argv[1:]


class LockedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """The fix: rotate and write under one exclusive flock shared by processes,
    and follow a rotation another process did."""

    def emit(self, record):
        with open(LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if self.stream is not None:
                    try:
                        moved = os.stat(self.baseFilename).st_ino != os.fstat(self.stream.fileno()).st_ino
                    except FileNotFoundError:
                        moved = True
                    if moved:
                        self.stream.close()
                        self.stream = self._open()
                super().emit(record)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def make_logger():
    cls = LockedRotatingFileHandler if locked else logging.handlers.RotatingFileHandler
    handler = cls(PATH, maxBytes=MAX_BYTES, backupCount=BACKUPS)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("contend")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    return logger


class RotatingLog(contend_exec.Program):
    def setup(self):
        open(PATH, "a").close()

    def open(self):
        self.logger = make_logger()

    def log(self, op):
        # RotatingFileHandler reports its own errors (a failed rename) to
        # stderr through handleError() and returns normally, as it does in
        # the field report's service: the caller sees success either way.
        self.logger.info(op.payload.decode())

    def state(self):
        return {0: BACKUPS}  # CONTEND_LOG_BACKUPS (target.h)


if __name__ == "__main__":
    contend_exec.run(RotatingLog())
