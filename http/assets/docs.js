/* The REST API docs page (http/rest/docs.ts): renders openapi.json; no network beyond the API. */
(function () {
  var out = document.getElementById('ops');
  var filter = document.getElementById('filter');
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) { if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]); }
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function typeOf(s) {
    if (!s || typeof s !== 'object') return 'any';
    if (s.enum) return s.enum.map(function (v) { return JSON.stringify(v); }).join(' | ');
    if (s.anyOf) return s.anyOf.map(typeOf).join(' | ');
    if (s.type === 'array') return typeOf(s.items) + '[]';
    var t = s.type || (s.properties ? 'object' : 'any');
    var extra = [];
    if (s.minLength !== undefined) extra.push('min ' + s.minLength);
    if (s.maxLength !== undefined) extra.push('max ' + s.maxLength);
    if (s.minimum !== undefined && s.minimum > -9007199254740991) extra.push('≥ ' + s.minimum);
    if (s.exclusiveMinimum !== undefined) extra.push('> ' + s.exclusiveMinimum);
    if (s.maximum !== undefined && s.maximum < 9007199254740991) extra.push('≤ ' + s.maximum);
    if (s.pattern) extra.push('pattern ' + s.pattern);
    if (s.default !== undefined) extra.push('default ' + JSON.stringify(s.default));
    return t + (extra.length ? ' (' + extra.join(', ') + ')' : '');
  }
  function fields(schema) {
    var variants = schema && schema.anyOf && schema.anyOf.every(function (v) { return v.properties; }) ? schema.anyOf : [schema];
    var wrap = el('div');
    variants.forEach(function (v, i) {
      if (variants.length > 1) wrap.appendChild(el('p', { text: i === 0 ? 'One of:' : 'or:' }));
      if (!v || !v.properties) { wrap.appendChild(el('pre', { text: JSON.stringify(v, null, 2) })); return; }
      var req = v.required || [];
      var body = el('tbody');
      Object.keys(v.properties).forEach(function (name) {
        var p = v.properties[name];
        body.appendChild(el('tr', {}, [el('td', {}, [el('code', { text: name })]), el('td', { text: typeOf(p) }),
          el('td', { text: req.indexOf(name) >= 0 ? 'required' : '' })]));
      });
      wrap.appendChild(el('table', {}, [el('thead', {}, [el('tr', {}, [el('th', { text: 'field' }), el('th', { text: 'type' }), el('th', { text: '' })])]), body]));
    });
    return wrap;
  }
  function render(doc) {
    document.getElementById('base').textContent = doc.servers && doc.servers[0] ? doc.servers[0].url : '';
    var byTag = {};
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method];
        var tag = (op.tags || ['Other'])[0];
        (byTag[tag] = byTag[tag] || []).push({ path: path, method: method, op: op });
      });
    });
    var nav = document.getElementById('nav');
    Object.keys(byTag).forEach(function (tag) {
      nav.appendChild(el('a', { href: '#tag-' + tag, text: tag }));
      out.appendChild(el('h2', { id: 'tag-' + tag, text: tag }));
      byTag[tag].forEach(function (o) {
        // Backticked words in a description become <code>; the rest stays text.
        var desc = el('p');
        (o.op.description || '').split('\x60').forEach(function (part, i) { desc.appendChild(i % 2 ? el('code', { text: part }) : document.createTextNode(part)); });
        var body = el('div', { class: 'body' }, [desc]);
        var params = o.op.parameters || [];
        if (params.length) {
          body.appendChild(el('h4', { text: 'Parameters' }));
          var tb = el('tbody');
          params.forEach(function (p) {
            tb.appendChild(el('tr', {}, [el('td', {}, [el('code', { text: p.name })]), el('td', { text: p.in }), el('td', { text: typeOf(p.schema) }), el('td', { text: p.required ? 'required' : '' })]));
          });
          body.appendChild(el('table', {}, [tb]));
        }
        var rb = o.op.requestBody && o.op.requestBody.content['application/json'];
        if (rb) { body.appendChild(el('h4', { text: 'JSON body' })); body.appendChild(fields(rb.schema)); }
        var codes = Object.keys(o.op.responses || {});
        body.appendChild(el('h4', { text: 'Responses' }));
        var rt = el('tbody');
        codes.forEach(function (c) { rt.appendChild(el('tr', {}, [el('td', {}, [el('code', { text: c })]), el('td', { text: o.op.responses[c].description })])); });
        body.appendChild(el('table', {}, [rt]));
        var d = el('details', { class: 'op', 'data-search': (o.method + ' ' + o.path + ' ' + o.op.summary + ' ' + o.op.operationId).toLowerCase() }, [
          el('summary', {}, [el('span', { class: 'm ' + o.method, text: o.method.toUpperCase() }), el('span', { class: 'path', text: o.path }), el('span', { class: 'sum', text: o.op.summary })]),
          body]);
        out.appendChild(d);
      });
    });
    filter.addEventListener('input', function () {
      var q = filter.value.toLowerCase();
      out.querySelectorAll('details.op').forEach(function (d) { d.style.display = d.getAttribute('data-search').indexOf(q) >= 0 ? '' : 'none'; });
    });
  }
  fetch(document.body.getAttribute('data-openapi'), { credentials: 'same-origin' })
    .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
    .then(render)
    .catch(function (e) { out.appendChild(el('p', { class: 'err', text: 'Could not load the OpenAPI document: ' + e.message })); });
})();
