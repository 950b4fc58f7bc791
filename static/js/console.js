// Every page: the server judges each form and answers refusals in one error summary at the top.
(function () {
  // The browser's own bubbles would show one error at a time, none for a hidden field, and not in the summary.
  function leaveValidationToTheServer() {
    document.querySelectorAll("form").forEach(function (form) {
      form.noValidate = true;
    });
  }

  // After a refused submit the summary takes the focus, so a keyboard or screen-reader user starts from what went
  // wrong instead of the top of the page; its links then take the focus to the field they name.
  function focusTheSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) {
      return;
    }
    summary.focus();
    summary.querySelectorAll("a[href^='#']").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var field = document.getElementById(link.getAttribute("href").slice(1));
        if (field && !field.disabled && field.offsetParent !== null) {
          event.preventDefault();
          field.focus();
          field.scrollIntoView({ block: "center" });
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    leaveValidationToTheServer();
    focusTheSummary();
  });
})();
