// My jobs: status, kind, unread badge, last activity; archive/unarchive one or several.

import { get, post } from "./api.js";
import { serverNow } from "./clock.js";
import { h, replaceChildren, uid } from "./dom.js";
import { humanize, relative } from "./format.js";

const ARCHIVABLE = new Set(["working", "complete", "cancelled", "expired"]);

export async function showJobs({ main }, { archived }) {
  const heading = archived ? "Archived jobs" : "My jobs";
  document.title = `${heading} · Workroom`;
  const notice = h("p", { class: "form-status", role: "status", "aria-live": "polite" });
  const list = h("ul", { class: "job-list", "aria-label": heading });
  const bulk = h("button", { type: "button", class: "secondary", disabled: true },
    archived ? "Unarchive selected" : "Archive selected");
  const selectAll = h("input", { type: "checkbox", id: uid("all") });
  const toolbar = h("div", { class: "toolbar" },
    h("label", { for: selectAll.id, class: "check" }, selectAll, " Select all"), bulk);
  const switcher = h("p", {}, archived ? h("a", { href: "#/" }, "Back to my jobs")
                                       : h("a", { href: "#/archived" }, "Show archived jobs"));
  replaceChildren(main, h("section", { class: "jobs" }, h("h1", {}, heading), switcher, toolbar, notice, list));

  let rooms = [];
  const selected = new Set();
  const updateBulk = () => {
    bulk.disabled = selected.size === 0;
    selectAll.checked = rooms.length > 0 && selected.size === rooms.filter(canToggle).length;
  };
  const canToggle = (room) => archived || ARCHIVABLE.has(room.status);

  async function move(ids) {
    try {
      await post(archived ? "/api/rooms/unarchive" : "/api/rooms/archive", { rooms: ids });
      selected.clear();
      await load();
      notice.textContent = `${ids.length} job${ids.length === 1 ? "" : "s"} ${archived ? "unarchived" : "archived"}.`;
    } catch (error) {
      notice.textContent = error.message;
    }
  }

  function row(room) {
    const box = h("input", { type: "checkbox", id: uid("sel"), disabled: !canToggle(room), checked: selected.has(room.id),
      onchange: () => { box.checked ? selected.add(room.id) : selected.delete(room.id); updateBulk(); } });
    const unread = room.unread > 0
      ? h("span", { class: "badge unread", "aria-label": `${room.unread} unread` }, String(room.unread)) : null;
    const one = canToggle(room)
      ? h("button", { type: "button", class: "link", onclick: () => move([room.id]),
          "aria-label": `${archived ? "Unarchive" : "Archive"} ${room.title}` }, archived ? "Unarchive" : "Archive")
      : null;
    return h("li", { class: "job", dataset: { room: room.id } },
      h("label", { for: box.id, class: "visually-hidden" }, `Select ${room.title}`), box,
      h("div", { class: "job-main" },
        h("a", { href: `#/room/${encodeURIComponent(room.id)}`, class: "job-title" }, room.title), unread,
        h("div", { class: "job-meta" },
          h("span", { class: `status status-${room.status}` }, humanize(room.status)),
          h("span", { class: "kind" }, room.kind === "hourly" ? "Hourly" : "Fixed price"),
          h("span", { class: "activity" }, "Last activity ",
            h("time", { datetime: room.last_event_at || "" }, relative(room.last_event_at, serverNow()))))),
      one);
  }

  async function load() {
    try {
      rooms = (await get(`/api/rooms?archived=${archived}`)).rooms;
    } catch (error) {
      notice.textContent = error.message;
      return;
    }
    // A refresh keeps what the user has ticked (and forgets rooms no longer listed): the bulk
    // button must never act on boxes the user can no longer see ticked.
    const listed = new Set(rooms.filter(canToggle).map((room) => room.id));
    for (const roomId of [...selected]) if (!listed.has(roomId)) selected.delete(roomId);
    replaceChildren(list, rooms.length ? rooms.map(row)
      : h("li", { class: "empty" }, archived ? "No archived jobs." : "No jobs yet."));
    updateBulk();
  }

  bulk.addEventListener("click", () => move([...selected]));
  selectAll.addEventListener("change", () => {
    selected.clear();
    for (const box of list.querySelectorAll("input[type=checkbox]")) {
      if (box.disabled) continue;
      box.checked = selectAll.checked;
      if (selectAll.checked) selected.add(box.closest("li").dataset.room);
    }
    updateBulk();
  });
  await load();
  const refresh = setInterval(load, 30000);
  return () => clearInterval(refresh);
}
