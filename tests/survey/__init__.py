"""Tests of the participant pages, mirroring ``assessments/survey/``."""
