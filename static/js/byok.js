// Copy buttons of the Keys pages (wrapping key, import token, RAM policy). Without this script, or without the
// Clipboard API, the buttons stay hidden and the text (a read-only text area or a preformatted block) is
// selected and copied by hand.
(function () {
  if (!navigator.clipboard) { return; }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.dataset.copy);
    var status = button.parentNode.querySelector("[data-copy-status]");
    if (!source) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value !== undefined ? source.value : source.textContent).then(function () {
        if (status) { status.textContent = "Copied."; }
      });
    });
  });
})();
