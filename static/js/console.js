// Every page: after a refused submit the error summary takes the focus, so a keyboard or screen-reader user
// starts from what went wrong instead of the top of the page.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
});
