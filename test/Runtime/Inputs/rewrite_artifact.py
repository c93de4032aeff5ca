# Replaces text in a compiled artifact's program and writes it with a new,
# valid checksum trailer (b"DISTSUM1" + SHA-256 of the program): an
# artifact that passes the integrity check but whose content was never
# checked by dist-opt, as an untrusted artifact may be.
#
#   rewrite_artifact.py IN OUT [--after MARKER] OLD NEW [OLD NEW ...]
#
# With --after, only the text after the first MARKER is rewritten.
import hashlib
import sys

src, dst, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
marker = None
if pairs[:1] == ["--after"]:
    marker, pairs = pairs[1], pairs[2:]
data = open(src, "rb").read()
magic = b"DISTSUM1"
program = data[:-(len(magic) + 32)].decode()
head = ""
if marker is not None:
    cut = program.index(marker)
    head, program = program[:cut], program[cut:]
for old, new in zip(pairs[::2], pairs[1::2]):
    if old not in program:
        sys.exit(f"rewrite_artifact: '{old}' is not in {src}")
    program = program.replace(old, new)
program = head + program
body = program.encode()
open(dst, "wb").write(body + magic + hashlib.sha256(body).digest())
