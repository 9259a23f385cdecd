"""Conference minutes (issue 7): the document, its revisions and merges, the workflow from draft
to final, and attendance and floor interventions from the room's event log.

The pure core (``document``, ``reading``, ``revisions``, ``workflow``, ``attendance``) has no
database and no web and decides everything; around it the control plane stores revisions and
comments (``store``, ``operations``, ``steps``), decides access (``access``), serves the API and
pages (``api``, ``pages``) and renders the exports (``export``).
"""
