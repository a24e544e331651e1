// While `helpdesk serve` runs: reload the page after each rebuild of the site.
new EventSource("/__livereload").onmessage = function () { location.reload(); };
