// Feedback: every feedback on the contract (mid-contract and final), the form to leave it, and
// the freelancer's request for mid-contract feedback.

import { ApiError, get, post, roomPath } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { dateOnly, humanize, linkify } from "../format.js";
import { actionButton, attempt, checkbox, disclosureForm, input, section, select, statusLine } from "./kit.js";

export function feedbackPanel(ctx) {
  const node = h("div", { class: "panel feedback" });
  const status = statusLine();

  function leaveForm(room, role) {
    const rating = select("Rating", [["5", "5 — excellent"], ["4", "4"], ["3", "3"], ["2", "2"], ["1", "1 — poor"]]);
    const comment = input("Comment", { tag: "textarea", rows: 3, required: true });
    const hide = checkbox("Hide the job's title and description where this feedback is shown");
    const showHide = role === "client" && room.invite_only;
    return disclosureForm(room.status === "working" && role === "client" ? "Leave mid-contract feedback" : "Leave feedback",
      [rating.wrap, comment.wrap, showHide ? hide.wrap : null], "Publish feedback", (st) => attempt(st, async () => {
        const event = await post(roomPath(ctx.roomId, "/feedback"), { rating: Number(rating.control.value),
          comment: comment.control.value, hide_job_details: showHide ? hide.control.checked : undefined });
        if (event && event.seq) ctx.addEvents([event]);
        await ctx.refreshRoom();
      }, "Feedback published. It cannot be changed."));
  }

  return {
    label: "Feedback",
    node,
    async refresh() {
      const room = ctx.getRoom();
      const role = room.me?.role;
      let list = null;
      try {
        const answer = await get(roomPath(ctx.roomId, "/feedback"));
        list = answer.feedback || answer.items || answer;
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
      }
      const parties = ["client", "freelancer"].includes(role);
      replaceChildren(node,
        section("Feedback on this contract", !list || !list.length ? h("p", {}, "No feedback yet.")
          : h("ul", { class: "feedback-list" }, list.map((f) => h("li", {},
            h("p", { class: "rating", "aria-label": `${f.rating} of 5 stars` }, "★".repeat(f.rating) + "☆".repeat(5 - f.rating)),
            h("p", {}, linkify(f.comment || "")),
            h("small", {}, `${f.author?.name || f.from?.name || humanize(f.author_role || f.from_role || "")} · ${humanize(f.kind || f.stage || "")} · ${dateOnly(f.at || f.created_at)}`))))),
        parties ? leaveForm(room, role) : null,
        role === "freelancer" && room.status === "working"
          ? actionButton("Request mid-contract feedback", status, async () => {
            const event = await post(roomPath(ctx.roomId, "/feedback/request"));
            if (event && event.seq) ctx.addEvents([event]);
          }, { class: "secondary" }) : null,
        status);
    },
  };
}
