"""The conference permit: apply online, decide within a deadline in working days, report."""
