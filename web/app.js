// The page's entry point: who am I, then a tiny hash router between the views.
//   #/              my jobs            #/archived         archived jobs
//   #/room/{id}     the room           #/room/{id}/statement   the closing statement
//   #/support       the support console (agents)

import { ApiError, get } from "./api.js";
import { syncServerClock } from "./clock.js";
import { h, replaceChildren } from "./dom.js";
import { showJobs } from "./jobs.js";
import { showRoom } from "./room.js";
import { showStatement } from "./statement.js";
import { showSupportConsole } from "./panels/support.js";
import { LiveSocket } from "./socket.js";
import { showMessagePage } from "./pages.js";

const main = document.getElementById("main");
const connection = document.getElementById("connection");
const CONNECTION_WORDS = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
  signed_out: "Signed out: use your login link again.",
  idle: "",
};

const socket = new LiveSocket({
  onState(state) {
    connection.textContent = CONNECTION_WORDS[state] ?? state;
    connection.dataset.state = state;
  },
});

let current = null; // the active view's cleanup function

async function route(me) {
  if (typeof current === "function") current();
  current = null;
  const path = location.hash.replace(/^#/, "") || "/";
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  for (const link of document.querySelectorAll("header nav a")) {
    link.toggleAttribute("aria-current", link.getAttribute("href") === `#${path}`);
  }
  const ctx = { me, socket, main };
  if (parts[0] === "room" && parts[1] && parts[2] === "statement") current = await showStatement(ctx, parts[1]);
  else if (parts[0] === "room" && parts[1]) current = await showRoom(ctx, parts[1]);
  else if (parts[0] === "archived") current = await showJobs(ctx, { archived: true });
  else if (parts[0] === "support") current = await showSupportConsole(ctx);
  else current = await showJobs(ctx, { archived: false });
  main.focus({ preventScroll: true });
}

async function start() {
  let me;
  try {
    me = await get("/api/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      showMessagePage(main, "Please sign in",
        "Open the login link from your invitation or notification email to see your jobs. " +
        "Each link signs you in on this browser.");
      document.title = "Sign in · Workroom";
      return;
    }
    showMessagePage(main, "Workroom is not reachable", error.message);
    return;
  }
  await syncServerClock();
  replaceChildren(document.getElementById("me-name"), h("span", { class: "visually-hidden" }, "Signed in as "), me.name);
  document.getElementById("signout").hidden = false;
  document.getElementById("nav-support").hidden = !(me.kind === "support" || me.kind === "lead");
  window.addEventListener("hashchange", () => route(me));
  await route(me);
}

start();
