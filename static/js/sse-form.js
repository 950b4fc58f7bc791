// Show only the encryption fields the chosen method uses; without this script every field stays visible.
// Hidden fields are disabled too, so they are not sent: what the page hides cannot refuse a submit.
(function () {
  function show(group, visible) {
    group.hidden = !visible;
    group.querySelectorAll("input, select, textarea").forEach(function (input) {
      input.disabled = !visible;
    });
  }
  function update(form) {
    var checked = form.querySelector('[data-sse="method"] input:checked');
    var method = checked ? checked.value : "none";
    show(form.querySelector('[data-sse="algorithm"]'), method !== "none" && method !== "default");
    show(form.querySelector('[data-sse="key"]'), method === "kms");
    var help = form.querySelector('[data-sse="algorithm"] .help');
    if (help && help.dataset["help" + method.charAt(0).toUpperCase() + method.slice(1)]) {
      help.textContent = help.dataset["help" + method.charAt(0).toUpperCase() + method.slice(1)];
    }
  }
  document.querySelectorAll("[data-sse-form]").forEach(function (form) {
    form.querySelectorAll('[data-sse="method"] input').forEach(function (input) {
      input.addEventListener("change", function () { update(form); });
    });
    update(form);
  });
})();
