"""benches/http/mongo_sessions.py: the MongoDB side of mongodb.sh and callgrind_store.sh
(needs pymongo: run it with SecantusDB's venv python).

    python mongo_sessions.py ping  <url>
    python mongo_sessions.py seed  <url> <db> <collection> <n> <cookie file>
    python mongo_sessions.py stats <url> <db>
    python mongo_sessions.py probe <url> <db> <collection> <http port> <route> <cookie file> <n>

`seed` inserts n session documents the way `MongoDbStore` writes them ({id:
"session:raw<40 digits>", val: BinData(0, msgpack of {"_permanent": true, "n": 1}),
expiration: now + 31 days}) and writes their cookies (`session=raw...`, one a line).

`stats` waits until the server has finished what it was given (its operation count still
for 0.5 s: a load generator that stops leaves requests in flight, which the server still
runs), then prints its counters as one JSON line: `ops`, the sum of
serverStatus().opcounters insert + query + update + delete + getmore (every CRUD command;
`command` is left out: it counts the driver's heartbeats and these calls themselves),
`command`, and `top`'s per-collection counts for database <db> (`commands` holds
findAndModify, `update` the update command, `queries` find, `insert` insert).

`probe` sends n requests one after another (GET <route> on the http port, with the first n
cookies of the file; each must answer 200) and prints, as one JSON line, the operations
per request the server counted (`ops`) and per `top` section of <collection>: exact, as
nothing else is in flight.
"""
import datetime
import http.client
import json
import sys
import time

import pymongo
from bson.binary import Binary

# What the crate writes for {"_permanent": True, "n": 1} (msgpack).
VALUE = b"\x82\xaa_permanent\xc3\xa1n\x01"
CRUD = ("insert", "query", "update", "delete", "getmore")


def crud(client):
    ops = client.admin.command("serverStatus")["opcounters"]
    return sum(ops[k] for k in CRUD), ops["command"]


def settled(client):
    """The counters once the CRUD count has not moved for 0.5 s (at most 60 s)."""
    last, deadline = crud(client), time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = crud(client)
        if now[0] == last[0]:
            return now
        last = now
    return last


def stats(client, db):
    ops, command = settled(client)
    top = client.admin.command("top")["totals"]
    per_ns = {ns.split(".", 1)[1]: {section: v["count"] for section, v in sections.items()}
              for ns, sections in top.items()
              if isinstance(sections, dict) and ns.startswith(db + ".")}
    return {"ops": ops, "command": command, "top": per_ns}


def main():
    cmd, url = sys.argv[1], sys.argv[2]
    client = pymongo.MongoClient(url, serverSelectionTimeoutMS=2000)
    if cmd == "ping":
        client.admin.command("ping")
    elif cmd == "seed":
        db, coll, n, path = sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
        expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=31)
        sids = [f"raw{i:040d}" for i in range(n)]
        docs = [{"id": f"session:{sid}", "val": Binary(VALUE), "expiration": expiration}
                for sid in sids]
        for start in range(0, n, 1000):
            client[db][coll].insert_many(docs[start:start + 1000], ordered=False)
        with open(path, "w") as out:
            out.writelines(f"session={sid}\n" for sid in sids)
    elif cmd == "stats":
        print(json.dumps(stats(client, sys.argv[3])))
    elif cmd == "probe":
        db, coll, port, route, path, n = sys.argv[3:9]
        n = int(n)
        with open(path) as f:
            cookies = [line.strip() for line in f if line.strip()][:n]
        before = stats(client, db)
        conn = http.client.HTTPConnection("127.0.0.1", int(port))
        for cookie in cookies:
            conn.request("GET", route, headers={"Cookie": cookie})
            res = conn.getresponse()
            res.read()
            if res.status != 200:
                sys.exit(f"probe: GET {route} answered {res.status}")
        after = stats(client, db)
        tb, ta = before["top"].get(coll, {}), after["top"].get(coll, {})
        print(json.dumps({
            "ops": (after["ops"] - before["ops"]) / len(cookies),
            "top": {s: (ta.get(s, 0) - tb.get(s, 0)) / len(cookies)
                    for s in ("commands", "update", "queries", "insert")},
        }))
    else:
        sys.exit(f"unknown command {cmd}")


main()
