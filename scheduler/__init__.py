"""Time-driven work: check-ins, booking reminders and escalation timers (one APScheduler)."""
