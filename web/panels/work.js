// Work: status report, meeting invite, and the job's own steps (award, complete, reopen,
// cancellation request and its answer) — each shown only to the role that may take it now.

import { post, roomPath, newClientId } from "../api.js";
import { h } from "../dom.js";
import { money } from "../format.js";
import { actionButton, attempt, checkbox, disclosureForm, input, renderKeepingForms, section, select, statusLine, toMinor } from "./kit.js";

const PARTIES = new Set(["client", "freelancer"]);

/** The open cancellation request, if any: the newest "…cancel…requested" not yet answered. */
export function pendingCancellation(events) {
  let pending = null;
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
    if (!/cancel/.test(e.type)) continue;
    if (/requested$/.test(e.type)) pending = e;
    else if (/(confirmed|rejected|withdrawn|cancelled|disputed)$/.test(e.type)) pending = null;
  }
  return pending;
}

export function workPanel(ctx) {
  const node = h("div", { class: "panel work" });
  const status = statusLine();

  function statusReportForm(room) {
    const summary = input("Summary of the work", { tag: "textarea", rows: 3, required: true });
    const rows = (room.terms?.milestones || []).filter((m) => !["released", "refunded"].includes(m.state)).map((m) => {
      const percent = input(`${m.title}: percent complete`, { type: "number", min: 0, max: 100, value: m.percent_complete || 0 });
      const bill = checkbox(`Add ${m.title} (${money(m.amount, room.currency)}) to billing`);
      const sync = () => { bill.control.disabled = Number(percent.control.value) !== 100; if (bill.control.disabled) bill.control.checked = false; };
      percent.control.addEventListener("input", sync);
      sync();
      return { m, percent, bill };
    });
    return disclosureForm("File a status report",
      [summary.wrap, rows.map((r) => h("fieldset", { class: "milestone-row" }, h("legend", {}, r.m.title), r.percent.wrap, r.bill.wrap))],
      "Submit report", async (st, form) => {
        const event = await attempt(st, () => post(roomPath(ctx.roomId, "/status-reports"), {
          summary: summary.control.value, client_id: newClientId(),
          milestones: rows.map((r) => ({ id: r.m.id, percent_complete: Number(r.percent.control.value),
            add_to_billing: r.bill.control.checked })),
        }), "Report filed.");
        if (event) { ctx.addEvents([event]); form.reset(); ctx.refreshRoom(); }
      });
  }

  function meetingForm(room) {
    const others = room.members.filter((m) => m.id !== ctx.me.id && m.access !== "expired");
    if (!others.length) return null;
    const who = select("Invite", others.map((m) => [m.id, `${m.name} (${m.role})`]));
    const when = input("Proposed time (optional)", { type: "datetime-local" });
    const note = input("Note (optional)", { tag: "textarea", rows: 2 });
    return disclosureForm("Invite to a meeting", [who.wrap, when.wrap, note.wrap], "Send invitation", async (st, form) => {
      const body = { invitee: who.control.value, note: note.control.value || undefined };
      if (when.control.value) body.proposed_at = new Date(when.control.value).toISOString();
      const event = await attempt(st, () => post(roomPath(ctx.roomId, "/meetings"), body), "Invitation sent.");
      if (event) { ctx.addEvents([event]); form.reset(); }
    });
  }

  function step(label, path, body) {
    return actionButton(label, status, async () => {
      const event = await post(roomPath(ctx.roomId, path), body);
      if (event && event.seq) ctx.addEvents([event]);
      await ctx.refreshRoom();
    });
  }

  function cancellation(room, role) {
    const pending = pendingCancellation(ctx.events());
    if (pending) {
      const mine = pending.actor?.id === ctx.me.id;
      const refund = pending.data?.refund;
      return section("Cancellation requested",
        h("p", {}, `${pending.actor?.name} asked to cancel the job`, refund ? `, with a refund of ${money(refund, room.currency)}` : "", "."),
        pending.data?.reason ? h("p", { class: "quote" }, pending.data.reason) : null,
        mine ? h("p", {}, "Waiting for the other party to confirm.")
          : PARTIES.has(role) ? h("div", { class: "actions" },
            step("Confirm cancellation", "/cancel/confirm", {}), step("Reject cancellation", "/cancel/reject", {})) : null);
    }
    if (!PARTIES.has(role) || room.status !== "working") return null;
    const reason = input("Reason", { tag: "textarea", rows: 2, required: true });
    const refund = input(`Refund to the client (${room.currency}, optional)`, { inputmode: "decimal" });
    return disclosureForm("Request cancellation", [reason.wrap, room.kind === "fixed" ? refund.wrap : null],
      "Send cancellation request", async (st) => {
        const body = { reason: reason.control.value };
        const minor = toMinor(refund.control.value);
        if (minor) body.refund = minor;
        const event = await attempt(st, () => post(roomPath(ctx.roomId, "/cancel"), body), "Cancellation requested.");
        if (event) { if (event.seq) ctx.addEvents([event]); ctx.refreshRoom(); }
      });
  }

  return {
    label: "Work",
    node,
    async refresh() {
      const room = ctx.getRoom();
      const role = room.me?.role;
      const parts = [];
      if (role === "client" && room.status === "proposal") parts.push(step("Award the job", "/award", {}));
      if (PARTIES.has(role) && room.status === "working") parts.push(step("Mark the job complete", "/complete", {}));
      if (role === "client" && room.status === "complete") parts.push(step("Reopen the job", "/reopen", {}));
      renderKeepingForms(node,
        parts.length ? section("The job", h("div", { class: "actions" }, parts)) : null,
        role === "freelancer" && room.kind === "fixed" && room.status === "working" ? statusReportForm(room) : null,
        room.status !== "cancelled" ? meetingForm(room) : null,
        cancellation(room, role),
        status);
    },
  };
}
