"""moto's server for the Portcullis test suite: `python scripts/emulator.py [PORT]`.

The same application as `moto_server -H 127.0.0.1 -p PORT`, with one difference: requests are
applied one at a time. moto's DynamoDB checks a transaction's conditions and writes its items with
no lock, and on a failed condition restores a copy of the whole table, so two concurrent
transactions can both "succeed" or erase each other. Real DynamoDB serialises conditional writes
on an item; serialising the emulator gives the tests that guarantee, while the requests still
arrive concurrently from the client side. Port 0 picks a free port, named in the log line
` * Running on http://127.0.0.1:PORT`.

One more thing DynamoDB does that moto does not: `TransactWriteItems` is idempotent by its
`ClientRequestToken` (which the AWS SDKs fill in and keep across retries). A retry of a successful
transaction within ten minutes answers success again without applying it twice, so a transaction
whose answer was lost on the way back is not refused as a conflict with itself.
"""

import io
import json
import os
import sys
import threading
import time

IDEMPOTENCY_WINDOW = 600

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
        # ClientRequestToken -> (when, request body, status, headers, response body)
        self.transactions = {}

    def __call__(self, environ, start_response):
        with self.lock:
            if environ.get("HTTP_X_AMZ_TARGET", "").endswith(".TransactWriteItems"):
                return self.transact(environ, start_response)
            return list(self.app(environ, start_response))

    def transact(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            token = json.loads(body).get("ClientRequestToken")
        except ValueError:
            token = None
        now = time.monotonic()
        self.transactions = {
            t: seen for t, seen in self.transactions.items() if now - seen[0] < IDEMPOTENCY_WINDOW
        }
        if token in self.transactions:
            _, first_body, status, headers, answer = self.transactions[token]
            if first_body != body:
                status, answer = "400 Bad Request", json.dumps({
                    "__type": "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                    "message": "The request uses the same client token as a previous, but non-identical request.",
                }).encode()
                headers = [("Content-Type", "application/x-amz-json-1.0")]
            start_response(status, headers)
            return [answer]
        answered = {}

        def record(status, headers, exc_info=None):
            answered["status"], answered["headers"] = status, headers
            return start_response(status, headers, exc_info)

        answer = b"".join(self.app(environ, record))
        if token and answered.get("status", "").startswith("200"):
            self.transactions[token] = (now, body, answered["status"], answered["headers"], answer)
        return [answer]


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
