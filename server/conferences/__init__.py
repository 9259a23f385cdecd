"""Conferences: who has a part in which conference, and what they see of it."""
