// The side panels of a room, as tabs: work, money (fixed price) or hours (hourly), feedback,
// people, and the support tools for agents. Each panel shows only what my role may do now.

import { h, replaceChildren, uid } from "../dom.js";
import { feedbackPanel } from "./feedback.js";
import { hourlyPanel } from "./hourly.js";
import { moneyPanel } from "./money.js";
import { peoplePanel } from "./people.js";
import { supportPanel } from "./support.js";
import { workPanel } from "./work.js";

// Who may see the job's money (billing answers 403 to anyone else, e.g. guests).
export const MONEY_VIEWERS = new Set(["client", "freelancer", "team", "support"]);

export function buildPanels(ctx) {
  const room = ctx.getRoom();
  const seesMoney = MONEY_VIEWERS.has(room.me?.role);
  const candidates = [workPanel, seesMoney ? (room.kind === "hourly" ? hourlyPanel : moneyPanel) : null,
    feedbackPanel, peoplePanel, supportPanel].filter(Boolean);
  const panels = candidates.map((make) => make(ctx)).filter(Boolean);
  const tablist = h("div", { class: "tabs", role: "tablist", "aria-label": "Room tools" });
  const node = h("aside", { class: "panels", "aria-label": "Room tools" }, tablist);
  const tabs = [];
  panels.forEach((panel, i) => {
    const tabId = uid("tab");
    const paneId = uid("pane");
    const tab = h("button", { type: "button", role: "tab", id: tabId, "aria-controls": paneId,
      "aria-selected": i === 0 ? "true" : "false", tabindex: i === 0 ? "0" : "-1" }, panel.label);
    const pane = h("div", { role: "tabpanel", id: paneId, "aria-labelledby": tabId, class: "pane",
      hidden: i !== 0, tabindex: "0" }, panel.node);
    tab.addEventListener("click", () => select(i));
    tab.addEventListener("keydown", (e) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (step) {
        e.preventDefault();
        select((i + step + panels.length) % panels.length, true);
      }
    });
    tabs.push({ tab, pane });
    tablist.append(tab);
    node.append(pane);
  });
  function select(index, focus = false) {
    tabs.forEach(({ tab, pane }, j) => {
      tab.setAttribute("aria-selected", j === index ? "true" : "false");
      tab.tabIndex = j === index ? 0 : -1;
      pane.hidden = j !== index;
    });
    if (focus) tabs[index].tab.focus();
  }
  let running = null;
  let again = false;
  return {
    node,
    // One refresh at a time, and one more after it if asked meanwhile: an older answer never
    // overwrites a newer one.
    refresh() {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        do {
          again = false;
          await Promise.all(panels.map((p) => p.refresh().catch((error) => {
            replaceChildren(p.node, h("p", { class: "form-status" }, error.message));
          })));
        } while (again);
        running = null;
      })();
      return running;
    },
  };
}
