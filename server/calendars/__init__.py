"""Calendars: a conference's ``.ics``, personal feeds, invitations by e-mail, and import.

``events`` turns the database's conferences into ``server.ical`` values; the rest are
the operations and the API around them. All iCalendar text is written and read by
``server.ical``.
"""
