// The d4d query page: YASGUI on this server's /sparql, the catalogue as example queries.
(function () {
  "use strict";
  var endpoint = new URL("sparql", window.location.href).href;
  document.getElementById("endpoint").textContent = endpoint;

  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    persistenceId: null,          // nothing kept in localStorage between visits
    populateFromUrl: false,
    // Only completers that work offline: class/property completion would call
    // lov.linkeddata.es, and the page must not reach beyond this server.
    yasqe: { autocompleters: ["prefixes", "variables"], prefixCcApi: null,
             createShortLink: undefined },
    yasr: { defaultPlugin: "table" }
  });
  window.d4dYasgui = yasgui;

  var select = document.getElementById("examples");
  var description = document.getElementById("example-description");
  var queries = {};

  function show(name) {
    var query = queries[name];
    if (!query) { return; }
    var tab = yasgui.getTab();
    tab.setEndpoint(endpoint);
    tab.setQuery(query.text);
    description.textContent = query.description;
  }

  fetch("catalogue.json")
    .then(function (response) { return response.json(); })
    .then(function (catalogue) {
      catalogue.forEach(function (query) {
        queries[query.name] = query;
        var option = document.createElement("option");
        option.value = query.name;
        option.textContent = query.title + " (" + query.name + ")";
        select.appendChild(option);
      });
      select.addEventListener("change", function () { show(select.value); });
      document.body.dataset.catalogueLoaded = String(catalogue.length);
    });
})();
