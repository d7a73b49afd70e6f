# openedx-facilitation: the engine's topics, once Kafka answers (idempotent).
facilitation topics create --wait 180
