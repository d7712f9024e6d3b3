// Asking a page's JSON endpoint for news every so often: continuumPoll(url, everyMs,
// heard) calls heard(reply) with each reply's JSON until heard returns true. A failed
// request (the network dropped for a moment) is simply asked again at the next turn.
window.continuumPoll = function (url, everyMs, heard) {
  "use strict";
  async function ask() {
    try {
      const reply = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (reply.ok && heard(await reply.json())) {
        return;
      }
    } catch (error) {
      // asked again below
    }
    window.setTimeout(ask, everyMs);
  }
  window.setTimeout(ask, everyMs);
};
