// The dashboard's live progress: polls each running sync's JSON until it ends.
(function () {
  document.querySelectorAll(".run-progress").forEach(function (card) {
    var url = card.dataset.url, timer = null;
    function field(name) { return card.querySelector('[data-field="' + name + '"]'); }
    function poll() {
      fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (run) {
          field("bar").style.width = run.percent + "%";
          field("meter").setAttribute("aria-valuenow", String(run.percent));
          field("status").textContent = run.status;
          var step = run.entity_total ? " · " + run.entity_done + " / " + run.entity_total : "";
          field("text").textContent = (run.current_entity || (run.status === "queued" ? "waiting for the worker" : run.status))
            + step + " · " + run.ok + " ok, " + run.failed + " failed";
          if (run.finished) { clearInterval(timer); setTimeout(function () { window.location.reload(); }, 800); }
        })
        .catch(function () { clearInterval(timer); });
    }
    timer = setInterval(poll, 1500);
    poll();
  });
})();
