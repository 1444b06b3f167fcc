// Support: the console where an agent joins a room (openly: a room event), and the in-room
// case tools: open a case, read the research summary, log outreach, grant credit with the
// suggested amount, second approvals, resolve.

import { get, post, roomPath } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { dateTime, humanize, money } from "../format.js";
import { attempt, checkbox, disclosureForm, input, renderKeepingForms, section, select, statusLine, toMinor } from "./kit.js";

const isStaff = (me) => me.kind === "support" || me.kind === "lead";

export async function showSupportConsole({ me, main }) {
  document.title = "Support console · Workroom";
  if (!isStaff(me)) {
    replaceChildren(main, h("section", {}, h("h1", {}, "Support console"), h("p", {}, "Only support agents can use this page.")));
    return null;
  }
  const roomId = input("Room id", { required: true, autocomplete: "off" });
  const form = disclosureForm("Join a room", [roomId.wrap,
    h("p", { class: "hint" }, "Joining is shown to every member of the room; agents never read silently.")],
  "Join room", (st) => attempt(st, async () => {
    const id = roomId.control.value.trim();
    try {
      await post(roomPath(id, "/support/join"));
    } catch (error) {
      if (error.code !== "already_joined") throw error;
    }
    location.hash = `#/room/${encodeURIComponent(id)}`;
  }));
  form.open = true;
  const rooms = (await get("/api/rooms")).rooms;
  const lead = me.kind === "lead" ? leadApprovalForm() : null;
  replaceChildren(main, h("section", { class: "support-console" }, h("h1", {}, "Support console"), form, lead,
    section("Rooms I have joined", rooms.length ? h("ul", {}, rooms.map((r) =>
      h("li", {}, h("a", { href: `#/room/${encodeURIComponent(r.id)}` }, r.title), ` · ${humanize(r.status)}`)))
      : h("p", {}, "None yet."))));
  return null;
}

/** Leads give second approvals on any case without joining its room. */
function leadApprovalForm() {
  const caseId = input("Case id", { required: true, autocomplete: "off" });
  const what = select("Approve", [["credit", "Courtesy credit"], ["contact_details", "Contact details"]]);
  const amount = input("Credit up to (optional)", { inputmode: "decimal" });
  const party = select("Party (for contact details)", [["freelancer", "Freelancer"], ["client", "Client"]]);
  return disclosureForm("Second approval on a case", [caseId.wrap, what.wrap, amount.wrap, party.wrap], "Approve",
    (st) => attempt(st, async () => {
      const body = { what: what.control.value };
      if (what.control.value === "credit" && toMinor(amount.control.value) !== null) body.amount = toMinor(amount.control.value);
      if (what.control.value === "contact_details") body.party = party.control.value;
      await post(`/api/cases/${encodeURIComponent(caseId.control.value.trim())}/approve`, body);
    }, "Approved. The agent can now act on it."));
}

function researchSummary(research, currency) {
  if (!research) return null;
  const row = (label, value) => h("div", { class: "kv" }, h("dt", {}, label), h("dd", {}, value));
  const party = (name, p) => p ? [
    row(`${name}: last message`, p.last_message ? `${dateTime(p.last_message.at)}: ${p.last_message.excerpt}` : "none"),
    row(`${name}: last payment`, p.last_payment ? `${money(p.last_payment.amount, currency)} (${humanize(p.last_payment.kind)}) ${dateTime(p.last_payment.at)}` : "none"),
  ] : [];
  const m = research.money || {};
  const delivered = research.work_delivered || {};
  return h("div", { class: "research" }, h("h4", {}, "Research summary"), h("dl", {},
    row("Contract", `${humanize(research.contract?.kind)} · ${humanize(research.contract?.status)}`),
    row("Total spend", money(m.total_spend, currency)), row("In escrow", money(m.in_escrow, currency)),
    row("Refunds so far", money(m.refunds, currency)), row("Credits so far", money(m.credits, currency)),
    party("Client", research.parties?.client), party("Freelancer", research.parties?.freelancer),
    row("Work delivered", delivered.delivered ? `yes: ${(delivered.evidence || []).join("; ")}` : "no evidence")));
}

export function supportPanel(ctx) {
  if (!isStaff(ctx.me)) return null;
  const node = h("div", { class: "panel support" });
  const status = statusLine();

  function openCaseForm(room) {
    const complaint = input("Complaint", { tag: "textarea", rows: 2, required: true });
    const wants = input("What the client wants", { required: true });
    const disputed = input(`Disputed amount (${room.currency})`, { inputmode: "decimal", value: "0" });
    return disclosureForm("Open a case", [complaint.wrap, wants.wrap, disputed.wrap], "Open case", (st) => attempt(st, async () => {
      const opened = await post(roomPath(ctx.roomId, "/cases"), { complaint: complaint.control.value,
        wants: wants.control.value, disputed_amount: toMinor(disputed.control.value) || 0 });
      if (opened.event) ctx.addEvents([opened.event]);
      await ctx.refreshRoom();
    }, "Case opened."));
  }

  function caseTools(room, theCase) {
    const currency = theCase.currency || room.currency;
    const act = (action, body, done) => (st) => attempt(st, async () => {
      const answer = await post(`/api/cases/${encodeURIComponent(theCase.id)}/${action}`, body());
      if (answer && answer.seq) ctx.addEvents([answer]);
      await ctx.refreshRoom();
    }, done);
    const partyChoice = () => select("Party", [["freelancer", "Freelancer"], ["client", "Client"]]);
    const party = partyChoice();
    const channel = select("Channel", [["email", "Email"], ["phone", "Phone"], ["room", "Room message"]]);
    const responded = checkbox("They responded");
    const note = input("Note (optional)");
    const relayParty = partyChoice();
    const relayBody = input("Message to relay", { tag: "textarea", rows: 2, required: true });
    const suggested = theCase.research?.courtesy_credit?.suggested;
    const credit = input(`Credit (${currency})`, { inputmode: "decimal", value: suggested ? (suggested / 100).toFixed(2) : "" });
    const what = select("Approve", [["credit", "Courtesy credit"], ["contact_details", "Contact details"]]);
    const approvalAmount = input(`Up to (${currency}, optional)`, { inputmode: "decimal" });
    const approvalParty = partyChoice();
    const outcome = input("Outcome", { tag: "textarea", rows: 2, required: true });
    const ended = theCase.status !== "open";
    const outreach = theCase.outreach || {};
    return [
      section(`Case ${theCase.id}: ${humanize(theCase.status)}`,
        h("p", { class: "quote" }, theCase.complaint), h("p", {}, `Wants: ${theCase.wants}`),
        theCase.disputed_amount ? h("p", {}, `Disputed: ${money(theCase.disputed_amount, currency)}`
          + (theCase.second_approval_required ? " (a credit needs a lead's approval)" : "")) : null,
        outreach.state ? h("p", {}, `Outreach: ${humanize(outreach.state)}, ${outreach.attempts || 0} attempt(s)`,
          outreach.closes_at && outreach.state === "open" ? `, closes ${dateTime(outreach.closes_at)}` : "") : null,
        theCase.approvals?.length ? h("p", {}, `Approvals: ${theCase.approvals.map((a) => `${humanize(a.what)}${a.used ? " (used)" : ""}`).join(", ")}`) : null,
        theCase.outcome ? h("p", {}, `Outcome: ${theCase.outcome}`) : null,
        researchSummary(theCase.research, currency)),
      ended ? null : [
        disclosureForm("Log outreach", [party.wrap, channel.wrap, responded.wrap, note.wrap], "Log attempt",
          act("outreach", () => ({ party: party.control.value, channel: channel.control.value,
            responded: responded.control.checked, note: note.control.value || undefined }), "Outreach logged.")),
        disclosureForm("Relay a message", [relayParty.wrap, relayBody.wrap], "Relay",
          act("relay", () => ({ party: relayParty.control.value, body: relayBody.control.value }), "Relayed.")),
        disclosureForm("Grant courtesy credit", [credit.wrap, suggested !== undefined
          ? h("p", { class: "hint" }, `Suggested: ${money(suggested, currency)} (${theCase.research.courtesy_credit.percent}% of ${money(theCase.research.courtesy_credit.basis, currency)})`) : null],
        "Grant credit", act("credit", () => ({ amount: toMinor(credit.control.value) ?? undefined }), "Credit granted.")),
        ctx.me.kind === "lead" ? disclosureForm("Second approval (lead)", [what.wrap, approvalAmount.wrap, approvalParty.wrap], "Approve",
          act("approve", () => ({ what: what.control.value, amount: toMinor(approvalAmount.control.value) ?? undefined,
            party: what.control.value === "contact_details" ? approvalParty.control.value : undefined }), "Approved.")) : null,
        disclosureForm("Resolve or close the case", [outcome.wrap], "Resolve",
          act("resolve", () => ({ outcome: outcome.control.value }), "Resolved.")),
      ],
    ];
  }

  return {
    label: "Support",
    node,
    async refresh() {
      const room = ctx.getRoom();
      if (room.me?.role !== "support") {
        renderKeepingForms(node, h("p", {}, "Join the room from the support console to help here."));
        return;
      }
      const cases = (await get(roomPath(ctx.roomId, "/cases"))).cases || [];
      const open = cases.find((c) => c.status === "open");
      const shown = open ? await get(`/api/cases/${encodeURIComponent(open.id)}`) : null;
      renderKeepingForms(node,
        shown ? caseTools(room, shown) : openCaseForm(room),
        cases.filter((c) => c.status !== "open").map((c) => h("p", { class: "hint" },
          `Earlier case ${humanize(c.status)}: ${c.outcome || c.complaint}`)),
        status);
    },
  };
}
