// The room's one timeline. Events are kept by seq: each is shown once however often it arrives
// (REST page, socket backlog, live frame, our own POST answer), in seq order. One renderer per
// event type makes each read as itself; unknown types still read sensibly.

import { h, replaceChildren } from "./dom.js";
import { bytes, dateOnly, dateTime, humanize, linkify, money } from "./format.js";

const ROLE_WORDS = { client: "Client", freelancer: "Freelancer", team: "Team", guest: "Guest",
  support: "Support", system: "" };

function byline(event, ...what) {
  const actor = event.actor || {};
  const role = ROLE_WORDS[actor.role] ?? humanize(actor.role);
  return h("header", { class: "byline" },
    h("span", { class: "author" }, actor.name || "Someone"),
    role ? h("span", { class: `role role-${actor.role}` }, role) : null,
    what.some(Boolean) ? h("span", { class: "what" }, ...what) : null,
    h("time", { datetime: event.at, title: event.at }, dateTime(event.at)),
    event.source === "email" ? h("span", { class: "via" }, "by email") : null);
}

function paragraph(text) {
  return h("p", { class: "body" }, linkify(text || ""));
}

function amountOf(data, ctx) {
  return data.amount !== undefined ? money(data.amount, data.currency || ctx.currency) : "";
}

function milestoneTitle(data, ctx) {
  const id = typeof data.milestone === "string" ? data.milestone : data.milestone?.id;
  return data.title || data.milestone?.title || ctx.milestoneTitle(id) || "";
}

function fileList(files) {
  if (!files || !files.length) return null;
  return h("ul", { class: "files", "aria-label": "Files" }, files.map((f) =>
    h("li", {}, h("a", { href: `/api/files/${encodeURIComponent(f.id)}`, download: f.name, class: "file" }, f.name),
      h("span", { class: "size" }, ` ${bytes(f.size || 0)}`))));
}

const RENDERERS = {
  "message.posted": (e) => [byline(e, e.data.relayed ? h("span", { class: "tag" }, `relayed from the ${humanize(e.data.relayed.from)}`) : null),
    paragraph(e.data.body), fileList(e.data.files)],

  "status_report.submitted": (e, ctx) => [
    byline(e, "filed a status report"),
    paragraph(e.data.summary),
    h("ul", { class: "progress-list" }, (e.data.milestones || []).map((m) => h("li", {},
      h("span", {}, `${m.title}: ${m.percent_complete}%`),
      h("progress", { max: 100, value: m.percent_complete, "aria-label": `${m.title} ${m.percent_complete}% complete` }),
      m.add_to_billing ? h("span", { class: "tag" }, "added to billing") : null))),
    e.data.billing && e.data.billing.total
      ? h("p", { class: "amount" }, `Billing: ${money(e.data.billing.total, e.data.billing.currency || ctx.currency)}`)
      : null,
  ],

  "meeting.invited": (e, ctx) => {
    const d = e.data;
    const answer = h("div", { class: "actions" });
    const node = [byline(e, "invited ", d.invitee?.name || "someone", " to a meeting"),
      d.proposed_at ? h("p", {}, "Proposed time: ", h("time", { datetime: d.proposed_at }, dateTime(d.proposed_at))) : null,
      d.note ? paragraph(d.note) : null, answer];
    ctx.meetingSlot(d.meeting, answer, d.invitee?.id);
    return node;
  },
  "meeting.accepted": (e) => [byline(e, "accepted the meeting invitation")],
  "meeting.declined": (e) => [byline(e, "declined the meeting invitation")],

  "member.added": (e) => [byline(e, "added ", e.data.member?.name, ` as ${ROLE_WORDS[e.data.member?.role] || e.data.member?.role}`,
    e.data.expires_at ? ` until ${dateTime(e.data.expires_at)}` : "")],
  "member.removed": (e) => [byline(e, "removed ", e.data.member?.name)],
  "member.access_ended": (e) => [byline(e, `${e.data.member?.name}'s guest access ended`)],
  "support.joined": (e) => [byline(e, "joined the room from support. Support agents can read the whole record.")],

  "room.created": (e) => [byline(e, "opened the room: ", e.data.title)],
  "room.awarded": (e) => [byline(e, "awarded the job; the contract has started")],
  "room.completed": (e) => [byline(e, "marked the job complete")],
  "room.reopened": (e) => [byline(e, "reopened the job")],
  "room.cancelled": (e) => [byline(e, "the job was cancelled"), e.data.reason ? paragraph(e.data.reason) : null],
  "job.cancelled": (e) => [byline(e, "cancelled the job before it was awarded"), paragraph(e.data.reason)],

  "feedback.left": (e) => [byline(e, "left feedback"),
    h("p", { class: "rating", "aria-label": `${e.data.rating} of 5 stars` }, "★".repeat(e.data.rating || 0) + "☆".repeat(5 - (e.data.rating || 0))),
    e.data.comment ? paragraph(e.data.comment) : null],
  "feedback.requested": (e) => [byline(e, "asked the client for mid-contract feedback")],
  "feedback.request_expired": (e) => [byline(e, "the feedback request expired")],

  "timesheet.submitted": (e) => [byline(e, `logged ${e.data.hours} hours`),
    h("p", {}, `${dateTime(e.data.start)} – ${dateTime(e.data.end)}`), paragraph(e.data.memo)],
  "invoice.issued": (e, ctx) => [byline(e, "weekly invoice issued for review"),
    h("p", { class: "amount" }, `${money(e.data.amount, e.data.currency || ctx.currency)} · ${e.data.billable_hours} billable hours`)],
  "invoice.paid": (e, ctx) => [byline(e, "approved and paid the invoice"), h("p", { class: "amount" }, amountOf(e.data, ctx))],
  "invoice.disputed": (e) => [byline(e, `disputed ${e.data.hours ?? e.data.disputed_hours} hours`), paragraph(e.data.reason)],

  "job.cancellation_requested": (e, ctx) => [byline(e, "asked to cancel the job"), paragraph(e.data.reason),
    h("p", { class: "amount" }, `Refund to the client: ${money(e.data.refund, e.data.currency || ctx.currency)}`)],
  "job.cancellation_rejected": (e) => [byline(e, "rejected the cancellation; the job moves to dispute assistance")],

  "escrow.dormant": (e, ctx) => [byline(e, `no activity on this job: ${money(e.data.in_escrow, e.data.currency || ctx.currency)} in escrow is dormant`)],

  "case.opened": (e, ctx) => [byline(e, "opened a support case"), paragraph(e.data.complaint),
    h("p", {}, `Wants: ${e.data.wants}`),
    e.data.disputed_amount ? h("p", { class: "amount" }, `Disputed ${money(e.data.disputed_amount, e.data.currency || ctx.currency)}`) : null],
  "case.credit_granted": (e, ctx) => [byline(e, "granted a courtesy credit"), h("p", { class: "amount" }, amountOf(e.data, ctx))],
  "case.resolved": (e) => [byline(e, "resolved the support case"), paragraph(e.data.outcome)],
  "case.closed": (e) => [byline(e, "closed the support case"), paragraph(e.data.outcome)],
};

const PREFIX_RENDERERS = [
  ["milestone.", (e, ctx) => [byline(e, humanize(e.type.split(".")[1]), ": ", milestoneTitle(e.data, ctx)),
    h("p", { class: "amount" }, amountOf(e.data, ctx)), e.data.reason ? paragraph(e.data.reason) : null,
    e.data.due_at ? h("p", {}, `Due ${dateOnly(e.data.due_at)}`) : null]],
  ["terms.", (e, ctx) => [byline(e, `terms ${humanize(e.type.split(".")[1]).toLowerCase()}`),
    termsSummary(e.data, ctx)]],
  ["cancellation.", (e, ctx) => [byline(e, `cancellation ${humanize(e.type.split(".")[1]).toLowerCase()}`),
    e.data.reason ? paragraph(e.data.reason) : null, e.data.refund ? h("p", { class: "amount" }, `Refund ${money(e.data.refund, ctx.currency)}`) : null]],
  ["case.", (e, ctx) => [byline(e, `support case ${humanize(e.type.split(".")[1]).toLowerCase()}`),
    e.data.outcome ? paragraph(e.data.outcome) : null, e.data.amount ? h("p", { class: "amount" }, money(e.data.amount, ctx.currency)) : null]],
];

function termsSummary(data, ctx) {
  const milestones = data.milestones || data.terms?.milestones;
  if (!milestones) return null;
  return h("ul", {}, milestones.map((m) => h("li", {}, `${m.title}: ${money(m.amount, ctx.currency)}`,
    m.due_date ? ` due ${dateOnly(m.due_date)}` : "")));
}

function genericRenderer(e, ctx) {
  const d = e.data || {};
  return [byline(e, humanize(e.type)),
    d.body || d.reason || d.summary || d.memo ? paragraph(d.body || d.reason || d.summary || d.memo) : null,
    d.amount !== undefined ? h("p", { class: "amount" }, amountOf(d, ctx)) : null,
    d.hours !== undefined ? h("p", {}, `${d.hours} hours`) : null];
}

export function rendererFor(type) {
  if (RENDERERS[type]) return RENDERERS[type];
  for (const [prefix, fn] of PREFIX_RENDERERS) if (type.startsWith(prefix)) return fn;
  return genericRenderer;
}

export class Timeline {
  /**
   * ctx: {me, currency, milestoneTitle(id), onMeetingAnswer(meetingId, accept)}
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.events = new Map(); // seq -> envelope
    this.nodes = new Map(); // seq -> <li>
    this.meetingAnswered = new Set();
    this.meetingSlots = new Map();
    this.list = h("ol", { class: "timeline", role: "log", "aria-label": "Room timeline", "aria-live": "off" });
    this.announcer = h("div", { class: "visually-hidden", role: "status", "aria-live": "polite", "aria-atomic": "false" });
    this.divider = null;
  }

  get firstSeq() {
    return this.events.size ? Math.min(...this.events.keys()) : 0;
  }

  get lastSeq() {
    return this.events.size ? Math.max(...this.events.keys()) : 0;
  }

  has(seq) {
    return this.events.has(seq);
  }

  /** Add events (any order, duplicates welcome). Returns the ones that were new. */
  add(events, { live = false } = {}) {
    const fresh = [];
    for (const event of events) {
      if (typeof event.seq !== "number" || this.events.has(event.seq)) continue;
      this.events.set(event.seq, event);
      fresh.push(event);
    }
    fresh.sort((a, b) => a.seq - b.seq);
    for (const event of fresh) this.note(event);
    for (const event of fresh) this.insert(event);
    if (live) {
      for (const event of fresh) {
        if (event.type === "message.posted" && event.actor?.id !== this.ctx.me.id) {
          this.announcer.append(h("p", {}, `${event.actor?.name}: ${event.data.body || "sent files"}`));
        }
      }
      while (this.announcer.childNodes.length > 5) this.announcer.firstChild.remove();
    }
    return fresh;
  }

  /** Facts later events settle about earlier ones (a meeting answered). */
  note(event) {
    if (event.type === "meeting.accepted" || event.type === "meeting.declined") {
      this.meetingAnswered.add(event.data.meeting);
      const slot = this.meetingSlots.get(event.data.meeting);
      if (slot) replaceChildren(slot, h("span", { class: "tag" }, humanize(event.type.split(".")[1])));
    }
  }

  render(event) {
    const ctx = {
      currency: this.ctx.currency,
      milestoneTitle: this.ctx.milestoneTitle,
      meetingSlot: (meetingId, slot, inviteeId) => {
        this.meetingSlots.set(meetingId, slot);
        if (this.meetingAnswered.has(meetingId)) return;
        if (inviteeId !== this.ctx.me.id) {
          slot.append(h("span", { class: "tag" }, "Awaiting an answer"));
          return;
        }
        slot.append(
          h("button", { type: "button", onclick: () => this.ctx.onMeetingAnswer(meetingId, true) }, "Accept"),
          h("button", { type: "button", class: "secondary", onclick: () => this.ctx.onMeetingAnswer(meetingId, false) }, "Decline"));
      },
    };
    const kind = event.type.split(".")[0];
    const mine = event.actor?.id === this.ctx.me.id;
    return h("li", { class: `event event-${kind} type-${event.type.replace(".", "-")}${mine ? " mine" : ""}`,
      dataset: { seq: event.seq, type: event.type }, tabindex: "-1" }, rendererFor(event.type)(event, ctx));
  }

  insert(event) {
    const node = this.render(event);
    this.nodes.set(event.seq, node);
    // Find the first shown event with a larger seq; insert before it (usually: append).
    let before = null;
    for (const child of this.list.children) {
      const seq = Number(child.dataset.seq);
      if (child.dataset.seq && seq > event.seq) {
        before = child;
        break;
      }
    }
    if (this.divider && before && this.divider.nextSibling === before) before = this.divider;
    this.list.insertBefore(node, before);
  }

  /** The "new since you last read" line before the first unread event by someone else. */
  markUnread(afterSeq) {
    this.divider?.remove();
    this.divider = null;
    const first = [...this.events.values()].sort((a, b) => a.seq - b.seq)
      .find((e) => e.seq > afterSeq && e.actor?.id !== this.ctx.me.id);
    if (!first) return null;
    this.divider = h("li", { class: "unread-divider", role: "separator", "aria-label": "New messages" },
      h("span", {}, "New"));
    this.list.insertBefore(this.divider, this.nodes.get(first.seq));
    return this.divider;
  }
}
