"""Workflows, runs, approvals and kill switches: the workflow-safety SOP as commands."""
