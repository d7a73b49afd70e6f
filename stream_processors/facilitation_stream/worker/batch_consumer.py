"""A Faust consumer that hands the engine's source messages over in batches.

Faust delivers every message through its conductor and a stream: about 200 µs of event-loop
work per message on the 2-core dev machine, which caps a worker near 4,500 messages/s
whatever the agent does (docs/benchmarks.md). This consumer keeps everything else of Faust —
group membership, the assignor that co-partitions tables with their sources, changelog
recovery, standbys, offset commits, the web server and timers — and changes one loop: the
messages of the *batch topics* that one ``getmany`` returns go to one coroutine as a list,
instead of one by one through streams.

The batch handler owns those messages: each is tracked before it is handled and must be
acked (``consumer.ack``) once its effects are durable. Faust commits only acked offsets and,
during a rebalance, waits for tracked messages to be acked before it revokes partitions and
their table data, so a batch in progress finishes first. Messages of other topics (alerts)
still take Faust's per-message path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import faust
from faust.transport.drivers import aiokafka as kafka_driver

BatchHandler = Callable[[list[Any]], Awaitable[None]]


class BatchConsumer(kafka_driver.Consumer):
    """``_drain_messages`` of Faust's aiokafka consumer, batching the batch topics."""

    async def _drain_messages(self, fetcher: Any) -> None:  # pragma: no cover - live path
        app = cast(FacilitationApp, self.app)
        consumer_stopped = self._stopped.is_set
        fetcher_stopped = fetcher._stopped.is_set
        read_offset = self._read_offset
        unacked = self._unacked_messages.add
        acks_enabled_for = app.topics.acks_enabled_for
        try:
            while not (consumer_stopped() or fetcher_stopped()):
                batch: list[Any] = []
                await self.sleep(0)
                async for tp, message in self.getmany(timeout=1.0):
                    offset = message.offset
                    last = read_offset[tp]
                    if last is not None and offset < last:
                        continue  # read again after a seek: Faust drops these too
                    if last and offset - last > 1 and acks_enabled_for(message.topic):
                        # Offsets missing from a compacted or transactional topic: let the
                        # commit move past them.
                        await self._add_gap(tp, last + 1, offset)
                    read_offset[tp] = offset
                    if message.topic in app.batch_topics:
                        # What track_message does, minus Faust's per-message sensor calls
                        # (the worker keeps its own metrics): a rebalance waits for it.
                        unacked(message)
                        batch.append(message)
                    else:
                        await self.wait_first(self.callback(message), self.suspend_flow.wait())
                if batch:
                    await app.batch_handler(batch)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                return
            raise


class BatchTransport(kafka_driver.Transport):
    Consumer = BatchConsumer


class FacilitationApp(faust.App):
    """A Faust app whose consumer batches ``batch_topics`` to ``batch_handler``."""

    batch_topics: frozenset[str] = frozenset()

    async def batch_handler(self, messages: list[Any]) -> None:
        raise RuntimeError("no batch handler set")  # set by build_app

    def _new_transport(self) -> Any:
        return BatchTransport(self.conf.broker_consumer, self)
