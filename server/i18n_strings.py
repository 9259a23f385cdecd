"""UI strings that are translated at run time but never appear literally inside ``_()``.

Templates translate some values dynamically, for example ``_(label)`` for the navigation,
``_(error.title)`` on the error page, ``_(r.value)`` for roles and
``_(c.status.replace('_', ' '))`` for conference statuses. The extractor cannot see those
strings, so they are listed here wrapped in :func:`N_`, which babel extracts (``-k N_``) and
which does nothing at run time. ``tests/test_translations.py`` checks that this list keeps up
with the enums, error classes and navigation it mirrors.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated later, where it is shown."""
    return message


# server.templating.navigation(): top-bar labels.
NAVIGATION = (
    N_("Conferences"),
    N_("My account"),
    N_("Users"),
    N_("Permits"),
)

# server.errors: the ``title`` of each DomainError, and the one set in server.middleware.
ERROR_TITLES = (
    N_("Bad request"),
    N_("Scheduling conflict"),
    N_("Invalid input"),
    N_("Sign-in required"),
    N_("Forbidden"),
    N_("Not found"),
    N_("Method not allowed"),
    N_("Conflict"),
    N_("Request body too large"),
    N_("Unsupported media type"),
    N_("Too many requests"),
    N_("Service unavailable"),
    N_("No longer valid"),
    N_("Internal error"),
    # server.minutes: revisions and workflow.
    N_("The minutes changed since you loaded them"),
    N_("The minutes cannot be edited now"),
    N_("This step is not possible now"),
    N_("Not yours to do"),
)

# server.models.Role values.
ROLES = (
    N_("admin"),
    N_("organiser"),
    N_("approver"),
    N_("technician"),
    N_("interpreter"),
    N_("secretary"),
    N_("delegate"),
)

# server.models.ConferenceStatus values, shown with "_" replaced by a space.
CONFERENCE_STATUSES = (
    N_("draft"),
    N_("awaiting approval"),
    N_("approved"),
    N_("scheduled"),
    N_("live"),
    N_("ended"),
    N_("archived"),
    N_("cancelled"),
)

# server.models.ConferenceKind values.
CONFERENCE_KINDS = (
    N_("online"),
    N_("hybrid"),
)

# server.agreements: how a signatory re-authenticated (``Signing.auth_method``), shown with _().
SIGNING_METHODS = (
    N_("password"),
    N_("one-time code"),
    N_("imported"),
)
