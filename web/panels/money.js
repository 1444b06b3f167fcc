// Money (fixed price): milestones with state, amount, due date and countdowns; the actions my
// role may take on each now; terms changes; the ledger; the closing statement.

import { ApiError, get, newClientId, post, roomPath } from "../api.js";
import { serverNow } from "../clock.js";
import { h } from "../dom.js";
import { countdown, dateOnly, dateTime, humanize, money } from "../format.js";
import { actionButton, attempt, disclosureForm, input, renderKeepingForms, section, select, statusLine, toMinor } from "./kit.js";

// Which milestone actions each role may take in each state (shared/rules/escrow.md, as the
// billing module enforces them): funding only while working; money in escrow can be released,
// refunded or disputed while the job is working, complete or in dispute.
const FUNDING_STATUSES = ["working"];
const ESCROW_STATUSES = ["working", "complete", "disputed"];
const ACTIONS = {
  client: {
    not_funded: ["fund"], funding_requested: ["fund"],
    funded: ["release", "dispute"], release_requested: ["release", "dispute"],
  },
  freelancer: {
    not_funded: ["request-funding"],
    funded: ["request-release", "dispute", "refund"], release_requested: ["void-release", "dispute", "refund"],
  },
  support: { disputed: ["release", "refund"] },
};
const NEEDS_FUNDING_STATUS = new Set(["fund", "request-funding"]);

export function allowedActions(role, milestone, roomStatus) {
  return (ACTIONS[role]?.[milestone.state] || []).filter((action) =>
    (NEEDS_FUNDING_STATUS.has(action) ? FUNDING_STATUSES : ESCROW_STATUSES).includes(roomStatus)
    && !(action === "request-release" && roomStatus === "disputed"));
}
const LABELS = { "fund": "Fund", "request-funding": "Request funding", "request-release": "Request release",
  "void-release": "Void release request", "release": "Release", "dispute": "Dispute", "refund": "Refund" };

/** The milestone's next deadline, in words: "auto-release in 12 days", "overdue in 3 days". */
export function milestoneCountdown(m, now) {
  const d = m.deadlines;
  if (!d || m.state !== "release_requested") return [];
  const lines = [];
  if (m.overdue || new Date(d.overdue_at).getTime() <= now) lines.push("Payment is overdue");
  else lines.push(countdown("Overdue", d.overdue_at, now));
  lines.push(countdown("Auto-release", d.auto_release_at, now));
  return lines;
}

export function moneyPanel(ctx) {
  const node = h("div", { class: "panel money" });
  const status = statusLine();

  async function act(m, action, body = {}) {
    const event = await post(roomPath(ctx.roomId, `/milestones/${encodeURIComponent(m.id)}/${action}`),
      { ...body, client_id: newClientId() }, { headers: { "Idempotency-Key": newClientId() } });
    if (event && event.seq) ctx.addEvents([event]);
    await ctx.refreshRoom();
  }

  function actionControl(m, action, currency) {
    if (action === "fund") {
      const method = select("Payment method", [["verified", "Verified card or account"], ["unverified", "New method (needs verification)"]]);
      return disclosureForm(`Fund ${m.title}`, [method.wrap], `Fund ${money(m.amount, currency)}`,
        (st) => attempt(st, () => act(m, "fund", { payment_method: method.control.value }), "Funded."));
    }
    if (action === "dispute") {
      const reason = input("Why you dispute this release request", { tag: "textarea", rows: 2, required: true });
      return disclosureForm(`Dispute ${m.title}`, [reason.wrap], "Open dispute",
        (st) => attempt(st, () => act(m, "dispute", { reason: reason.control.value }), "Disputed."));
    }
    if (action === "refund") {
      const amount = input(`Amount to refund (${currency})`, { inputmode: "decimal", required: true, value: (m.amount / 100).toFixed(2) });
      const reason = input("Reason", { required: true });
      return disclosureForm(`Refund ${m.title}`, [amount.wrap, reason.wrap], "Refund",
        (st) => attempt(st, () => act(m, "refund", { amount: toMinor(amount.control.value), reason: reason.control.value }), "Refunded."));
    }
    return actionButton(LABELS[action], status, () => act(m, action), { "aria-label": `${LABELS[action]}: ${m.title}` });
  }

  function milestoneItem(m, room, role, now) {
    const actions = allowedActions(role, m, room.status);
    return h("li", { class: `milestone state-${m.state}`, dataset: { milestone: m.id, state: m.state } },
      h("div", { class: "milestone-head" }, h("strong", {}, m.title), h("span", { class: "amount" }, money(m.amount, room.currency))),
      h("p", { class: "milestone-meta" },
        h("span", { class: `state state-${m.state}` }, humanize(m.state)),
        m.due_date ? ` · due ${dateOnly(m.due_date)}` : "",
        m.in_escrow ? ` · ${money(m.in_escrow, room.currency)} in escrow` : "",
        m.released_amount ? ` · released ${money(m.released_amount, room.currency)}` : "",
        m.refunded_amount ? ` · refunded ${money(m.refunded_amount, room.currency)}` : ""),
      milestoneCountdown(m, now).map((line) => h("p", { class: "countdown" }, line)),
      m.percent_complete ? h("progress", { max: 100, value: m.percent_complete, "aria-label": `${m.title} ${m.percent_complete}% complete` }) : null,
      actions.length ? h("div", { class: "actions" }, actions.map((a) => actionControl(m, a, room.currency))) : null);
  }

  function termsSection(room, role, milestones) {
    if (!["client", "freelancer"].includes(role) || room.status !== "working") return null;
    const rows = h("div", { class: "terms-rows" });
    const addRow = (m = {}) => {
      const title = input("Milestone title", { value: m.title || "", required: true });
      const amount = input(`Amount (${room.currency})`, { inputmode: "decimal", value: m.amount ? (m.amount / 100).toFixed(2) : "", required: true });
      const due = input("Due date", { type: "date", value: m.due_date || "" });
      rows.append(h("fieldset", { class: "milestone-row", dataset: m.id ? { milestone: m.id } : {} },
        h("legend", {}, m.title || "New milestone"), title.wrap, amount.wrap, due.wrap));
    };
    milestones.filter((m) => m.state !== "removed").forEach(addRow);
    const more = h("button", { type: "button", class: "secondary", onclick: () => addRow() }, "Add a milestone");
    return disclosureForm("Propose new terms", [rows, more], "Propose terms", (st) => attempt(st, async () => {
      const list = [...rows.querySelectorAll("fieldset")].map((fs) => {
        const [title, amount, due] = fs.querySelectorAll("input");
        return { id: fs.dataset.milestone || undefined, title: title.value, amount: toMinor(amount.value),
          due_date: due.value || null };
      });
      const event = await post(roomPath(ctx.roomId, "/terms"), { milestones: list });
      if (event && event.seq) ctx.addEvents([event]);
      await ctx.refreshRoom();
    }, "Terms proposed; the other party is asked to accept."));
  }

  async function pendingTerms(room, role) {
    let proposals = [];
    try {
      proposals = (await get(roomPath(ctx.roomId, "/terms"))).proposals || [];
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
    const pending = proposals.find((p) => p.status === "proposed");
    if (!pending) return null;
    const mine = pending.proposer === ctx.me.id;
    const changes = pending.changes || {};
    return section("Terms change proposed",
      h("p", {}, `Proposed by the ${pending.proposer_role} on ${dateTime(pending.created_at)}.`),
      changes.milestones ? h("ul", {}, changes.milestones.map((m) => h("li", {},
        `${m.title}: ${money(m.amount, room.currency)}`, m.due_date ? ` due ${dateOnly(m.due_date)}` : ""))) : null,
      changes.hourly_rate ? h("p", {}, `Rate ${money(changes.hourly_rate, room.currency)} per hour`) : null,
      changes.note ? h("p", { class: "quote" }, changes.note) : null,
      mine || !["client", "freelancer"].includes(role) ? h("p", {}, "Waiting for the other party.")
        : h("div", { class: "actions" },
          actionButton("Accept terms", status, async () => { await post(roomPath(ctx.roomId, `/terms/${encodeURIComponent(pending.id)}/accept`)); await ctx.refreshRoom(); }),
          actionButton("Decline terms", status, async () => { await post(roomPath(ctx.roomId, `/terms/${encodeURIComponent(pending.id)}/decline`)); await ctx.refreshRoom(); }, { class: "secondary" })));
  }

  function accountName(account, milestones) {
    if (!account.startsWith("escrow:")) return humanize(account);
    const title = milestones.find((m) => m.id === account.slice("escrow:".length))?.title;
    return title ? `Escrow · ${title}` : "Escrow";
  }

  async function ledgerSection(room, milestones) {
    let ledger;
    try {
      ledger = await get(roomPath(ctx.roomId, "/ledger"));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
    const postings = ledger.postings || ledger.entries || [];
    if (!postings.length) return section("Ledger", h("p", {}, "No money has moved yet."));
    return section("Ledger", h("table", { class: "ledger" },
      h("thead", {}, h("tr", {}, ["When", "What", "Account", "Amount"].map((t) => h("th", { scope: "col", class: t === "Amount" ? "num" : null }, t)))),
      h("tbody", {}, postings.map((p) => h("tr", {},
        h("td", {}, dateOnly(p.at)), h("td", {}, humanize(p.kind)),
        h("td", {}, accountName(p.account || "", milestones)), h("td", { class: "num" }, money(p.amount, p.currency || room.currency)))))));
  }

  return {
    label: "Money",
    node,
    async refresh() {
      const room = ctx.getRoom();
      const role = room.me?.role;
      let milestones = room.terms?.milestones || [];
      try {
        const answer = await get(roomPath(ctx.roomId, "/milestones"));
        milestones = answer.milestones || answer;
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
      }
      const now = serverNow();
      renderKeepingForms(node,
        section("Milestones", milestones.length
          ? h("ul", { class: "milestones" }, milestones.map((m) => milestoneItem(m, room, role, now)))
          : h("p", {}, "No milestones in the terms.")),
        status,
        await pendingTerms(room, role),
        termsSection(room, role, milestones),
        await ledgerSection(room, milestones),
        h("p", {}, h("a", { href: `#/room/${encodeURIComponent(ctx.roomId)}/statement` }, "Closing statement")));
    },
  };
}
