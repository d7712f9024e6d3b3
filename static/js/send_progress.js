// A send's progress page: ask the page's JSON endpoint for the counts every couple of
// seconds and show them, until nothing is waiting any more. Without script the page
// still shows the counts of when it was loaded and a "Refresh" link.
(function () {
  "use strict";
  const box = document.querySelector("[data-progress-url]");
  if (!box) {
    return;
  }
  const EVERY_MS = 1500;
  const status = box.querySelector("[data-status]");
  const bar = box.querySelector("progress");

  function show(progress) {
    for (const cell of box.querySelectorAll("[data-count]")) {
      const value = progress[cell.dataset.count];
      if (value !== undefined && cell.textContent !== String(value)) {
        cell.textContent = String(value);
      }
    }
    bar.max = Math.max(progress.total, 1);
    bar.value = progress.finished;
    bar.textContent = `${progress.finished} / ${progress.total}`;
    const text = progress.done
      ? status.dataset.doneText
      : progress.planned
        ? status.dataset.sending
        : status.dataset.planning;
    if (status.textContent !== text) {
      status.textContent = text;  // announced once per change (aria-live)
    }
    box.dataset.done = progress.done ? "true" : "false";
  }

  if (box.dataset.done !== "true") {
    window.continuumPoll(box.dataset.progressUrl, EVERY_MS, (progress) => {
      show(progress);
      return progress.done;
    });
  }
})();
