// People: my mail setting; the client adds team members and guests (guests until a date).

import { patch, post, roomPath } from "../api.js";
import { h } from "../dom.js";
import { attempt, checkbox, disclosureForm, input, renderKeepingForms, section, select, statusLine } from "./kit.js";

export function peoplePanel(ctx) {
  const node = h("div", { class: "panel people" });
  const status = statusLine();

  function addForm() {
    const name = input("Name", { required: true });
    const email = input("Email", { type: "email", required: true });
    const role = select("Role", [["team", "Team member"], ["guest", "Guest (temporary)"]]);
    const until = input("Guest access until", { type: "date" });
    return disclosureForm("Add someone to the room", [name.wrap, email.wrap, role.wrap, until.wrap], "Add", (st, form) => attempt(st, async () => {
      const body = { name: name.control.value, email: email.control.value, role: role.control.value };
      if (role.control.value === "guest") body.expires_at = new Date(`${until.control.value}T23:59:59`).toISOString();
      const event = await post(roomPath(ctx.roomId, "/members"), body);
      if (event && event.seq) ctx.addEvents([event]);
      form.reset();
      await ctx.refreshRoom();
    }, "Added."));
  }

  return {
    label: "People",
    node,
    async refresh() {
      const room = ctx.getRoom();
      const mail = checkbox("Email me about this room", { checked: room.me?.email_notifications !== false });
      mail.control.addEventListener("change", () => attempt(status, () =>
        patch(roomPath(ctx.roomId, "/members/me"), { email_notifications: mail.control.checked }), "Saved."));
      renderKeepingForms(node,
        section("Notifications", mail.wrap),
        room.me?.role === "client" && !["cancelled", "expired"].includes(room.status) ? addForm() : null,
        status);
    },
  };
}
