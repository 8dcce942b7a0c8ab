// Draws every element with a data-vega-spec attribute (a Vega-Lite specification built by
// cxops.report.vega) with the vendored vega-embed: no eval (the expression interpreter, for the CSP),
// no action menu (it links to an external editor), no injected <style> (the CSP forbids it; the
// tooltip's look is in cxops.css). Runs on load and after htmx swaps a fragment in.
(function () {
  "use strict";
  function draw(root) {
    if (typeof vegaEmbed === "undefined" || typeof vega === "undefined") return;
    root.querySelectorAll("[data-vega-spec]:not([data-drawn])").forEach(function (el) {
      el.setAttribute("data-drawn", "1");
      var spec = JSON.parse(el.getAttribute("data-vega-spec"));
      vegaEmbed(el, spec, {
        actions: false,
        ast: true,
        expr: vega.expressionInterpreter,
        renderer: "svg",
        defaultStyle: false,
        tooltip: { disableDefaultStyle: true },
      }).catch(function (err) {
        el.textContent = String(err);
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (ev) { draw(ev.target); });
})();
