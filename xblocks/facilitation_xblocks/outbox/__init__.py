"""The LMS side's durable outbox: events wait here until Kafka acknowledged them."""
