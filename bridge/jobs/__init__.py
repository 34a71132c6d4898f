"""Thin orchestrators run by cron or the command line: read, compute, write, report."""
