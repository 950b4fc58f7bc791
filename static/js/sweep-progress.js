// Live sweep page: while buckets are still waiting or running, fetch the page's live part every 2 s and swap it
// in, until the sweep is finished. Without this script the page refreshes itself (noscript meta refresh).
(function () {
  var root = document.querySelector("[data-sweep-live]");
  if (!root || !window.fetch || root.dataset.finished === "true") { return; }
  var delay = 2000;

  function poll() {
    fetch(root.dataset.url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      })
      .then(function (html) {
        root.innerHTML = html;
        var marker = root.querySelector("[data-sweep-finished]");
        root.dataset.finished = marker ? marker.dataset.sweepFinished : "false";
        if (root.dataset.finished !== "true") { window.setTimeout(poll, delay); }
      })
      .catch(function () { window.setTimeout(poll, delay * 3); });
  }
  window.setTimeout(poll, delay);
})();
