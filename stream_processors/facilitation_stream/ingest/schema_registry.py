"""Reading Avro messages in Confluent's wire format, with writer schemas from a registry.

edx-event-bus-kafka serialises keys and values with confluent-kafka's ``AvroSerializer``:
each is the magic byte ``0x00``, the id of the writer's schema in the registry (4 bytes,
big-endian), then one Avro binary datum (no container, no schema). The producer registers its
schema under ``<topic>-<record name>`` the first time it sends. A reader takes the writer's
schema by id (``GET /schemas/ids/{id}``: the Confluent API, which Confluent Schema Registry,
Karapace and Apicurio Registry's ``/apis/ccompat/v7`` all serve) and resolves it against the
schema it expects, as Avro's schema resolution does: a producer that adds a field the reader
does not know, or one with a default, is still read; one that drops a field the reader
needs is refused with the reason.

Schemas never change under an id, so each id is fetched once per process (``AvroDecoder``
keeps them). A ``SchemaSource`` is any callable from id to schema text: ``HttpSchemaSource``
asks a registry; in tests a ``dict``'s ``__getitem__`` is the in-memory registry.
"""

from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import fastavro

#: What was wrong with a message, as counted (``event_bus_malformed_total{problem}``).
WIRE_FORMAT = "wire-format"  # not magic byte + schema id + datum, or too large
UNKNOWN_SCHEMA = "unknown-schema"  # the registry has no (Avro) schema of that id
AVRO = "avro"  # the datum does not decode with its writer's schema, or not into ours
MAGIC = 0
HEADER_BYTES = 5
#: The bus's default largest message is 1 MB; a reader refuses more than it could have sent.
MAX_MESSAGE_BYTES = 1 << 20
MAX_SCHEMAS = 1000  # writer schemas kept per process; a topic sees a handful

SchemaSource = Callable[[int], str]


class UnreadableMessage(ValueError):
    """The message is broken: dead-letter it. ``problem`` is one of the words above."""

    def __init__(self, problem: str, detail: str) -> None:
        super().__init__(f"{problem}: {detail}")
        self.problem = problem
        self.detail = detail


class RegistryUnavailable(RuntimeError):
    """The registry did not answer (down, refused credentials, a server error): not the
    message's fault. Read the message again later; never dead-letter it for this."""


class HttpSchemaSource:
    """Schemas by id from a Confluent-compatible registry at ``url``.

    ``auth`` is ``"user:password"`` for HTTP basic authentication (Confluent Cloud's API key
    and secret, edx-event-bus-kafka's ``EVENT_BUS_KAFKA_SCHEMA_REGISTRY_API_KEY`` / ``_SECRET``).
    Unknown ids raise KeyError; anything else that goes wrong, RegistryUnavailable.
    """

    def __init__(self, url: str, auth: str | None = None, timeout_s: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._headers = {"Accept": "application/vnd.schemaregistry.v1+json, application/json"}
        if auth:
            token = base64.b64encode(auth.encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"

    def __call__(self, schema_id: int) -> str:
        request = urllib.request.Request(
            f"{self.url}/schemas/ids/{schema_id}", headers=self._headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                body = json.loads(answer.read())
        except urllib.error.HTTPError as err:
            if err.code == 404:
                raise KeyError(schema_id) from None
            raise RegistryUnavailable(
                f"{self.url}: HTTP {err.code} for schema {schema_id}"
            ) from None
        except (OSError, ValueError) as err:  # refused, timed out, not JSON
            raise RegistryUnavailable(f"{self.url}: {err}") from None
        kind = body.get("schemaType", "AVRO") if isinstance(body, dict) else None
        if kind != "AVRO" or not isinstance(body.get("schema"), str):
            raise KeyError(schema_id)  # a Protobuf or JSON Schema id is no Avro schema
        return str(body["schema"])


class AvroDecoder:
    """Confluent-framed Avro values -> Python values of ``reader_schema``.

    ``on_fetch(schema_id)`` is called for each schema actually fetched (a metrics hook).
    """

    def __init__(
        self,
        source: SchemaSource,
        reader_schema: dict[str, Any],
        on_fetch: Callable[[int], None] = lambda schema_id: None,
    ) -> None:
        self._source = source
        self._reader = fastavro.parse_schema(reader_schema)
        self._writers: dict[int, Any] = {}
        self._on_fetch = on_fetch

    def decode(self, value: bytes | None) -> Any:
        """The datum of one message; UnreadableMessage or RegistryUnavailable."""
        if value is None or len(value) < HEADER_BYTES or value[0] != MAGIC:
            start = "no value" if value is None else f"starts with {bytes(value[:HEADER_BYTES])!r}"
            raise UnreadableMessage(WIRE_FORMAT, f"not magic byte 0 + schema id + Avro: {start}")
        if len(value) > MAX_MESSAGE_BYTES:
            raise UnreadableMessage(
                WIRE_FORMAT, f"{len(value):,} bytes, over {MAX_MESSAGE_BYTES:,}"
            )
        schema_id = int.from_bytes(value[1:HEADER_BYTES], "big")
        writer = self._writer(schema_id)
        body = io.BytesIO(value)
        body.seek(HEADER_BYTES)
        try:
            datum = fastavro.schemaless_reader(body, writer, self._reader)
        except Exception as err:  # fastavro raises many kinds on a bad datum
            raise UnreadableMessage(
                AVRO, f"schema {schema_id}: {type(err).__name__}: {err}"[:500]
            ) from None
        if body.tell() != len(value):
            raise UnreadableMessage(
                AVRO, f"schema {schema_id}: {len(value) - body.tell()} bytes after the datum"
            )
        return datum

    def _writer(self, schema_id: int) -> Any:
        writer = self._writers.get(schema_id)
        if writer is not None:
            return writer
        try:
            text = self._source(schema_id)
        except KeyError:
            raise UnreadableMessage(
                UNKNOWN_SCHEMA, f"no Avro schema {schema_id} in the registry"
            ) from None
        self._on_fetch(schema_id)
        try:
            writer = fastavro.parse_schema(json.loads(text))
        except Exception as err:
            raise UnreadableMessage(
                UNKNOWN_SCHEMA, f"schema {schema_id} does not parse: {err}"[:500]
            ) from None
        if len(self._writers) >= MAX_SCHEMAS:
            self._writers.clear()  # a bound on memory; ids are fetched again when needed
        self._writers[schema_id] = writer
        return writer
