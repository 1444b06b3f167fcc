// Who is in the room now (presence frames) and who is typing (typing frames). Neither is
// stored: both only live as long as the socket says so.

import { h, replaceChildren } from "./dom.js";
import { humanize } from "./format.js";

const TYPING_SHOWN_MS = 5000;

export class Presence {
  constructor(me, members) {
    this.me = me;
    this.members = members; // () => room.members
    this.online = new Set();
    this.typers = new Map(); // account id -> {name, timer}
    this.memberList = h("ul", { class: "members", "aria-label": "Members" });
    this.typingLine = h("p", { class: "typing", "aria-hidden": "true" });
    this.renderMembers();
  }

  idOf(who) {
    return typeof who === "string" ? who : who?.id || who?.account || "";
  }

  setOnline(list) {
    this.online = new Set(list.map((who) => this.idOf(who)));
    this.renderMembers();
  }

  renderMembers() {
    replaceChildren(this.memberList, this.members().map((m) => {
      const here = this.online.has(m.id) || m.id === this.me.id;
      return h("li", { class: `member${here ? " online" : ""}${m.access === "expired" ? " expired" : ""}`,
        dataset: { account: m.id } },
        h("span", { class: "dot", "aria-hidden": "true" }),
        m.name, " ", h("span", { class: `role role-${m.role}` }, humanize(m.role)),
        h("span", { class: "visually-hidden" }, here ? " (here now)" : " (away)"),
        m.access === "expired" ? h("span", { class: "tag" }, "access ended") : null);
    }));
  }

  typing(actor) {
    const id = this.idOf(actor);
    if (!id || id === this.me.id) return;
    const name = actor?.name || this.members().find((m) => m.id === id)?.name || "Someone";
    clearTimeout(this.typers.get(id)?.timer);
    this.typers.set(id, { name, timer: setTimeout(() => this.stoppedTyping(id), TYPING_SHOWN_MS) });
    this.renderTyping();
  }

  stoppedTyping(id) {
    const entry = this.typers.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.typers.delete(id);
    this.renderTyping();
  }

  renderTyping() {
    const names = [...this.typers.values()].map((t) => t.name);
    this.typingLine.textContent = names.length === 0 ? ""
      : names.length === 1 ? `${names[0]} is typing…` : `${names.join(", ")} are typing…`;
  }

  stop() {
    for (const entry of this.typers.values()) clearTimeout(entry.timer);
    this.typers.clear();
  }
}
