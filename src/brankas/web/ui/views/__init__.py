"""The web pages, one small module per area. Views parse input with ``ui.forms`` and call the
services; the services decide (roles, rules) and the views show the outcome."""
