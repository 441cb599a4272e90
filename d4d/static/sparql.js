// The d4d query page: YASGUI on this server's /sparql, the catalogue as example queries with a form
// for their parameters, and share links that reopen a query with its values.
//
// A catalogue query opens as it is written (its header declares its parameters); the form's values
// travel as $name=value request fields, which the endpoint binds as `d4d query -p name=value` does.
// A share link is YASGUI's own (#query=...&$name=value...): this page reads the query and the
// values from it, and always keeps this server as the endpoint.
(function () {
  "use strict";
  var endpoint = new URL("sparql", window.location.href).href;
  document.getElementById("endpoint").textContent = endpoint;
  var predeclared = {};

  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    persistenceId: null,          // nothing kept in localStorage between visits
    populateFromUrl: false,       // read below, without taking an endpoint from the link
    // Only completers that work offline: class/property completion would call
    // lov.linkeddata.es, and the page must not reach beyond this server.
    yasqe: { autocompleters: ["prefixes", "variables"], prefixCcApi: null,
             createShortLink: undefined },
    yasr: { defaultPlugin: "table", prefixes: function () { return predeclared; } }
  });
  window.d4dYasgui = yasgui;

  var select = document.getElementById("examples");
  var description = document.getElementById("example-description");
  var form = document.getElementById("params");
  var queries = {};

  function values() {
    var found = [];
    form.querySelectorAll("input[data-param]").forEach(function (input) {
      if (input.value.trim() !== "") {
        found.push({ name: "$" + input.dataset.param, value: input.value.trim() });
      }
    });
    return found;
  }

  function applyValues() {
    yasgui.getTab().setRequestConfig({ args: values() });
  }

  // The form of a catalogue query's parameters (empty for other queries).
  function showForm(query, given) {
    form.textContent = "";
    (query ? query.params : []).forEach(function (param) {
      var label = document.createElement("label");
      var name = document.createElement("span");
      name.textContent = param.name + " (" + param.type + ")";
      var input = document.createElement("input");
      input.dataset.param = param.name;
      input.name = param.name;
      input.placeholder = param.default === null ? "unbound: any" : param.default;
      input.title = param.description;
      input.value = given[param.name] || "";
      input.addEventListener("input", applyValues);
      label.appendChild(name);
      label.appendChild(input);
      form.appendChild(label);
    });
    form.hidden = !(query && query.params.length);
    applyValues();
  }

  function open(text, given) {
    var tab = yasgui.getTab();
    tab.setEndpoint(endpoint);
    tab.setQuery(text);
    var query = Object.keys(queries).map(function (k) { return queries[k]; })
      .filter(function (q) { return q.text === text; })[0];
    select.value = query ? query.name : "";
    description.textContent = query ? query.description : "";
    showForm(query, given || {});
  }

  // A share link: the query and the $name values it carries.
  function fromLink() {
    var fields = new URLSearchParams(window.location.hash.slice(1));
    if (!fields.get("query")) { return false; }
    var given = {};
    fields.forEach(function (value, key) {
      if (key.charAt(0) === "$") { given[key.slice(1)] = value; }
    });
    open(fields.get("query"), given);
    return true;
  }

  document.getElementById("share").addEventListener("click", function () {
    applyValues();
    var link = yasgui.getTab().getShareableLink(window.location.origin + window.location.pathname);
    var out = document.getElementById("share-link");
    out.value = link;
    out.hidden = false;
    out.select();
  });

  Promise.all([
    fetch("prefixes.json").then(function (response) { return response.json(); }),
    fetch("catalogue.json").then(function (response) { return response.json(); })
  ]).then(function (loaded) {
    predeclared = loaded[0];
    loaded[1].forEach(function (query) {
      queries[query.name] = query;
      var option = document.createElement("option");
      option.value = query.name;
      option.textContent = query.title + " (" + query.name + ")";
      select.appendChild(option);
    });
    select.addEventListener("change", function () {
      if (queries[select.value]) { open(queries[select.value].text, {}); }
    });
    window.addEventListener("hashchange", fromLink);
    fromLink();
    document.body.dataset.catalogueLoaded = String(loaded[1].length);
  });
})();
