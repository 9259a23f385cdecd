"""Scheduling's calendar layer: iCalendar files and recurrence, pure (no database, no web).

``server.ical.ics`` is the entry point: ``calendar()`` writes, ``parse()`` reads,
``expand()`` lists the occurrences of a series. All use of the ``icalendar`` library stays in
this package.
"""
