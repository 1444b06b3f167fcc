// The room page: header with members and presence, the live timeline with its unread divider
// and older history on scroll, the composer, and the side panels for what my role may do now.

import { ApiError, get, post, roomPath } from "./api.js";
import { Composer } from "./composer.js";
import { h, replaceChildren } from "./dom.js";
import { humanize } from "./format.js";
import { showAccessEnded, showNotFound } from "./pages.js";
import { Presence } from "./presence.js";
import { Timeline } from "./timeline.js";
import { MONEY_VIEWERS, buildPanels } from "./panels/index.js";

const PAGE = 50;
const POLL_WHILE_OFFLINE_MS = 3000;
const ENDED_CODES = new Set(["access_expired", "access_ended", "not_allowed", "room_not_found", "not_found"]);

export async function showRoom({ me, socket, main }, roomId) {
  let room;
  try {
    room = await get(roomPath(roomId));
  } catch (error) {
    return showRoomError(main, error);
  }
  document.title = `${room.title} · Workroom`;
  let ended = false;

  const milestoneTitle = (id) => room.terms?.milestones?.find((m) => m.id === id)?.title;
  const timeline = new Timeline({
    me, currency: room.currency, milestoneTitle,
    onMeetingAnswer: async (meetingId, accept) => {
      try {
        timeline.add([await post(roomPath(roomId, `/meetings/${encodeURIComponent(meetingId)}/respond`), { accept })]);
      } catch (error) {
        notice(error.message);
      }
    },
  });
  const presence = new Presence(me, () => room.members);
  const noticeLine = h("p", { class: "form-status", role: "status", "aria-live": "polite" });
  const notice = (text) => { noticeLine.textContent = text; };
  const olderButton = h("button", { type: "button", class: "link older" }, "Load older messages");
  const scroller = h("div", { class: "timeline-scroll", tabindex: "0", "aria-label": "Messages" },
    olderButton, timeline.list);
  const title = h("h1", { class: "room-title" }, room.title);
  const statusLine = h("p", { class: "room-meta" });
  const renderHeader = () => replaceChildren(statusLine,
    h("span", { class: `status status-${room.status}` }, humanize(room.status)), " · ",
    room.kind === "hourly" ? "Hourly" : "Fixed price", " · ",
    `You are the ${humanize(room.me?.role)}`);
  renderHeader();

  const column = h("section", { class: "room-main", "aria-label": "Conversation" },
    scroller, presence.typingLine, noticeLine);
  const composer = new Composer({
    roomId,
    dropZone: column,
    onSent: (event) => { timeline.add([event]); stickToBottom(true); markRead(); },
    onTyping: () => socket.typing(roomId),
  });
  column.append(composer.form);

  const panels = buildPanels({
    roomId, me, getRoom: () => room, notice, events: () => [...timeline.events.values()],
    addEvents: (events) => { timeline.add(events); stickToBottom(); },
    refreshRoom: () => refreshRoom(),
  });
  const layout = h("div", { class: "room" },
    h("header", { class: "room-header" }, h("p", {}, h("a", { href: "#/" }, "← My jobs")), title, statusLine,
      presence.memberList, h("p", { class: "room-links" },
        MONEY_VIEWERS.has(room.me?.role)
          ? [h("a", { href: `#/room/${encodeURIComponent(roomId)}/statement` }, "Closing statement"), " · "] : null,
        h("a", { href: roomPath(roomId, "/export"), download: `room-${roomId}.json` }, "Export the record"))),
    column, panels.node, timeline.announcer);
  replaceChildren(main, layout);

  // ---- history ------------------------------------------------------------------------------
  const head = room.head || 0;
  const firstPageSince = Math.max(0, head - PAGE);
  await loadRange(firstPageSince, PAGE);
  const readSeq = room.me?.last_read_seq ?? null;
  let readSent = readSeq || 0;
  const divider = readSeq !== null && readSeq < timeline.lastSeq ? timeline.markUnread(readSeq) : null;
  // Scroll only the timeline (not the window) to put the divider a third of the way down.
  if (divider) scroller.scrollTop = divider.offsetTop - scroller.clientHeight / 3;
  else scroller.scrollTop = scroller.scrollHeight;
  markRead();

  async function loadRange(since, limit) {
    const page = await get(roomPath(roomId, `/events?since=${since}&limit=${limit}`));
    timeline.add(page.events);
    return page.events.length;
  }

  async function loadOlder() {
    const first = timeline.firstSeq;
    if (first <= 1) {
      olderButton.hidden = true;
      return;
    }
    const since = Math.max(0, first - 1 - PAGE);
    const before = scroller.scrollHeight;
    await loadRange(since, first - 1 - since);
    scroller.scrollTop += scroller.scrollHeight - before; // keep the reader's place
    olderButton.hidden = timeline.firstSeq <= 1;
  }
  olderButton.hidden = timeline.firstSeq <= 1;
  olderButton.addEventListener("click", loadOlder);
  let loadingOlder = false;
  scroller.addEventListener("scroll", async () => {
    if (scroller.scrollTop < 80 && !loadingOlder && !olderButton.hidden) {
      loadingOlder = true;
      try { await loadOlder(); } finally { loadingOlder = false; }
    }
    if (nearBottom()) markRead();
  });

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
  }
  function stickToBottom(force = false) {
    if (force || nearBottom()) scroller.scrollTop = scroller.scrollHeight;
  }

  async function markRead() {
    const seq = timeline.lastSeq;
    if (seq <= readSent || document.hidden || !nearBottom()) return;
    readSent = seq;
    try { await post(roomPath(roomId, "/read"), { seq }); } catch (_) { /* next time */ }
  }
  const onVisible = () => markRead();
  document.addEventListener("visibilitychange", onVisible);

  // ---- live ---------------------------------------------------------------------------------
  let refreshTimer = null;
  function onEvents(events) {
    const wasNear = nearBottom();
    const fresh = timeline.add(events, { live: true });
    if (!fresh.length) return;
    if (wasNear) stickToBottom(true);
    markRead();
    for (const e of fresh) presence.stoppedTyping(e.actor?.id);
    if (fresh.some((e) => e.type !== "message.posted")) {
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(refreshRoom, 200);
    }
  }

  async function refreshRoom() {
    try {
      room = await get(roomPath(roomId));
    } catch (error) {
      if (error instanceof ApiError && (error.status === 403 || error.status === 404)) return endRoom(error);
      return;
    }
    title.textContent = room.title;
    renderHeader();
    presence.renderMembers();
    await panels.refresh();
  }

  function endRoom(error) {
    if (ended) return;
    ended = true;
    cleanup();
    showRoomError(main, error);
  }

  socket.subscribe(roomId, {
    since: () => timeline.lastSeq,
    onEvent: (event) => onEvents([event]),
    onPresence: (online) => presence.setOnline(online),
    onTyping: (actor) => presence.typing(actor),
    onError: (frame) => {
      if (ENDED_CODES.has(frame.code)) refreshRoom(); // the REST answer says which page to show
      else notice(frame.message || humanize(frame.code));
    },
  });

  // While the socket is down, catch up over REST; the timeline drops what it already has.
  const poller = setInterval(async () => {
    if (socket.state === "open" || ended) return;
    try {
      const page = await get(roomPath(roomId, `/events?since=${timeline.lastSeq}&limit=200`));
      onEvents(page.events);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 403 || error.status === 404)) endRoom(error);
    }
  }, POLL_WHILE_OFFLINE_MS);

  await panels.refresh();
  composer.text.focus({ preventScroll: true });

  function cleanup() {
    clearInterval(poller);
    clearTimeout(refreshTimer);
    presence.stop();
    socket.unsubscribe(roomId);
    document.removeEventListener("visibilitychange", onVisible);
  }
  return cleanup;
}

function showRoomError(main, error) {
  if (error instanceof ApiError && error.code === "access_expired") showAccessEnded(main);
  else if (error instanceof ApiError && (error.status === 404 || error.status === 403)) showNotFound(main);
  else replaceChildren(main, h("p", { class: "notice", role: "alert" }, error.message));
  return null;
}
