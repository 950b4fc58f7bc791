// The Overview answers from the console's own records; a bucket card marked for refresh is read again from the
// cloud after the page is shown, and swapped in when the answer comes. Without this script the card stays as served.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-refresh]").forEach(function (card) {
    fetch(card.dataset.refresh, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        card.innerHTML = html;
      })
      .catch(function (error) {
        var note = document.createElement("p");
        note.className = "message warning";
        note.textContent = "The buckets could not be read again (" + error.message + "): shown as last read.";
        card.appendChild(note);
      })
      .finally(function () {
        card.removeAttribute("aria-busy");
      });
  });
});
