/**
 * The dashboard's entry: a hash router over three views (`#/` sessions, `#/session/<id>`,
 * `#/fleet`). Each view gets an AbortSignal that ends its timers and streams when you leave it.
 */
import { document, location, onWindow } from "./browser.ts";
import { disposeDetached } from "./charts.ts";
import { renderFleet } from "./views/fleet.ts";
import { renderList } from "./views/list.ts";
import { renderSession } from "./views/session.ts";

const app = document.getElementById("app")!;
const live = document.getElementById("live")!;
let current: AbortController | undefined;

function route(): void {
  current?.abort();
  current = new AbortController();
  const hash = location.hash.replace(/^#/, "") || "/";
  const session = /^\/session\/(.+)$/.exec(hash);
  const view = session !== null ? "session" : hash === "/fleet" ? "fleet" : "sessions";
  for (const a of document.querySelectorAll("[data-nav]"))
    a.classList.toggle(
      "active",
      a.dataset.nav === view || (view === "session" && a.dataset.nav === "sessions"),
    );
  document.body.dataset.view = view;
  if (session !== null) renderSession(app, decodeURIComponent(session[1]!), current.signal, live);
  else if (view === "fleet") renderFleet(app, current.signal);
  else renderList(app, current.signal);
  disposeDetached();
  document.title =
    session !== null ? `${decodeURIComponent(session[1]!)} · session-metrics` : "session-metrics";
}

onWindow("hashchange", route);
route();
