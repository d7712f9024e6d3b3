"""Participant pages: the survey, results, magic links and a person's own data."""
