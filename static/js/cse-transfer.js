// Live progress of a background client-side encrypted upload: polls its status JSON every second and updates the
// numbers in place; when the upload ends (done or failed) the page reloads once to show the outcome. Without this
// script the page refreshes itself every second while the upload runs.
(function () {
  var root = document.querySelector("[data-cse-transfer]");
  if (!root || !window.fetch || root.dataset.finished === "true") { return; }
  var url = root.dataset.url;
  var delay = 1000;
  var failures = 0;

  function set(name, value) {
    root.querySelectorAll('[data-transfer="' + name + '"]').forEach(function (element) {
      element.textContent = value;
    });
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        if (data.finished) {
          window.location.reload();
          return;
        }
        set("state_label", data.state_label);
        set("percent", data.percent.toFixed(1));
        set("bytes_done", String(data.bytes_done));
        var bar = root.querySelector("[data-transfer-bar]");
        if (bar) { bar.value = data.percent; bar.textContent = data.percent.toFixed(1) + "%"; }
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        failures += 1;
        if (failures < 20) { window.setTimeout(poll, delay * Math.min(8, failures + 1)); }
      });
  }

  window.setTimeout(poll, delay);
})();
