// Autosave: every changed answer is posted at once, so a closed tab loses nothing.
// Without JavaScript the page still saves on every page turn.
(function () {
  "use strict";
  const survey = document.querySelector(".survey[data-autosave-url]");
  if (!survey) return;
  const url = survey.dataset.autosaveUrl;
  const form = survey.querySelector("form");
  const status = survey.querySelector(".autosave-status");
  const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const pending = new Map();
  let timer = null;
  let inFlight = 0; // posts not yet answered

  // "Saved." only once every answer given so far is stored, not when an earlier post
  // returns while a later one is still on its way.
  function settled() { return !pending.size && !timer && !inFlight; }

  function say(text) { if (status) status.textContent = text; }
  // The page gives each message in its language (data-saving …); English otherwise.
  function text(name, english) { return (status && status.dataset[name]) || english; }

  // 409: the survey no longer takes answers (submitted in another tab, or closed).
  // Say so where the person looks, and stop offering choices that would not be kept.
  function refuse(errors) {
    pending.clear();
    if (timer) { clearTimeout(timer); timer = null; }
    say(errors.join(" ") || text("closed", "Not saved: this survey no longer takes answers."));
    if (status) status.classList.add("alert", "alert-warning");
    const items = form.querySelector("fieldset");
    if (items) items.disabled = true;
  }

  async function flush() {
    timer = null;
    if (!pending.size) return;
    const body = new URLSearchParams(Array.from(pending.entries()));
    const sent = new Map(pending);
    pending.clear();
    inFlight += 1;
    let reply;
    try {
      reply = await fetch(url, {
        method: "POST",
        headers: { "X-CSRFToken": token },
        body: body,
        credentials: "same-origin",
        keepalive: true,
      });
    } catch (error) {
      // A network blip: keep the answers and try again shortly.
      inFlight -= 1;
      sent.forEach((value, name) => { if (!pending.has(name)) pending.set(name, value); });
      say(text("offline", "Offline: your answers will be saved when the connection returns."));
      if (!timer) timer = setTimeout(flush, 3000);
      return;
    }
    inFlight -= 1;
    if (reply.ok) { if (settled()) say(text("saved", "Saved.")); return; }
    const data = await reply.json().catch(() => ({}));
    if (reply.status === 409) { refuse(data.errors || []); return; }
    say((data.errors || [text("notSaved", "Not saved.")]).join(" "));
  }

  form.addEventListener("change", function (event) {
    const input = event.target;
    if (!input.matches("input[type=radio][data-autosave]")) return;
    pending.set(input.name, input.value);
    say(text("saving", "Saving…"));
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, 150);
  });
  window.addEventListener("pagehide", flush);
})();
