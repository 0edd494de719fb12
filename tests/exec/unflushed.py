"""Never flushes stdout (a pipe is block-buffered): setup gets no reply in
time, and the message must say so (tests/integration_exec.cmake)."""
import sys

for line in sys.stdin:
    print("ok")
