// Support: the console where an agent joins a room (openly: a room event), and the in-room
// case tools: open a case, read the research summary, log outreach, grant credit with the
// suggested amount, second approvals, resolve.

import { get, post, roomPath } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { humanize, money } from "../format.js";
import { attempt, checkbox, disclosureForm, input, section, select, statusLine, toMinor } from "./kit.js";

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
  replaceChildren(main, h("section", { class: "support-console" }, h("h1", {}, "Support console"), form,
    section("Rooms I have joined", rooms.length ? h("ul", {}, rooms.map((r) =>
      h("li", {}, h("a", { href: `#/room/${encodeURIComponent(r.id)}` }, r.title), ` · ${humanize(r.status)}`)))
      : h("p", {}, "None yet."))));
  return null;
}

function researchSummary(summary, currency) {
  if (!summary) return null;
  const rows = Object.entries(summary).map(([key, value]) => {
    let text;
    if (value && typeof value === "object") text = JSON.stringify(value);
    else if (typeof value === "number" && /amount|spend|total|refund|credit|paid/.test(key)) text = money(value, currency);
    else text = String(value);
    return h("div", { class: "kv" }, h("dt", {}, humanize(key)), h("dd", {}, text));
  });
  return h("dl", { class: "research" }, rows);
}

export function supportPanel(ctx) {
  if (!isStaff(ctx.me)) return null;
  const node = h("div", { class: "panel support" });
  const status = statusLine();
  let current = null; // the case opened here or found in the timeline

  function caseIdFromEvents() {
    let id = null;
    for (const e of [...ctx.events()].sort((a, b) => a.seq - b.seq)) {
      if (e.type.startsWith("case.") && (e.data.case || e.data.id)) {
        const caseId = typeof e.data.case === "object" ? e.data.case.id : e.data.case || e.data.id;
        id = /resolved|closed/.test(e.type) ? null : caseId;
      }
    }
    return id;
  }

  function openCaseForm(room) {
    const complaint = input("Complaint", { tag: "textarea", rows: 2, required: true });
    const wants = input("What the client wants", { required: true });
    const disputed = input(`Disputed amount (${room.currency})`, { inputmode: "decimal", value: "0" });
    return disclosureForm("Open a case", [complaint.wrap, wants.wrap, disputed.wrap], "Open case", (st) => attempt(st, async () => {
      current = await post(roomPath(ctx.roomId, "/cases"), { complaint: complaint.control.value, wants: wants.control.value,
        disputed_amount: toMinor(disputed.control.value) || 0 });
      await ctx.refreshRoom();
    }, "Case opened."));
  }

  function caseTools(room, theCase) {
    const id = theCase.id;
    const act = (action, body, done) => (st) => attempt(st, async () => {
      const answer = await post(`/api/cases/${encodeURIComponent(id)}/${action}`, body());
      if (answer && answer.id === id) current = answer;
      await ctx.refreshRoom();
    }, done);
    const party = select("Party", [["freelancer", "Freelancer"], ["client", "Client"]]);
    const channel = select("Channel", [["email", "Email"], ["phone", "Phone"], ["room", "Room message"]]);
    const responded = checkbox("They responded");
    const suggested = theCase.suggested_credit ?? theCase.research?.suggested_credit ?? theCase.research_summary?.suggested_credit;
    const credit = input(`Credit (${room.currency})`, { inputmode: "decimal", value: suggested ? (suggested / 100).toFixed(2) : "" });
    const what = input("What to approve", { value: "credit" });
    const outcome = input("Outcome", { tag: "textarea", rows: 2, required: true });
    return [
      section(`Case ${humanize(theCase.state || theCase.status || "open")}`,
        theCase.complaint ? h("p", {}, theCase.complaint) : null,
        researchSummary(theCase.research || theCase.research_summary || theCase.summary, room.currency)),
      disclosureForm("Log outreach", [party.wrap, channel.wrap, responded.wrap], "Log attempt",
        act("outreach", () => ({ party: party.control.value, channel: channel.control.value, responded: responded.control.checked }), "Outreach logged.")),
      disclosureForm("Grant courtesy credit", [credit.wrap, suggested ? h("p", { class: "hint" }, `Suggested: ${money(suggested, room.currency)}`) : null],
        "Grant credit", act("credit", () => ({ amount: toMinor(credit.control.value) }), "Credit recorded.")),
      ctx.me.kind === "lead" ? disclosureForm("Second approval", [what.wrap], "Approve",
        act("approve", () => ({ what: what.control.value }), "Approved.")) : null,
      disclosureForm("Resolve the case", [outcome.wrap], "Resolve",
        act("resolve", () => ({ outcome: outcome.control.value }), "Resolved.")),
    ];
  }

  return {
    label: "Support",
    node,
    async refresh() {
      const room = ctx.getRoom();
      const openId = current?.id || caseIdFromEvents();
      if (openId && (!current || current.id !== openId)) {
        try { current = await get(`/api/cases/${encodeURIComponent(openId)}`); } catch (_) { current = { id: openId }; }
      }
      replaceChildren(node,
        room.me?.role === "support" ? null : h("p", {}, "You are not in this room as support."),
        current ? caseTools(room, current) : openCaseForm(room),
        status);
    },
  };
}
