// Hours (hourly jobs): the freelancer logs time; weekly invoices with approve/dispute for the client.

import { ApiError, get, post, roomPath } from "../api.js";
import { h } from "../dom.js";
import { dateOnly, humanize, money } from "../format.js";
import { actionButton, attempt, disclosureForm, input, renderKeepingForms, section, statusLine } from "./kit.js";

export function hourlyPanel(ctx) {
  const node = h("div", { class: "panel hourly" });
  const status = statusLine();

  function timesheetForm() {
    const start = input("Start", { type: "datetime-local", required: true });
    const end = input("End", { type: "datetime-local", required: true });
    const memo = input("What you worked on", { required: true });
    return disclosureForm("Log time", [start.wrap, end.wrap, memo.wrap], "Add to work diary", async (st, form) => {
      const event = await attempt(st, () => post(roomPath(ctx.roomId, "/timesheet"), {
        start: new Date(start.control.value).toISOString(), end: new Date(end.control.value).toISOString(),
        memo: memo.control.value }), "Time logged.");
      if (event) { if (event.seq) ctx.addEvents([event]); form.reset(); ctx.refreshRoom(); }
    });
  }

  function invoiceItem(inv, room, role) {
    const open = inv.state === "in_review";
    const hours = input("Disputed hours", { type: "number", min: 0, step: "0.25", required: true });
    const reason = input("Reason", { required: true });
    return h("li", { class: "invoice", dataset: { invoice: inv.id } },
      h("strong", {}, inv.kind === "pro_forma" ? "Pro-forma invoice" : `Week of ${dateOnly(inv.period_start)}`), " ",
      h("span", {}, `${inv.billable_hours ?? inv.hours} h billable · ${money(inv.amount, inv.currency || room.currency)} · ${humanize(inv.state)}`),
      inv.disputed_hours ? h("p", {}, `${inv.disputed_hours} h disputed: `, inv.dispute_reason || "") : null,
      role === "client" && open ? h("div", { class: "actions" },
        actionButton("Approve", status, async () => { await post(roomPath(ctx.roomId, `/invoices/${encodeURIComponent(inv.id)}/approve`)); await ctx.refreshRoom(); }),
        disclosureForm("Dispute hours", [hours.wrap, reason.wrap], "Dispute", (st) => attempt(st, async () => {
          await post(roomPath(ctx.roomId, `/invoices/${encodeURIComponent(inv.id)}/dispute`), { hours: Number(hours.control.value), reason: reason.control.value });
          await ctx.refreshRoom();
        }, "Disputed."))) : null,
      role === "freelancer" && inv.state === "disputed" ? h("div", { class: "actions" },
        actionButton("Concede the disputed hours", status, async () => { await post(roomPath(ctx.roomId, `/invoices/${encodeURIComponent(inv.id)}/concede`)); await ctx.refreshRoom(); }, { class: "secondary" })) : null);
  }

  return {
    label: "Hours",
    node,
    async refresh() {
      const room = ctx.getRoom();
      const role = room.me?.role;
      let invoices = [];
      try {
        const answer = await get(roomPath(ctx.roomId, "/invoices"));
        invoices = (answer.invoices || answer).filter((i) => i.kind !== "pro_forma");
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
      }
      renderKeepingForms(node,
        section("Terms", h("p", {}, `${money(room.terms?.hourly_rate, room.currency)} per hour`,
          room.terms?.weekly_limit_hours ? `, up to ${room.terms.weekly_limit_hours} hours a week` : "")),
        role === "freelancer" && room.status === "working" ? timesheetForm() : null,
        section("Weekly invoices", invoices.length ? h("ul", { class: "invoices" }, invoices.map((i) => invoiceItem(i, room, role)))
          : h("p", {}, "No invoices yet.")),
        status);
    },
  };
}
