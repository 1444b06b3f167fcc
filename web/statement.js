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
  const title = statement.closing ? "Escrow closing statement" : "Escrow statement (job still open)";
  const totalLabels = { deposits: "Deposited into escrow", releases: "Released from escrow",
    hourly_payments: "Hourly invoices paid", fees: "Platform service fees", paid_to_freelancer: "Paid to the freelancer",
    refunds: "Refunded to the client", credits: "Credits to the client", in_escrow: "Still in escrow" };
  const reconciles = statement.reconciliation?.reconciles;
  document.title = `${title} · ${statement.room?.title || "Workroom"}`;
  replaceChildren(main, h("article", { class: "statement" },
    h("p", { class: "no-print" }, h("a", { href: `#/room/${encodeURIComponent(roomId)}` }, "← Back to the room"), " · ",
      h("button", { type: "button", class: "link", onclick: () => window.print() }, "Print"), " · ",
      h("a", { href: roomPath(roomId, "/statement?format=html"), target: "_blank", rel: "noopener noreferrer" }, "Printable page")),
    h("h1", {}, title),
    h("p", {}, h("strong", {}, statement.room?.title || ""), ` · generated ${dateOnly(statement.generated_at)}`),
    h("table", { class: "ledger statement-lines" },
      h("caption", { class: "visually-hidden" }, "Every deposit, release, refund, fee and credit"),
      h("thead", {}, h("tr", {}, ["Date", "What", "Milestone / note", "Amount", "Fee", "To freelancer"]
        .map((t, i) => h("th", { scope: "col", class: i >= 3 ? "num" : null }, t)))),
      h("tbody", {}, (statement.lines || []).map((l) => h("tr", { dataset: { kind: l.kind } },
        h("td", {}, dateOnly(l.at)), h("td", {}, l.label || humanize(l.kind)), h("td", {}, l.title || ""),
        h("td", { class: "num" }, money(l.amount, currency)),
        h("td", { class: "num" }, l.fee ? money(l.fee, currency) : ""),
        h("td", { class: "num" }, l.net ? money(l.net, currency) : ""))))),
    h("h2", {}, "Totals"),
    h("dl", { class: "totals" }, Object.entries(totalLabels).filter(([k]) => k in (statement.totals || {})).map(([k, label]) =>
      h("div", { class: "kv", dataset: { total: k } }, h("dt", {}, label), h("dd", {}, money(statement.totals[k], currency))))),
    reconciles === undefined ? null : h("p", { class: `reconcile ${reconciles ? "ok" : "bad"}`, role: "status" },
      reconciles ? "Reconciles with the ledger to the cent." : "Does not reconcile with the ledger.")));
  return null;
}
