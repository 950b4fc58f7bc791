// The schedule form shows only what the chosen kind and frequency use: elements marked data-for-kinds or
// data-for-frequencies are hidden while another one is chosen. They are only hidden, not disabled: the server
// ignores what the choice does not use (so a page without this script, which shows everything, saves the same).
(function () {
  var form = document.querySelector("form[data-connection-form]");
  if (!form) { return; }

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

  var note = form.querySelector("[data-no-script-note]");
  if (note) { note.hidden = true; }
  form.addEventListener("change", function (event) {
    if (["schedule_kind", "frequency", "scope"].indexOf(event.target.name) >= 0) { update(); }
  });
  update();
})();
