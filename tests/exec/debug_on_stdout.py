"""Prints a debug line on stdout before each reply: the second line would be
read as the answer to the next request.  Must be a protocol-error naming the
debug line (tests/integration_exec.cmake)."""
import sys

n = 0
for line in sys.stdin:
    word = line.split()[0] if line.split() else ""
    if word in ("setup", "open", "recover"):
        print("ok", flush=True)
    elif word == "state":
        print("0 %d" % n)
        print("end", flush=True)
    else:
        print("DEBUG handling", line.strip(), flush=True)
        n += 1
        print("ok %d" % n, flush=True)
