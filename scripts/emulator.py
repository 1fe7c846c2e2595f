"""moto's server for the Portcullis test suite: `python scripts/emulator.py [PORT]`.

The same application as `moto_server -H 127.0.0.1 -p PORT`, with one difference: requests are
applied one at a time. moto's DynamoDB checks a transaction's conditions and writes its items with
no lock, and on a failed condition restores a copy of the whole table, so two concurrent
transactions can both "succeed" or erase each other. Real DynamoDB serialises conditional writes
on an item; serialising the emulator gives the tests that guarantee, while the requests still
arrive concurrently from the client side. Port 0 picks a free port, named in the log line
` * Running on http://127.0.0.1:PORT`.
"""

import os
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


class OneAtATime:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        "127.0.0.1",
        port,
        OneAtATime(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
