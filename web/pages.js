// Whole-page notices: sign in, access ended, not found.

import { h, replaceChildren } from "./dom.js";

export function showMessagePage(main, title, sentence, extra = null) {
  replaceChildren(main, h("section", { class: "notice-page", "aria-labelledby": "notice-title" },
    h("h1", { id: "notice-title" }, title),
    h("p", {}, sentence),
    extra));
  document.title = `${title} · Workroom`;
}

export function showAccessEnded(main) {
  showMessagePage(main, "Your access ended",
    "Your guest access to this room has ended, so you can no longer read it or post. " +
    "Ask the client who invited you if you need access again.",
    h("p", {}, h("a", { href: "#/" }, "Back to my jobs")));
}

export function showNotFound(main) {
  showMessagePage(main, "Room not found",
    "This room does not exist, or you are not a member of it.",
    h("p", {}, h("a", { href: "#/" }, "Back to my jobs")));
}
