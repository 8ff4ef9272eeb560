// Live what-if: when an input changes, ask the server for the new score and show it.
// Without JavaScript the same form posts and the page comes back with the result.
(function () {
  "use strict";
  var form = document.getElementById("whatif-form");
  if (!form || !window.fetch) { return; }
  var result = document.getElementById("whatif-result");
  var timer = null;
  var pending = null;

  function show(answer) {
    result.hidden = false;
    result.querySelector("[data-field=score]").textContent = answer.score;
    var band = result.querySelector("[data-field=band]");
    band.textContent = answer.band_label;
    band.className = "band band-" + answer.band;
    var delta = result.querySelector("[data-field=delta]");
    delta.textContent = (answer.delta > 0 ? "+" : "") + answer.delta + " points";
    delta.className = answer.delta > 0 ? "delta-up" : (answer.delta < 0 ? "delta-down" : "muted");
    var error = result.querySelector("[data-field=error]");
    error.textContent = answer.error || "";
    error.hidden = !answer.error;
  }

  function update() {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(form.dataset.live, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin",
      signal: pending.signal
    }).then(function (response) {
      return response.json();
    }).then(show).catch(function (error) {
      if (error.name !== "AbortError") { show({ score: "–", band: "", band_label: "", delta: 0, error: "Could not compute: " + error.message }); }
    });
  }

  // A money slider moves in minor units (cents); its label reads as money.
  function shown(slider) {
    var currency = slider.getAttribute("data-currency");
    if (!currency) { return slider.value; }
    var exponent = Number(slider.getAttribute("data-exponent"));
    var format = new Intl.NumberFormat(slider.getAttribute("data-locale") || undefined,
      { style: "currency", currency: currency });
    return format.format(Number(slider.value) / Math.pow(10, exponent));
  }

  form.addEventListener("input", function (event) {
    var output = document.getElementById(event.target.id + "-out");
    if (output) { output.textContent = shown(event.target); }
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 150);
  });
})();
