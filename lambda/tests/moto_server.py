"""Starts moto's server for the tests, with two changes that keep them quick and tidy.

- It exits when its standard input closes, i.e. when the test process that started it ends,
  however that process ends.
- moto backs up a whole table before each TransactWriteItems, once per item in the
  transaction; a table that holds a thousand tickets then costs seconds per transaction. The
  backup is the same for every item of one transaction, so it is taken once per table.
"""

import copy
import os
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.server import main


def exit_with_parent() -> None:
    sys.stdin.read()
    os._exit(0)


class _OncePerCall:
    """`copy` for moto's transaction code: deepcopy of an object already copied in this
    transaction returns that same copy."""

    def __init__(self) -> None:
        self.seen: dict[int, object] = {}

    def deepcopy(self, obj: object) -> object:
        key = id(obj)
        if key not in self.seen:
            self.seen[key] = copy.deepcopy(obj)
        return self.seen[key]

    def __getattr__(self, name: str) -> object:
        return getattr(copy, name)


_lock = threading.Lock()
_transact = dynamodb_models.DynamoDBBackend.transact_write_items


def transact_write_items(self, transact_items):  # type: ignore[no-untyped-def]
    # One transaction at a time (moto's own server is threaded), each with its own memo.
    with _lock:
        dynamodb_models.copy = _OncePerCall()
        try:
            return _transact(self, transact_items)
        finally:
            dynamodb_models.copy = copy


dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items

if __name__ == "__main__":
    threading.Thread(target=exit_with_parent, daemon=True).start()
    main(sys.argv[1:])
