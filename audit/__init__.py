"""The audit trail: who did what, when, for every sensitive action (DESIGN §7)."""
