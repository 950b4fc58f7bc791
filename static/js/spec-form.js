// Job, scan, schedule and rewrap forms: the bucket and key selects list what the connection shown has. Changing
// the connection (or choosing a bucket in another region than the keys listed) reloads the form for it, with
// everything entered kept: the form is sent back by GET, as its "Use this connection" button does without this
// script. The server only ever uses the connection posted with the form, and refuses a bucket or key not of it.
(function () {
  var RELOAD = "use_connection";

  function reload(form, changed) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && name !== "run" && name !== RELOAD) {
        params.append(name, value);
      }
    });
    params.set(RELOAD, changed);
    window.location.assign(window.location.pathname + "?" + params.toString());
  }

  document.querySelectorAll("form[data-spec-form]").forEach(function (form) {
    var connection = form.querySelector('select[name="connection"]');
    var bucket = form.querySelector('select[name="bucket"]');
    var button = form.querySelector("[data-use-connection]");
    if (!connection) { return; }
    // The select itself reloads the form: the button would only be a second way, and a hidden submit button
    // would still be the one Enter presses.
    if (button) { button.remove(); }
    connection.addEventListener("change", function () { reload(form, "connection"); });
    if (bucket && form.dataset.keysRegion !== undefined) {
      bucket.addEventListener("change", function () {
        var option = bucket.options[bucket.selectedIndex];
        var region = option ? option.getAttribute("data-region") : "";
        if (region && region !== form.dataset.keysRegion) { reload(form, "bucket"); }
      });
    }
    // Back from a reload: the focus returns to the select that was changed.
    var changed = new URLSearchParams(window.location.search).get(RELOAD);
    var control = changed === "bucket" ? bucket : changed === "connection" ? connection : null;
    if (control && !document.querySelector("[data-error-summary]")) { control.focus(); }
  });
})();
