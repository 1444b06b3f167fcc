// The escrow closing statement: every deposit, release, refund and fee, with totals; printable.

import { ApiError, get, roomPath } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { dateOnly, humanize, money } from "./format.js";
import { showAccessEnded, showNotFound } from "./pages.js";

export async function showStatement({ main }, roomId) {
  let statement;
  try {
    statement = await get(roomPath(roomId, "/statement"));
  } catch (error) {
    if (error instanceof ApiError && error.code === "access_expired") showAccessEnded(main);
    else if (error instanceof ApiError && error.status === 404 && error.code !== "not_found") showNotFound(main);
    else replaceChildren(main, h("p", { class: "notice", role: "alert" }, error.message));
    return null;
  }
  const currency = statement.currency || "USD";
  const lines = statement.lines || statement.entries || [];
  const totals = statement.totals || {};
  document.title = `Closing statement · ${statement.room?.title || statement.title || "Workroom"}`;
  replaceChildren(main, h("article", { class: "statement" },
    h("p", { class: "no-print" }, h("a", { href: `#/room/${encodeURIComponent(roomId)}` }, "← Back to the room"), " · ",
      h("button", { type: "button", class: "link", onclick: () => window.print() }, "Print"), " · ",
      h("a", { href: roomPath(roomId, "/statement?format=html"), target: "_blank", rel: "noopener" }, "Printable page")),
    h("h1", {}, "Escrow closing statement"),
    h("p", {}, statement.room?.title || statement.title || ""),
    h("table", { class: "ledger" },
      h("caption", { class: "visually-hidden" }, "Statement lines"),
      h("thead", {}, h("tr", {}, ["Date", "Line", "Milestone", "Amount"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, lines.map((l) => h("tr", { dataset: { kind: l.kind || l.type || "" } },
        h("td", {}, dateOnly(l.at || l.date)), h("td", {}, humanize(l.kind || l.type || l.description)),
        h("td", {}, l.milestone_title || l.milestone?.title || l.title || ""),
        h("td", { class: "num" }, money(l.amount, currency)))))),
    h("h2", {}, "Totals"),
    h("dl", { class: "totals" }, Object.entries(totals).map(([k, v]) =>
      h("div", { class: "kv", dataset: { total: k } }, h("dt", {}, humanize(k)),
        h("dd", {}, typeof v === "number" ? money(v, currency) : String(v))))),
    statement.reconciles !== undefined ? h("p", { class: "reconcile" }, statement.reconciles ? "Reconciles to the cent." : "Does not reconcile.") : null));
  return null;
}
