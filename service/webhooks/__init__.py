"""Webhooks: subscriptions, signed Standard Webhooks deliveries from the log, retries, reads."""
