"""One router per resource: predict, search, health, metrics, webhook."""
