"""Domain rules: event types, state and pure deciders, one module per aggregate."""
