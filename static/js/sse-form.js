// Show only the encryption fields the chosen method uses; without this script every field stays visible.
(function () {
  function update(form) {
    var checked = form.querySelector('[data-sse="method"] input:checked');
    var method = checked ? checked.value : "none";
    form.querySelector('[data-sse="algorithm"]').hidden = method === "none" || method === "default";
    form.querySelector('[data-sse="key"]').hidden = method !== "kms";
  }
  document.querySelectorAll("[data-sse-form]").forEach(function (form) {
    form.querySelectorAll('[data-sse="method"] input').forEach(function (input) {
      input.addEventListener("change", function () { update(form); });
    });
    update(form);
  });
})();
