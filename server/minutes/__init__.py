"""Conference minutes (issue 7): the document, its revisions and merges, the workflow from draft
to final, and attendance and floor interventions from the room's event log.

This package is the pure core: no database, no web. The control plane stores revisions, runs
the workflow's steps and renders the exports; everything that decides is here and tested alone.
"""
