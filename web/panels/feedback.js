// Feedback: every feedback on the contract (mid-contract and final) together, the form to leave
// it when the rules allow it for me now, and the freelancer's request for mid-contract feedback.
// The server's eligibility answer says what is possible and, if not, why.

import { ApiError, get, post, roomPath } from "../api.js";
import { h } from "../dom.js";
import { dateOnly, dateTime, linkify } from "../format.js";
import { actionButton, attempt, checkbox, disclosureForm, input, renderKeepingForms, section, select, statusLine } from "./kit.js";

const KIND_WORDS = { final: "End of job", mid_contract: "Mid-contract" };

function stars(rating) {
  return h("p", { class: "rating", "aria-label": `${rating} of 5 stars` }, "★".repeat(rating) + "☆".repeat(5 - rating));
}

function unmetList(check) {
  if (!check || check.eligible || !check.unmet?.length) return null;
  return h("ul", { class: "unmet" }, check.unmet.map((u) => h("li", {}, u.message)));
}

export function feedbackPanel(ctx) {
  const node = h("div", { class: "panel feedback" });
  const status = statusLine();

  function leaveForm(room, label) {
    const rating = select("Rating", [["5", "5 — excellent"], ["4", "4 — good"], ["3", "3 — fair"], ["2", "2 — poor"], ["1", "1 — bad"]]);
    const comment = input("Comment (public)", { tag: "textarea", rows: 3, required: true });
    const hide = checkbox("Hide the job's title and description where this feedback is shown");
    const canHide = room.me?.role === "client" && room.invite_only;
    return disclosureForm(label, [rating.wrap, comment.wrap, canHide ? hide.wrap : null,
      h("p", { class: "hint" }, "Feedback cannot be changed or removed once published.")],
    "Publish feedback", (st) => attempt(st, async () => {
      const body = { rating: Number(rating.control.value), comment: comment.control.value };
      if (canHide) body.hide_job_details = hide.control.checked;
      const event = await post(roomPath(ctx.roomId, "/feedback"), body);
      if (event && event.seq) ctx.addEvents([event]);
      await ctx.refreshRoom();
    }, "Feedback published."));
  }

  // Private comments go to the platform's staff only: never a room event, never shown to the freelancer.
  function privateCommentForm() {
    const body = input("Private comment to the platform", { tag: "textarea", rows: 2, required: true });
    return disclosureForm("Send a private comment to the platform", [body.wrap,
      h("p", { class: "hint" }, "Only the platform's staff read it; the freelancer never sees it.")],
    "Send privately", (st, form) => attempt(st, async () => {
      await post(roomPath(ctx.roomId, "/private-comments"), { body: body.control.value });
      form.reset();
    }, "Sent to the platform's staff."));
  }

  return {
    label: "Feedback",
    node,
    async refresh() {
      const room = ctx.getRoom();
      const role = room.me?.role;
      let answer;
      try {
        answer = await get(roomPath(ctx.roomId, "/feedback"));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return;
        throw error;
      }
      const list = answer.feedback || [];
      const mine = list.filter((f) => f.author?.id === ctx.me.id);
      const openRequest = (answer.requests || []).find((r) => r.status === "open" || r.status === "pending");
      const elig = answer.eligibility || {};
      const parts = [];
      // A job ends complete or cancelled; either way the server says whether feedback is open.
      if (["complete", "cancelled"].includes(room.status) && ["client", "freelancer"].includes(role)) {
        if (mine.some((f) => f.kind === "final")) parts.push(h("p", {}, "You have left your feedback on this job."));
        else if (elig.final?.eligible) parts.push(leaveForm(room, "Leave feedback on this job"));
        else parts.push(section("Feedback not open yet", unmetList(elig.final)));
      }
      if (room.status === "working" && role === "client") {
        if (elig.mid_contract?.eligible) parts.push(leaveForm(room, "Leave mid-contract feedback"));
        else parts.push(section("Mid-contract feedback", unmetList(elig.mid_contract)));
      }
      if (room.status === "working" && role === "freelancer") {
        if (openRequest) parts.push(h("p", {}, `You asked for feedback on ${dateTime(openRequest.requested_at)}; `
          + `the request is open until ${dateTime(openRequest.expires_at)}.`));
        else if (elig.mid_contract?.eligible) {
          parts.push(actionButton("Request mid-contract feedback", status, async () => {
            const event = await post(roomPath(ctx.roomId, "/feedback/request"));
            if (event && event.seq) ctx.addEvents([event]);
            await ctx.refreshRoom();
          }, { class: "secondary" }));
        } else parts.push(section("Mid-contract feedback", unmetList(elig.mid_contract)));
      }
      renderKeepingForms(node,
        section("Feedback on this contract", list.length
          ? h("ul", { class: "feedback-list" }, list.map((f) => h("li", { dataset: { kind: f.kind } },
            stars(f.rating), h("p", { class: "body" }, linkify(f.comment || "")),
            h("small", {}, `${f.author?.name} (${f.author?.role}) on ${f.subject?.name} · ${KIND_WORDS[f.kind] || f.kind} · ${dateOnly(f.given_at)}`))))
          : h("p", {}, "No feedback yet.")),
        parts, role === "client" ? privateCommentForm() : null, status);
    },
  };
}
