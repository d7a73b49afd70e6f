"""The LMS side of openedx-facilitation: XBlocks (``blocks``), the durable outbox of
their events (``outbox``) and the LMS plugin app (``plugin``)."""
