// The board, live: listen to /api/events (Server-Sent Events, the session cookie authenticates) and,
// when anything moves, fetch the server-rendered table again and swap it in. No framework, no build step.
"use strict";
(function () {
  const board = document.getElementById("board");
  const live = document.getElementById("live");
  if (!board || !window.EventSource) return;
  let pending = null;

  function show(state, text) {
    live.dataset.state = state;
    live.textContent = text;
  }

  async function refresh() {
    pending = null;
    try {
      const answer = await fetch("/board", { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (answer.redirected || answer.status === 401) window.location.assign("/signin");
      else if (answer.ok) board.innerHTML = await answer.text();
    } catch (_) {
      show("offline", "offline; retrying…");
    }
  }

  function soon() {
    if (pending === null) pending = setTimeout(refresh, 150);
  }

  const stream = new EventSource("/api/events");
  stream.addEventListener("open", () => { show("live", "live"); soon(); });
  stream.addEventListener("operation", soon);
  stream.addEventListener("deployment", soon);
  stream.addEventListener("reset", soon);
  stream.addEventListener("error", () => show("connecting", "reconnecting…"));
  window.addEventListener("pagehide", () => stream.close());
})();
