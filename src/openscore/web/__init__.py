"""The web pages: templates, static assets, charts and the pages router."""
