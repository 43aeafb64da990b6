"""moto_server, handling one request at a time.

moto applies a TransactWriteItems by copying the whole table first and putting the copy
back when a condition fails, so a transaction handled beside another request can undo
that request's committed write (seen as a rename that answered "moved" and left no item).
DynamoDB itself serializes transactions with other writes; one lock around moto's WSGI
application gives the test server the same isolation. Arguments are moto_server's.
"""

import threading

import moto.server as server

_LOCK = threading.Lock()


class _Serialized(server.DomainDispatcherApplication):
    def __call__(self, environ, start_response):
        with _LOCK:
            return super().__call__(environ, start_response)


server.DomainDispatcherApplication = _Serialized

if __name__ == "__main__":
    server.main()
