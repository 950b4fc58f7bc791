// Live progress of a job page: polls the job's progress JSON every 1.5 s while it is active and updates the
// numbers in place. When the job changes state (paused, finished...) the page reloads once, so buttons, plan and
// outcome lists follow. Without this script the page shows the numbers at load (and refreshes itself while active).
(function () {
  var root = document.querySelector("[data-job-progress]");
  if (!root || !window.fetch || root.dataset.finished === "true") { return; }
  var url = root.dataset.url;
  var state = root.dataset.state;
  var delay = 1500;
  var failures = 0;
  var lastAnnounced = "";
  var fields = ["objects_done", "objects_total", "bytes_done_label", "bytes_total_label", "rate", "throttled", "requests",
    "requests_per_object", "eta", "elapsed", "purged_versions", "purged_bytes_label"];

  function set(name, value) {
    root.querySelectorAll('[data-progress="' + name + '"]').forEach(function (element) {
      element.textContent = value;
    });
  }

  function show(data) {
    fields.forEach(function (name) { set(name, data[name]); });
    // What happened to the objects: one count per outcome, and the reasons of the skipped ones.
    (data.outcomes || []).forEach(function (row) {
      root.querySelectorAll('[data-progress-count="' + row.name + '"]').forEach(function (element) {
        element.textContent = row.count;
      });
    });
    var reasons = root.querySelector("[data-progress-reasons]");
    if (reasons) {
      reasons.replaceChildren.apply(reasons, (data.skipped_reasons || []).map(function (skipped) {
        var item = document.createElement("li");
        item.textContent = skipped.count + " \u00d7 " + skipped.reason;
        return item;
      }));
    }
    set("counting", data.counting_note);
    var bar = root.querySelector("[data-progress-bar]");
    if (bar) {
      bar.value = data.percent;
      bar.textContent = data.percent.toFixed(1) + "%";
    }
    // The live region speaks on state changes and every 10 %, not on every poll.
    var announced = data.state_label + ": " + (Math.floor(data.percent / 10) * 10) + "%";
    if (announced !== lastAnnounced) {
      lastAnnounced = announced;
      set("status", data.state_label + ": " + data.percent.toFixed(1) + "% done");
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        show(data);
        if (data.state !== state) {
          window.location.reload();
          return;
        }
        if (!data.finished) { window.setTimeout(poll, delay); }
      })
      .catch(function () {
        failures += 1;
        if (failures < 20) { window.setTimeout(poll, delay * Math.min(8, failures + 1)); }
      });
  }

  window.setTimeout(poll, delay);
})();
