"""moto's server (`moto_server`) with DynamoDB's per-item atomicity.

moto serves requests on several threads, and its DynamoDB backend does not lock an item
between checking a condition and writing it: two concurrent conditional writes to one item
can both succeed (measured: 2 trials in 40 with eight racing `attribute_not_exists` updates).
Real DynamoDB never lets that happen, and the bridge relies on it (claims, links, leases), so
this runs the same server with DynamoDB's item operations serialised. Other services (SQS long
polls) keep their threads. Arguments are moto_server's.
"""

import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_ITEM_OPERATIONS = (
    "get_item",
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "batch_write_item",
)
_lock = threading.RLock()


def _serialised(operation):
    @functools.wraps(operation)
    def locked(*args, **kwargs):
        with _lock:
            return operation(*args, **kwargs)

    return locked


for _name in _ITEM_OPERATIONS:
    setattr(DynamoDBBackend, _name, _serialised(getattr(DynamoDBBackend, _name)))

if __name__ == "__main__":
    main(sys.argv[1:])
