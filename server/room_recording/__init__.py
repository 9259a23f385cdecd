"""Recording a conference's bridge room: the server side of the archive's media (issue 7).

``service.RoomRecordings`` owns the recordings of this node's rooms (start, stop, marks,
automatic start with the agenda, recovery after a crash); ``operations`` stores them (rows,
hashes, ledger, audit); ``live`` is the ``/room`` namespace's ``recording.*`` group;
``pages`` serves the list, the playback page, the files and the manifests.
"""
