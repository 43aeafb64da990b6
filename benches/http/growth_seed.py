"""benches/http/growth_seed.py: the sessions of sizes.sh and population.sh, written straight
into the store (no HTTP), with the bytes the crate itself writes.

    python3 growth_seed.py value BYTES                      # the session's bytes, as hex
    python3 growth_seed.py cookies PREFIX COUNT             # session=<sid>, one a line
    python3 growth_seed.py redis PREFIX COUNT BYTES | redis-cli -p PORT --pipe

A session is the msgpack of {"_permanent": true, "n": 1, "blob": "<ASCII text>"} (keys in
this order, as the crate writes them back), the blob sized so that the whole encoding is
exactly BYTES long; BYTES = 0 gives the two-key session {"_permanent": true, "n": 1}
(16 bytes), the one `GET /incr` creates. The blob is a string, not bytes: what Flask
sessions hold is text (ids, tokens, flashed messages, JSON-able data); msgspec writes
Python `bytes` as msgpack bin, which decodes without the UTF-8 check (see the codec
benches for both).

Session ids are PREFIX followed by the zero-padded index, 43 characters (the length of a
default id: 32 random bytes, base64url), so the crate takes them as its own. The Redis
keys are `session:<sid>`, with the 31-day expiry of Flask's default lifetime.
"""
import sys

SID_LEN = 43
TTL = 31 * 24 * 3600
TWO_KEYS = b"\x82\xaa_permanent\xc3\xa1n\x01"
PATTERN = b"abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def msgpack_str_header(n):
    if n < 32:
        return bytes([0xA0 | n])
    if n < 1 << 8:
        return bytes([0xD9, n])
    if n < 1 << 16:
        return b"\xda" + n.to_bytes(2, "big")
    return b"\xdb" + n.to_bytes(4, "big")


def session_value(total):
    if total == 0:
        return TWO_KEYS
    head = b"\x83\xaa_permanent\xc3\xa1n\x01\xa4blob"
    # The header's size depends on the blob's length: take the one that fits exactly.
    for header_len in (1, 2, 3, 5):
        n = total - len(head) - header_len
        if n >= 0 and len(msgpack_str_header(n)) == header_len:
            blob = (PATTERN * (n // len(PATTERN) + 1))[:n]
            value = head + msgpack_str_header(n) + blob
            assert len(value) == total
            return value
    sys.exit(f"no session of exactly {total} bytes (the smallest is {len(head) + 1})")


def sids(prefix, count):
    width = SID_LEN - len(prefix)
    for i in range(count):
        yield f"{prefix}{i:0{width}d}"


def resp(*parts):
    out = [b"*%d\r\n" % len(parts)]
    for p in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(p), p))
    return b"".join(out)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "value":
        print(session_value(int(args[0])).hex())
    elif cmd == "cookies":
        prefix, count = args[0], int(args[1])
        sys.stdout.write("".join(f"session={sid}\n" for sid in sids(prefix, count)))
    elif cmd == "redis":
        prefix, count, total = args[0], int(args[1]), int(args[2])
        value = session_value(total)
        out = sys.stdout.buffer
        ttl = str(TTL).encode()
        batch = []
        for sid in sids(prefix, count):
            batch.append(resp(b"SET", b"session:" + sid.encode(), value, b"EX", ttl))
            if len(batch) >= 1024:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))
        out.flush()
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
