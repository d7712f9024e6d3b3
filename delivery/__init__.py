"""Delivery of invitations, reminders and coordinator notices through a background worker.

Every message is a row of the delivery log (``models.Delivery``), unique per
invitation, kind and sequence, and marked sent only after the mail server accepted it.
See docs/delivery.md for the state machine and the guarantees.
"""
