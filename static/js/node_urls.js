// Where a room client goes when the node it is on stops answering (in a cluster; see
// docs/signalling.md, join's `nodes` and `cluster.nodes`). The entry ("" is the page's own
// origin) first, then each node the server listed, in turn: any live node sends the client to
// wherever the room reopened (`room_elsewhere`), or reopens it there. No DOM code.

export class NodeUrls {
  constructor(entry = "") {
    this.entry = entry;
    this.listed = [];
    this._tried = 0;
  }

  /** Take a join answer's or a `cluster.nodes` event's `nodes`. */
  update(data) {
    const nodes = data && Array.isArray(data.nodes) ? data.nodes : null;
    if (nodes) this.listed = nodes.filter((u) => typeof u === "string" && u).map(trim);
  }

  /** A join worked: its list, and the next failure starts again from the entry. */
  joined(answer) {
    this.update(answer);
    this._tried = 0;
  }

  /** True when there is somewhere else to go than the one place already tried. */
  get several() {
    return this.listed.some((u) => u !== this.entry && u !== ownOrigin());
  }

  next() {
    const candidates = [this.entry,
      ...this.listed.filter((u) => u !== this.entry && !(this.entry === "" && u === ownOrigin()))];
    const url = candidates[this._tried % candidates.length];
    this._tried += 1;
    return url;
  }
}

function trim(url) {
  return url.replace(/\/+$/, "");
}

function ownOrigin() {
  return globalThis.location ? globalThis.location.origin : "";
}
