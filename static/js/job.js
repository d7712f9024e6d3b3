// A background job's page: ask for its progress every second or so and show it; once
// the work has finished, load the page again to show what came of it. Without script
// the page shows where the work stood when it was loaded, and a "Refresh" link.
(function () {
  "use strict";
  const box = document.querySelector("[data-progress-url]");
  if (!box || box.dataset.finished === "true") {
    return;
  }
  const EVERY_MS = 1200;
  const bar = box.querySelector("progress");
  const counts = box.querySelector("[data-counts]");
  const status = box.querySelector("[data-status]");
  const number = new Intl.NumberFormat(document.documentElement.lang || undefined);

  function show(progress) {
    if (progress.total > 0) {
      bar.max = progress.total;
      bar.value = progress.done;
      bar.textContent = `${progress.done} / ${progress.total}`;
      counts.hidden = false;
      counts.querySelector("[data-done]").textContent = number.format(progress.done);
      counts.querySelector("[data-total]").textContent = number.format(progress.total);
    }
    const stage = status.querySelector("[data-stage]");
    if (stage && progress.stage && stage.textContent !== progress.stage) {
      stage.textContent = progress.stage;  // announced once per change (aria-live)
    }
  }

  window.continuumPoll(box.dataset.progressUrl, EVERY_MS, (progress) => {
    const running = progress.status === "running" && !progress.stopped;
    if (progress.finished || running !== Boolean(status.querySelector("[data-stage]"))) {
      window.location.reload();
      return true;
    }
    show(progress);
    return false;
  });
})();
