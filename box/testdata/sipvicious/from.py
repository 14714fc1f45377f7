# Runs a SIPVicious tool from a source address of its own: sipvicious
# 0.3.3's svwar and svcrack take -b but never pass it to their socket (only
# svmap does), so every socket the tool binds to the wildcard address is
# bound to $JINYIN_SOURCE instead. Used by box/security_test.go.
#
#   JINYIN_SOURCE=127.0.0.67 python3 from.py svwar ARGS...
import importlib
import os
import socket
import sys

source = os.environ["JINYIN_SOURCE"]
wildcard_bind = socket.socket.bind


def bind(self, address):
    host, *rest = address
    if host in ("", "0.0.0.0"):
        host = source
    return wildcard_bind(self, (host, *rest))


socket.socket.bind = bind
sys.path.insert(0, "/usr/share/sipvicious")  # where Debian's package keeps it
tool = sys.argv[1]
sys.argv = sys.argv[1:]
sys.exit(importlib.import_module("sipvicious." + tool).main())
