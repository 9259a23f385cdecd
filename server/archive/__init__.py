"""The archive's retention and legal hold (issue 7): what is kept for how long, what is held."""
