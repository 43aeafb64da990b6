"""benches/http/mongo_sessions.py: the MongoDB side of mongodb.sh and callgrind_store.sh
(needs pymongo: run it with SecantusDB's venv python).

    python mongo_sessions.py ping  <url>
    python mongo_sessions.py seed  <url> <db> <collection> <n> <cookie file>
    python mongo_sessions.py stats <url> <db>

`seed` inserts n session documents the way `MongoDbStore` writes them ({id:
"session:raw<40 digits>", val: BinData(0, msgpack of {"_permanent": true, "n": 1}),
expiration: now + 31 days}) and writes their cookies (`session=raw...`, one a line).
`stats` prints the server's counters as one JSON line: `ops`, the sum of
serverStatus().opcounters insert + query + update + delete + getmore (every CRUD command;
`command` is left out: it counts the driver's heartbeats and these calls themselves),
`command`, and `top`'s per-collection counts of database <db> (`commands` holds
findAndModify, `update` the update command, `queries` find, `insert` insert).
"""
import datetime
import json
import sys

import pymongo
from bson.binary import Binary

# What the crate writes for {"_permanent": True, "n": 1} (msgpack).
VALUE = b"\x82\xaa_permanent\xc3\xa1n\x01"


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
        db = sys.argv[3]
        status = client.admin.command("serverStatus")
        ops = status["opcounters"]
        top = client.admin.command("top")["totals"]
        per_ns = {ns.split(".", 1)[1]: {section: v["count"] for section, v in sections.items()}
                  for ns, sections in top.items()
                  if isinstance(sections, dict) and ns.startswith(db + ".")}
        print(json.dumps({
            "ops": sum(ops[k] for k in ("insert", "query", "update", "delete", "getmore")),
            "command": ops["command"],
            "top": per_ns,
        }))
    else:
        sys.exit(f"unknown command {cmd}")


main()
