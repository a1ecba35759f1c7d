"""`python -m events.domain` prints the event catalogue table for the README."""

from events.domain import catalogue_markdown

print(catalogue_markdown())
