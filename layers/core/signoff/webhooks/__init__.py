"""Webhooks: tenants subscribe a URL to lifecycle events; signoff delivers them signed.

Delivery follows the Standard Webhooks spec (webhook-id, webhook-timestamp, webhook-signature
v1) and runs EventBridge -> SQS -> fan-out function -> SQS -> delivery function:
- `patterns`: which event types a subscription's patterns select;
- `urls`: which URLs a subscription may name (the outbound address guard's rules);
- `signing`: secrets and the signature headers;
- `shrinking`: payloads stay small: large values become links;
- `retries`: the backoff schedule between attempts;
- `subscriptions`: the API's use cases (create, list, rotate, deliveries);
- `fanout`, `delivery`: what the two functions do.
"""
