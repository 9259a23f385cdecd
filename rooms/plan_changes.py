"""How an open room follows changes that do not come from inside it: the conference's plan
(sites and booths added, changed or deleted) and a connection that lost its rights.

A mixin of ``rooms.room.BridgeRoom``, kept apart so that the room's own module stays about the
lobby, the floor and the media; it works through the room's state and helpers declared below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rooms.booths import BoothInfo
from rooms.roster import SiteInfo, SiteState

if TYPE_CHECKING:
    from rooms.channels import Channels


class PlanChanges:
    if TYPE_CHECKING:  # provided by BridgeRoom
        sites: dict[str, SiteState]
        channels: Channels
        _closed: bool

        def state(self, site_id: str) -> SiteState: ...
        def _emit(self, kind: str, site_id: str | None = None, **data: Any) -> None: ...
        async def _drop(self, site: SiteState) -> None: ...
        def _route(self) -> None: ...
        def _apply(
            self, call: Callable[[], list[tuple[str, dict[str, Any]]]], site_id: str | None = None
        ) -> None: ...

    async def update_roster(
        self, sites: Mapping[str, SiteInfo], booths: Mapping[str, BoothInfo]
    ) -> list[str]:
        """The conference's sites and booths as they are now: new sites can arrive, changed
        ones keep their admission, deleted ones are dropped (media closed, floor forgotten),
        booths follow their interpreters. Returns the deleted sites."""
        for site_id, info in sites.items():
            if site_id in self.sites:
                self.sites[site_id].info = info
            else:
                self.sites[site_id] = SiteState(site_id, info)
                self._emit("site.added", site_id)
        deleted = [site_id for site_id in self.sites if site_id not in sites]
        for site_id in deleted:
            await self._drop(self.sites.pop(site_id))
            self.channels.forget(site_id)
            self._emit("site.deleted", site_id)
        self._apply(lambda: self.channels.interpretation.update_booths(booths))
        staffed = self.channels.interpretation.booths
        for interpreter, (language, peer) in list(self.channels.interpreters.items()):
            if language not in staffed or interpreter not in staffed[language].info.interpreters:
                await peer.close()
        return deleted

    async def drop_peer(self, site_id: str) -> None:
        """Close the site's media connection, keeping its admission and floor place: the
        connection that owned it lost its rights, and another one of the site offers again."""
        site = self.state(site_id)
        peer, site.peer = site.peer, None
        if peer is not None:
            await peer.close()
            if site.admission == "admitted" and not self._closed:
                site.link = "reconnecting"
                self._emit("site.reconnecting", site_id)
        self._route()
