# Appends an artifact's checksum trailer to an MLIR text file, as
# dist-opt -o does (lib/Artifact): the 8 bytes DISTSUM1, then the SHA-256 of
# every byte before them. Tests use it to make artifacts by hand; that
# anyone can do this is why the checksum detects damage, not tampering.
#
#   seal_artifact.py IN.mlir OUT.dist
import hashlib
import sys

data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "wb") as out:
    out.write(data + b"DISTSUM1" + hashlib.sha256(data).digest())
