"""moto's server for the Portcullis test suite: `python scripts/emulator.py [PORT]`.

The same application as `moto_server -H 127.0.0.1 -p PORT`, with one difference: requests are
applied one at a time. moto's DynamoDB checks a transaction's conditions and writes its items with
no lock, and on a failed condition restores a copy of the whole table, so two concurrent
transactions can both "succeed" or erase each other. Real DynamoDB serialises conditional writes
on an item; serialising the emulator gives the tests that guarantee, while the requests still
arrive concurrently from the client side. Port 0 picks a free port, named in the log line
` * Running on http://127.0.0.1:PORT`.

moto also copies every table a transaction touches, whole, before each transaction (to roll back a
failed one), so a transaction costs time in proportion to the table and filling a table with
transactions takes quadratic time. Here a transaction checks all its conditions first, against
the table as it is, and writes only when all hold, keeping a copy of just the items it writes
in case a write fails: DynamoDB's semantics (the items of one transaction are distinct, and its
conditions are checked before any of it is applied) at a cost that does not grow with the table.

One more thing DynamoDB does that moto does not: `TransactWriteItems` is idempotent by its
`ClientRequestToken` (which the AWS SDKs fill in and keep across retries). A retry of a successful
transaction within ten minutes answers success again without applying it twice, so a transaction
whose answer was lost on the way back is not refused as a conflict with itself.

Last, a meter for the load kit's cost figures (docs/cost.md): every DynamoDB request is counted
in request units as on-demand DynamoDB bills them, and every SES send, grouped by the caller's
`AWS_SDK_UA_APP_ID` (the `app/<id>` of its User-Agent). `GET /_portcullis/meter` answers the
counts so far; `DELETE /_portcullis/meter` sets them to zero. A read unit covers 4 KB read
strongly consistent (half for an eventually consistent read), a write unit 1 KB written; a
transaction costs twice its items' units. Item sizes are taken as their JSON length, a little over
DynamoDB's own measure; an update or a delete is counted by its key (one write unit), which is
exact for items under 1 KB, as Portcullis' are.
"""

import copy
import io
from collections import OrderedDict
import json
import os
import sys
import threading
import time

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend

IDEMPOTENCY_WINDOW = 600

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def transact_write_items(self, transact_items):
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen, plan, reasons = set(), [], []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException()
        kind, op = next(iter(item.items()))
        table_name = op["TableName"]
        table = self.get_table(table_name)
        if kind == "Put":
            names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
            key = {name: op["Item"][name] for name in names}
        else:
            key = op["Key"]
        identity = (table_name, json.dumps(key, sort_keys=True))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        current = self.get_item(table_name, key)
        condition = op.get("ConditionExpression")
        if condition is not None and not get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        ).expr(current):
            old = None
            if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                old = current.to_json()["Attributes"]
            reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))
        else:
            reasons.append((None, None, None))
        plan.append((kind, op, table_name, key, copy.deepcopy(current)))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    done = []
    try:
        for kind, op, table_name, key, before in plan:
            if kind == "Put":
                self.put_item(table_name, op["Item"])
            elif kind == "Delete":
                self.delete_item(table_name, key)
            elif kind == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=op.get("ExpressionAttributeNames"),
                    expression_attribute_values=op.get("ExpressionAttributeValues"),
                )
            done.append((table_name, key, before))
    except Exception:
        for table_name, key, before in reversed(done):
            if before is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before.to_json()["Attributes"])
        raise


DynamoDBBackend.transact_write_items = transact_write_items


class Meter:
    """DynamoDB request units and SES sends by caller (see the module's docstring)."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.counts = {}

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_portcullis/meter":
            with self.lock:
                if environ["REQUEST_METHOD"] == "DELETE":
                    self.counts = {}
                body = json.dumps(self.counts).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        path = environ.get("PATH_INFO", "")
        is_ses = path.startswith("/v2/email/outbound-emails")
        if not target.startswith("DynamoDB_") and not is_ses:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        answered = {}

        def record(status, headers, exc_info=None):
            answered["status"] = status
            return start_response(status, headers, exc_info)

        answer = b"".join(self.app(environ, record))
        agent = environ.get("HTTP_X_AMZ_USER_AGENT", "") + " " + environ.get("HTTP_USER_AGENT", "")
        caller = next((part[4:] for part in agent.split() if part.startswith("app/")), "")
        with self.lock:
            counts = self.counts.setdefault(caller, {})
            if is_ses:
                counts["ses_sends"] = counts.get("ses_sends", 0) + 1
            else:
                operation = target.split(".", 1)[1]
                read, write = units(operation, body, answer, answered.get("status", ""))
                counts[operation] = counts.get(operation, 0) + 1
                counts["read_units"] = counts.get("read_units", 0) + read
                counts["write_units"] = counts.get("write_units", 0) + write
        return [answer]


def size_units(item, unit):
    return max(1, -(-len(json.dumps(item)) // unit))


def units(operation, body, answer, status):
    """(read units, write units) on-demand DynamoDB bills for one request."""
    try:
        request = json.loads(body)
        response = json.loads(answer) if answer else {}
    except ValueError:
        return 0, 0
    failed_condition = "ConditionalCheckFailed" in answer.decode(errors="replace")
    if not status.startswith("200") and not failed_condition:
        # Refused before any work (validation, throttling): not billed.
        return 0, 0
    factor = 1 if request.get("ConsistentRead") else 0.5
    if operation == "GetItem":
        return factor * size_units(response.get("Item", {}), 4096), 0
    if operation in ("Query", "Scan"):
        return factor * size_units(response.get("Items", []), 4096), 0
    if operation == "BatchGetItem":
        read = 0
        for table, items in response.get("Responses", {}).items():
            strong = request.get("RequestItems", {}).get(table, {}).get("ConsistentRead")
            read += sum((1 if strong else 0.5) * size_units(i, 4096) for i in items)
        return read, 0
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        # A write whose condition fails is billed too.
        return 0, size_units(request.get("Item") or request.get("Key", {}), 1024)
    if operation == "BatchWriteItem":
        writes = [w for table in request.get("RequestItems", {}).values() for w in table]
        return 0, sum(size_units(w, 1024) for w in writes)
    if operation == "TransactWriteItems":
        read = write = 0
        for entry in request.get("TransactItems", []):
            kind, op = next(iter(entry.items()))
            if kind == "ConditionCheck":
                read += 2 * size_units(op.get("Key", {}), 4096)
            else:
                write += 2 * size_units(op.get("Item") or op.get("Key", {}), 1024)
        return read, write
    if operation == "TransactGetItems":
        items = [r.get("Item", {}) for r in response.get("Responses", [])]
        return sum(2 * size_units(i, 4096) for i in items), 0
    return 0, 0


class OneAtATime:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        # ClientRequestToken -> (when, request body, status, headers, response body), oldest first
        self.transactions = OrderedDict()

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
        while self.transactions and now - next(iter(self.transactions.values()))[0] >= IDEMPOTENCY_WINDOW:
            self.transactions.popitem(last=False)
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
        Meter(OneAtATime(app)),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
