"""The published contract: what openapi/openapi.json says beyond FastAPI's happy path.

Every error status an operation can answer, the headers it sends, and the words for the plugin
author, derived from the route table (its dependencies, parameters and body), never listed by
hand per route.
"""
