// The schedule form shows only what the chosen kind and frequency use: elements marked data-for-kinds or
// data-for-frequencies are hidden while another one is chosen. They are only hidden, not disabled: the server
// ignores what the choice does not use (so a page without this script, which shows everything, saves the same).
// The timing's description follows the fields as they change: the form is sent back by GET as its "Describe this
// timing" button does, and the server's sentence (jobs/timing.py, the one home of the rule) is read from the answer.
(function () {
  var form = document.querySelector("form[data-connection-form]");
  if (!form) { return; }
  var TIMING = ["frequency", "at_time", "weekday", "month_day", "crontab", "interval_minutes", "timezone"];

  function chosen(name) {
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    return checked ? checked.value : "";
  }

  function show(attribute, value) {
    form.querySelectorAll("[" + attribute + "]").forEach(function (element) {
      element.hidden = value !== "" && element.getAttribute(attribute).split(" ").indexOf(value) < 0;
    });
  }

  function update() {
    show("data-for-kinds", chosen("schedule_kind"));
    show("data-for-frequencies", chosen("frequency"));
    var scope = chosen("scope");
    var pattern = form.querySelector('[name="bucket_pattern"]');
    if (pattern) { pattern.closest(".field").hidden = scope !== "" && scope !== "pattern"; }
  }

  var pending = null;
  function describe() {
    var target = form.querySelector("[data-timing-description] [data-described]");
    if (!target || !window.fetch) { return; }
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken") { params.append(name, value); }
    });
    params.set("use_connection", "timing");
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(window.location.pathname + "?" + params.toString(), { signal: pending.signal, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var said = page.querySelector("[data-timing-description] [data-described]");
        if (said) { target.textContent = said.textContent; }
      })
      .catch(function () { /* the button still describes it */ });
  }

  var note = form.querySelector("[data-no-script-note]");
  if (note) { note.hidden = true; }
  form.addEventListener("change", function (event) {
    if (["schedule_kind", "frequency", "scope"].indexOf(event.target.name) >= 0) { update(); }
    if (TIMING.indexOf(event.target.name) >= 0) { describe(); }
  });
  update();
})();
