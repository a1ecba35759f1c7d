"""The event store: envelope, catalogue, deciders, store and integrity. Imports no other package."""
