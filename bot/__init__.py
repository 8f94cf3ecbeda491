"""The service: web (webhooks, staff console, simulator), worker, scheduler and CLI."""
