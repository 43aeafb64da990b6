"""benches/http/memcached_sessions.py: seeds the raw memcached peer's sessions (used by
memcached.sh and callgrind_store.sh).

    python3 memcached_sessions.py <port> <n> <cookie file>

Stores n entries `session:raw<40 digits>` holding the bytes the crate writes for
{"_permanent": true, "n": 1} (msgpack), with the store's expiry, and writes their cookies
(`session=raw...`, one a line).
"""
import socket
import sys
import time

port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
value = b"\x82\xaa_permanent\xc3\xa1n\x01"
s = socket.create_connection(("127.0.0.1", port))
with open(path, "w") as out:
    for i in range(n):
        sid = f"raw{i:040d}"
        # 31 days is over memcached's 30-day limit for relative times: absolute time.
        expiry = int(time.time()) + 31 * 24 * 3600
        s.sendall(b"ms session:%s %d T%d\r\n%s\r\n" % (sid.encode(), len(value), expiry, value))
        assert s.recv(64).startswith(b"HD"), "ms failed"
        out.write(f"session={sid}\n")
