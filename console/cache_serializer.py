"""The cache stores JSON: reading a key runs no code, whoever wrote it.

Django's RedisSerializer pickles, so anyone able to write one Redis key could run code in every process that reads
it. A value that is not JSON (planted, or left by an older version) reads as a miss; a value that cannot be written
as JSON is refused when it is set, so a mistake shows at once in tests.
"""

import json
import logging

logger = logging.getLogger(__name__)


class JsonSerializer:
    def dumps(self, value):
        # Integers stay Redis integers, so incr() and decr() keep working atomically (as in RedisSerializer).
        if type(value) is int:
            return value
        return json.dumps(value, separators=(",", ":")).encode()

    def loads(self, data: bytes):
        try:
            return int(data)
        except ValueError:
            pass
        try:
            return json.loads(data)
        except ValueError:
            logger.warning("a cached value is not JSON and was ignored (planted, or written by an older version)")
            return None
