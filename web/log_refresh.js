// The delivery log refreshes itself while its page is open: every few
// seconds it fetches the log's rows (the same filter, the same page) and
// puts them in place. It waits while the person is busy with the rows (a
// box ticked, an event opened, focus in the table) or the tab is hidden;
// Pause stops it, and it starts paused for those who prefer reduced
// motion. Without this file the page is the same, only refreshed by hand.
"use strict";

function logRefresh(box) {
  const rows = document.querySelector("[data-log-rows]");
  const state = box.querySelector("[data-refresh-state]");
  const toggle = box.querySelector("[data-refresh-toggle]");
  if (!rows || !state || !toggle) return;
  const every = Math.max(2, Number(box.dataset.refreshSeconds) || 10) * 1000;
  let paused = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  let timer = null;

  const show = (text) => { state.textContent = text; };
  const render = () => {
    toggle.textContent = paused ? "Resume auto-refresh" : "Pause auto-refresh";
    toggle.setAttribute("aria-pressed", String(paused));
    box.dataset.refreshPaused = String(paused);
    if (paused) show("Auto-refresh paused.");
  };
  // busy: refreshing now would drop what the person is doing.
  const busy = () => document.hidden ||
    rows.querySelector("input:checked, details[open]") !== null ||
    rows.contains(document.activeElement);

  const tick = async () => {
    timer = null;
    if (paused) return;
    if (!busy()) {
      try {
        const res = await fetch(box.dataset.logRefresh, { credentials: "same-origin", headers: { Accept: "text/html" } });
        if (!res.ok) throw new Error("HTTP " + res.status);
        const html = await res.text();
        if (!paused && !busy()) {
          rows.innerHTML = html;
          box.dataset.refreshedAt = String(Date.now());
          show("Updated " + new Date().toLocaleTimeString() + ".");
        }
      } catch (e) {
        show("Could not refresh (" + e.message + "); trying again.");
      }
    }
    schedule();
  };
  const schedule = () => {
    if (!paused && timer === null) timer = setTimeout(tick, every);
  };

  toggle.addEventListener("click", () => {
    paused = !paused;
    if (paused && timer !== null) { clearTimeout(timer); timer = null; }
    render();
    if (!paused) { show("Auto-refresh on."); schedule(); }
  });
  box.hidden = false;
  render();
  if (!paused) show("Refreshes every " + every / 1000 + " s.");
  schedule();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-log-refresh]").forEach(logRefresh);
});
