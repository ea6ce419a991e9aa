// Starts GraphiQL against this server's /graphql. Kept out of the HTML so the page's
// Content-Security-Policy can forbid inline scripts. Written for minyi (MIT).
(function () {
  var fetcher = GraphiQL.createFetcher({ url: '/graphql' });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      // The headers editor is where a leader pastes {"Authorization": "Bearer …"};
      // keys are not persisted in the browser's storage.
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: 'headers',
      defaultQuery:
        '# Paste an API key in the Headers tab below as\n' +
        '# {"Authorization": "Bearer minyi_…"}; without one you are the public.\n' +
        '{\n  cases(first: 10) {\n    totalCount\n    nodes { trackingNumber title status region { name } }\n  }\n}\n',
    }),
  );
})();
